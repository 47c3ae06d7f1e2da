#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ and runs each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS (default 60) is the run time of each target; TARGETs default to all three:
#   FuzzSafetensorsHeader  safetensors header parser   seeds: Tests/*/Fixtures/*.safetensors
#   FuzzJobYAML            job.yaml / app.yaml loader  seeds: jobs/**/*.yaml, templates/**/*.yaml*
#   FuzzTransferManifest   transfer folder receiver    seeds: Fuzz/Corpus/transfer-manifest
# Working corpora and crash inputs go to .build/fuzz/<target>/ (never into the source tree).
# A crash stops the run with exit status 1 and leaves crash-* files there: turn each into a
# regression test (Tests/*/Hostile*Tests.swift) before fixing it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzSafetensorsHeader FuzzJobYAML FuzzTransferManifest)

echo "== building fuzz targets (swift build -Xswiftc -sanitize=fuzzer)"
(cd Fuzz && swift build -c debug -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library)
bin=$(cd Fuzz && swift build -c debug -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library --show-bin-path)

seed() { # target work-corpus
    case $1 in
        FuzzSafetensorsHeader)
            find Tests -name '*.safetensors' -size -64k -exec cp {} "$2/" \; ;;
        FuzzJobYAML)
            i=0
            while IFS= read -r f; do i=$((i + 1)); cp "$f" "$2/seed-$i.yaml"; done \
                < <(find jobs templates Tests -name '*.yaml' -o -name '*.yaml.mustache' | head -200) ;;
        FuzzTransferManifest)
            cp Fuzz/Corpus/transfer-manifest/* "$2/" ;;
    esac
}

# The transfer target writes a folder per input: a RAM-backed TMPDIR makes its fsyncs cheap (4x faster).
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi

status=0
for t in "${targets[@]}"; do
    work="$root/.build/fuzz/$t"
    mkdir -p "$work/corpus" "$work/artifacts"
    seed "$t" "$work/corpus"
    echo "== $t for ${seconds}s (corpus $work/corpus)"
    log="$work/last-run.log"
    if "$bin/$t" "$work/corpus" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$work/artifacts/" -print_final_stats=1 >"$log" 2>&1; then
        echo "   ok: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') inputs," \
             "$(ls "$work/corpus" | wc -l) in corpus, no crash"
    else
        status=1
        echo "   CRASH: see $log and $work/artifacts/"
        grep -E 'ERROR|Fatal error|panic|SUMMARY' "$log" | head -5 || true
    fi
done
exit $status
