#!/usr/bin/env bash
# Dashboard stats and yearly report at scale (issue: "Dashboard stats and
# the yearly Responsible Care report"). Loads N hazards (default 1,000,000)
# with their events into PostgreSQL and into SQLite, then measures in one
# run, on each backend:
#   - /api/v1/stats/overview: the first (computing) request, then p50/p99
#     of the 200 path and the 304 path under load, wrk pinned to core 0 and
#     the service to core 1;
#   - the overview and each /api/v1/analytics/… table right after a change
#     (a hazard reported; the change marker's 1 s cache allowed to lapse):
#     p50 and max of CHANGES (default 15) rounds, and how long the service
#     took to read the analytics' facts whole when it started;
#   - `report yearly` as JSON and XLSX: wall time and peak RSS.
# BACKENDS (default "postgresql sqlite") picks the backends.
# Needs: wrk, GNU time (/usr/bin/time), taskset, psql, a release build.
set -euo pipefail
cd "$(dirname "$0")/../.."

N=${N:-1000000}
DURATION=${DURATION:-10s}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/ht_bench}
WORK=${WORK:-$(mktemp -d /tmp/ht-bench.XXXXXX)}
OUT=${OUT:-benches/stats/results.txt}
BIN=target/release/hazard-tracker
# The database named in PG_URL is (re)created through PG_ADMIN and dropped at
# the end: point PG_URL at a scratch database.
# The database a postgres:// URL names: its path, or a ?dbname= parameter.
db_name() {
  python3 -c 'import sys, urllib.parse as u
url = u.urlsplit(sys.argv[1])
print(u.parse_qs(url.query).get("dbname", [u.unquote(url.path.lstrip("/"))])[-1])' "$1"
}
PG_DB=$(db_name "$PG_URL")
PG_ADMIN_DB=$(db_name "$PG_ADMIN")
[ -n "$PG_DB" ] || { echo "PG_URL names no database: $PG_URL"; exit 1; }
[ "$PG_DB" != "$PG_ADMIN_DB" ] || { echo "PG_URL and PG_ADMIN name the same database ($PG_DB); PG_URL's is dropped"; exit 1; }
# As a quoted SQL identifier.
PG_DB_SQL="\"${PG_DB//\"/\"\"}\""

command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
[ -x /usr/bin/time ] || { echo "install GNU time (apt-get install time)"; exit 1; }
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release --quiet

export HT_CONFIG_DIR=$PWD/config HT__LOG__LEVEL=warn HT__ESCALATION__ENABLED=false
export HT__AUTH__JWT_SECRET=bench-secret-bench-secret-bench-secret-0123456789
export HT__STORAGE__DATA_DIR=$WORK/data

say() { printf '%s\n' "$*" | tee -a "$OUT"; }
: > "$OUT"
say "# stats and report benchmark: $N hazards, $(date -u +%FT%TZ), $(nproc) cores"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

