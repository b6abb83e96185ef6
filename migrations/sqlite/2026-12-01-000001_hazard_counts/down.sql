DROP INDEX hazards_level_found_at;
DROP TRIGGER hazard_events_late_closure;
DROP TRIGGER hazards_counts_insert;
DROP TRIGGER hazards_counts_update;
DROP TRIGGER hazards_counts_delete;
DROP TABLE hazard_month_counts;
DROP TABLE hazard_tallies;
DROP TABLE hazard_counts;
ALTER TABLE hazards DROP COLUMN closure_entered_late;
