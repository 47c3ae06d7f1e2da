#!/usr/bin/env bash
# Runs the main job: builds ferry and runs jobs/hello-fedavg as a local federation.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
swift build -c release --product ferry
swift build -c release --product ferry-example-trainer
# Python trainers (jobs/numpy-fedavg, the fedavg-python template) import ferry's package from python/
# when it is not pip-installed; the executors inherit this from the watchers.
export PYTHONPATH="$PWD/python${PYTHONPATH:+:$PYTHONPATH}"
exec .build/release/ferry poc jobs/hello-fedavg "$@"
