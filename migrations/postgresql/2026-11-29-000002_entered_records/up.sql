-- A step dated more than the park's tolerance before it was recorded is an
-- entered record (补录): marked, so reports can say how much rests on them.
ALTER TABLE hazard_events ADD COLUMN entered_late BOOLEAN NOT NULL DEFAULT FALSE;
