-- The emergency drills of a major hazard source: its special emergency
-- plan (专项应急预案) and its on-site plan (现场处置方案), each drilled on a
-- cycle (`[major_sources]`); the next one falls due from the last. Keep
-- this file and its twin in step.

CREATE TABLE major_source_drills (
    id TEXT PRIMARY KEY NOT NULL,
    source_id TEXT NOT NULL REFERENCES major_sources (id),
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    kind TEXT NOT NULL,
    held_on DATE NOT NULL,
    note TEXT,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX major_source_drills_source ON major_source_drills (source_id, kind, held_on);
