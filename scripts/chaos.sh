#!/usr/bin/env bash
# The long chaos run: fedavg, 3 clients, 3 rounds, watchers SIGKILLed at seeded random moments.
#
#   scripts/chaos.sh [RUNS] [KILLS] [SEED]     (defaults: 10 runs, 8 kills each, seed 2026)
#
# Prints "chaos: K SIGKILLs over R run(s) ..., S/R survived with a byte-identical model".
set -euo pipefail
cd "$(dirname "$0")/.."
export FERRY_CHAOS_RUNS=${1:-10} FERRY_CHAOS_KILLS=${2:-8} FERRY_CHAOS_SEED=${3:-2026}
exec swift test --filter ChaosTests
