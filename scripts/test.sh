#!/usr/bin/env bash
# Runs the whole test suite: the Python package's pytest suite, then the Swift tests.
# Installs missing system packages first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
# The Python package (python/): pytest in its own virtual environment; a failure fails the suite.
scripts/python-tests.sh
# The release archive and wheel: built by scripts/release.sh (too slow for the suite), tested when present.
if ls dist/ferry-*-linux-*.tar.gz >/dev/null 2>&1; then
  scripts/release-test.sh
else
  echo "release tests skipped: dist/ holds no archive (scripts/release.sh builds it, then scripts/release-test.sh)" >&2
fi
exec swift test "$@"
