#!/usr/bin/env bash
# The crash loop (tests/crash/crash_loop.py): `docket serve` on one data
# directory is SIGKILLed while pymongo clients write with j:true, restarted
# and checked (acknowledged writes all there, exactly once; nothing invented;
# counters within bounds; validate; indexes against scans), ROUNDS times.
# Builds nothing: the binary is $DOCKET_BIN or build/debug/docket.
#
# Usage: scripts/crash-loop.sh [ROUNDS] [crash_loop.py options]
#   ROUNDS             default 3 (CI: well under 2 minutes); 100 for a soak
#   --clients N        concurrent clients (default 6, at least 4)
#   --seed S           the run's random seed (printed by every run)
#   --keep-data        keep the data directory and the server logs
#   --inject KIND      self-test of the checker: damage the data after every
#                      restart (lose, invent, corrupt, ...); the run must fail
# Exits non-zero on any loss, duplicate, invented document, failed validate,
# index disagreement, or a server that does not come back.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-/usr/bin/python3}
export DOCKET_BIN=${DOCKET_BIN:-$PWD/build/debug/docket}
if [ ! -x "$DOCKET_BIN" ]; then
  echo "crash-loop: no docket binary at $DOCKET_BIN (build it, or set DOCKET_BIN)" >&2
  exit 2
fi
if ! "$python" -c 'import pymongo' 2>/dev/null; then
  echo "crash-loop: $python has no pymongo (apt-get install python3-pymongo)" >&2
  exit 2
fi

rounds=3
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
  rounds=$1
  shift
fi
exec "$python" -B tests/crash/crash_loop.py "$rounds" "$@"
