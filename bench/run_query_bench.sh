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
scratch="$(mktemp -d /tmp/docket-query-bench.XXXXXX)"
chmod 777 "$scratch"
pg_bin=/usr/lib/postgresql/15/bin
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_port=55433
cleanup() {
  as_postgres "$pg_bin/pg_ctl" -D "$scratch/pg" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT
as_postgres "$pg_bin/initdb" -D "$scratch/pg" -A trust -U bench >/dev/null
# shared_buffers large enough to hold the table, as Docket's and SQLite's caches do.
as_postgres "$pg_bin/pg_ctl" -D "$scratch/pg" -l "$scratch/pg.log" -w \
  -o "-p $pg_port -k $scratch -c listen_addresses=127.0.0.1 -c shared_buffers=1GB" \
  start >/dev/null
build/release/bench/query_bench "host=127.0.0.1 port=$pg_port user=bench dbname=postgres" "$seconds" "$docs"
