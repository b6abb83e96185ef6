-- Every statement that changes hazards tells the other instances, whose
-- read caches then drop what they hold (see src/read_cache.rs). PostgreSQL
-- delivers a notification only after its transaction commits, and folds
-- repeats within one transaction into one.
CREATE FUNCTION notify_hazard_changes() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('hazard_tracker_changes', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER hazards_notify_changes
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON hazards
    FOR EACH STATEMENT EXECUTE FUNCTION notify_hazard_changes();
