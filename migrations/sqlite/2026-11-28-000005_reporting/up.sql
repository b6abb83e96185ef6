-- Facts the reports cut by, fixed when they happen (in the park's time
-- zone, which SQL here does not know): the month a hazard was found in,
-- and whether its closure was on time.
ALTER TABLE hazards ADD COLUMN found_month INTEGER NOT NULL DEFAULT 0 CHECK (found_month BETWEEN 0 AND 12);
ALTER TABLE hazards ADD COLUMN closed_on_time BOOLEAN;
-- Rows from before this migration: the UTC month is the best guess.
UPDATE hazards SET found_month = CAST(strftime('%m', found_at) AS INTEGER);
CREATE INDEX hazards_year_month ON hazards (found_year, found_month);
-- The change marker of the dashboards reads the latest change.
CREATE INDEX hazards_updated_at ON hazards (updated_at);
CREATE INDEX enterprises_updated_at ON enterprises (updated_at);
CREATE INDEX enterprise_assessments_recorded_at ON enterprise_assessments (recorded_at);
CREATE INDEX hazard_events_hazard_occurred ON hazard_events (hazard_id, occurred_at);
