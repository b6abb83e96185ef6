-- The figures' summary rows, kept by triggers in the same transaction as
-- each change, so a dashboard or report reads counts instead of scanning
-- every hazard: `hazard_counts` by every attribute a report cuts by,
-- `hazard_tallies` by those the dashboard's overview cuts by (a few
-- thousand rows at a million hazards), `hazard_month_counts` per month
-- found. `hazard-tracker stats verify` recomputes them
-- from the rows. Keep this file and its twin in step.

-- Whether a hazard's closure was entered after the fact (补录): fixed by
-- the trigger below when an `accept` event so marked is recorded.
ALTER TABLE hazards ADD COLUMN closure_entered_late BOOLEAN NOT NULL DEFAULT 0;
UPDATE hazards SET closure_entered_late = 1 WHERE id IN (
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

-- One row at a time (SQLite has no statement triggers); it runs one
-- writing transaction at a time, so no two writers wait on each other.
CREATE TRIGGER hazards_counts_insert AFTER INSERT ON hazards
BEGIN
    INSERT INTO hazard_counts
    VALUES (NEW.found_year, NEW.enterprise_id, NEW.source, NEW.level, NEW.category,
            COALESCE(NEW.specialty, ''), NEW.state, NEW.found_month,
            CASE WHEN NEW.closed_on_time THEN 1 ELSE 0 END,
            CASE WHEN NEW.closure_entered_late THEN 1 ELSE 0 END, 1)
    ON CONFLICT (found_year, enterprise_id, source, level, category, specialty, state,
                 found_month, on_time, late_closure)
    DO UPDATE SET n = n + 1;
    INSERT INTO hazard_tallies
    VALUES (NEW.found_year, NEW.enterprise_id, NEW.source, NEW.level, NEW.category,
            NEW.state, CASE WHEN NEW.closure_entered_late THEN 1 ELSE 0 END, 1)
    ON CONFLICT (found_year, enterprise_id, source, level, category, state, late_closure)
    DO UPDATE SET n = n + 1;
    INSERT INTO hazard_month_counts
    VALUES (NEW.found_year, NEW.found_month, NEW.enterprise_id, NEW.state, 1)
    ON CONFLICT (found_year, found_month, enterprise_id, state)
    DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER hazards_counts_update AFTER UPDATE ON hazards
WHEN OLD.found_year IS NOT NEW.found_year
  OR OLD.enterprise_id IS NOT NEW.enterprise_id
  OR OLD.source IS NOT NEW.source
  OR OLD.level IS NOT NEW.level
  OR OLD.category IS NOT NEW.category
  OR OLD.specialty IS NOT NEW.specialty
  OR OLD.state IS NOT NEW.state
  OR OLD.found_month IS NOT NEW.found_month
  OR (CASE WHEN OLD.closed_on_time THEN 1 ELSE 0 END) IS NOT (CASE WHEN NEW.closed_on_time THEN 1 ELSE 0 END)
  OR OLD.closure_entered_late IS NOT NEW.closure_entered_late
BEGIN
    UPDATE hazard_counts SET n = n - 1
    WHERE found_year = OLD.found_year AND enterprise_id = OLD.enterprise_id
      AND source = OLD.source AND level = OLD.level AND category = OLD.category
      AND specialty = COALESCE(OLD.specialty, '') AND state = OLD.state
      AND found_month = OLD.found_month
      AND on_time = (CASE WHEN OLD.closed_on_time THEN 1 ELSE 0 END)
      AND late_closure = (CASE WHEN OLD.closure_entered_late THEN 1 ELSE 0 END);
    UPDATE hazard_tallies SET n = n - 1
    WHERE found_year = OLD.found_year AND enterprise_id = OLD.enterprise_id
      AND source = OLD.source AND level = OLD.level AND category = OLD.category
      AND state = OLD.state
      AND late_closure = (CASE WHEN OLD.closure_entered_late THEN 1 ELSE 0 END);
    UPDATE hazard_month_counts SET n = n - 1
    WHERE found_year = OLD.found_year AND found_month = OLD.found_month
      AND enterprise_id = OLD.enterprise_id AND state = OLD.state;
    INSERT INTO hazard_counts
    VALUES (NEW.found_year, NEW.enterprise_id, NEW.source, NEW.level, NEW.category,
            COALESCE(NEW.specialty, ''), NEW.state, NEW.found_month,
            CASE WHEN NEW.closed_on_time THEN 1 ELSE 0 END,
            CASE WHEN NEW.closure_entered_late THEN 1 ELSE 0 END, 1)
    ON CONFLICT (found_year, enterprise_id, source, level, category, specialty, state,
                 found_month, on_time, late_closure)
    DO UPDATE SET n = n + 1;
    INSERT INTO hazard_tallies
    VALUES (NEW.found_year, NEW.enterprise_id, NEW.source, NEW.level, NEW.category,
            NEW.state, CASE WHEN NEW.closure_entered_late THEN 1 ELSE 0 END, 1)
    ON CONFLICT (found_year, enterprise_id, source, level, category, state, late_closure)
    DO UPDATE SET n = n + 1;
    INSERT INTO hazard_month_counts
    VALUES (NEW.found_year, NEW.found_month, NEW.enterprise_id, NEW.state, 1)
    ON CONFLICT (found_year, found_month, enterprise_id, state)
    DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER hazards_counts_delete AFTER DELETE ON hazards
BEGIN
    UPDATE hazard_counts SET n = n - 1
    WHERE found_year = OLD.found_year AND enterprise_id = OLD.enterprise_id
      AND source = OLD.source AND level = OLD.level AND category = OLD.category
      AND specialty = COALESCE(OLD.specialty, '') AND state = OLD.state
      AND found_month = OLD.found_month
      AND on_time = (CASE WHEN OLD.closed_on_time THEN 1 ELSE 0 END)
      AND late_closure = (CASE WHEN OLD.closure_entered_late THEN 1 ELSE 0 END);
    UPDATE hazard_tallies SET n = n - 1
    WHERE found_year = OLD.found_year AND enterprise_id = OLD.enterprise_id
      AND source = OLD.source AND level = OLD.level AND category = OLD.category
      AND state = OLD.state
      AND late_closure = (CASE WHEN OLD.closure_entered_late THEN 1 ELSE 0 END);
    UPDATE hazard_month_counts SET n = n - 1
    WHERE found_year = OLD.found_year AND found_month = OLD.found_month
      AND enterprise_id = OLD.enterprise_id AND state = OLD.state;
END;

CREATE TRIGGER hazard_events_late_closure AFTER INSERT ON hazard_events
WHEN NEW.action = 'accept' AND NEW.entered_late
BEGIN
    UPDATE hazards SET closure_entered_late = 1
    WHERE id = NEW.hazard_id AND NOT closure_entered_late;
END;

-- The wall screen's newest major hazards, without reading every hazard.
CREATE INDEX hazards_level_found_at ON hazards (level, found_at);
