DROP TRIGGER risk_objects_change ON risk_objects;
DROP TRIGGER risk_units_change ON risk_units;
DROP TRIGGER risk_events_change ON risk_events;
DROP TRIGGER control_measures_change ON control_measures;
DROP TRIGGER check_tasks_change ON check_tasks;
DROP TRIGGER unit_pauses_change ON unit_pauses;
DROP TRIGGER register_revisions_change ON register_revisions;
DROP TRIGGER check_records_change ON check_records;
ALTER TABLE changes DISABLE TRIGGER changes_no_update_or_delete;
DELETE FROM changes WHERE kind IN ('register', 'check_record');
ALTER TABLE changes ENABLE TRIGGER changes_no_update_or_delete;
ALTER TABLE changes DROP CONSTRAINT changes_kind_check;
ALTER TABLE changes ADD CONSTRAINT changes_kind_check
    CHECK (kind IN ('hazard_event', 'enterprise_event', 'assessment'));
