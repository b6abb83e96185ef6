# What benches/api/run.sh and benches/api/compare.sh share: the service's
# environment, wrk on core 0 against a server on core 1, CPU time per
# request from /proc, and the static ceiling. Sourced after the caller has
# set DURATION, OUT and WORK.

PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
STATIC=target/release/examples/static_json

export HT_CONFIG_DIR=$PWD/config HT__LOG__LEVEL=warn HT__ESCALATION__ENABLED=false
export HT__AUTH__JWT_SECRET=bench-secret-bench-secret-bench-secret-0123456789
export HT__STORAGE__DATA_DIR=$WORK/data
export HT__AUTH__LOGIN_ATTEMPTS_PER_MINUTE_PER_ACCOUNT=0 HT__AUTH__LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS=0

command -v wrk >/dev/null && command -v pgbench >/dev/null || { echo "needs wrk and pgbench"; exit 1; }

say() { printf '%s\n' "$*" | tee -a "$OUT"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
summary() { grep -E 'Requests/sec|  50%|  99%|Non-2xx' | awk '{printf "%s %s  ", $1, $2} END {print ""}'; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Every PostgreSQL server process's CPU time together (the backends
# serving the service's pool among them), while MEASURE_PG=1.
pg_ticks() {
  [ "${MEASURE_PG:-0}" = 1 ] || { echo 0; return; }
  local p
  for p in $(pgrep -x postgres); do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null; done | awk '{s += $1} END {print s + 0}'
}
per_request() { python3 -c "import sys; print(round((int(sys.argv[2]) - int(sys.argv[1])) * 1e6 / $(getconf CLK_TCK) / int(sys.argv[3]), 1))" "$@"; }
# wrk against the rest of the arguments, and the CPU time process $1 (and
# PostgreSQL) spent per request meanwhile.
load_cpu() {
  local pid=$1; shift
  local before pg_before out after pg_after requests
  before=$(cpu_ticks "$pid"); pg_before=$(pg_ticks)
  out=$(taskset -c 0 wrk -t1 -c8 -d"$DURATION" --latency "$@")
  after=$(cpu_ticks "$pid"); pg_after=$(pg_ticks)
  requests=$(awk '/requests in/ {print $1}' <<< "$out")
  printf '%s cpu/request: %s us' "$(summary <<< "$out")" "$(per_request "$before" "$after" "$requests")"
  [ "${MEASURE_PG:-0}" = 1 ] && printf ', PostgreSQL %s us' "$(per_request "$pg_before" "$pg_after" "$requests")"
  printf '\n'
}
rps() { sed -n 's/.*Requests\/sec: *\([0-9.]*\).*/\1/p' <<< "$1"; }
ratio() { python3 -c "import sys; print(f'{100*float(sys.argv[1])/float(sys.argv[2]):.0f} %')" "$(rps "$1")" "$(rps "$2")"; }
ratio_either_side() { python3 -c "import sys; print(f'{200*float(sys.argv[1])/(float(sys.argv[2])+float(sys.argv[3])):.0f} %')" "$(rps "$1")" "$(rps "$2")" "$(rps "$3")"; }
# The ceiling for an answer: the static server sending the very same bytes
# ($1), or an empty page.
static_ceiling() {
  local spot; spot=$(port)
  env BIND=127.0.0.1:$spot ${1:+BODY_FILE="$1"} taskset -c 1 "$STATIC" &
  local pid=$!
  sleep 0.5
  MEASURE_PG=0 load_cpu "$pid" "http://127.0.0.1:$spot/static"
  kill $pid; wait $pid 2>/dev/null || true
}

# Loads $2 hazards with binary $1 into HT__DATABASE__URL, and the bench account.
load_data() {
  "$1" demo load --hazards "$2" >/dev/null
  echo 'a long bench password' | "$1" user add --email bench-expert@park.example.cn --role expert --password-stdin >/dev/null
}

# Starts binary $1 on HT__DATABASE__URL (one worker, core 1) and signs in:
# sets SERVICE_PID, BASE (its URL), TOKEN (exported, for create.lua) and
# AUTH (the header).
start_service() {
  local p; p=$(port)
  HT__SERVER__BIND=127.0.0.1:$p HT__SERVER__WORKERS=1 taskset -c 1 "$1" serve &
  SERVICE_PID=$!
  BASE=http://127.0.0.1:$p
  for _ in $(seq 1 100); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.2; done
  export TOKEN
  TOKEN=$(curl -sf "$BASE/api/v1/auth/token" -H 'content-type: application/json' \
    -d '{"email":"bench-expert@park.example.cn","password":"a long bench password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  AUTH="authorization: Bearer $TOKEN"
}
stop_service() { kill "$SERVICE_PID"; wait "$SERVICE_PID" 2>/dev/null || true; }

# The first item's id of a list at $1.
first_id() { curl -sf "$1" -H "$AUTH" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])'; }
# The overview's ETag, checked to be answered 304.
overview_tag() {
  local tag
  tag=$(curl -sfi "$BASE/api/v1/stats/overview" -H "$AUTH" | sed -n 's/^[Ee][Tt][Aa][Gg]: *\(.*\)\r$/\1/p')
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/api/v1/stats/overview" -H "$AUTH" -H "if-none-match: $tag")" = 304 ] || { echo "overview did not answer 304" >&2; exit 1; }
  printf '%s\n' "$tag"
}
