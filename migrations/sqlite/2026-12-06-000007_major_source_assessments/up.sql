-- The safety assessments (安全评估) of a major hazard source, each with
-- its report as a file (the bytes live in the evidence store under their
-- SHA-256, shared with hazards' evidence); and the day a source's inputs
-- last changed its R, from which a new assessment falls due
-- (《危险化学品重大危险源监督管理暂行规定》 Art. 11). Keep this file and
-- its twin in step.

ALTER TABLE major_sources ADD COLUMN inputs_changed_on DATE;
-- The park's day a source was registered: a drill never recorded has
-- been due since then.
ALTER TABLE major_sources ADD COLUMN registered_on DATE;
UPDATE major_sources SET registered_on = date(created_at);

CREATE TABLE major_source_assessments (
    id TEXT PRIMARY KEY NOT NULL,
    source_id TEXT NOT NULL REFERENCES major_sources (id),
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    assessed_on DATE NOT NULL,
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    size_bytes BIGINT NOT NULL CHECK (size_bytes > 0),
    content_type TEXT NOT NULL,
    file_name TEXT NOT NULL,
    caption TEXT,
    uploaded_by TEXT NOT NULL REFERENCES users (id),
    uploaded_at TIMESTAMP NOT NULL
);
CREATE INDEX major_source_assessments_source ON major_source_assessments (source_id, assessed_on);
CREATE INDEX major_source_assessments_sha256 ON major_source_assessments (sha256);
