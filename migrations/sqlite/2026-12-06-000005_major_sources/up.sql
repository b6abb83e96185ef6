-- Major hazard sources (重大危险源) and their three 包保责任人. A source is
-- a risk analysis object of the register; its 包保 duties are control
-- measures of a unit of that object, and each person's duty checks a
-- check task of the register's engine. The inputs (α and the chemicals'
-- q, Q and β) are JSON; S, R and the grade are worked out from them when
-- recorded. A person replaced keeps their row, with when they left, and
-- their task is retired. Keep this file and its twin in step.

CREATE TABLE major_sources (
    id TEXT PRIMARY KEY NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    object_id TEXT NOT NULL REFERENCES risk_objects (id),
    unit_id TEXT NOT NULL REFERENCES risk_units (id),
    event_id TEXT NOT NULL REFERENCES risk_events (id),
    principal_measure_id TEXT NOT NULL REFERENCES control_measures (id),
    technical_measure_id TEXT NOT NULL REFERENCES control_measures (id),
    operational_measure_id TEXT NOT NULL REFERENCES control_measures (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    unit_kind TEXT NOT NULL,
    inputs TEXT NOT NULL,
    s_centi BIGINT NOT NULL CHECK (s_centi >= 100),
    r_centi BIGINT NOT NULL CHECK (r_centi > 0),
    grade INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 4),
    assessed_on DATE,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (enterprise_id, code)
);
CREATE UNIQUE INDEX major_sources_unit ON major_sources (unit_id);

CREATE TABLE major_source_persons (
    id TEXT PRIMARY KEY NOT NULL,
    source_id TEXT NOT NULL REFERENCES major_sources (id),
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    post TEXT NOT NULL,
    phone TEXT NOT NULL,
    user_id TEXT REFERENCES users (id),
    since DATE NOT NULL,
    task_id TEXT NOT NULL REFERENCES check_tasks (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    replaced_at TIMESTAMP
);
CREATE INDEX major_source_persons_source ON major_source_persons (source_id, kind);
-- One person of each kind in office per source.
CREATE UNIQUE INDEX major_source_persons_current
    ON major_source_persons (source_id, kind) WHERE replaced_at IS NULL;

-- A task given up (its person replaced) plans no occurrence from then on.
ALTER TABLE check_tasks ADD COLUMN retired_at TIMESTAMP;
-- A duty check's failed duties, by number (JSON array).
ALTER TABLE check_records ADD COLUMN failed_items TEXT;
