#!/usr/bin/env bash
# Fuzzes a running `docket serve` with mutated wire messages
# (tests/fuzz/wire_fuzz_server.py; see docs/testing.md, "Fuzzing").
#
#   scripts/wire-fuzz.sh                 # CI: 1,000 messages, about 35 s
#   scripts/wire-fuzz.sh 20000 --seed 7  # longer; any other flag goes to the script
#   DOCKET_BIN=build/asan/docket scripts/wire-fuzz.sh
#
# Builds nothing: it copies $DOCKET_BIN (default build/debug/docket) to
# /tmp/docket-fuzz and runs the copy. Needs /usr/bin/python3 with Debian's
# python3-pymongo, python3-snappy and python3-zstandard.
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-1000}
shift || true
bin=${DOCKET_BIN:-build/debug/docket}
[ -x "$bin" ] || { echo "no $bin: build it first (cmake --preset debug && cmake --build build/debug)"; exit 2; }
exec /usr/bin/python3 tests/fuzz/wire_fuzz_server.py --messages "$messages" --binary "$bin" "$@"
