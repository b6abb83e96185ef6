-- The park's calendars of statutory holidays and make-up working days
-- loaded after release (each year's notice comes out in November): one row
-- per file loaded, every version kept; a year's newest file is in force
-- and replaces the year's shipped one. Keep this file and its twin in step.

CREATE TABLE calendar_files (
    id TEXT PRIMARY KEY NOT NULL,
    year INTEGER NOT NULL,
    -- The year file as loaded, JSON (the shape of reference/calendar/).
    file TEXT NOT NULL,
    loaded_by TEXT NOT NULL REFERENCES users (id),
    loaded_at TIMESTAMP NOT NULL
);
CREATE INDEX calendar_files_year ON calendar_files (year, id);
