-- Ledger imports: each committed import with its row-by-row report, and
-- the key of every row it created (the ledger's own number, or a
-- fingerprint of the row), so the same file imported again creates nothing.
-- Keep this file and its twin in step.

CREATE TABLE imports (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('hazards', 'enterprises')),
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    rows_total INTEGER NOT NULL,
    created INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    report TEXT NOT NULL
);

CREATE TABLE import_keys (
    key TEXT PRIMARY KEY NOT NULL,
    hazard_id TEXT NOT NULL REFERENCES hazards (id),
    import_id TEXT NOT NULL REFERENCES imports (id)
);
