-- The change feed (GET /api/v1/changes): one row per hazard event,
-- enterprise event and assessment, numbered in commit order. Each trigger
-- takes its number from the one-row counter, whose row lock it then holds
-- until its transaction ends: the next writer waits, so numbers are taken
-- in the order transactions commit and a reader that has seen number n
-- will never later find a smaller one. Keep this file and its twin in step.

CREATE TABLE changes (
    seq BIGINT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('hazard_event', 'enterprise_event', 'assessment')),
    ref_id TEXT NOT NULL,
    enterprise_id TEXT NOT NULL,
    hazard_id TEXT,
    action TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX changes_enterprise ON changes (enterprise_id, seq);

CREATE TABLE change_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);

-- What was recorded before the feed existed, in the order it was recorded.
INSERT INTO changes (seq, kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
SELECT row_number() OVER (ORDER BY recorded_at, ref_id), kind, ref_id, enterprise_id, hazard_id, action, recorded_at
FROM (
    SELECT 'hazard_event' AS kind, e.id AS ref_id, h.enterprise_id, e.hazard_id, e.action, e.recorded_at
    FROM hazard_events e JOIN hazards h ON h.id = e.hazard_id
    UNION ALL
    SELECT 'enterprise_event', id, enterprise_id, NULL, action, recorded_at FROM enterprise_events
    UNION ALL
    SELECT 'assessment', id, enterprise_id, NULL, 'assessed', recorded_at FROM enterprise_assessments
) AS earlier;
INSERT INTO change_counter (id, seq) SELECT 1, COALESCE(MAX(seq), 0) FROM changes;

CREATE FUNCTION record_change() RETURNS trigger AS $$
DECLARE
    next BIGINT;
BEGIN
    UPDATE change_counter SET seq = seq + 1 WHERE id = 1 RETURNING seq INTO next;
    IF TG_TABLE_NAME = 'hazard_events' THEN
        INSERT INTO changes (seq, kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
        SELECT next, 'hazard_event', NEW.id, h.enterprise_id, NEW.hazard_id, NEW.action, NEW.recorded_at
        FROM hazards h WHERE h.id = NEW.hazard_id;
    ELSIF TG_TABLE_NAME = 'enterprise_events' THEN
        INSERT INTO changes (seq, kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
        VALUES (next, 'enterprise_event', NEW.id, NEW.enterprise_id, NULL, NEW.action, NEW.recorded_at);
    ELSE
        INSERT INTO changes (seq, kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
        VALUES (next, 'assessment', NEW.id, NEW.enterprise_id, NULL, 'assessed', NEW.recorded_at);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER hazard_events_change AFTER INSERT ON hazard_events
    FOR EACH ROW EXECUTE FUNCTION record_change();
CREATE TRIGGER enterprise_events_change AFTER INSERT ON enterprise_events
    FOR EACH ROW EXECUTE FUNCTION record_change();
CREATE TRIGGER enterprise_assessments_change AFTER INSERT ON enterprise_assessments
    FOR EACH ROW EXECUTE FUNCTION record_change();

-- A number once read is never taken back.
CREATE FUNCTION changes_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'changes is append-only' USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER changes_no_update_or_delete BEFORE UPDATE OR DELETE ON changes
    FOR EACH ROW EXECUTE FUNCTION changes_refuse_change();
CREATE TRIGGER changes_no_truncate BEFORE TRUNCATE ON changes
    FOR EACH STATEMENT EXECUTE FUNCTION changes_refuse_change();
