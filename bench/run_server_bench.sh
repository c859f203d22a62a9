#!/usr/bin/env bash
# Starts docket serve (on disk), PostgreSQL 15 and Redis 7 on 127.0.0.1 in a
# scratch directory, runs bench/server_bench.cc against all three in one go,
# then measures docket serve's start time and resident memory
# (bench/server_startup.py). Prints Markdown for docs/benchmarks.md.
#
#   bench/run_server_bench.sh [seconds-per-case]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release -DDOCKET_BUILD_BENCH=ON -DDOCKET_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target docket server_bench
seconds="${1:-2}"
source bench/lib.sh
bench_scratch docket-server-bench
pg_port=55432 redis_port=56379 docket_port=57017
start_postgres "$pg_port" -c max_connections=100
start_redis "$redis_port"
build/release/docket serve --dbpath "$scratch/docket" --port "$docket_port" --quiet > "$scratch/docket.out" &
docket_pid=$!
on_exit "kill $docket_pid"
for _ in $(seq 100); do
  grep -q ready "$scratch/docket.out" 2>/dev/null && redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done

build/release/bench/server_bench "mongodb://127.0.0.1:$docket_port/?appname=bench" \
  "host=127.0.0.1 port=$pg_port user=bench dbname=postgres" "$redis_port" "$seconds"
/usr/bin/python3 bench/server_startup.py build/release/docket
