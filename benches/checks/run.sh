#!/usr/bin/env bash
# Scheduled checks at a park's scale (issue: "The other half of 双重预防"):
# the park's enterprises (demo load) each with UNITS units and two tasks a
# unit (a daily check and a shift check every 8 hours), and every
# occurrence since 1 January recorded but one in twenty (seed.py). Then,
# on each backend, in one run:
#   - a contact's duty list (GET /check-duties): p50 and max of ROUNDS×3;
#   - right after a change (a pause recorded, which moves the check
#     figures' marker, so each answer is computed afresh): the month's and
#     the year's figures (/analytics/checks), the month's evaluation
#     (/analytics/evaluation), every month's evaluation of the year in
#     turn, and the scorecard with its checks; p50 and max of ROUNDS
#     rounds;
#   - a record's write (POST /check-tasks/{id}/records, the duty list's
#     open occurrences recorded 正常) against a hazard's (POST /hazards) by
#     the same contact, one after another: p50 and max of each;
#   - the service's peak RSS. RECORD_DAYS (seed.py) seeds only the last so
#     many days' records, to compare it at fewer records.
# BACKENDS (default "sqlite postgresql"). Needs psql and a release build.
set -euo pipefail
cd "$(dirname "$0")/../.."

UNITS=${UNITS:-10}
ROUNDS=${ROUNDS:-7}
HAZARDS=${HAZARDS:-20000}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/ht_bench_checks}
WORK=${WORK:-$(mktemp -d /tmp/ht-bench-checks.XXXXXX)}
OUT=${OUT:-benches/checks/results.txt}
BIN=target/release/hazard-tracker
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release --quiet

export HT_CONFIG_DIR=$PWD/config HT__LOG__LEVEL=warn HT__ESCALATION__ENABLED=false
export HT__AUTH__JWT_SECRET=bench-secret-bench-secret-bench-secret-0123456789
export HT__STORAGE__DATA_DIR=$WORK/data
export UNITS RECORD_DAYS

say() { printf '%s\n' "$*" | tee -a "$OUT"; }
: > "$OUT"
say "# scheduled checks benchmark: $UNITS units a enterprise, records of ${RECORD_DAYS:-every} day(s), $(date -u +%FT%TZ), $(nproc) cores"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
stats() {
  python3 -c 'import statistics,sys
t = [float(l) * 1000 for l in open(sys.argv[1])]
print(f"p50 {statistics.median(t):.1f} ms, max {max(t):.1f} ms ({len(t)} requests)")' "$1"
}

bench_backend() {
  local name=$1 url=$2 first_enterprise
  export HT__DATABASE__URL=$url
  say ""
  say "## $name"
  $BIN demo load --hazards "$HAZARDS" > /dev/null
  case $name in
    sqlite) first_enterprise=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT id FROM enterprises ORDER BY name LIMIT 1").fetchone()[0])' "${url#sqlite://}") ;;
    *) first_enterprise=$(psql "$url" -Atc "SELECT id FROM enterprises ORDER BY name LIMIT 1") ;;
  esac
  echo 'a long bench password' | $BIN user add --email bench-contact@park.example.cn --role enterprise --enterprise "$first_enterprise" --password-stdin >/dev/null
  echo 'a long bench password' | $BIN user add --email bench-supervisor@park.example.cn --role supervisor --password-stdin >/dev/null
  local started=$(date +%s.%N)
  say "seeded: $(python3 benches/checks/seed.py "$name" "${url#sqlite://}")"
  say "seed: $(python3 -c "print(round($(date +%s.%N) - $started, 1))") s"

  local port; port=$(free_port)
  HT__SERVER__BIND=127.0.0.1:$port HT__SERVER__WORKERS=1 taskset -c 1 $BIN serve > "$WORK/serve.log" 2>&1 &
  local pid=$!
  trap 'kill $pid 2>/dev/null || true' RETURN
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
  local base="http://127.0.0.1:$port/api/v1"
  token_for() {
    curl -sf "$base/auth/token" -H 'content-type: application/json' \
      -d "{\"email\":\"$1\",\"password\":\"a long bench password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
  }
  local contact supervisor unit
  contact=$(token_for bench-contact@park.example.cn)
  supervisor=$(token_for bench-supervisor@park.example.cn)
  unit=$(curl -sf "$base/enterprises/$first_enterprise/risk-register" -H "authorization: Bearer $contact" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["objects"][0]["units"][0]["id"])')
  local duties
  duties=$(curl -sf "$base/check-duties" -H "authorization: Bearer $contact" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["items"]) if isinstance(d, dict) else len(d))')
  say "a contact's duty list holds $duties occurrences"
  rm -f "$WORK"/t.*
  for _ in $(seq 1 $((ROUNDS * 3))); do
    curl -sf -o /dev/null -w '%{time_total}\n' -H "authorization: Bearer $contact" "$base/check-duties" >> "$WORK/t.duties"
  done
  say "check-duties (a contact's today and overdue): $(stats "$WORK/t.duties")"
  local year_start today month
  year_start=$(TZ=Asia/Shanghai date +%Y-01-01)
  today=$(TZ=Asia/Shanghai date +%F)
  month=$(TZ=Asia/Shanghai date +%Y-%m)
  local month_start=${today:0:8}01
  # label=path: each timed right after a change.
  local paths="month-figures=analytics/checks?from=$month_start&to=$today year-figures=analytics/checks?from=$year_start&to=$today evaluation=analytics/evaluation?month=$month scorecard=analytics/scorecard?from=$year_start&to=$today"
  local months; months=$(seq -f "${year_start:0:4}-%02g" 1 "$((10#${month:5:2}))")
  for round in $(seq 1 "$ROUNDS"); do
    local day; day=$(TZ=Asia/Shanghai date -d "+$((round + 30)) days" +%F)
    curl -sf -o /dev/null "$base/risk-units/$unit/pauses" -H "authorization: Bearer $contact" -H 'content-type: application/json' \
      -d "{\"from\":\"${day}T08:00:00\",\"until\":\"${day}T09:00:00\",\"reason\":\"基准测试检修\"}"
    for entry in $paths; do
      curl -sf -o /dev/null -w '%{time_total}\n' -H "authorization: Bearer $supervisor" "$base/${entry#*=}" >> "$WORK/t.${entry%%=*}"
    done
    # Every month's evaluation of the year, one after another: their sum.
    local sum=0 took
    for m in $months; do
      took=$(curl -sf -o /dev/null -w '%{time_total}' -H "authorization: Bearer $supervisor" "$base/analytics/evaluation?month=$m")
      sum=$(python3 -c "print($sum + $took)")
    done
    echo "$sum" >> "$WORK/t.year-evaluation"
  done
  for entry in $paths; do
    say "${entry%%=*} (${entry#*=}) right after a change: $(stats "$WORK/t.${entry%%=*}")"
  done
  say "every month's evaluation of the year ($(echo $months | wc -w) months, all enterprises), summed, right after a change: $(stats "$WORK/t.year-evaluation")"

  # Writes: the duty list's open occurrences recorded, against as many
  # hazards reported, by the same contact.
  curl -sf "$base/check-duties" -H "authorization: Bearer $contact" | python3 -c '
