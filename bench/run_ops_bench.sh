#!/usr/bin/env bash
# The operator-tooling benchmark (bench/ops_bench.cc): the profiler's cost
# per level, and inserts during index builds, against a fresh on-disk
# `docket serve`. Prints Markdown for docs/benchmarks.md.
#
#   bench/run_ops_bench.sh [seconds=2] [rounds=3] [documents=1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release -DDOCKET_BUILD_BENCH=ON -DDOCKET_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target docket ops_bench
source bench/lib.sh
bench_scratch docket-ops-bench
port=57037
build/release/docket serve --dbpath "$scratch/docket" --port "$port" --quiet > "$scratch/docket.out" 2>&1 &
docket_pid=$!
on_exit "kill $docket_pid"
for _ in $(seq 100); do grep -q ready "$scratch/docket.out" 2>/dev/null && break; sleep 0.1; done
build/release/bench/ops_bench "mongodb://127.0.0.1:$port/?appname=opsbench" "${1:-2}" "${2:-3}" "${3:-1000000}"
