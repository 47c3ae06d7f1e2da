#!/usr/bin/env bash
# What a persistent executor saves per round on jobs/llm-sft (docs/benchmarks.md): runs the job as
# shipped (`persistent: true`) and a copy with `persistent: false`, alternately, each with `ferry poc`
# on this machine, and prints each client task's executor time (from the sites' job logs: the one-shot
# process's run, or the persistent process's answer to the request), the per-round means and the
# load average before each run.
#
#   scripts/bench-persistent.sh                 # FERRY=.build/debug/ferry, python3 from PATH
#   REPEAT=2 FERRY=.build/release/ferry PYTHON=/opt/venv/bin/python3 scripts/bench-persistent.sh
#   STEPS=2 scripts/bench-persistent.sh         # fewer training steps per round (the job's SFT_STEPS, default 30)
#
# Needs torch and transformers in that Python (jobs/llm-sft/README.md); ferry's package is taken from
# python/ through PYTHONPATH.
set -euo pipefail
cd "$(dirname "$0")/.."
ferry=${FERRY:-.build/debug/ferry}
python=${PYTHON:-python3}
repeat=${REPEAT:-1}
steps=${STEPS:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -x "$ferry" ] || { echo "no ferry binary at $ferry: swift build first, or set FERRY" >&2; exit 1; }
"$python" -c "import torch, transformers" || { echo "$python lacks torch or transformers: set PYTHON" >&2; exit 1; }
export PATH="$(dirname "$(command -v "$python")"):$PATH"
export PYTHONPATH="$PWD/python${PYTHONPATH:+:$PYTHONPATH}"

cp -r jobs/llm-sft "$work/persistent"
cp -r jobs/llm-sft "$work/oneshot"
sed -i 's/^  persistent: true$/  persistent: false/' "$work/oneshot/apps/client/app.yaml"
grep -q '^  persistent: false$' "$work/oneshot/apps/client/app.yaml"
if [ -n "$steps" ]; then
  sed -i "s/^    SFT_STEPS: \"30\"$/    SFT_STEPS: \"$steps\"/" "$work"/{oneshot,persistent}/apps/client/app.yaml
  grep -q "SFT_STEPS: \"$steps\"" "$work/persistent/apps/client/app.yaml"
fi
echo "machine: $(nproc) cores; steps per round: ${steps:-30}; $(date -u +%FT%TZ)"

for i in $(seq "$repeat"); do
  for mode in oneshot persistent; do
    echo "== $mode (run $i): load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    "$ferry" poc "$work/$mode" --poll 200ms --workspace "$work/fed-$mode-$i" --timeout 30m > "$work/$mode-$i.out" 2>&1 \
      || { cat "$work/$mode-$i.out"; exit 1; }
    grep -E '^(llm-sft|round|[0-9]+ )' "$work/$mode-$i.out" || true
  done
done

"$python" - "$work" "$repeat" <<'PY'
import glob, os, re, statistics, sys
work, repeat = sys.argv[1], int(sys.argv[2])
# One-shot: "[ferry] <time> exited with status 0 after S s"; persistent: "task train-rNNNN answered after S s".
pattern = re.compile(r"\[ferry\] \S+ (?:task train-r(\d+) answered after|exited with status 0 after) ([0-9.]+) s")
start = re.compile(r"\[ferry\] \S+ start: .*task train-r(\d+),")
rows = {}
for mode in ("oneshot", "persistent"):
    for i in range(1, repeat + 1):
        for log in glob.glob(f"{work}/fed-{mode}-{i}/**/jobs/*/logs/site-*.log", recursive=True):
            current = None
            for line in open(log, encoding="utf-8", errors="replace"):
                m = start.search(line)
                if m:
                    current = int(m.group(1))
                m = pattern.search(line)
                if m:
                    rnd = int(m.group(1)) if m.group(1) else current
                    rows.setdefault((mode, rnd), []).append(float(m.group(2)))
print("\nexecutor time per client task (seconds; mean over sites and runs)")
print(f"{'round':>5}  {'one-shot':>9}  {'persistent':>10}  {'saved':>7}")
rounds = sorted({r for _, r in rows})
for r in rounds:
    a, b = rows.get(("oneshot", r), []), rows.get(("persistent", r), [])
    if a and b:
        print(f"{r:>5}  {statistics.mean(a):>9.2f}  {statistics.mean(b):>10.2f}  {statistics.mean(a) - statistics.mean(b):>7.2f}")
later = [r for r in rounds if r > 1]
if later:
    a = statistics.mean(x for r in later for x in rows.get(("oneshot", r), []))
    b = statistics.mean(x for r in later for x in rows.get(("persistent", r), []))
    print(f"rounds 2+: one-shot {a:.2f} s, persistent {b:.2f} s per task: {a - b:.2f} s saved per round ({(a - b) / a:.0%})")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
