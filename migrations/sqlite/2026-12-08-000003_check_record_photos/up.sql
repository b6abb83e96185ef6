-- Photos of a check record: what the person on duty saw, also when
-- nothing was wrong ("checked, nothing found" is the evidence). The bytes
-- are stored once by SHA-256 like any evidence file; photos are kept with
-- the record (never removed). Keep this file and its twin in step.

CREATE TABLE check_record_photos (
    id TEXT PRIMARY KEY NOT NULL,
    record_id TEXT NOT NULL REFERENCES check_records (id),
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    sha256 TEXT NOT NULL,
    size_bytes BIGINT NOT NULL CHECK (size_bytes >= 0),
    content_type TEXT NOT NULL,
    file_name TEXT NOT NULL,
    caption TEXT,
    uploaded_by TEXT NOT NULL REFERENCES users (id),
    uploaded_at TIMESTAMP NOT NULL
);
CREATE INDEX check_record_photos_record ON check_record_photos (record_id, id);
CREATE INDEX check_record_photos_sha256 ON check_record_photos (sha256);
