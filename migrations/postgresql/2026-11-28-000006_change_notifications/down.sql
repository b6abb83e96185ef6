DROP TRIGGER hazards_notify_changes ON hazards;
DROP FUNCTION notify_hazard_changes();
