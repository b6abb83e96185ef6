-- Tokens issued before this moment (seconds, UTC) no longer speak for the
-- account: set when its password changes, when it is disabled, and when
-- an admin signs it out everywhere.
ALTER TABLE users ADD COLUMN tokens_valid_after TIMESTAMP;
