#!/usr/bin/env bash
# Runs the whole test suite. Installs missing system packages first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
exec swift test "$@"
