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
# /proc: steadier than requests/s on a shared machine) and the service's
# peak RSS. wrk and pgbench run on core 0, the service (one worker) and
# the static server on core 1. PostgreSQL is reached over loopback
# without TLS (sslmode=disable): on one machine TLS only costs CPU, about
# a third of the time of reading one hazard.
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZES=${SIZES:-"10000 1000000"}
DURATION=${DURATION:-10s}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
OUT=${OUT:-benches/api/results.txt}
WORK=$(mktemp -d /tmp/ht-api-bench.XXXXXX)
BIN=target/release/hazard-tracker
STATIC=target/release/examples/static_json

[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release --quiet --bin hazard-tracker --example static_json
command -v wrk >/dev/null && command -v pgbench >/dev/null || { echo "needs wrk and pgbench"; exit 1; }

export HT_CONFIG_DIR=$PWD/config HT__LOG__LEVEL=warn HT__ESCALATION__ENABLED=false
export HT__AUTH__JWT_SECRET=bench-secret-bench-secret-bench-secret-0123456789
export HT__STORAGE__DATA_DIR=$WORK/data
export HT__AUTH__LOGIN_ATTEMPTS_PER_MINUTE_PER_ACCOUNT=0 HT__AUTH__LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS=0

say() { printf '%s\n' "$*" | tee -a "$OUT"; }
: > "$OUT"
say "# API benchmark, $(date -u +%FT%TZ), $(nproc) cores, wrk -c8 for $DURATION"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
summary() { grep -E 'Requests/sec|  50%|  99%|Non-2xx' | awk '{printf "%s %s  ", $1, $2} END {print ""}'; }

load() { taskset -c 0 wrk -t1 -c8 -d"$DURATION" --latency "$@" | summary; }
# load, and the CPU time process $1 spent per request meanwhile.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
load_cpu() {
  local pid=$1; shift
  local before out after
  before=$(cpu_ticks "$pid")
  out=$(taskset -c 0 wrk -t1 -c8 -d"$DURATION" --latency "$@")
  after=$(cpu_ticks "$pid")
  printf '%s cpu/request: %s us\n' "$(summary <<< "$out")" "$(python3 -c "import sys; print(round((int(sys.argv[2]) - int(sys.argv[1])) * 1e6 / $(getconf CLK_TCK) / int(sys.argv[3]), 1))" \
    "$before" "$after" "$(awk '/requests in/ {print $1}' <<< "$out")")"
}
rps() { sed -n 's/.*Requests\/sec: *\([0-9.]*\).*/\1/p' <<< "$1"; }
ratio() { python3 -c "import sys; print(f'{100*float(sys.argv[1])/float(sys.argv[2]):.0f} %')" "$(rps "$1")" "$(rps "$2")"; }
# The ceiling for an answer: the static server sending the very same bytes.
static_ceiling() {
  local spot; spot=$(port)
  env BIND=127.0.0.1:$spot ${1:+BODY_FILE="$1"} taskset -c 1 $STATIC &
  local pid=$!
  sleep 0.5
  load_cpu "$pid" "http://127.0.0.1:$spot/static"
  kill $pid; wait $pid 2>/dev/null || true
}
trap 'rm -rf "$WORK"' EXIT
STATIC_EMPTY=$(static_ceiling "")
say "static JSON endpoint, an empty page: $STATIC_EMPTY"

run() {
  local name=$1 url=$2 size=$3
  export HT__DATABASE__URL=$url
  say ""
  say "## $name, $size hazards"
  $BIN demo load --hazards "$size" >/dev/null
  echo 'a long bench password' | $BIN user add --email bench-expert@park.example.cn --role expert --password-stdin >/dev/null
  local p; p=$(port)
  HT__SERVER__BIND=127.0.0.1:$p HT__SERVER__WORKERS=1 taskset -c 1 $BIN serve &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$p/readyz" >/dev/null && break; sleep 0.2; done
  export TOKEN
  TOKEN=$(curl -sf "http://127.0.0.1:$p/api/v1/auth/token" -H 'content-type: application/json' \
    -d '{"email":"bench-expert@park.example.cn","password":"a long bench password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  local auth="authorization: Bearer $TOKEN"
  export ENTERPRISE
  ENTERPRISE=$(curl -sf "http://127.0.0.1:$p/api/v1/enterprises?limit=1" -H "$auth" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
  local hazard
  hazard=$(curl -sf "http://127.0.0.1:$p/api/v1/hazards?limit=1" -H "$auth" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
  local page="http://127.0.0.1:$p/api/v1/hazards?limit=50" one="http://127.0.0.1:$p/api/v1/hazards/$hazard"
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
  local overview="http://127.0.0.1:$p/api/v1/stats/overview" tag revalidated
  tag=$(curl -sfi "$overview" -H "$auth" | sed -n 's/^[Ee][Tt][Aa][Gg]: *\(.*\)\r$/\1/p')
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$overview" -H "$auth" -H "if-none-match: $tag")" = 304 ] || { echo "overview did not answer 304"; exit 1; }
  revalidated=$(load_cpu "$pid" "$overview" -H "$auth" -H "if-none-match: $tag")
  say "GET stats/overview, 304:     $revalidated  => $(ratio "$revalidated" "$STATIC_EMPTY") of an empty page"
  say "POST /api/v1/hazards:         $(taskset -c 0 wrk -t1 -c8 -d"$DURATION" --latency -s benches/api/create.lua "http://127.0.0.1:$p/api/v1/hazards" | summary)"
  say "service peak RSS: $(( $(grep VmHWM /proc/$pid/status | awk '{print $2}') / 1024 )) MB"
  kill "$pid"; wait "$pid" 2>/dev/null || true
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
