#!/usr/bin/env bash
# Differential and metamorphic checker of queries (tests/differential):
#   scripts/differential.sh                 300 cases, a random seed (printed)
#   scripts/differential.sh 20000 7         20,000 cases of seed 7
#   DOCKET_BIN=/tmp/docket scripts/differential.sh    another binary
# Further options go to tests/differential/run.py (see --help), e.g.
#   scripts/differential.sh 500 7 --report /tmp/diff.json --strict
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-300}
seed=${2:-}
shift $(( $# > 2 ? 2 : $# ))
export DOCKET_BIN=${DOCKET_BIN:-build/debug/docket}
exec /usr/bin/python3 -B tests/differential/run.py --cases "$cases" ${seed:+--seed "$seed"} "$@"
