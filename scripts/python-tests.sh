#!/usr/bin/env bash
# Runs the Python package's tests (python/tests) with pytest in a virtual environment it keeps under
# .build/python-venv: numpy, safetensors and pytest always; torch (CPU build) when it can be installed,
# else the torch tests are skipped with the reason printed. Installs python/ itself with pip, so the
# packaging is tested too. Fails when pytest fails. FERRY_SKIP_TORCH=1 skips the torch install.
# Also installs `tensorboard` (best effort): the Swift test TensorBoardTests reads the server's event
# files with TensorBoard's own reader from this venv, and is skipped without it.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/python-venv
py="$venv/bin/python"
pip=("$py" -m pip --disable-pip-version-check --quiet)

if ! command -v python3 >/dev/null 2>&1; then
  echo "python tests skipped: python3 is not installed" >&2
  exit 0
fi
if [ ! -x "$py" ]; then
  mkdir -p .build
  python3 -m venv "$venv"
fi
if ! "$py" -c "import numpy, safetensors, pytest" >/dev/null 2>&1; then
  if ! "${pip[@]}" install numpy safetensors pytest; then
    echo "python tests skipped: could not install numpy, safetensors and pytest into $venv" >&2
    exit 0
  fi
fi

# torch: a CPU wheel from a local wheel folder (PIP_FIND_LINKS) or the PyTorch CPU index, tried once;
# the outcome of a failed try is kept in $venv/torch-unavailable (delete it to try again).
if [ "${FERRY_SKIP_TORCH:-0}" != 1 ] && [ ! -f "$venv/torch-unavailable" ] && ! "$py" -c "import torch" >/dev/null 2>&1; then
  wheel=""
  for dir in ${PIP_FIND_LINKS:-}; do
    wheel=$(ls "$dir"/torch-*+cpu-*.whl 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$wheel" ] && break
  done
  echo "python tests: installing torch (CPU) for the torch tests, once…" >&2
  if [ -n "$wheel" ]; then
    "${pip[@]}" install "$wheel" 2>"$venv/torch-install.log" || echo "installing $wheel failed" > "$venv/torch-unavailable"
  else
    "${pip[@]}" install --retries 1 --timeout 30 torch --index-url https://download.pytorch.org/whl/cpu \
      --extra-index-url https://pypi.org/simple 2>"$venv/torch-install.log" \
      || echo "the PyTorch CPU index could not be reached" > "$venv/torch-unavailable"
  fi
fi
if ! "$py" -c "import tensorboard" >/dev/null 2>&1 && [ ! -f "$venv/tensorboard-unavailable" ]; then
  "${pip[@]}" install tensorboard 2>"$venv/tensorboard-install.log" \
    || echo "installing tensorboard failed" > "$venv/tensorboard-unavailable"
fi
if ! "$py" -c "import torch" >/dev/null 2>&1; then
  echo "python tests: torch is not installed ($(cat "$venv/torch-unavailable" 2>/dev/null || echo skipped)); the torch tests are skipped" >&2
fi

"${pip[@]}" install --no-deps --force-reinstall ./python >/dev/null
# Run from the tests folder so `import ferry` is the installed package, not the source folder.
cd python/tests
exec "../../$py" -m pytest -q -rs -p no:cacheprovider .
