#!/usr/bin/env bash
# A client generated from the served /openapi.json with a pinned
# openapi-python-client drives one hazard from report to closure, with
# evidence, its events and the yearly report (clients/python/drive_hazard.py).
# A missing argument or a response the generated models cannot read fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib/serve.sh

add_user client-admin@park.example.cn admin
start_service
curl -sf "$base/openapi.json" -o "$work/openapi.json"
mkdir -p "$work/client"
# A warning means an operation or a model left out of the client: a failure.
openapi-python-client generate --path "$work/openapi.json" --meta none \
  --output-path "$work/client/ht_client" > "$work/generate.log" 2>&1
if grep -qi 'warning\|error' "$work/generate.log"; then
  cat "$work/generate.log" >&2
  exit 1
fi
PYTHONPATH="$work/client" python3 clients/python/drive_hazard.py "$base" \
  client-admin@park.example.cn "$password"
