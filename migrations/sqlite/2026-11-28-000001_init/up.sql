-- The core schema: enterprises, users, inspections, hazards and their
-- append-only history. Keep this file and its PostgreSQL twin in step.

CREATE TABLE enterprises (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    credit_code TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('producing', 'trial', 'construction', 'closed')),
    contact_emails TEXT NOT NULL DEFAULT '[]',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'expert', 'enterprise', 'viewer')),
    enterprise_id TEXT REFERENCES enterprises (id),
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((role = 'enterprise') = (enterprise_id IS NOT NULL))
);

CREATE TABLE inspections (
    id TEXT PRIMARY KEY NOT NULL,
    source TEXT NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    checking_enterprise_id TEXT REFERENCES enterprises (id),
    inspected_on DATE NOT NULL,
    inspectors TEXT NOT NULL DEFAULT '[]',
    notes TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX inspections_enterprise ON inspections (enterprise_id, id);

CREATE TABLE hazard_number_counters (
    year INTEGER PRIMARY KEY NOT NULL,
    last_seq INTEGER NOT NULL
);

CREATE TABLE hazards (
    id TEXT PRIMARY KEY NOT NULL,
    number TEXT NOT NULL UNIQUE,
    found_year INTEGER NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    source TEXT NOT NULL,
    checking_enterprise_id TEXT REFERENCES enterprises (id),
    inspection_id TEXT REFERENCES inspections (id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    location TEXT NOT NULL,
    category TEXT NOT NULL,
    specialty TEXT,
    level TEXT NOT NULL CHECK (level IN ('general', 'major')),
    major_basis_code INTEGER CHECK (major_basis_code BETWEEN 1 AND 20),
    listing_ordering_body TEXT,
    listing_listed_on DATE,
    found_at TIMESTAMP NOT NULL,
    found_by TEXT NOT NULL REFERENCES users (id),
    deadline DATE NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('reported', 'rectifying', 'pending_acceptance', 'closed', 'voided')),
    version BIGINT NOT NULL DEFAULT 1,
    plan_measures TEXT,
    plan_responsible_person TEXT,
    plan_funds_fen BIGINT,
    plan_contingency TEXT,
    planned_at TIMESTAMP,
    planned_by TEXT REFERENCES users (id),
    submitted_at TIMESTAMP,
    closed_at TIMESTAMP,
    voided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((level = 'major') = (major_basis_code IS NOT NULL))
);
CREATE INDEX hazards_enterprise ON hazards (enterprise_id, id);
CREATE INDEX hazards_state_deadline ON hazards (state, deadline);
CREATE INDEX hazards_found_year ON hazards (found_year, id);

CREATE TABLE hazard_events (
    id TEXT PRIMARY KEY NOT NULL,
    hazard_id TEXT NOT NULL REFERENCES hazards (id),
    seq INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor_id TEXT NOT NULL REFERENCES users (id),
    actor_role TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    note TEXT,
    details TEXT NOT NULL DEFAULT '{}',
    UNIQUE (hazard_id, seq)
);

-- History cannot be rewritten: the database itself refuses it.
CREATE TRIGGER hazard_events_no_update BEFORE UPDATE ON hazard_events
BEGIN
    SELECT RAISE(ABORT, 'hazard_events is append-only');
END;
CREATE TRIGGER hazard_events_no_delete BEFORE DELETE ON hazard_events
BEGIN
    SELECT RAISE(ABORT, 'hazard_events is append-only');
END;

CREATE TABLE hazard_extensions (
    id TEXT PRIMARY KEY NOT NULL,
    hazard_id TEXT NOT NULL REFERENCES hazards (id),
    requested_deadline DATE NOT NULL,
    previous_deadline DATE NOT NULL,
    reason TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'refused', 'withdrawn')),
    requested_by TEXT NOT NULL REFERENCES users (id),
    requested_at TIMESTAMP NOT NULL,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    granted_deadline DATE,
    decision_note TEXT
);
CREATE INDEX hazard_extensions_hazard ON hazard_extensions (hazard_id, requested_at);

CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_fingerprint TEXT NOT NULL,
    response_status INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    location TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);
