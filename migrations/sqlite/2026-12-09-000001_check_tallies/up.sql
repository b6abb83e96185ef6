-- Each check task's settled months, counted once: how many of the
-- occurrences starting in the month (park-local) were paused, done on
-- time, done late and missed, once none can still change but by a
-- record. Figures over long periods read these instead of every record.
-- A record moves its month's `generation` in its own transaction; counts
-- are kept only if the generation they were worked out at still stands.
-- `basis` names everything else the counts depend on (time zone,
-- tolerance, calendar, the unit's pauses, the task's retirement); a row
-- whose basis differs from today's is counted again. NULL: not counted.
-- Nothing here is evidence: the rows can be dropped at any time.
-- Keep this file and its twin in step.

CREATE TABLE check_tallies (
    task_id TEXT NOT NULL REFERENCES check_tasks (id),
    month TEXT NOT NULL,
    generation BIGINT NOT NULL DEFAULT 0,
    basis TEXT,
    paused BIGINT NOT NULL DEFAULT 0,
    done_on_time BIGINT NOT NULL DEFAULT 0,
    done_late BIGINT NOT NULL DEFAULT 0,
    missed BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (task_id, month)
);

-- The records that raised a hazard, by task and time: the figures count
-- them without reading every record of the period.
CREATE INDEX check_records_found ON check_records (task_id, checked_at)
    WHERE hazard_id IS NOT NULL;
