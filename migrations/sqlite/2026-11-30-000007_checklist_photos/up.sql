-- Photos of a checklist item's result (pass, fail or not applicable alike).
-- The bytes live in the evidence blob store under their SHA-256, shared
-- with hazards' evidence files; a blob goes only when no row of either
-- table names it. Keep this file and its twin in step.

CREATE TABLE checklist_photos (
    id TEXT PRIMARY KEY NOT NULL,
    inspection_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    size_bytes BIGINT NOT NULL CHECK (size_bytes > 0),
    content_type TEXT NOT NULL,
    file_name TEXT NOT NULL,
    caption TEXT,
    uploaded_by TEXT NOT NULL REFERENCES users (id),
    uploaded_at TIMESTAMP NOT NULL,
    FOREIGN KEY (inspection_id, item_id) REFERENCES checklist_results (inspection_id, item_id)
);
CREATE INDEX checklist_photos_result ON checklist_photos (inspection_id, item_id, id);
CREATE INDEX checklist_photos_sha256 ON checklist_photos (sha256);
