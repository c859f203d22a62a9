#!/usr/bin/env bash
# Installs what is missing, builds the release binary, and runs the server:
# `docket serve` on 127.0.0.1:27017 with data in ./docket-data. Extra
# arguments go to `docket serve` (e.g. --memory, --port 0, --jitter 0-5).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --server  # not PostgreSQL, Redis and the rest that only tests and benchmarks use
cmake --preset release -DDOCKET_BUILD_TESTS=OFF -DDOCKET_BUILD_BENCH=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target docket
exec build/release/docket serve "$@"
