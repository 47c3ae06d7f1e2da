#!/usr/bin/env bash
# Runs the whole test suite N times in a row and stops at the first failure: the check that the
# suite does not depend on timing. With --load, two busy loops keep both cores of a 2-core machine
# occupied for the whole run (they are stopped on exit).
#   scripts/repeat-tests.sh 10            # 10 runs on a quiet machine
#   scripts/repeat-tests.sh 5 --load      # 5 runs with both cores busy
# Logs: .build/repeat-tests/run-K.log; a summary line "repeat-tests: N passed, M failed" at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:?usage: scripts/repeat-tests.sh RUNS [--load]}
load=${2:-}
logs=.build/repeat-tests
mkdir -p "$logs"
scripts/ensure-deps.sh
swift build --build-tests >"$logs/build.log" 2>&1 || { echo "repeat-tests: the build failed (see $logs/build.log)"; exit 1; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT
if [ "$load" = "--load" ]; then
  for _ in 1 2; do (yes >/dev/null) & pids+=($!); done
  echo "repeat-tests: load started (pids ${pids[*]})"
fi
passed=0; failed=0
for k in $(seq 1 "$runs"); do
  start=$(date +%s)
  if swift test --skip-build >"$logs/run-$k.log" 2>&1; then
    passed=$((passed + 1)); result=passed
  else
    failed=$((failed + 1)); result=FAILED
  fi
  summary=$(grep -E "Test run with [0-9]+ tests" "$logs/run-$k.log" | tail -1)
  echo "run $k/$runs: $result in $(( $(date +%s) - start )) s — ${summary:-no summary line}"
  if [ "$result" = FAILED ]; then grep -E "✘" "$logs/run-$k.log" | head -20; break; fi
done
echo "repeat-tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
