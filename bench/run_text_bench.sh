#!/usr/bin/env bash
# Starts PostgreSQL 15 on 127.0.0.1 in a scratch directory, writes out the
# King James Bible (Debian's bible-kjv-text, read with its `bible` program)
# one verse a line, and runs bench/text_bench.cc: Docket (embedded, $text on
# a text index), SQLite (FTS5, porter tokenizer) and PostgreSQL (tsvector +
# GIN, english) answering the same full-text searches over the same verses,
# in one run. Prints Markdown for docs/benchmarks.md.
#
#   bench/run_text_bench.sh [seconds-per-case]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release -DDOCKET_BUILD_BENCH=ON -DDOCKET_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target text_bench
seconds="${1:-2}"
# bible-kjv-text holds the text compressed; the reader is bible-kjv's
# `bible`, which Debian installs with it (a Recommends).
command -v bible >/dev/null || { echo "run_text_bench: no 'bible' program (Debian package bible-kjv)" >&2; exit 1; }
source bench/lib.sh
bench_scratch docket-text-bench
# -f turns pretty-printing off: "<book><chapter>:<verse> <text>", a verse a line.
bible -f Gen1:1-Rev22:21 >"$scratch/kjv.txt"
pg_port=55438
start_postgres "$pg_port" -c shared_buffers=512MB
build/release/bench/text_bench "host=127.0.0.1 port=$pg_port user=bench dbname=postgres" "$scratch" "$scratch/kjv.txt" "$seconds"
