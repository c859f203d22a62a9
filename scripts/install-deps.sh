#!/usr/bin/env bash
# Installs what Docket needs from Debian 12's archive, if anything is missing.
set -euo pipefail
# What building and running `docket serve` needs (scripts/serve.sh passes
# --server); everything else below is for the tests and benchmarks.
server_packages=(build-essential cmake pkg-config ccache libbson-dev librocksdb-dev libfmt-dev libcli11-dev
          libasio-dev libpcre2-dev libicu-dev libssl-dev libstemmer-dev liblingua-stopwords-perl libs2-dev libabsl-dev
          libsnappy-dev zlib1g-dev libzstd-dev libmongoc-dev libboost1.81-dev tzdata libjemalloc-dev
          libyaml-cpp-dev)  # libyaml-cpp: the --config file (mongod.conf's shape)
test_packages=(libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev libpq-dev libhiredis-dev
          postgresql postgresql-15-postgis-3 redis-server bible-kjv  # bible-kjv: the text benchmark's corpus; PostGIS: the geo benchmark
          python3-pymongo python3-pytest python3-mongoengine python3-snappy python3-zstandard
          python3-mongomock  # the launcher benchmark's in-process fake, measured, never used by a test
          python3-venv python3-pip python3-setuptools  # the pytest plugin (python/) installed as users install it
          clang-14 libclang-rt-14-dev llvm-14
          e2fsprogs mount  # e2fsprogs, mount (losetup): the read-only file system test
          dpkg-dev fakeroot systemd)  # the Debian package test: dpkg-deb, dpkg -x, systemd-analyze verify
server_only=false
[ "${1:-}" = "--server" ] && server_only=true
packages=("${server_packages[@]}")
$server_only || packages+=("${test_packages[@]}")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Node.js and npm run the Node-driver and mongosh tests; use the machine's own
# if it has them, Debian's otherwise.
if ! $server_only && ! command -v npm >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
