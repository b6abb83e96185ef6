-- Numbers continue from the last one taken.
UPDATE change_counter SET seq = GREATEST(seq, (SELECT COALESCE(MAX(seq), 0) FROM changes)) WHERE id = 1;
CREATE OR REPLACE FUNCTION record_change() RETURNS trigger AS $$
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
DROP SEQUENCE changes_seq;
