#!/usr/bin/env bash
# Ledger import at the published scale (issue #15 part 1): the 2024 demo
# park written out as a ledger (6,644 rows, `GET /api/v1/hazards/export`)
# (found_year=2024) and an enterprise list, imported into an empty database on each backend
# with `import enterprises` and `import hazards`: wall time and peak RSS of
# the import, then `report yearly 2024` read back (found and rectified),
# then the same ledger imported again (nothing created).
# Needs: GNU time (/usr/bin/time), psql, curl, python3, a release build.
set -euo pipefail
cd "$(dirname "$0")/../.."

PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=${PG_DB:-ht_import_bench}
PG_URL=postgres://postgres@127.0.0.1:5432/$PG_DB
WORK=${WORK:-$(mktemp -d /tmp/ht-import-bench.XXXXXX)}
OUT=${OUT:-benches/import/results.txt}
BIN=target/release/hazard-tracker

[ -x /usr/bin/time ] || { echo "install GNU time (apt-get install time)"; exit 1; }
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release --quiet

export HT_CONFIG_DIR=$PWD/config HT__LOG__LEVEL=warn HT__ESCALATION__ENABLED=false
export HT__AUTH__JWT_SECRET=bench-secret-bench-secret-bench-secret-0123456789
export HT__STORAGE__DATA_DIR=$WORK/data

say() { printf '%s\n' "$*" | tee -a "$OUT"; }
: > "$OUT"
say "# ledger import benchmark: $(date -u +%FT%TZ), $(nproc) cores"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PASSWORD='a long bench password'
add_admin() { echo "$PASSWORD" | $BIN user add --email bench-admin@park.example.cn --role admin --password-stdin >/dev/null; }

# 1. The source: the demo park, written out through the API.
export HT__DATABASE__URL=sqlite://$WORK/source.sqlite3
$BIN demo load >/dev/null
add_admin
port=$(free_port)
HT__SERVER__BIND=127.0.0.1:$port $BIN serve &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
token=$(curl -sf "http://127.0.0.1:$port/api/v1/auth/token" -H 'content-type: application/json' \
  -d "{\"email\":\"bench-admin@park.example.cn\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
curl -sf -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/hazards/export?format=xlsx&found_year=2024" -o "$WORK/ledger.xlsx"
python3 - "$port" "$token" "$WORK/enterprises.csv" <<'PY'
import csv, json, sys, urllib.request
port, token, out = sys.argv[1:]
rows, cursor = [], None
while True:
    url = f"http://127.0.0.1:{port}/api/v1/enterprises?limit=500" + (f"&cursor={cursor}" if cursor else "")
    page = json.load(urllib.request.urlopen(urllib.request.Request(url, headers={"authorization": f"Bearer {token}"})))
    rows += page["items"]
    cursor = page["next_cursor"]
    if not cursor:
        break
with open(out, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["企业名称", "统一社会信用代码", "企业状态", "联系人邮箱"])
    for e in rows:
        w.writerow([e["name"], e["credit_code"], e["status"], ";".join(e.get("contact_emails") or [])])
PY
kill $pid; wait $pid 2>/dev/null || true
trap - EXIT
rows=$(python3 -c "import zipfile,re,sys; x=zipfile.ZipFile(sys.argv[1]).read('xl/worksheets/sheet1.xml').decode(); print(len(re.findall('<row ', x)) - 1)" "$WORK/ledger.xlsx")
say "source: demo park 2024; ledger $(stat -c %s "$WORK/ledger.xlsx") bytes, $rows rows; $(($(wc -l < "$WORK/enterprises.csv") - 1)) enterprises"

bench_backend() {
  local name=$1 url=$2
  export HT__DATABASE__URL=$url
  say ""
  say "## $name"
  $BIN migrate >/dev/null
  add_admin
  $BIN import enterprises "$WORK/enterprises.csv" | tail -1 | tee -a "$OUT"
  /usr/bin/time -f "%e %M" -o "$WORK/time" $BIN import hazards "$WORK/ledger.xlsx" > "$WORK/import.txt"
  read -r secs kb < "$WORK/time"
  say "import hazards: ${secs} s wall, peak RSS $((kb / 1024)) MB — $(tail -1 "$WORK/import.txt")"
  $BIN report yearly 2024 --format json --output "$WORK/report.json"
  say "report yearly 2024: $(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(f\"found {r['found']}, closed {r['closed']}, entered late {r['entered_late_closures']}, rate {r['rectification_rate']}%\")" "$WORK/report.json")"
  /usr/bin/time -f "%e %M" -o "$WORK/time" $BIN import hazards "$WORK/ledger.xlsx" > "$WORK/again.txt"
  read -r secs kb < "$WORK/time"
  say "the same ledger again: ${secs} s wall, peak RSS $((kb / 1024)) MB — $(tail -1 "$WORK/again.txt")"
}

bench_backend sqlite "sqlite://$WORK/import.sqlite3"
psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS $PG_DB" -c "CREATE DATABASE $PG_DB"
bench_backend postgresql "$PG_URL"
psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS $PG_DB"
rm -rf "$WORK"
