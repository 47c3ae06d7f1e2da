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
# A one-node Slurm for the Slurm tests (docs/hpc.md); stopped afterwards when this run started it.
# Where it cannot run, those tests say SKIPPED with the reason.
started_slurm=0
if [ "${FERRY_SKIP_SLURM_TESTS:-0}" != 1 ] && ! scripts/slurm.sh status >/dev/null 2>&1; then
  if scripts/slurm.sh start; then started_slurm=1; else echo "test.sh: no Slurm here; its tests will be skipped" >&2; fi
fi
status=0
swift test "$@" || status=$?
if [ $started_slurm = 1 ]; then scripts/slurm.sh stop || true; fi
exit $status
