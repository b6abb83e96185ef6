-- 16号令 Art. 14 statistical filings: each version an enterprise files for
-- a quarter (1–4) or a year (quarter NULL), its figures frozen as filed. A
-- correction is a new version; every version is kept. Keep this file and
-- its twin in step.

CREATE TABLE filings (
    id TEXT PRIMARY KEY NOT NULL,
    period_id TEXT NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    year INTEGER NOT NULL,
    quarter INTEGER CHECK (quarter BETWEEN 1 AND 4),
    version INTEGER NOT NULL CHECK (version >= 1),
    figures TEXT NOT NULL,
    principal_name TEXT NOT NULL,
    note TEXT,
    correction_reason TEXT,
    filed_by TEXT NOT NULL REFERENCES users (id),
    filed_at TIMESTAMP NOT NULL,
    filed_on DATE NOT NULL,
    UNIQUE (period_id, version)
);
CREATE INDEX filings_year ON filings (year, enterprise_id);
