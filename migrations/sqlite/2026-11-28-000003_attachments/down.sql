ALTER TABLE hazards DROP COLUMN evidence_after;
ALTER TABLE hazards DROP COLUMN evidence_before;
DROP INDEX attachments_sha256;
DROP INDEX attachments_hazard;
DROP TABLE attachments;
