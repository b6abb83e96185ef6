-- Editing and retiring the risk register: a retired object, unit, event
-- or measure (and everything below it) leaves the register but stays in
-- the database, as do the records made against it; every edit and
-- retirement is kept in register_revisions with the node as it was
-- before. Keep this file and its twin in step.

ALTER TABLE risk_objects ADD COLUMN retired_at TIMESTAMP;
ALTER TABLE risk_units ADD COLUMN retired_at TIMESTAMP;
ALTER TABLE risk_events ADD COLUMN retired_at TIMESTAMP;
ALTER TABLE control_measures ADD COLUMN retired_at TIMESTAMP;

CREATE TABLE register_revisions (
    id TEXT PRIMARY KEY NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    node_kind TEXT NOT NULL
        CHECK (node_kind IN ('object', 'unit', 'event', 'measure', 'task')),
    node_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('edited', 'retired')),
    -- The node as it was, JSON.
    before TEXT NOT NULL,
    -- The node as it became (an edit), JSON.
    after TEXT,
    reason TEXT,
    revised_by TEXT NOT NULL REFERENCES users (id),
    revised_at TIMESTAMP NOT NULL
);
CREATE INDEX register_revisions_enterprise ON register_revisions (enterprise_id, id);
