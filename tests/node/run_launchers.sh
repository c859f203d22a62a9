#!/usr/bin/env bash
# Runs launchers.test.mjs with Mocha: mongodb-memory-server starts Docket
# through a `mongod` symlink to DOCKET_BIN (never a downloaded mongod).
set -euo pipefail
cd "$(dirname "$0")"
: "${DOCKET_BIN:?DOCKET_BIN must name the docket binary}"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
ln -s "$(realpath "$DOCKET_BIN")" "$bin/mongod"
export MONGOMS_SYSTEM_BINARY="$bin/mongod"
export MONGOMS_VERSION=6.0.0        # what Docket's --version reports, so no version warning
export MONGOMS_RUNTIME_DOWNLOAD=false
exec node_modules/.bin/mocha --exit launchers.test.mjs
