-- Risk grading: assessments and the enterprise's own append-only history.

CREATE TABLE enterprise_assessments (
    id TEXT PRIMARY KEY NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    score_centi INTEGER NOT NULL CHECK (score_centi BETWEEN 0 AND 10000),
    direct_red_triggers TEXT NOT NULL DEFAULT '[]',
    grade TEXT NOT NULL CHECK (grade IN ('red', 'orange', 'yellow', 'blue')),
    thresholds_version TEXT NOT NULL,
    thresholds TEXT NOT NULL,
    assessed_on DATE NOT NULL,
    assessor TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX enterprise_assessments_enterprise ON enterprise_assessments (enterprise_id, assessed_on);
CREATE INDEX enterprise_assessments_assessed_on ON enterprise_assessments (assessed_on);

CREATE TABLE enterprise_events (
    id TEXT PRIMARY KEY NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    seq INTEGER NOT NULL,
    action TEXT NOT NULL,
    actor_id TEXT NOT NULL REFERENCES users (id),
    actor_role TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    note TEXT,
    details TEXT NOT NULL DEFAULT '{}',
    UNIQUE (enterprise_id, seq)
);

-- The generic refusal, shared by every append-only table.
CREATE FUNCTION refuse_history_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER enterprise_assessments_append_only BEFORE UPDATE OR DELETE ON enterprise_assessments
    FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER enterprise_assessments_no_truncate BEFORE TRUNCATE ON enterprise_assessments
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER enterprise_events_append_only BEFORE UPDATE OR DELETE ON enterprise_events
    FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
CREATE TRIGGER enterprise_events_no_truncate BEFORE TRUNCATE ON enterprise_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();

CREATE INDEX inspections_enterprise_source_date ON inspections (enterprise_id, source, inspected_on);
CREATE INDEX hazards_enterprise_state ON hazards (enterprise_id, state, level, deadline);