bench_backend() {
  local name=$1 url=$2
  export HT__DATABASE__URL=$url
  say ""
  say "## $name"
  local started=$(date +%s.%N)
  $BIN demo load --hazards "$N" | tee -a "$OUT"
  say "load: $(python3 -c "print(round($(date +%s.%N) - $started, 1))") s wall"
  echo 'a long bench password' | $BIN user add --email bench-viewer@park.example.cn --role viewer --password-stdin >/dev/null
  echo 'a long bench password' | $BIN user add --email bench-supervisor@park.example.cn --role supervisor --password-stdin >/dev/null

  for format in json xlsx; do
    /usr/bin/time -f "%e %M" -o "$WORK/time" $BIN report yearly 2024 --format $format --output "$WORK/report.$format"
    read -r secs kb < "$WORK/time"
    say "report yearly 2024 --format $format: ${secs} s, peak RSS $((kb / 1024)) MB, $(stat -c %s "$WORK/report.$format") bytes"
  done

  local port; port=$(free_port)
  HT__LOG__LEVEL="warn,hazard_tracker::app::analytics=info" HT__SERVER__BIND=127.0.0.1:$port \
    HT__SERVER__WORKERS=1 taskset -c 1 $BIN serve > "$WORK/serve.log" 2>&1 &
  local pid=$!
  trap 'kill $pid 2>/dev/null || true' RETURN
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
  local token supervisor
  token_for() {
    curl -sf "http://127.0.0.1:$port/api/v1/auth/token" -H 'content-type: application/json' \
      -d "{\"email\":\"$1\",\"password\":\"a long bench password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
  }
  token=$(token_for bench-viewer@park.example.cn)
  supervisor=$(token_for bench-supervisor@park.example.cn)
  local url="http://127.0.0.1:$port/api/v1/stats/overview"
  local first
  first=$(curl -s -o /dev/null -w '%{time_total}' -H "authorization: Bearer $token" "$url")
  say "stats/overview, first request (computes the figures): $(python3 -c "print(round($first * 1000, 1))") ms"
  local tag
  tag=$(curl -s -D - -o /dev/null -H "authorization: Bearer $token" "$url" | awk -F': ' 'tolower($1)=="etag" {print $2}' | tr -d '\r')
  say "stats/overview, 200 path (figures unchanged, reused):"
  taskset -c 0 wrk -t1 -c8 -d"$DURATION" --latency -H "authorization: Bearer $token" "$url" \
    | grep -E 'Requests/sec|50%|99%' | tee -a "$OUT"
  say "stats/overview, 304 path (If-None-Match):"
  taskset -c 0 wrk -t1 -c32 -d"$DURATION" --latency -H "authorization: Bearer $token" -H "if-none-match: $tag" "$url" \
    | grep -E 'Requests/sec|50%|99%|Non-2xx' | tee -a "$OUT"
  after_change "$port" "$supervisor"
  say "peak RSS of the service: $(( $(grep VmHWM /proc/$pid/status | awk '{print $2}') / 1024 )) MB"
  say "the analytics' facts, read whole at start: $(sed 's/\x1b\[[0-9;]*m//g' "$WORK/serve.log" | grep -o "read the analytics' facts.*" | head -1)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

# Each round reports a hazard, lets the change marker's cache lapse, then
# times the overview and each analysis: every one computed afresh.
after_change() {
  local port=$1 token=$2 base="http://127.0.0.1:$1/api/v1"
  local enterprise deadline
  enterprise=$(curl -sf "$base/enterprises?limit=1" -H "authorization: Bearer $token" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
  deadline=$(date -d '+14 days' +%F)
  local paths="stats/overview analytics/rectification-time analytics/ageing analytics/scorecard analytics/recurring analytics/trends analytics/locations"
  rm -f "$WORK"/after.*
  for _ in $(seq 1 "${CHANGES:-15}"); do
    curl -sf -o /dev/null "$base/hazards" -H "authorization: Bearer $token" -H 'content-type: application/json' \
      -d "{\"enterprise_id\":\"$enterprise\",\"source\":\"resident_expert\",\"title\":\"基准测试隐患\",\"description\":\"基准测试\",\"location\":\"罐区\",\"category\":\"unsafe_condition\",\"level\":\"general\",\"deadline\":\"$deadline\"}"
    sleep 1.2
    for path in $paths; do
      curl -sf -o /dev/null -w '%{time_total}\n' -H "authorization: Bearer $token" "$base/$path" >> "$WORK/after.${path//\//_}"
    done
  done
  for path in $paths; do
    say "$path right after a change: $(python3 -c 'import statistics,sys
t = [float(l) * 1000 for l in open(sys.argv[1])]
print(f"p50 {statistics.median(t):.1f} ms, max {max(t):.1f} ms ({len(t)} rounds)")' "$WORK/after.${path//\//_}")"
  done
}

for backend in ${BACKENDS:-postgresql sqlite}; do
  case $backend in
    postgresql)
      psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PG_DB_SQL WITH (FORCE)" -c "CREATE DATABASE $PG_DB_SQL"
      bench_backend postgresql "$PG_URL"
      psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PG_DB_SQL WITH (FORCE)" ;;
    sqlite) bench_backend sqlite "sqlite://$WORK/bench.sqlite3" ;;
    *) echo "unknown backend $backend (postgresql, sqlite)"; exit 1 ;;
  esac
done
rm -rf "$WORK"
say ""
say "results written to $OUT"
