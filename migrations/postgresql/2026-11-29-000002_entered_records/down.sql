ALTER TABLE hazard_events DROP COLUMN entered_late;
