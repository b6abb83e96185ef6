DROP TRIGGER risk_objects_change;
DROP TRIGGER risk_units_change;
DROP TRIGGER risk_events_change;
DROP TRIGGER control_measures_change;
DROP TRIGGER check_tasks_change;
DROP TRIGGER unit_pauses_change;
DROP TRIGGER register_revisions_change;
DROP TRIGGER check_records_change;
DROP TRIGGER hazard_events_change;
DROP TRIGGER enterprise_events_change;
DROP TRIGGER enterprise_assessments_change;
DROP TRIGGER changes_no_update;
DROP TRIGGER changes_no_delete;

ALTER TABLE changes RENAME TO changes_before;
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('hazard_event', 'enterprise_event', 'assessment')),
    ref_id TEXT NOT NULL,
    enterprise_id TEXT NOT NULL,
    hazard_id TEXT,
    action TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
INSERT INTO changes (seq, kind, ref_id, enterprise_id, hazard_id, action, recorded_at)
SELECT seq, kind, ref_id, enterprise_id, hazard_id, action, recorded_at FROM changes_before
WHERE kind IN ('hazard_event', 'enterprise_event', 'assessment');
DROP TABLE changes_before;
CREATE INDEX changes_enterprise ON changes (enterprise_id, seq);

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
CREATE TRIGGER changes_no_update BEFORE UPDATE ON changes
BEGIN
    SELECT RAISE(ABORT, 'changes is append-only');
END;
CREATE TRIGGER changes_no_delete BEFORE DELETE ON changes
BEGIN
    SELECT RAISE(ABORT, 'changes is append-only');
END;
