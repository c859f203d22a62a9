#!/usr/bin/env bash
# The age benchmark (issue 15, item 4): the embedded engine (bench/age_bench.cc)
# and docket serve over the wire (bench/age_wire_bench.cc), each in memory and
# on disk. The wire rounds each start a new server. Prints the figures for
# docs/benchmarks.md, "Age: create/drop churn".
#
#   bench/run_age_bench.sh [cycles=10000] [rounds=3]
set -euo pipefail
cd "$(dirname "$0")/.."
cycles="${1:-10000}"
rounds="${2:-3}"
scripts/install-deps.sh
cmake --preset release -DDOCKET_BUILD_BENCH=ON -DDOCKET_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target docket age_bench age_wire_bench
source bench/lib.sh
bench_scratch docket-age-bench

echo "## embedded engine"
build/release/bench/age_bench "$cycles" 400 0 "$rounds"

echo "## docket serve over the wire"
echo "Two servers per line, started alike; the aged one runs the cycles, then both"
echo "are probed alternately. Control lines run no cycles: the spread of two alike servers."
echo "Round trip: the client's clock; served: the server's own (serverStatus opLatencies)."
printf "%-7s %-7s %7s %7s %7s %7s   %7s %7s %7s %7s   %7s %7s\n" mode line "rt us" "aged" "find x" "upd x" \
  "srv us" "aged" "find x" "upd x" "cycle x" "churn s"
start_server() {  # PORT DIR|memory: starts docket serve, waits until it is ready
  local storage=(--memory)
  [ "$2" != memory ] && { rm -rf "$2"; storage=(--dbpath "$2"); }
  build/release/docket serve "${storage[@]}" --port "$1" --quiet > "$scratch/docket-$1.out" 2>&1 &
  server_pids+=($!)
  for _ in $(seq 100); do grep -q ready "$scratch/docket-$1.out" 2>/dev/null && return; sleep 0.1; done
  echo "docket serve on port $1 did not start" >&2; exit 1
}
on_exit 'kill "${server_pids[@]}"'
for mode in memory disk; do
  for round in $(seq "$rounds"); do
    for line in control aged; do
      server_pids=()
      # Which of the two ports ages alternates from round to round.
      if [ $((round % 2)) -eq 1 ]; then aged_port=57027 fresh_port=57028; else aged_port=57028 fresh_port=57027; fi
      if [ "$mode" = memory ]; then
        start_server $aged_port memory; start_server $fresh_port memory
      else
        start_server $aged_port "$scratch/data-$aged_port"; start_server $fresh_port "$scratch/data-$fresh_port"
      fi
      n=$cycles; [ "$line" = control ] && n=0
      printf "%-7s %-7s " "$mode" "$line"
      build/release/bench/age_wire_bench "mongodb://127.0.0.1:$aged_port/" "mongodb://127.0.0.1:$fresh_port/" "$n" 2000
      kill "${server_pids[@]}"
      wait "${server_pids[@]}" 2>/dev/null || true
    done
  done
done
