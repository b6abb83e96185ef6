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
openapi-python-client generate --path "$work/openapi.json" --meta none \
  --output-path "$work/client/ht_client" >/dev/null
PYTHONPATH="$work/client" python3 clients/python/drive_hazard.py "$base" \
  client-admin@park.example.cn "$password"
