-- The change feed's numbers without a new row version per change. Before,
-- each numbered change updated the one-row counter; a transaction writing
-- many changes (an import, the demo loader) left a chain of versions of
-- that row that every next update walked, so a bulk write took time
-- quadratic in its size. Now a writer locks the counter row (FOR UPDATE,
-- which writes no new version and is taken once per transaction) and
-- takes its numbers from a sequence. Holding the lock until its commit,
-- it takes numbers after every transaction that committed before it and
-- before every one that commits after: the numbers still follow commit
-- order (with gaps where a transaction rolled back).

CREATE SEQUENCE changes_seq;
SELECT setval('changes_seq', GREATEST((SELECT COALESCE(MAX(seq), 0) FROM changes), (SELECT seq FROM change_counter WHERE id = 1), 1),
              (SELECT COUNT(*) > 0 FROM changes) OR (SELECT seq FROM change_counter WHERE id = 1) > 0);

CREATE OR REPLACE FUNCTION record_change() RETURNS trigger AS $$
DECLARE
    next BIGINT;
BEGIN
    PERFORM 1 FROM change_counter WHERE id = 1 FOR UPDATE;
    next := nextval('changes_seq');
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
