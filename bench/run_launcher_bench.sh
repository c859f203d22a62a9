#!/usr/bin/env bash
# Start-to-first-answer through each launcher (bench/launcher_startup.py and
# bench/launcher_startup.mjs), release build, one run. Prints Markdown for
# docs/benchmarks.md.
#
#   bench/run_launcher_bench.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release -DDOCKET_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j"${BENCH_JOBS:-$(nproc)}" --target docket
runs="${1:-20}"
docket="$PWD/build/release/docket"
[ -d tests/node/node_modules/mongodb-memory-server-core ] || (cd tests/node && npm install --no-audit --no-fund --silent)
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
ln -s "$docket" "$bin/mongod"
cp bench/launcher_startup.mjs tests/node/.launcher_startup.mjs
trap 'rm -rf "$bin" tests/node/.launcher_startup.mjs' EXIT
mms=$(cd tests/node && MONGOMS_SYSTEM_BINARY="$bin/mongod" MONGOMS_VERSION=6.0.0 MONGOMS_RUNTIME_DOWNLOAD=false \
      node .launcher_startup.mjs "$runs")
mms_ms=$(/usr/bin/python3 -c "import json,sys; print(json.loads(sys.argv[1])['median_ms'])" "$mms")
/usr/bin/python3 bench/launcher_startup.py "$docket" "$runs" "$mms_ms"
