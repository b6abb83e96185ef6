#!/usr/bin/env bash
# Reads from the database by two builds of the service, measured in turn
# in one run: HEAD against an older revision (#16 part 3 asks for ratios
# from one run, and machines differ too much to compare runs). Each build
# loads its own data (its own migrations) into its own SQLite file and
# PostgreSQL database; then, for ROUNDS rounds, each backend and each
# build in turn: a page of 50 and one hazard with `Cache-Control:
# no-cache`, and the overview's `304`, with the service's (and
# PostgreSQL's) CPU time per request. An empty static page opens each
# round. The medians and the ratios new/old end the output.
#
#   benches/api/compare.sh REV              # e.g. ffbae6a, before #16 part 3
#   OLD_BIN=path/to/hazard-tracker benches/api/compare.sh REV   # already built
set -euo pipefail
cd "$(dirname "$0")/../.."

REV=${1:?usage: benches/api/compare.sh REV}
ROUNDS=${ROUNDS:-4}
SIZE=${SIZE:-10000}
DURATION=${DURATION:-5s}
OUT=${OUT:-benches/api/compare.txt}
WORK=$(mktemp -d /tmp/ht-api-compare.XXXXXX)
NEW_BIN=target/release/hazard-tracker
. benches/api/common.sh

cleanup() {
  git worktree remove --force "$WORK/old" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release --quiet --bin hazard-tracker --example static_json
if [ -z "${OLD_BIN:-}" ]; then
  git worktree add --detach --quiet "$WORK/old" "$REV"
  CARGO_TARGET_DIR=$WORK/old-target cargo build --release --quiet --bin hazard-tracker --manifest-path "$WORK/old/Cargo.toml"
  OLD_BIN=$WORK/old-target/release/hazard-tracker
fi

: > "$OUT"
say "# $REV ($(git rev-parse --short "$REV")) against HEAD ($(git rev-parse --short HEAD)), $(date -u +%FT%TZ), $(nproc) cores, $SIZE hazards, wrk -c8 for $DURATION, $ROUNDS rounds"

url() {
  case $1 in
    sqlite) echo "sqlite://$WORK/$2.sqlite3" ;;
    postgresql) echo "postgres://postgres@127.0.0.1:5432/ht_api_compare_$2?sslmode=disable" ;;
  esac
}
bin() { if [ "$1" = old ]; then echo "$OLD_BIN"; else echo "$NEW_BIN"; fi; }

for build in old new; do
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS ht_api_compare_$build WITH (FORCE)" -c "CREATE DATABASE ht_api_compare_$build"
  for backend in sqlite postgresql; do
    HT__DATABASE__URL=$(url "$backend" "$build") load_data "$(bin "$build")" "$SIZE"
  done
done

for round in $(seq 1 "$ROUNDS"); do
  say "round $round static empty: $(static_ceiling "")"
  for backend in sqlite postgresql; do
    export MEASURE_PG=0
    [ "$backend" = postgresql ] && MEASURE_PG=1
    for build in old new; do
      HT__DATABASE__URL=$(url "$backend" "$build") start_service "$(bin "$build")"
      hazard=$(first_id "$BASE/api/v1/hazards?limit=1")
      tag=$(overview_tag)
      say "round $round $backend $build page: $(load_cpu "$SERVICE_PID" "$BASE/api/v1/hazards?limit=50" -H "$AUTH" -H 'cache-control: no-cache')"
      say "round $round $backend $build one: $(load_cpu "$SERVICE_PID" "$BASE/api/v1/hazards/$hazard" -H "$AUTH" -H 'cache-control: no-cache')"
      say "round $round $backend $build 304: $(load_cpu "$SERVICE_PID" "$BASE/api/v1/stats/overview" -H "$AUTH" -H "if-none-match: $tag")"
      stop_service
    done
  done
done
for build in old new; do
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS ht_api_compare_$build WITH (FORCE)"
done

say ""
python3 - "$OUT" <<'EOF' | tee -a "$OUT"
import re, statistics, sys
rows = {}
static = []
for line in open(sys.argv[1]):
    rate = re.search(r"Requests/sec: ([0-9.]+)", line)
    cpu = re.search(r"cpu/request: ([0-9.]+) us", line)
    pg = re.search(r"PostgreSQL ([0-9.]+) us", line)
    if " static empty: " in line:
        static.append(float(rate.group(1)))
        continue
    m = re.match(r"round \d+ (\w+) (old|new) (\w+): ", line)
    if m and rate:
        rows.setdefault(m.groups(), []).append(
            (float(rate.group(1)), float(cpu.group(1)), float(pg.group(1)) if pg else None))
med = statistics.median
print(f"medians; the empty static page {med(static):,.0f}/s")
print("backend     read  old req/s (service µs, PostgreSQL µs)  new req/s (…)            new/old req/s  new vs empty page")
for backend in ("sqlite", "postgresql"):
    for read in ("page", "one", "304"):
        cells = []
        for build in ("old", "new"):
            runs = rows[(backend, build, read)]
            r, c = med(x[0] for x in runs), med(x[1] for x in runs)
            p = [x[2] for x in runs if x[2] is not None]
            cells.append((r, f"{r:,.0f}/s ({c:.1f}" + (f", {med(p):.1f}" if p else "") + " µs)"))
        print(f"{backend:<11} {read:<5} {cells[0][1]:<40} {cells[1][1]:<25} {cells[1][0] / cells[0][0]:.2f}x          {100 * cells[1][0] / med(static):.1f} %")
EOF
