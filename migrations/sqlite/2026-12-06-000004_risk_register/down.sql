DROP TABLE check_records;
DROP TABLE unit_pauses;
DROP TABLE check_tasks;
DROP TABLE control_measures;
DROP TABLE risk_events;
DROP TABLE risk_units;
DROP TABLE risk_objects;
