-- The risk register and its check records in the change feed: a node
-- added (object, unit, event, measure, check task, a unit's pause), a
-- register revision (an edit or a retirement) and a check record each
-- take their number in commit order, as hazard events do (the counter
-- row's lock, then the sequence). Keep this file and its twin in step.

ALTER TABLE changes DROP CONSTRAINT changes_kind_check;
ALTER TABLE changes ADD CONSTRAINT changes_kind_check
    CHECK (kind IN ('hazard_event', 'enterprise_event', 'assessment', 'register', 'check_record'));

-- What the register and the records held before, in the order it was made.
SELECT 1 FROM change_counter WHERE id = 1 FOR UPDATE;
INSERT INTO changes (seq, kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
SELECT nextval('changes_seq'), kind, ref_id, enterprise_id, hazard_id, action, recorded_at
FROM (
    SELECT * FROM (
        SELECT 'register' AS kind, id AS ref_id, enterprise_id, NULL::TEXT AS hazard_id, 'object_added' AS action, created_at AS recorded_at FROM risk_objects
        UNION ALL SELECT 'register', id, enterprise_id, NULL, 'unit_added', created_at FROM risk_units
        UNION ALL SELECT 'register', id, enterprise_id, NULL, 'event_added', created_at FROM risk_events
        UNION ALL SELECT 'register', id, enterprise_id, NULL, 'measure_added', created_at FROM control_measures
        UNION ALL SELECT 'register', id, enterprise_id, NULL, 'task_added', created_at FROM check_tasks
        UNION ALL SELECT 'register', id, enterprise_id, NULL, 'unit_paused', created_at FROM unit_pauses
        UNION ALL SELECT 'register', id, enterprise_id, NULL, node_kind || '_' || action, revised_at FROM register_revisions
        UNION ALL SELECT 'check_record', id, enterprise_id, hazard_id, outcome, recorded_at FROM check_records
    ) AS everything
    ORDER BY recorded_at, ref_id
) AS earlier;

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
    ELSIF TG_TABLE_NAME = 'enterprise_assessments' THEN
        INSERT INTO changes (seq, kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
        VALUES (next, 'assessment', NEW.id, NEW.enterprise_id, NULL, 'assessed', NEW.recorded_at);
    ELSIF TG_TABLE_NAME = 'register_revisions' THEN
        INSERT INTO changes (seq, kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
        VALUES (next, 'register', NEW.id, NEW.enterprise_id, NULL, NEW.node_kind || '_' || NEW.action, NEW.revised_at);
    ELSIF TG_TABLE_NAME = 'check_records' THEN
        INSERT INTO changes (seq, kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
        VALUES (next, 'check_record', NEW.id, NEW.enterprise_id, NEW.hazard_id, NEW.outcome, NEW.recorded_at);
    ELSE
        INSERT INTO changes (seq, kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
        VALUES (next, 'register', NEW.id, NEW.enterprise_id, NULL,
                CASE TG_TABLE_NAME
                    WHEN 'risk_objects' THEN 'object_added'
                    WHEN 'risk_units' THEN 'unit_added'
                    WHEN 'risk_events' THEN 'event_added'
                    WHEN 'control_measures' THEN 'measure_added'
                    WHEN 'check_tasks' THEN 'task_added'
                    ELSE 'unit_paused'
                END,
                NEW.created_at);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER risk_objects_change AFTER INSERT ON risk_objects
    FOR EACH ROW EXECUTE FUNCTION record_change();
CREATE TRIGGER risk_units_change AFTER INSERT ON risk_units
    FOR EACH ROW EXECUTE FUNCTION record_change();
CREATE TRIGGER risk_events_change AFTER INSERT ON risk_events
    FOR EACH ROW EXECUTE FUNCTION record_change();
CREATE TRIGGER control_measures_change AFTER INSERT ON control_measures
    FOR EACH ROW EXECUTE FUNCTION record_change();
CREATE TRIGGER check_tasks_change AFTER INSERT ON check_tasks
    FOR EACH ROW EXECUTE FUNCTION record_change();
CREATE TRIGGER unit_pauses_change AFTER INSERT ON unit_pauses
    FOR EACH ROW EXECUTE FUNCTION record_change();
CREATE TRIGGER register_revisions_change AFTER INSERT ON register_revisions
    FOR EACH ROW EXECUTE FUNCTION record_change();
CREATE TRIGGER check_records_change AFTER INSERT ON check_records
    FOR EACH ROW EXECUTE FUNCTION record_change();
