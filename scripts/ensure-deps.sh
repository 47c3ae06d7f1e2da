#!/usr/bin/env bash
# Installs the system packages ferry builds against, when they are missing.
# Safe to run repeatedly; needs root (or sudo) only when something is missing.
set -euo pipefail

need=()
pkg-config --exists libarchive 2>/dev/null || need+=(libarchive-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v zstd >/dev/null 2>&1 || need+=(zstd)

# Python interop tests (safetensors files read/written by the Python library, the numpy
# dequantizer) run when python3 has these modules; install them best-effort, never fail on it.
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import numpy, safetensors" >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check numpy safetensors >/dev/null 2>&1 || true
fi

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

echo "ferry: installing missing system packages: ${need[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "ferry: please install as root: apt-get install -y ${need[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
