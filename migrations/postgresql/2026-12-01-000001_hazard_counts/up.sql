-- The figures' summary rows, kept by triggers in the same transaction as
-- each change, so a dashboard or report reads counts instead of scanning
-- every hazard: `hazard_counts` by every attribute a report cuts by,
-- `hazard_tallies` by those the dashboard's overview cuts by (a few
-- thousand rows at a million hazards), `hazard_month_counts` per month
-- found. `hazard-tracker stats verify` recomputes them
-- from the rows. Keep this file and its twin in step.

-- Whether a hazard's closure was entered after the fact (补录): fixed by
-- the trigger below when an `accept` event so marked is recorded.
ALTER TABLE hazards ADD COLUMN closure_entered_late BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE hazards SET closure_entered_late = TRUE WHERE id IN (
    SELECT hazard_id FROM hazard_events WHERE action = 'accept' AND entered_late
);

CREATE TABLE hazard_counts (
    found_year INTEGER NOT NULL,
    enterprise_id TEXT NOT NULL,
    source TEXT NOT NULL,
    level TEXT NOT NULL,
    category TEXT NOT NULL,
    -- '' for none: a key column cannot be NULL.
    specialty TEXT NOT NULL,
    state TEXT NOT NULL,
    found_month INTEGER NOT NULL,
    -- 1 when closed and submitted by the end of the deadline day.
    on_time INTEGER NOT NULL,
    -- 1 when the closure was entered after the fact.
    late_closure INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (found_year, enterprise_id, source, level, category, specialty, state,
                 found_month, on_time, late_closure)
);
CREATE INDEX hazard_counts_enterprise ON hazard_counts (enterprise_id);

CREATE TABLE hazard_tallies (
    found_year INTEGER NOT NULL,
    enterprise_id TEXT NOT NULL,
    source TEXT NOT NULL,
    level TEXT NOT NULL,
    category TEXT NOT NULL,
    state TEXT NOT NULL,
    late_closure INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (found_year, enterprise_id, source, level, category, state, late_closure)
);
CREATE INDEX hazard_tallies_enterprise ON hazard_tallies (enterprise_id);

CREATE TABLE hazard_month_counts (
    found_year INTEGER NOT NULL,
    found_month INTEGER NOT NULL,
    enterprise_id TEXT NOT NULL,
    state TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (found_year, found_month, enterprise_id, state)
);

-- Rows from before this migration.
INSERT INTO hazard_counts
SELECT found_year, enterprise_id, source, level, category, COALESCE(specialty, ''), state, found_month,
       CASE WHEN closed_on_time THEN 1 ELSE 0 END, CASE WHEN closure_entered_late THEN 1 ELSE 0 END,
       COUNT(*)
FROM hazards GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10;
INSERT INTO hazard_tallies
SELECT found_year, enterprise_id, source, level, category, state,
       CASE WHEN closure_entered_late THEN 1 ELSE 0 END, COUNT(*)
FROM hazards GROUP BY 1, 2, 3, 4, 5, 6, 7;
INSERT INTO hazard_month_counts
SELECT found_year, found_month, enterprise_id, state, COUNT(*)
FROM hazards GROUP BY 1, 2, 3, 4;

-- Once per statement, from its transition tables: a bulk insert of many
-- hazards adds its groups in one pass. Locks are taken in one order —
-- the change feed's counter first (the hazard events' trigger takes it
-- too), then the summary rows table by table in key order — so two
-- writers never wait on each other in a circle.
CREATE FUNCTION hazard_counts_apply() RETURNS trigger AS $$
DECLARE
    changed TEXT := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT h.*, 1 AS d FROM new_rows h'
        WHEN 'DELETE' THEN 'SELECT h.*, -1 AS d FROM old_rows h'
        ELSE 'SELECT h.*, -1 AS d FROM old_rows h UNION ALL SELECT h.*, 1 AS d FROM new_rows h'
    END;
BEGIN
    PERFORM 1 FROM change_counter WHERE id = 1 FOR UPDATE;
    EXECUTE format($q$
        INSERT INTO hazard_counts
        SELECT found_year, enterprise_id, source, level, category, COALESCE(specialty, ''), state,
               found_month, CASE WHEN closed_on_time THEN 1 ELSE 0 END,
               CASE WHEN closure_entered_late THEN 1 ELSE 0 END, SUM(d)
        FROM (%s) AS changed
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 HAVING SUM(d) <> 0
        ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
        ON CONFLICT (found_year, enterprise_id, source, level, category, specialty, state,
                     found_month, on_time, late_closure)
        DO UPDATE SET n = hazard_counts.n + EXCLUDED.n
    $q$, changed);
    EXECUTE format($q$
        INSERT INTO hazard_tallies
        SELECT found_year, enterprise_id, source, level, category, state,
               CASE WHEN closure_entered_late THEN 1 ELSE 0 END, SUM(d)
        FROM (%s) AS changed
        GROUP BY 1, 2, 3, 4, 5, 6, 7 HAVING SUM(d) <> 0
        ORDER BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT (found_year, enterprise_id, source, level, category, state, late_closure)
        DO UPDATE SET n = hazard_tallies.n + EXCLUDED.n
    $q$, changed);
    EXECUTE format($q$
        INSERT INTO hazard_month_counts
        SELECT found_year, found_month, enterprise_id, state, SUM(d)
        FROM (%s) AS changed
        GROUP BY 1, 2, 3, 4 HAVING SUM(d) <> 0
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (found_year, found_month, enterprise_id, state)
        DO UPDATE SET n = hazard_month_counts.n + EXCLUDED.n
    $q$, changed);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER hazards_counts_insert AFTER INSERT ON hazards
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hazard_counts_apply();
CREATE TRIGGER hazards_counts_update AFTER UPDATE ON hazards
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hazard_counts_apply();
CREATE TRIGGER hazards_counts_delete AFTER DELETE ON hazards
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION hazard_counts_apply();

CREATE FUNCTION hazard_events_late_closure() RETURNS trigger AS $$
BEGIN
    UPDATE hazards SET closure_entered_late = TRUE
    WHERE id = NEW.hazard_id AND NOT closure_entered_late;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER hazard_events_late_closure AFTER INSERT ON hazard_events
    FOR EACH ROW WHEN (NEW.action = 'accept' AND NEW.entered_late)
    EXECUTE FUNCTION hazard_events_late_closure();

-- The wall screen's newest major hazards, without reading every hazard.
CREATE INDEX hazards_level_found_at ON hazards (level, found_at);
