#!/usr/bin/env bash
# Runs an example against a `docket serve --memory` started here on a free port.
#   run_example_remote.sh <docket binary> <example binary>
set -euo pipefail
out=$(mktemp)
"$1" serve --memory --port 0 --quiet > "$out" &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q "port " "$out" && break; sleep 0.05; done
port=$(grep -o "port [0-9]*" "$out" | head -1 | cut -d' ' -f2)
[ -n "$port" ] || { echo "docket serve did not start"; exit 1; }
"$2" "mongodb://127.0.0.1:$port/"
