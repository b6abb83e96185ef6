-- What one POST /api/v1/hazards does in the database, statement for
-- statement (the enterprise check, the number, the hazard, its event), for
-- pgbench: the ceiling the service is compared with.
\set n random(1, 1000000000)
SELECT gen_random_uuid()::text AS hid, gen_random_uuid()::text AS eid \gset
BEGIN;
SELECT EXISTS (SELECT 1 FROM enterprises WHERE id = ':enterprise');
INSERT INTO hazard_number_counters (year, last_seq) VALUES (2099, 1) ON CONFLICT (year) DO UPDATE SET last_seq = hazard_number_counters.last_seq + 1 RETURNING last_seq;
INSERT INTO hazards (id, number, found_year, found_month, enterprise_id, source, title, description, location, category, specialty, level, found_at, found_by, deadline, state, version, created_at, updated_at)
  VALUES (':hid', 'YH-BENCH-' || ':hid', 2099, 1, ':enterprise', 'resident_expert', '压力表未校验 ' || :n, '基准测试', '1号装置区', 'unsafe_condition', 'equipment', 'general', now(), ':actor', '2099-12-31', 'reported', 1, now(), now());
INSERT INTO hazard_events (id, hazard_id, seq, action, actor_id, actor_role, from_state, to_state, occurred_at, recorded_at, note, details)
  VALUES (':eid', ':hid', 1, 'report', ':actor', 'expert', NULL, 'reported', now(), now(), NULL, '{}');
COMMIT;
