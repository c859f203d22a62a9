#!/usr/bin/env bash
# Starts PostgreSQL 15 on 127.0.0.1 in a scratch directory and runs
# bench/collation_bench.cc: Docket (embedded, ICU collations), SQLite (COLLATE
# NOCASE) and PostgreSQL (ICU collations) answering the same case-insensitive
# and locale-ordered queries over the same rows, in one run. Prints Markdown
# for docs/benchmarks.md.
#
#   bench/run_collation_bench.sh [seconds-per-case] [documents]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release -DDOCKET_BUILD_BENCH=ON -DDOCKET_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target collation_bench
seconds="${1:-2}"
docs="${2:-200000}"
source bench/lib.sh
bench_scratch docket-collation-bench
pg_port=55437
start_postgres "$pg_port" -c shared_buffers=512MB
build/release/bench/collation_bench "host=127.0.0.1 port=$pg_port user=bench dbname=postgres" "$scratch" "$seconds" "$docs"
