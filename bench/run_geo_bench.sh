#!/usr/bin/env bash
# Starts PostgreSQL 15 (with PostGIS 3) on 127.0.0.1 in a scratch directory
# and runs bench/geo_bench.cc: Docket (embedded, 2dsphere index), PostgreSQL
# (PostGIS geography + GiST) and SQLite (R*Tree) answering the same $near and
# $geoWithin questions over the same points, in one run. Prints Markdown for
# docs/benchmarks.md.
#
#   bench/run_geo_bench.sh [seconds-per-case] [points]
#
# BENCH_JOBS sets the build's parallelism (default: every core).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release -DDOCKET_BUILD_BENCH=ON -DDOCKET_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j"${BENCH_JOBS:-$(nproc)}" --target geo_bench
seconds="${1:-2}"
points="${2:-1000000}"
source bench/lib.sh
bench_scratch docket-geo-bench
pg_port=55439
# shared_buffers large enough to hold the table and its index, as Docket's and
# SQLite's caches do.
start_postgres "$pg_port" -c shared_buffers=512MB
build/release/bench/geo_bench "host=127.0.0.1 port=$pg_port user=bench dbname=postgres" "$scratch" "$seconds" "$points"