import json, sys
for o in json.load(sys.stdin)["items"]:
    if o.get("record") is None and o["status"] in ("due", "missed"):
        print(o["task_id"], o["occurrence"])' > "$WORK/open"
  local n=0 task occurrence
  while read -r task occurrence; do
    curl -sf -o /dev/null -w '%{time_total}\n' "$base/check-tasks/$task/records" -H "authorization: Bearer $contact" \
      -H 'content-type: application/json' -d "{\"occurrence\":$occurrence,\"outcome\":\"normal\"}" >> "$WORK/t.record"
    n=$((n + 1))
  done < "$WORK/open"
  local deadline; deadline=$(TZ=Asia/Shanghai date -d '+30 days' +%F)
  for i in $(seq 1 "$n"); do
    curl -sf -o /dev/null -w '%{time_total}\n' "$base/hazards" -H "authorization: Bearer $contact" -H 'content-type: application/json' \
      -d "{\"enterprise_id\":\"$first_enterprise\",\"source\":\"self_check\",\"level\":\"general\",\"title\":\"基准隐患$i\",\"description\":\"基准\",\"location\":\"罐区\",\"category\":\"unsafe_condition\",\"deadline\":\"$deadline\"}" >> "$WORK/t.hazard"
  done
  if [ "$n" -gt 0 ]; then
    say "a record written (POST /check-tasks/{id}/records): $(stats "$WORK/t.record")"
    say "a hazard reported (POST /hazards), as many: $(stats "$WORK/t.hazard")"
    say "record ÷ hazard, p50: $(python3 -c 'import statistics,sys
r = statistics.median(float(l) for l in open(sys.argv[1])); h = statistics.median(float(l) for l in open(sys.argv[2]))
print(f"{r / h:.2f}")' "$WORK/t.record" "$WORK/t.hazard")"
  fi
  say "peak RSS of the service: $(( $(grep VmHWM /proc/$pid/status | awk '{print $2}') / 1024 )) MB"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

for backend in ${BACKENDS:-sqlite postgresql}; do
  case $backend in
    postgresql)
      psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS ht_bench_checks WITH (FORCE)" -c "CREATE DATABASE ht_bench_checks"
      bench_backend postgresql "$PG_URL"
      psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS ht_bench_checks WITH (FORCE)" ;;
    sqlite) bench_backend sqlite "sqlite://$WORK/bench.sqlite3" ;;
    *) echo "unknown backend $backend (postgresql, sqlite)"; exit 1 ;;
  esac
done
rm -rf "$WORK"
say ""
say "results written to $OUT"
