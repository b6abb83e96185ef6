DROP TRIGGER changes_no_delete;
DROP TRIGGER changes_no_update;
DROP TRIGGER enterprise_assessments_change;
DROP TRIGGER enterprise_events_change;
DROP TRIGGER hazard_events_change;
DROP TABLE changes;
