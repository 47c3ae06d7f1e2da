#!/usr/bin/env bash
# Screenshots an HTML report (or any local HTML file) in headless Chromium, to check how it renders.
#   scripts/report-screenshot.sh REPORT.html OUT.png [WIDTH,HEIGHT]   (default window 1200,1600)
#   scripts/report-screenshot.sh --check                               (only make sure Chromium runs)
# Debian's `chromium` package is installed through apt when no Chromium is found (needs root or sudo).
# Exit status: 0 done, 1 the screenshot failed, 2 usage, 3 Chromium is missing and cannot be installed
# or does not start (tests skip on 3).
set -euo pipefail

usage() { echo "usage: $0 REPORT.html OUT.png [WIDTH,HEIGHT] | $0 --check" >&2; exit 2; }

find_chromium() {
  for name in chromium chromium-browser google-chrome; do
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  done
  return 1
}

install_chromium() {
  command -v apt-get >/dev/null 2>&1 || { echo "report-screenshot: no chromium and no apt-get to install it" >&2; return 1; }
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "report-screenshot: no chromium; install it as root: apt-get install -y chromium" >&2; return 1; }
    sudo="sudo -n"
  fi
  echo "report-screenshot: installing chromium (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null 2>&1 || { echo "report-screenshot: apt-get update failed" >&2; return 1; }
  $sudo apt-get install -y -qq chromium >/dev/null 2>&1 || { echo "report-screenshot: apt-get install chromium failed" >&2; return 1; }
}

chromium=$(find_chromium || true)
if [ -z "$chromium" ]; then
  install_chromium || exit 3
  chromium=$(find_chromium || true)
  [ -n "$chromium" ] || { echo "report-screenshot: chromium is still not on PATH after installing it" >&2; exit 3; }
fi

if [ "${1:-}" = "--check" ]; then
  [ $# -eq 1 ] || usage
  version=$(timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --version 2>/dev/null) \
    || { echo "report-screenshot: $chromium does not start" >&2; exit 3; }
  echo "$version"
  exit 0
fi

[ $# -ge 2 ] && [ $# -le 3 ] || usage
report=$1
out=$2
size=${3:-1200,1600}
[ -f "$report" ] || { echo "report-screenshot: $report: no such file" >&2; exit 1; }
[[ "$size" =~ ^[0-9]+,[0-9]+$ ]] || { echo "report-screenshot: window size '$size' is not WIDTH,HEIGHT" >&2; exit 2; }

report_url="file://$(cd "$(dirname "$report")" && pwd)/$(basename "$report")"
out_abs="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
# A private profile, so that parallel runs do not share (and lock) one.
profile=$(mktemp -d "${TMPDIR:-/tmp}/report-screenshot.XXXXXX")
trap 'rm -rf "$profile"' EXIT
rm -f "$out_abs"

status=0
timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
  --no-first-run --no-default-browser-check --user-data-dir="$profile" \
  --screenshot="$out_abs" --window-size="$size" "$report_url" >"$profile/chromium.log" 2>&1 || status=$?

if [ ! -s "$out_abs" ]; then
  echo "report-screenshot: chromium wrote no screenshot (exit status $status); its output:" >&2
  tail -n 20 "$profile/chromium.log" >&2 || true
  [ "$status" -eq 0 ] && exit 1
  exit 3
fi
echo "wrote $out ($(wc -c <"$out_abs") bytes)"
