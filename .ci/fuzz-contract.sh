#!/usr/bin/env bash
# Contract fuzzing: schemathesis against the served /openapi.json, with real
# tokens for several roles, bounded in examples. Fails on any 5xx, any
# response that does not match the document, any undocumented status or
# content type, and any schema-violating request the service accepts
# (settings in schemathesis.toml).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-target/debug/hazard-tracker}
EXAMPLES=${EXAMPLES:-10}
work=$(mktemp -d /tmp/ht-fuzz.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port

export HT_CONFIG_DIR=$PWD/config HT__LOG__LEVEL=warn HT__ESCALATION__ENABLED=false
# FUZZ_DATABASE_URL picks the backend (a PostgreSQL URL); SQLite otherwise.
export HT__DATABASE__URL=${FUZZ_DATABASE_URL:-sqlite://$work/fuzz.sqlite3} HT__STORAGE__DATA_DIR=$work/data
export HT__SERVER__BIND=127.0.0.1:$port HT__SMTP__OUTBOX_DIR=$work/outbox
# Many logins in a row are the point here, not an attack.
export HT__AUTH__LOGIN_ATTEMPTS_PER_MINUTE_PER_ACCOUNT=0 HT__AUTH__LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS=0

password='a long fuzzing password'
add_user() { echo "$password" | $BIN user add --email "$1" --role "$2" ${3:+--enterprise "$3"} --password-stdin >/dev/null; }
token() {
  curl -sf "$base/api/v1/auth/token" -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

add_user fuzz-admin@park.example.cn admin
$BIN serve > "$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.2; done

admin=$(token fuzz-admin@park.example.cn)
enterprise=$(curl -sf "$base/api/v1/enterprises" -H "authorization: Bearer $admin" -H 'content-type: application/json' \
  -d '{"name":"模糊测试化工有限公司","credit_code":"91350100M000100Y43","status":"producing"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
add_user fuzz-expert@park.example.cn expert
add_user fuzz-viewer@park.example.cn viewer
add_user fuzz-contact@park.example.cn enterprise "$enterprise"
# One hazard to act on, so the list links lead to a real record.
expert=$(token fuzz-expert@park.example.cn)
category=$(curl -sf "$base/api/v1/reference/vocabularies" -H "authorization: Bearer $expert" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["categories"][0]["code"])')
curl -sf "$base/api/v1/hazards" -H "authorization: Bearer $expert" -H 'content-type: application/json' \
  -d "{\"enterprise_id\":\"$enterprise\",\"source\":\"resident_expert\",\"title\":\"储罐区静电接地线断开\",
       \"description\":\"2号储罐静电接地线断开\",\"location\":\"罐区\",\"category\":\"$category\",
       \"level\":\"general\",\"deadline\":\"$(date -d '+30 days' +%F)\"}" >/dev/null

# Every default check, the positive-data one included: a request the
# document allows must not be refused with a 4xx the document does not
# explain. Valid and invalid data run apart: in one mixed run
# schemathesis 4.32 can carry an invalid header into a case it counts as
# valid (an empty If-Match beside a valid body) and then faults the 400.
checks=${FUZZ_CHECKS:-all}
fuzz() {
  local who=$1; shift
  for mode in positive negative; do
    echo "== schemathesis as $who, $mode data $*"
    schemathesis run "$base/openapi.json" -H "Authorization: Bearer $(token "$who@park.example.cn")" \
      --mode "$mode" --max-examples "$EXAMPLES" --checks "$checks" --seed 20241231 --no-color "$@"
  done
}
# Changing a user (a new password, a disable) or signing one out ends that
# user's tokens, the fuzzing token too if the fuzzer finds its own id: those
# operations run last, in a pass of their own, with a fresh token.
token_ending='^/api/v1/users/\{id\}'
for who in fuzz-admin fuzz-expert fuzz-viewer fuzz-contact; do
  fuzz "$who" --exclude-path-regex "$token_ending"
done
for who in fuzz-admin fuzz-expert fuzz-viewer fuzz-contact; do
  fuzz "$who" --include-path-regex "$token_ending"
done
