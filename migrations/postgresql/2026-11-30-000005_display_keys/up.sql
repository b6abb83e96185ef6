-- Wall screens' display keys: read-only, aggregate-only bearer keys. Only
-- the SHA-256 of a key is kept; the key itself is shown once. Keep this
-- file and its twin in step.

CREATE TABLE display_keys (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    key_sha256 TEXT NOT NULL UNIQUE CHECK (length(key_sha256) = 64),
    key_prefix TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
