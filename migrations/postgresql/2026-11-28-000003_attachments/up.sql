-- Evidence files (photos and documents before and after rectification).
-- The bytes live in the storage backend under their SHA-256; a row here is
-- what makes them part of a hazard's record. Keep this file and its twin in
-- step.

CREATE TABLE attachments (
    id TEXT PRIMARY KEY NOT NULL,
    hazard_id TEXT NOT NULL REFERENCES hazards (id),
    phase TEXT NOT NULL CHECK (phase IN ('before', 'after')),
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    size_bytes BIGINT NOT NULL CHECK (size_bytes > 0),
    content_type TEXT NOT NULL,
    file_name TEXT NOT NULL,
    caption TEXT,
    uploaded_by TEXT NOT NULL REFERENCES users (id),
    uploaded_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_hazard ON attachments (hazard_id, id);
-- Whether a blob is still referenced decides whether it may be removed.
CREATE INDEX attachments_sha256 ON attachments (sha256);

-- Counted in the same transaction as the rows, so lists need no extra query.
ALTER TABLE hazards ADD COLUMN evidence_before INTEGER NOT NULL DEFAULT 0 CHECK (evidence_before >= 0);
ALTER TABLE hazards ADD COLUMN evidence_after INTEGER NOT NULL DEFAULT 0 CHECK (evidence_after >= 0);
