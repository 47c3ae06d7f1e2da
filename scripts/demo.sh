#!/usr/bin/env bash
# Runs the main job: builds ferry and runs jobs/hello-fedavg as a local federation.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
swift build -c release --product ferry
swift build -c release --product ferry-example-trainer
exec .build/release/ferry poc jobs/hello-fedavg "$@"
