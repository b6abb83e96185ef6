#!/usr/bin/env bash
# The API against the machine's own ceilings (issue: "Production
# readiness"). For each backend and each size (10,000 and 1,000,000
# hazards by default), in one run:
#   - hazard creation (POST /api/v1/hazards) at 8 connections; on
#     PostgreSQL also pgbench running the same statements at 8 clients;
#   - GET /api/v1/hazards (a page of 50) and GET /api/v1/hazards/{id},
#     answered by the read cache and (Cache-Control: no-cache) by the
#     database;
#   - GET /api/v1/stats/overview revalidated (If-None-Match, answered
#     304), the path wall screens poll;
#   - a static JSON actix endpoint (examples/static_json.rs), the ceiling
#     for the reads: once with an empty page, and once per read with the
#     very bytes the API answered;
# with p50/p99, the server's CPU time per request (user + system, from
# /proc: steadier than requests/s on a shared machine), on PostgreSQL the
# database's CPU time per request too, and the service's peak RSS. wrk
# and pgbench run on core 0, the service (one worker) and the static
# server on core 1. PostgreSQL is reached over loopback
# without TLS (sslmode=disable): on one machine TLS only costs CPU, about
# a third of the time of reading one hazard.
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZES=${SIZES:-"10000 1000000"}
DURATION=${DURATION:-10s}
OUT=${OUT:-benches/api/results.txt}
WORK=$(mktemp -d /tmp/ht-api-bench.XXXXXX)
BIN=target/release/hazard-tracker

[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release --quiet --bin hazard-tracker --example static_json
. benches/api/common.sh

: > "$OUT"
say "# API benchmark, $(date -u +%FT%TZ), $(nproc) cores, wrk -c8 for $DURATION"
trap 'rm -rf "$WORK"' EXIT
STATIC_EMPTY=$(static_ceiling "")
say "static JSON endpoint, an empty page: $STATIC_EMPTY"

run() {
  local name=$1 url=$2 size=$3
  export HT__DATABASE__URL=$url
  # On PostgreSQL the database's own CPU time counts too: it shares the
  # machine's cores with the service and wrk.
  export MEASURE_PG=0
  [ "$name" = postgresql ] && MEASURE_PG=1
  say ""
  say "## $name, $size hazards"
  load_data "$BIN" "$size"
  start_service "$BIN"
  local auth=$AUTH pid=$SERVICE_PID
  export ENTERPRISE
  ENTERPRISE=$(first_id "$BASE/api/v1/enterprises?limit=1")
  local hazard
  hazard=$(first_id "$BASE/api/v1/hazards?limit=1")
  local page="$BASE/api/v1/hazards?limit=50" one="$BASE/api/v1/hazards/$hazard"
  curl -sf "$page" -H "$auth" > "$WORK/page.json"
  curl -sf "$one" -H "$auth" > "$WORK/one.json"
  local read label target body ceiling cached fresh
  for read in "page of 50|$page|$WORK/page.json" "one hazard|$one|$WORK/one.json"; do
    IFS='|' read -r label target body <<< "$read"
    ceiling=$(static_ceiling "$body")
    cached=$(load_cpu "$pid" "$target" -H "$auth")
    fresh=$(load_cpu "$pid" "$target" -H "$auth" -H 'cache-control: no-cache')
    say "GET $label, static same bytes ($(wc -c < "$body") B): $ceiling"
    say "GET $label, read cache:    $cached  => $(ratio "$cached" "$ceiling") of the same bytes, $(ratio "$cached" "$STATIC_EMPTY") of an empty page"
    say "GET $label, database (no-cache): $fresh  => $(ratio "$fresh" "$ceiling") of the same bytes, $(ratio "$fresh" "$STATIC_EMPTY") of an empty page"
  done
  local overview="$BASE/api/v1/stats/overview" tag revalidated empty_before empty_after
  tag=$(overview_tag)
  # Against the empty page measured just before and just after, so that a
  # neighbour taking the machine for a while weighs on both sides.
  empty_before=$(static_ceiling "")
  revalidated=$(load_cpu "$pid" "$overview" -H "$auth" -H "if-none-match: $tag")
  empty_after=$(static_ceiling "")
  say "GET stats/overview, 304:     $revalidated  => $(ratio_either_side "$revalidated" "$empty_before" "$empty_after") of an empty page measured either side ($(rps "$empty_before") and $(rps "$empty_after")/s)"
  say "POST /api/v1/hazards:         $(taskset -c 0 wrk -t1 -c8 -d"$DURATION" --latency -s benches/api/create.lua "$BASE/api/v1/hazards" | summary)"
  say "service peak RSS: $(( $(grep VmHWM /proc/$pid/status | awk '{print $2}') / 1024 )) MB"
  stop_service
  if [ "$name" = postgresql ]; then
    local actor
    actor=$(psql "$url" -Atc "SELECT id FROM users WHERE email = 'bench-expert@park.example.cn'")
    say "pgbench, the same statements: $(taskset -c 0 pgbench -n -c8 -j1 -T "${DURATION%s}" -f benches/api/create.sql \
      -D enterprise="$ENTERPRISE" -D actor="$actor" "$url" 2>/dev/null | grep -E '^tps|latency average' | tr '\n' ' ')"
  fi
}

for size in $SIZES; do
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS ht_api_bench WITH (FORCE)" -c "CREATE DATABASE ht_api_bench"
  run postgresql "postgres://postgres@127.0.0.1:5432/ht_api_bench?sslmode=disable" "$size"
  rm -f "$WORK/api.sqlite3"*
  run sqlite "sqlite://$WORK/api.sqlite3" "$size"
done
psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS ht_api_bench WITH (FORCE)"
say ""
say "results written to $OUT"
