DROP TABLE register_revisions;
ALTER TABLE control_measures DROP COLUMN retired_at;
ALTER TABLE risk_events DROP COLUMN retired_at;
ALTER TABLE risk_units DROP COLUMN retired_at;
ALTER TABLE risk_objects DROP COLUMN retired_at;
