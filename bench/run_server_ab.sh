#!/usr/bin/env bash
# A/B of two docket binaries under bench/server_bench.cc: one PostgreSQL and
# one Redis (as run_server_bench.sh starts them) and, in alternating rounds,
# a fresh on-disk `docket serve` from each binary. For changes whose effect
# is smaller than the noise between separate runs on a shared machine.
#
#   bench/run_server_ab.sh OLD_DOCKET NEW_DOCKET [seconds-per-case] [rounds]
#
# Build the two binaries first (e.g. `git stash; cmake --build build/release
# --target docket; cp build/release/docket /tmp/docket_old; git stash pop`).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 OLD_DOCKET NEW_DOCKET [seconds] [rounds]" >&2; exit 2; }
old="$1" new="$2" seconds="${3:-2}" rounds="${4:-2}"
scripts/install-deps.sh
cmake --preset release -DDOCKET_BUILD_BENCH=ON -DDOCKET_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target server_bench
source bench/lib.sh
bench_scratch docket-server-ab
pg_port=55432 redis_port=56379 port=57100
start_postgres "$pg_port" -c max_connections=100
start_redis "$redis_port"
for round in $(seq "$rounds"); do
  for side in old new; do
    binary="$old"
    [ "$side" = new ] && binary="$new"
    port=$((port + 1))
    "$binary" serve --dbpath "$scratch/docket-$port" --port "$port" --quiet > "$scratch/docket-$port.out" &
    pid=$!
    for _ in $(seq 100); do
      grep -q ready "$scratch/docket-$port.out" 2>/dev/null && redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
      sleep 0.1
    done
    echo "## $side, round $round ($binary)"
    build/release/bench/server_bench "mongodb://127.0.0.1:$port/?appname=bench" \
      "host=127.0.0.1 port=$pg_port user=bench dbname=postgres" "$redis_port" "$seconds" | grep '^|'
    kill "$pid"
    wait "$pid" || true
  done
done
