-- Each account's token version: every token carries the version it was
-- issued under and counts only while it is still the account's. Bumped by
-- every revocation, password change, role or enterprise change and
-- disabling, so that every earlier token ends, in the same second too.
ALTER TABLE users ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0;
