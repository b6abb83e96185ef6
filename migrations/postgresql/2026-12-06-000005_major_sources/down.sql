ALTER TABLE check_records DROP COLUMN failed_items;
ALTER TABLE check_tasks DROP COLUMN retired_at;
DROP TABLE major_source_persons;
DROP TABLE major_sources;
