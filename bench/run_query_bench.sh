#!/usr/bin/env bash
# Starts PostgreSQL 15 on 127.0.0.1 in a scratch directory and runs
# bench/query_bench.cc: Docket (embedded), SQLite (JSON1) and PostgreSQL
# (JSONB) answering the same queries over the same documents, in one run.
# Prints Markdown for docs/benchmarks.md.
#
#   bench/run_query_bench.sh [seconds-per-case] [documents]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release -DDOCKET_BUILD_BENCH=ON -DDOCKET_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target query_bench
seconds="${1:-3}"
docs="${2:-1000000}"
source bench/lib.sh
bench_scratch docket-query-bench
pg_port=55433
# shared_buffers large enough to hold the table, as Docket's and SQLite's caches do.
start_postgres "$pg_port" -c shared_buffers=1GB
build/release/bench/query_bench "host=127.0.0.1 port=$pg_port user=bench dbname=postgres" "$seconds" "$docs"
