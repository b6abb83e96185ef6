# Sourced by the contract scripts: starts the built service on a free port
# with its own data folder (SQLite, or SERVE_DATABASE_URL), and gives
# `add_user EMAIL ROLE [ENTERPRISE]` and `token EMAIL`. The service stops
# and its folder goes when the calling script exits.

BIN=${BIN:-target/debug/hazard-tracker}
work=$(mktemp -d /tmp/ht-contract.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port

export HT_CONFIG_DIR=$PWD/config HT__LOG__LEVEL=warn HT__ESCALATION__ENABLED=false
export HT__DATABASE__URL=${SERVE_DATABASE_URL:-sqlite://$work/service.sqlite3} HT__STORAGE__DATA_DIR=$work/data
export HT__SERVER__BIND=127.0.0.1:$port HT__SMTP__OUTBOX_DIR=$work/outbox
# Many logins in a row are the point here, not an attack.
export HT__AUTH__LOGIN_ATTEMPTS_PER_MINUTE_PER_ACCOUNT=0 HT__AUTH__LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS=0

password='a long contract password'
add_user() { echo "$password" | $BIN user add --email "$1" --role "$2" ${3:+--enterprise "$3"} --password-stdin >/dev/null; }
token() {
  curl -sf "$base/api/v1/auth/token" -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

start_service() {
  $BIN serve > "$work/serve.log" 2>&1 &
  service_pid=$!
  trap 'kill $service_pid 2>/dev/null || true; rm -rf "$work"' EXIT
  for _ in $(seq 1 100); do curl -sf "$base/readyz" >/dev/null && return; sleep 0.2; done
  echo "the service did not become ready:" >&2
  cat "$work/serve.log" >&2
  return 1
}
