#!/usr/bin/env bash
# Starts two alike `docket serve`s on disk (a standalone and a one-member
# replica set, which keeps the oplog) and PostgreSQL 15 on 127.0.0.1 in a
# scratch directory, then runs bench/change_log_bench.cc against them.
# Prints Markdown for docs/benchmarks.md.
#
#   bench/run_change_log_bench.sh [seconds-per-case]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release -DDOCKET_BUILD_BENCH=ON -DDOCKET_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target docket change_log_bench
seconds="${1:-2}"
source bench/lib.sh
bench_scratch docket-change-log-bench
pg_port=55436 standalone_port=57031 rs_port=57032
start_postgres "$pg_port" -c max_connections=200
build/release/docket serve --dbpath "$scratch/standalone" --port "$standalone_port" --quiet > "$scratch/standalone.out" &
on_exit "kill $!"
# 100 watchers each hold a waiting getMore: room for them and the writers.
build/release/docket serve --dbpath "$scratch/rs" --port "$rs_port" --quiet --replica-set rs0 --max-workers 512 \
  > "$scratch/rs.out" &
on_exit "kill $!"
for _ in $(seq 100); do
  grep -q ready "$scratch/standalone.out" 2>/dev/null && grep -q ready "$scratch/rs.out" 2>/dev/null && break
  sleep 0.1
done
build/release/bench/change_log_bench "mongodb://127.0.0.1:$standalone_port/?appname=bench" \
  "mongodb://127.0.0.1:$rs_port/?replicaSet=rs0&appname=bench" \
  "host=127.0.0.1 port=$pg_port user=bench dbname=postgres" "$seconds"
