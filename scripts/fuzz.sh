#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, in build/fuzz) and runs each for a
# while. See docs/testing.md, "Fuzzing".
#
#   scripts/fuzz.sh [seconds-per-target] [target...]   # default 60 s, every target
#   scripts/fuzz.sh --build-only
#
# Each target runs niced, single-threaded, from its checked-in seeds
# (fuzz/corpus/<target>) plus what earlier runs found (build/fuzz/work/<target>,
# not checked in), with its dictionary. A run that stops at a finding is
# restarted for the rest of its time. Every finding (crash, sanitizer report,
# leak, timeout, out-of-memory) is saved under fuzz/findings/<target>/ with
# the report beside it (<name>.log). libFuzzer's slow-unit reports (an input
# that took 10 s or more but finished: a legitimately heavy input on a
# loaded machine, or a near-hang) are saved the same way and listed apart:
# look at them, but they do not fail the run. A finding whose report contains the
# signature of an entry of fuzz/known_crashes.txt counts as known; UBSan
# reports listed in fuzz/ubsan_known.supp are suppressed while fuzzing, so
# that a known finding does not stop every run.
# Exit status: 1 when there was a finding that is not known.
# Environment: FUZZ_JOBS (make -j, default 1), FUZZ_NICE (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=build/fuzz
targets_all=(wire_fuzz bson_fuzz filter_fuzz update_fuzz projection_fuzz aggregate_fuzz key_encoding_fuzz text_fuzz geo_fuzz transfer_fuzz)
nice_level=${FUZZ_NICE:-10}

build_targets() {
  if [ ! -f "$build/CMakeCache.txt" ]; then
    nice -n "$nice_level" cmake -S . -B "$build" -DDOCKET_BUILD_FUZZ=ON -DDOCKET_BUILD_TESTS=OFF \
      -DDOCKET_BUILD_BENCH=OFF -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
  fi
  nice -n "$nice_level" cmake --build "$build" --target fuzz_targets -j"${FUZZ_JOBS:-1}" >"$build/fuzz-build.log" 2>&1 ||
    { tail -40 "$build/fuzz-build.log"; echo "fuzz build failed (log: $build/fuzz-build.log)"; exit 2; }
}

dict_for() {
  case $1 in
    wire_fuzz) echo fuzz/dict/wire.dict ;;
    bson_fuzz|key_encoding_fuzz) echo fuzz/dict/bson.dict ;;
    text_fuzz) echo fuzz/dict/text.dict ;;
    geo_fuzz) echo fuzz/dict/geo.dict ;;
    *) echo fuzz/dict/query.dict ;;
  esac
}

# Whether the report in $2 matches a known crash of target $1.
is_known() {
  local target=$1 log=$2 t file sig reason
  [ -f fuzz/known_crashes.txt ] || return 1
  while IFS='|' read -r t file sig reason; do
    t=$(echo "$t" | xargs); sig=$(echo "$sig" | sed 's/^ *//; s/ *$//')
    [[ -z "$t" || "$t" == \#* ]] && continue
    [ "$t" = "$target" ] && [ -n "$sig" ] && grep -aqF -- "$sig" "$log" && return 0
  done < fuzz/known_crashes.txt
  return 1
}

if [ "${1:-}" = "--build-only" ]; then
  build_targets
  exit 0
fi
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${targets_all[@]}")

build_targets
dirty=$(git status --porcelain -- src include 2>/dev/null | wc -l)
printf 'fuzzing %s target(s) for %s s each (commit %s%s, %s)\n' "${#targets[@]}" "$seconds" \
  "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
  "$( ((dirty)) && echo " + $dirty uncommitted file(s) in src/ include/")" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
export UBSAN_OPTIONS="suppressions=$root/fuzz/ubsan_known.supp${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
status=0
summary=()
for target in "${targets[@]}"; do
  work=$build/work/$target
  findings=fuzz/findings/$target
  mkdir -p "$work" "$findings"
  execs=0 new=0 known=0 slow=0 restarts=0
  start=$(date +%s)
  while :; do
    elapsed=$(( $(date +%s) - start ))
    left=$(( seconds - elapsed ))
    (( left >= 2 )) || break
    log=$build/work/$target.run.log
    before=$(ls "$findings" | grep -v '\.log$' | sort || true)
    # -timeout: one input taking over 10 s is a finding (a hang).
    # -rss_limit_mb / -malloc_limit_mb: a single input using 2 GiB is one too.
    # -entropic_scale_per_exec_time: a few legitimate inputs take the harness's
    # whole one-second budget ($range over a million numbers); scheduled as
    # often as the rest, ten of them among thousands cut the rate tenfold.
    nice -n "$nice_level" "$build/fuzz/$target" -max_total_time="$left" -timeout=10 -rss_limit_mb=2048 \
      -entropic_scale_per_exec_time=1 \
      -print_final_stats=1 -dict="$(dict_for "$target")" -artifact_prefix="$findings/" \
      "$work" "fuzz/corpus/$target" >"$log" 2>&1 && rc=0 || rc=$?
    runs=$(grep -ao 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
    [ -z "$runs" ] && runs=$(grep -aoE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
    execs=$(( execs + ${runs:-0} ))
    after=$(ls "$findings" | grep -v '\.log$' | sort || true)
    for f in $(comm -13 <(echo "$before") <(echo "$after")); do
      cp "$log" "$findings/$f.log"
      if [[ "$f" == slow-unit-* ]]; then
        slow=$((slow + 1))
        echo "  $target: slow unit $findings/$f ($(grep -a -m1 -o 'Slowest unit: [0-9]* s' "$log" || echo 'see its log'))"
      elif is_known "$target" "$log"; then
        known=$((known + 1))
        echo "  $target: known finding $findings/$f"
      else
        new=$((new + 1))
        echo "  $target: FINDING $findings/$f"
        grep -a -m1 -E 'ERROR: |FUZZ INVARIANT|runtime error' "$log" | sed 's/^/    /' || true
      fi
    done
    [ "$rc" -eq 0 ] && break
    restarts=$((restarts + 1))
    (( restarts <= 50 )) || break
  done
  took=$(( $(date +%s) - start ))
  line=$(printf '%-20s %12d execs %6d s %9d/s  new findings: %d  known: %d  slow units: %d' "$target" "$execs" \
    "$took" $(( execs / (took > 0 ? took : 1) )) "$new" "$known" "$slow")
  echo "$line"
  summary+=("$line")
  (( new == 0 )) || status=1
done
echo "---- summary"
printf '%s\n' "${summary[@]}"
exit $status
