#!/usr/bin/env bash
# Contract fuzzing: schemathesis against the served /openapi.json, with real
# tokens for several roles, bounded in examples. Fails on any 5xx, any
# response that does not match the document, any undocumented status or
# content type, and any schema-violating request the service accepts
# (settings in schemathesis.toml).
set -euo pipefail
cd "$(dirname "$0")/.."

# FUZZ_DATABASE_URL picks the backend (a PostgreSQL URL); SQLite otherwise.
SERVE_DATABASE_URL=${FUZZ_DATABASE_URL:-}
source .ci/lib/serve.sh

add_user fuzz-admin@park.example.cn admin
start_service

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
# run WHO MODE ARGS…: one schemathesis pass with a token of WHO's. The
# token is taken first, so a sign-in that fails stops the script.
run() {
  local who=$1 mode=$2; shift 2
  echo "== schemathesis as $who, $mode data $*"
  local auth
  auth=$(token "$who@park.example.cn")
  # Stateful scenarios walk links through real records: valid data only.
  local phases=examples,coverage,fuzzing,stateful
  [ "$mode" = negative ] && phases=examples,coverage,fuzzing
  schemathesis run "$base/openapi.json" -H "Authorization: Bearer $auth" \
    --mode "$mode" --phases "$phases" --checks "$checks" --seed 20241231 --no-color "$@"
}
# Changing a user (a new password, a role, a disable) or signing one out
# ends that user's tokens, and may end the fuzzing account's own when the
# fuzzer finds its id: those operations run last, each pass as an account
# of its own made just for it, so every pass has a valid token.
token_ending='^/api/v1/users/\{id\}'
for who in fuzz-admin fuzz-expert fuzz-viewer fuzz-contact; do
  for mode in positive negative; do
    run "$who" "$mode" --exclude-path-regex "$token_ending"
  done
done
for role in admin expert viewer enterprise; do
  for mode in positive negative; do
    who=fuzz-$role-$mode
    if [ "$role" = enterprise ]; then
      add_user "$who@park.example.cn" "$role" "$enterprise"
    else
      add_user "$who@park.example.cn" "$role"
    fi
    run "$who" "$mode" --include-path-regex "$token_ending"
  done
done
