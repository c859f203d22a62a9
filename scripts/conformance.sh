#!/usr/bin/env bash
# Runs the MongoDB drivers' unified-format spec tests (../shared/conformance/specs)
# against `docket serve`, first as a standalone, then as a one-member replica
# set, and prints passed / failed / skipped per folder. Builds nothing: the
# binary is $DOCKET_BIN or build/debug/docket.
#
# Exits non-zero only when a test failed that tests/node/unified/known_failures.json
# does not list (known failures that now pass are only noted).
#
# Usage: scripts/conformance.sh [options]
#   --folder LIST      only these folders (comma-separated: crud,gridfs,...)
#   --filter TEXT      only tests whose "folder/file :: description" contains TEXT
#   --mode MODE        standalone, replicaset or both (default both)
#   --json FILE        write machine-readable results to FILE
#   --markdown FILE    regenerate the results part of FILE (docs/conformance.md)
#   --update-known     rewrite known_failures.json from this run (keeps reasons)
#   --verbose          print each failure as it happens
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
specs="$root/../shared/conformance/specs"
runner="$root/tests/node/unified"

folders="" filter="" mode="both" json="" markdown="" update=0 verbose=0
while [ $# -gt 0 ]; do
  case "$1" in
    --folder) folders=$2; shift 2 ;;
    --filter) filter=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    --markdown) markdown=$2; shift 2 ;;
    --update-known) update=1; shift ;;
    --verbose) verbose=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "conformance: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$mode" in
  both) modes="standalone replicaset" ;;
  standalone|replicaset) modes=$mode ;;
  *) echo "conformance: --mode must be standalone, replicaset or both" >&2; exit 2 ;;
esac

if [ ! -d "$specs" ]; then
  echo "skipped: ../shared/conformance not found"
  exit 0
fi

bin=${DOCKET_BIN:-$root/build/debug/docket}
if [ ! -x "$bin" ]; then
  echo "conformance: no docket binary at $bin (build it, or set DOCKET_BIN)" >&2
  exit 2
fi
if [ ! -d "$root/tests/node/node_modules/mongodb" ]; then
  (cd "$root/tests/node" && npm ci --no-audit --no-fund --loglevel=error)
fi

tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# Starts docket serve in the background; sets server_pid and port.
start_server() {
  local name=$1; shift
  # Created here: the background child opens it only once it is scheduled,
  # and the first sed below must not find it missing (set -e ends the run).
  : >"$tmp/$name.out"
  "$bin" serve --memory --port 0 --quiet --enable-test-commands "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  server_pid=$!
  port=""
  for _ in $(seq 1 200); do
    port=$(sed -n 's/.*port \([0-9][0-9]*\).*/\1/p' "$tmp/$name.out" | head -n 1)
    [ -n "$port" ] && return 0
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.05
  done
  echo "conformance: docket serve ($name) did not print its ready line" >&2
  cat "$tmp/$name.err" >&2 || true
  exit 2
}

stop_server() {
  local name=$1
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "conformance: docket serve ($name) exited during the run; its stderr ends with:" >&2
    tail -n 20 "$tmp/$name.err" >&2 || true
  else
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}

results=()
status=0
for m in $modes; do
  run_args=(--mode "$m" --out "$tmp/$m.json")
  [ -n "$folders" ] && run_args+=(--folder "$folders")
  [ -n "$filter" ] && run_args+=(--filter "$filter")
  [ "$verbose" = 1 ] && run_args+=(--verbose)
  if [ "$m" = standalone ]; then
    start_server "$m"
    uri="mongodb://127.0.0.1:$port/"
  else
    start_server "$m" --replica-set rs0
    uri="mongodb://127.0.0.1:$port/?replicaSet=rs0"
  fi
  node "$runner/run.mjs" --uri "$uri" "${run_args[@]}" || status=$?
  stop_server "$m"
  if [ "$status" != 0 ]; then
    echo "conformance: the runner stopped with status $status ($m)" >&2
    exit "$status"
  fi
  results+=(--results "$tmp/$m.json")
done

report_args=("${results[@]}")
[ -n "$json" ] && report_args+=(--json "$json")
[ -n "$markdown" ] && report_args+=(--markdown "$markdown")
[ "$update" = 1 ] && report_args+=(--update-known)
node "$runner/report.mjs" "${report_args[@]}"
