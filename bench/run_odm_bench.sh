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
source bench/lib.sh
bench_scratch docket-odm-bench
pg_port=55434 docket_port=57018
# synchronous_commit off: Docket's sequences here are j:false (durable on a
# process crash, not a power cut), so PostgreSQL is matched.
start_postgres "$pg_port" -c synchronous_commit=off
# A one-member replica set, so that gapless sequences (transactions) run too.
build/release/docket serve --dbpath "$scratch/docket" --port "$docket_port" --quiet --replica-set rs0 \
  > "$scratch/docket.out" &
docket_pid=$!
on_exit "kill $docket_pid"
for _ in $(seq 100); do grep -q ready "$scratch/docket.out" 2>/dev/null && break; sleep 0.1; done
build/release/bench/odm_bench "mongodb://127.0.0.1:$docket_port/?replicaSet=rs0" \
  "host=127.0.0.1 port=$pg_port user=bench dbname=postgres" "$seconds"
