#!/usr/bin/env bash
# Installs the pytest plugin (python/) into a fresh virtualenv, as a user
# would with `pip install ./python` (offline: Debian's setuptools builds it;
# pymongo and pytest come from the system site-packages), and runs the
# example tests with it.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${DOCKET_BIN:?DOCKET_BIN must name the docket binary}"
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
/usr/bin/python3 -m venv --system-site-packages "$venv/env"
# Built from a copy: setuptools leaves build/ and *.egg-info beside the sources.
cp -r python "$venv/src"
"$venv/env/bin/python" -m pip install --quiet --no-index --no-build-isolation --no-deps "$venv/src"
# The plugin is found through its entry point; no conftest, no import by hand.
cd tests/python_fixture
"$venv/env/bin/python" -m pytest -p no:cacheprovider -q --docket-bin "$DOCKET_BIN" test_fixture_example.py
# pymongo_inmemory's style: `from docket_inmemory import MongoClient`.
"$venv/env/bin/python" -m pytest -p no:cacheprovider -q test_inmemory_example.py
