DROP TABLE major_source_assessments;
ALTER TABLE major_sources DROP COLUMN inputs_changed_on;
ALTER TABLE major_sources DROP COLUMN registered_on;
