-- The risk register of the dual prevention mechanism (风险分级管控): risk
-- analysis objects, their units, the events that could happen in a unit
-- and the control measures against each event; the check tasks of a
-- measure, the pauses (停用/检修) of a unit, and the records checks leave.
-- Future occurrences are never stored: they are worked out from a task's
-- schedule. Schedules and pauses are park-local wall-clock times; records'
-- times are UTC. Keep this file and its twin in step.

CREATE TABLE risk_objects (
    id TEXT PRIMARY KEY NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    major_source_code TEXT,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX risk_objects_enterprise ON risk_objects (enterprise_id, id);

CREATE TABLE risk_units (
    id TEXT PRIMARY KEY NOT NULL,
    object_id TEXT NOT NULL REFERENCES risk_objects (id),
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    name TEXT NOT NULL,
    department TEXT,
    responsible_person TEXT,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX risk_units_enterprise ON risk_units (enterprise_id, id);

CREATE TABLE risk_events (
    id TEXT PRIMARY KEY NOT NULL,
    unit_id TEXT NOT NULL REFERENCES risk_units (id),
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    name TEXT NOT NULL,
    consequence TEXT,
    -- The method and its inputs, as JSON; the score (hundredths) and the
    -- level are worked out from them when recorded.
    assessment TEXT NOT NULL,
    score_centi BIGINT NOT NULL CHECK (score_centi > 0),
    level TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX risk_events_enterprise ON risk_events (enterprise_id, id);

CREATE TABLE control_measures (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES risk_events (id),
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    description TEXT NOT NULL,
    classification TEXT NOT NULL,
    control_mode TEXT NOT NULL,
    check_content TEXT,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX control_measures_enterprise ON control_measures (enterprise_id, id);

CREATE TABLE check_tasks (
    id TEXT PRIMARY KEY NOT NULL,
    measure_id TEXT NOT NULL REFERENCES control_measures (id),
    unit_id TEXT NOT NULL REFERENCES risk_units (id),
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    assignee_role TEXT,
    assignee_user_id TEXT REFERENCES users (id),
    -- The schedule as JSON (every, unit, starts, window, days).
    schedule TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    CHECK ((assignee_role IS NULL) <> (assignee_user_id IS NULL))
);
CREATE INDEX check_tasks_enterprise ON check_tasks (enterprise_id, id);
CREATE INDEX check_tasks_assignee_user ON check_tasks (assignee_user_id);

CREATE TABLE unit_pauses (
    id TEXT PRIMARY KEY NOT NULL,
    unit_id TEXT NOT NULL REFERENCES risk_units (id),
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    CHECK (ends_at IS NULL OR ends_at > starts_at)
);
CREATE INDEX unit_pauses_unit ON unit_pauses (unit_id, starts_at);

CREATE TABLE check_records (
    id TEXT PRIMARY KEY NOT NULL,
    task_id TEXT NOT NULL REFERENCES check_tasks (id),
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    occurrence BIGINT NOT NULL CHECK (occurrence >= 0),
    outcome TEXT NOT NULL,
    note TEXT,
    checked_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    entered_late BOOLEAN NOT NULL,
    hazard_id TEXT REFERENCES hazards (id),
    recorded_by TEXT NOT NULL REFERENCES users (id),
    UNIQUE (task_id, occurrence)
);
CREATE INDEX check_records_task_checked ON check_records (task_id, checked_at);
CREATE INDEX check_records_enterprise ON check_records (enterprise_id, checked_at);
CREATE INDEX check_records_hazard ON check_records (hazard_id);
