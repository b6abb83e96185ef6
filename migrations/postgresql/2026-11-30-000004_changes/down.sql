DROP TRIGGER changes_no_truncate ON changes;
DROP TRIGGER changes_no_update_or_delete ON changes;
DROP FUNCTION changes_refuse_change();
DROP TRIGGER enterprise_assessments_change ON enterprise_assessments;
DROP TRIGGER enterprise_events_change ON enterprise_events;
DROP TRIGGER hazard_events_change ON hazard_events;
DROP FUNCTION record_change();
DROP TABLE change_counter;
DROP TABLE changes;
