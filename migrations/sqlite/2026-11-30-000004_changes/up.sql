-- The change feed (GET /api/v1/changes): one row per hazard event,
-- enterprise event and assessment, numbered in commit order. SQLite runs
-- one writing transaction at a time (BEGIN IMMEDIATE), so the numbers a
-- trigger takes (the rowid: the largest so far plus one, as rows are never
-- deleted) are in commit order. Keep this file and its twin in step.

CREATE TABLE changes (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('hazard_event', 'enterprise_event', 'assessment')),
    ref_id TEXT NOT NULL,
    enterprise_id TEXT NOT NULL,
    hazard_id TEXT,
    action TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX changes_enterprise ON changes (enterprise_id, seq);

-- What was recorded before the feed existed, in the order it was recorded.
INSERT INTO changes (kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
SELECT kind, ref_id, enterprise_id, hazard_id, action, recorded_at FROM (
    SELECT 'hazard_event' AS kind, e.id AS ref_id, h.enterprise_id, e.hazard_id, e.action, e.recorded_at
    FROM hazard_events e JOIN hazards h ON h.id = e.hazard_id
    UNION ALL
    SELECT 'enterprise_event', id, enterprise_id, NULL, action, recorded_at FROM enterprise_events
    UNION ALL
    SELECT 'assessment', id, enterprise_id, NULL, 'assessed', recorded_at FROM enterprise_assessments
) ORDER BY recorded_at, ref_id;

CREATE TRIGGER hazard_events_change AFTER INSERT ON hazard_events
BEGIN
    INSERT INTO changes (kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
    VALUES ('hazard_event', NEW.id, (SELECT enterprise_id FROM hazards WHERE id = NEW.hazard_id),
            NEW.hazard_id, NEW.action, NEW.recorded_at);
END;

CREATE TRIGGER enterprise_events_change AFTER INSERT ON enterprise_events
BEGIN
    INSERT INTO changes (kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
    VALUES ('enterprise_event', NEW.id, NEW.enterprise_id, NULL, NEW.action, NEW.recorded_at);
END;

CREATE TRIGGER enterprise_assessments_change AFTER INSERT ON enterprise_assessments
BEGIN
    INSERT INTO changes (kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
    VALUES ('assessment', NEW.id, NEW.enterprise_id, NULL, 'assessed', NEW.recorded_at);
END;

-- A number once read is never taken back.
CREATE TRIGGER changes_no_update BEFORE UPDATE ON changes
BEGIN
    SELECT RAISE(ABORT, 'changes is append-only');
END;
CREATE TRIGGER changes_no_delete BEFORE DELETE ON changes
BEGIN
    SELECT RAISE(ABORT, 'changes is append-only');
END;
