#!/usr/bin/env bash
# Starts docket serve (on disk) and PostgreSQL 15 on 127.0.0.1 in a scratch
# directory and runs bench/odm_bench.cc against them in one go. Prints
# Markdown for docs/benchmarks.md.
#
#   bench/run_odm_bench.sh [seconds-per-case]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release -DDOCKET_BUILD_BENCH=ON -DDOCKET_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target docket odm_bench
seconds="${1:-2}"
scratch="$(mktemp -d /tmp/docket-odm-bench.XXXXXX)"
chmod 777 "$scratch"
pg_bin=/usr/lib/postgresql/15/bin
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_port=55434 docket_port=57018
cleanup() {
  as_postgres "$pg_bin/pg_ctl" -D "$scratch/pg" -m fast stop >/dev/null 2>&1 || true
  [ -n "${docket_pid:-}" ] && kill "$docket_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT
as_postgres "$pg_bin/initdb" -D "$scratch/pg" -A trust -U bench >/dev/null
# synchronous_commit off: Docket's sequences here are j:false (durable on a
# process crash, not a power cut), so PostgreSQL is matched.
as_postgres "$pg_bin/pg_ctl" -D "$scratch/pg" -l "$scratch/pg.log" -w \
  -o "-p $pg_port -k $scratch -c listen_addresses=127.0.0.1 -c synchronous_commit=off" start >/dev/null
build/release/docket serve --dbpath "$scratch/docket" --port "$docket_port" --quiet > "$scratch/docket.out" &
docket_pid=$!
for _ in $(seq 100); do grep -q ready "$scratch/docket.out" 2>/dev/null && break; sleep 0.1; done
build/release/bench/odm_bench "mongodb://127.0.0.1:$docket_port" \
  "host=127.0.0.1 port=$pg_port user=bench dbname=postgres" "$seconds"
