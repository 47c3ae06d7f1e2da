#!/usr/bin/env bash
# Runs the whole test suite: the Python package's pytest suite, then the Swift tests.
# Installs missing system packages first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
# The Python package (python/): pytest in its own virtual environment; a failure fails the suite.
scripts/python-tests.sh
exec swift test "$@"
