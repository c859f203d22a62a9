#!/usr/bin/env bash
# Installs what is missing, builds the release binary, runs `docket demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release -DDOCKET_BUILD_TESTS=OFF -DDOCKET_BUILD_BENCH=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target docket
build/release/docket demo
