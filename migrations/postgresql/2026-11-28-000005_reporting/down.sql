DROP INDEX hazard_events_hazard_occurred;
DROP INDEX enterprise_assessments_recorded_at;
DROP INDEX enterprises_updated_at;
DROP INDEX hazards_updated_at;
DROP INDEX hazards_year_month;
ALTER TABLE hazards DROP COLUMN closed_on_time;
ALTER TABLE hazards DROP COLUMN found_month;
