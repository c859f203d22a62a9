#!/usr/bin/env bash
# Installs Docket from a build directory into a throwaway prefix, then builds
# tests/install/consumer (a project outside the tree) against it twice — with
# find_package(docket CONFIG) and with pkg-config — and runs the README's
# snippets. Usage: tests/install/run.sh <docket build dir>
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
test -f "$scratch/prefix/include/docket/engine.h"
test -f "$scratch/prefix/lib/cmake/docket/docketConfig.cmake"
test -x "$scratch/prefix/bin/docket"
# CMake: find_package(docket CONFIG REQUIRED).
cmake -S "$here/consumer" -B "$scratch/consumer" -DCMAKE_PREFIX_PATH="$scratch/prefix" -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$scratch/consumer" -j2 >/dev/null
"$scratch/consumer/engine_snippet"
"$scratch/consumer/odm_snippet"
# pkg-config: the same programs with the flags the .pc files give.
export PKG_CONFIG_PATH="$scratch/prefix/lib/pkgconfig"
# shellcheck disable=SC2046
c++ -o "$scratch/engine_pc" "$here/consumer/engine_snippet.cc" $(pkg-config --cflags --static --libs docket-engine)
# shellcheck disable=SC2046
c++ -o "$scratch/odm_pc" "$here/consumer/odm_snippet.cc" $(pkg-config --cflags --static --libs docket-odm)
"$scratch/engine_pc"
"$scratch/odm_pc"
echo "install: ok"
