-- The risk register and its check records in the change feed: a node
-- added (object, unit, event, measure, check task, a unit's pause), a
-- register revision (an edit or a retirement) and a check record each
-- take their number in commit order, as hazard events do. SQLite cannot
-- widen a CHECK in place: the feed's table is rebuilt, its rows and
-- numbers kept, with every trigger that writes it. Keep this file and its
-- twin in step.

DROP TRIGGER hazard_events_change;
DROP TRIGGER enterprise_events_change;
DROP TRIGGER enterprise_assessments_change;
DROP TRIGGER changes_no_update;
DROP TRIGGER changes_no_delete;

ALTER TABLE changes RENAME TO changes_before;
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('hazard_event', 'enterprise_event', 'assessment', 'register', 'check_record')),
    ref_id TEXT NOT NULL,
    enterprise_id TEXT NOT NULL,
    hazard_id TEXT,
    action TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
INSERT INTO changes (seq, kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
SELECT seq, kind, ref_id, enterprise_id, hazard_id, action, recorded_at FROM changes_before;
DROP TABLE changes_before;
CREATE INDEX changes_enterprise ON changes (enterprise_id, seq);

-- What the register and the records held before, in the order it was made.
INSERT INTO changes (kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
SELECT kind, ref_id, enterprise_id, hazard_id, action, recorded_at FROM (
    SELECT 'register' AS kind, id AS ref_id, enterprise_id, NULL AS hazard_id, 'object_added' AS action, created_at AS recorded_at FROM risk_objects
    UNION ALL SELECT 'register', id, enterprise_id, NULL, 'unit_added', created_at FROM risk_units
    UNION ALL SELECT 'register', id, enterprise_id, NULL, 'event_added', created_at FROM risk_events
    UNION ALL SELECT 'register', id, enterprise_id, NULL, 'measure_added', created_at FROM control_measures
    UNION ALL SELECT 'register', id, enterprise_id, NULL, 'task_added', created_at FROM check_tasks
    UNION ALL SELECT 'register', id, enterprise_id, NULL, 'unit_paused', created_at FROM unit_pauses
    UNION ALL SELECT 'register', id, enterprise_id, NULL, node_kind || '_' || action, revised_at FROM register_revisions
    UNION ALL SELECT 'check_record', id, enterprise_id, hazard_id, outcome, recorded_at FROM check_records
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

CREATE TRIGGER risk_objects_change AFTER INSERT ON risk_objects
BEGIN
    INSERT INTO changes (kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
    VALUES ('register', NEW.id, NEW.enterprise_id, NULL, 'object_added', NEW.created_at);
END;

CREATE TRIGGER risk_units_change AFTER INSERT ON risk_units
BEGIN
    INSERT INTO changes (kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
    VALUES ('register', NEW.id, NEW.enterprise_id, NULL, 'unit_added', NEW.created_at);
END;

CREATE TRIGGER risk_events_change AFTER INSERT ON risk_events
BEGIN
    INSERT INTO changes (kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
    VALUES ('register', NEW.id, NEW.enterprise_id, NULL, 'event_added', NEW.created_at);
END;

CREATE TRIGGER control_measures_change AFTER INSERT ON control_measures
BEGIN
    INSERT INTO changes (kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
    VALUES ('register', NEW.id, NEW.enterprise_id, NULL, 'measure_added', NEW.created_at);
END;

CREATE TRIGGER check_tasks_change AFTER INSERT ON check_tasks
BEGIN
    INSERT INTO changes (kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
    VALUES ('register', NEW.id, NEW.enterprise_id, NULL, 'task_added', NEW.created_at);
END;

CREATE TRIGGER unit_pauses_change AFTER INSERT ON unit_pauses
BEGIN
    INSERT INTO changes (kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
    VALUES ('register', NEW.id, NEW.enterprise_id, NULL, 'unit_paused', NEW.created_at);
END;

CREATE TRIGGER register_revisions_change AFTER INSERT ON register_revisions
BEGIN
    INSERT INTO changes (kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
    VALUES ('register', NEW.id, NEW.enterprise_id, NULL, NEW.node_kind || '_' || NEW.action, NEW.revised_at);
END;

CREATE TRIGGER check_records_change AFTER INSERT ON check_records
BEGIN
    INSERT INTO changes (kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
    VALUES ('check_record', NEW.id, NEW.enterprise_id, NEW.hazard_id, NEW.outcome, NEW.recorded_at);
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
