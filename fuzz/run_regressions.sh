#!/usr/bin/env bash
# Replays every fuzz target once over its seeds (fuzz/corpus/<target>) and its
# regression inputs (fuzz/regressions/<target>): each input runs once, under
# ASan (leaks included, checked when each target exits) and UBSan. Inputs
# listed in fuzz/known_crashes.txt are left out (and named). Builds the
# targets first (scripts/fuzz.sh --build-only, in build/fuzz).
# Exit status: non-zero if any target crashed, hung (10 s), leaked or broke
# an invariant on any input.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/fuzz.sh --build-only || exit 2
targets=(wire_fuzz bson_fuzz filter_fuzz update_fuzz projection_fuzz aggregate_fuzz key_encoding_fuzz text_fuzz geo_fuzz transfer_fuzz)

known_files() {  # the reproducers of target $1 listed in known_crashes.txt
  [ -f fuzz/known_crashes.txt ] || return 0
  awk -F'|' -v t="$1" '$0 !~ /^[[:space:]]*#/ { gsub(/^[ \t]+|[ \t]+$/, "", $1); gsub(/^[ \t]+|[ \t]+$/, "", $2);
                        if ($1 == t && $2 != "") print $2 }' fuzz/known_crashes.txt
}

failed=0
total=0
for target in "${targets[@]}"; do
  mapfile -t skip < <(known_files "$target")
  inputs=()
  for dir in "fuzz/corpus/$target" "fuzz/regressions/$target"; do
    [ -d "$dir" ] || continue
    for f in "$dir"/*; do
      [ -f "$f" ] || continue
      base=$(basename "$f")
      if printf '%s\n' "${skip[@]}" | grep -qxF -- "$base"; then
        echo "  $target: skipping known crash $f"
        continue
      fi
      inputs+=("$f")
    done
  done
  (( ${#inputs[@]} )) || { echo "$target: no inputs"; continue; }
  log=build/fuzz/work/$target.replay.log
  mkdir -p build/fuzz/work
  start=$(date +%s%N)
  ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}" \
    build/fuzz/fuzz/"$target" -timeout=10 -rss_limit_mb=2048 "${inputs[@]}" >"$log" 2>&1
  rc=$?
  took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  total=$((total + ${#inputs[@]}))
  if [ $rc -eq 0 ]; then
    printf '%-20s %4d inputs  ok  (%d ms)\n' "$target" "${#inputs[@]}" "$took_ms"
  else
    failed=$((failed + 1))
    printf '%-20s %4d inputs  FAILED (exit %d; log %s)\n' "$target" "${#inputs[@]}" "$rc" "$log"
    grep -E '^Running: ' "$log" | tail -1 | sed 's/^/    last input: /'
    grep -m3 -E 'ERROR: |FUZZ INVARIANT|runtime error|SUMMARY' "$log" | sed 's/^/    /'
  fi
done
echo "fuzz regressions: $((${#targets[@]} - failed)) passed, $failed failed ($total inputs)"
exit $(( failed > 0 ))
