#!/usr/bin/env bash
# Moving documents in and out, side by side in one run: `docket import`,
# `docket dump` and `docket restore` against a `docket serve` on disk, and
# PostgreSQL 15's COPY, pg_dump and pg_restore of the same documents as jsonb
# (with a unique index on the _id, as Docket's _id index). Both servers run
# with their default durability on the same scratch disk. Median of RUNS
# runs per operation. Prints Markdown for docs/benchmarks.md.
#
#   bench/run_transfer_bench.sh [documents] [runs]
#
# BENCH_JOBS sets the build's parallelism (default: every core).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release -DDOCKET_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j"${BENCH_JOBS:-$(nproc)}" --target docket
docket="$PWD/build/release/docket"
documents="${1:-1000000}"
runs="${2:-3}"
source bench/lib.sh
bench_scratch docket-transfer-bench
pg_port=55441
start_postgres "$pg_port"
pg="host=127.0.0.1 port=$pg_port user=bench dbname=postgres"

"$docket" serve --dbpath "$scratch/docket" --port 0 --quiet > "$scratch/docket.out" 2>&1 &
on_exit "kill $!"
for _ in $(seq 1 100); do grep -q "ready on" "$scratch/docket.out" && break; sleep 0.1; done
uri=$(grep -o 'mongodb://[^ ]*' "$scratch/docket.out")

/usr/bin/python3 bench/transfer_data.py "$documents" > "$scratch/data.json"
bytes=$(stat -c %s "$scratch/data.json")

# seconds CMD...: runs CMD, prints its wall time in seconds.
seconds() {
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null 2>"$scratch/last.err" || { cat "$scratch/last.err" >&2; return 1; }
  end=$(date +%s%N)
  echo "scale=3; ($end - $start) / 1000000000" | bc
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

psql_bench() { psql "$pg" -q -v ON_ERROR_STOP=1 "$@"; }
psql_bench -c "CREATE TABLE docs (doc jsonb NOT NULL); CREATE UNIQUE INDEX docs_id ON docs ((doc->'_id'));"

declare -A docket_times pg_times
for run in $(seq 1 "$runs"); do
  docket_times[import]+=" $(seconds "$docket" import --uri "$uri" -d bench -c docs --file "$scratch/data.json" --drop --quiet)"
  psql_bench -c "TRUNCATE docs"
  # COPY's csv format with quote and delimiter bytes that never occur in the
  # JSON lines: each line is one jsonb value, read as it is.
  pg_times[import]+=" $(seconds psql_bench -c "\\copy docs (doc) FROM '$scratch/data.json' WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')")"

  rm -rf "$scratch/dump" "$scratch/dump.gz" "$scratch/pg.dump" "$scratch/pg.dump.gz"
  docket_times[dump]+=" $(seconds "$docket" dump --uri "$uri" -d bench --out "$scratch/dump" --quiet)"
  pg_times[dump]+=" $(seconds pg_dump "$pg" -t docs -Fc -Z0 -f "$scratch/pg.dump")"
  docket_times[dump_gzip]+=" $(seconds "$docket" dump --uri "$uri" -d bench --out "$scratch/dump.gz" --gzip --quiet)"
  pg_times[dump_gzip]+=" $(seconds pg_dump "$pg" -t docs -Fc -f "$scratch/pg.dump.gz")"

  docket_times[restore]+=" $(seconds "$docket" restore --uri "$uri" --drop "$scratch/dump" --quiet)"
  pg_times[restore]+=" $(seconds pg_restore -d "$pg" --clean "$scratch/pg.dump")"
done

count=$("$docket" export --uri "$uri" -d bench -c docs --quiet | wc -l)
pg_count=$(psql_bench -tAc "SELECT count(*) FROM docs")
[ "$count" = "$documents" ] && [ "$pg_count" = "$documents" ] || {
  echo "counts differ: docket $count, PostgreSQL $pg_count, expected $documents" >&2
  exit 1
}

echo "Moving $documents documents ($((bytes / 1048576)) MiB of JSON lines), median of $runs runs, seconds:"
echo
echo "| operation | Docket | PostgreSQL | PostgreSQL / Docket |"
echo "|---|---|---|---|"
row() {
  local d p
  d=$(median ${docket_times[$1]})
  p=$(median ${pg_times[$1]})
  echo "| $2 | $d | $p | $(echo "scale=2; $p / $d" | bc) |"
}
row import "import JSON lines (docket import vs COPY)"
row dump "dump (docket dump vs pg_dump -Fc -Z0)"
row dump_gzip "dump compressed (--gzip vs pg_dump -Fc)"
row restore "restore (docket restore --drop vs pg_restore --clean)"
echo
echo "Sizes: Docket dump $(du -sh "$scratch/dump" | cut -f1), gzipped $(du -sh "$scratch/dump.gz" | cut -f1);" \
     "pg_dump $(du -sh "$scratch/pg.dump" | cut -f1), compressed $(du -sh "$scratch/pg.dump.gz" | cut -f1)."
