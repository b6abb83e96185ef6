-- Stored responses expire (server.idempotency_retention_hours): each
-- idempotent request first forgets the expired ones, by this index.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
