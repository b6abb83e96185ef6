-- The transactional outbox: every escalation mail is a row, written in the
-- transaction that causes it (or by the scanner), then claimed and sent.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    -- One message per (hazard, rule, deadline): the unique key is the guard
    -- that makes every rule fire once, whatever the number of instances.
    dedup_key TEXT NOT NULL UNIQUE,
    hazard_id TEXT REFERENCES hazards (id),
    rule TEXT NOT NULL,
    deadline DATE,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'dead', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_owner TEXT,
    lease_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_hazard ON outbox (hazard_id, state);
