"""The `ferry` command of the wheel built by scripts/release.sh.

The wheel carries ferry's release tree (bin/, share/ferry/templates, completions, docs) in
`ferry/_bundle/`; its `ferry` console script execs `_bundle/bin/ferry`, which finds its templates
and `ferry-example-trainer` relative to itself. A `pip install ./python` from source has no
bundle: the script then says how to get the binary.
"""
import os
import stat
import sys

_BUNDLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_bundle")


def executable():
    """The path of the bundled `ferry` binary, or None when this install has no bundle."""
    path = os.path.join(_BUNDLE, "bin", "ferry")
    return path if os.path.isfile(path) else None


def _ensure_executable(path):
    # An installer that drops the mode bits leaves the binaries unrunnable; restore them if we may.
    if not os.access(path, os.X_OK):
        try:
            os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        except OSError:
            pass


def main():
    """Runs the bundled `ferry` with this process's arguments (the console script's entry point)."""
    path = executable()
    if path is None:
        sys.stderr.write(
            "ferry: this install of the ferry-fl Python package has no bundled ferry binary "
            f"(looked for {os.path.join(_BUNDLE, 'bin', 'ferry')}).\n"
            "Install the wheel from scripts/release.sh (dist/ferry_fl-*.whl), or build ferry with "
            "`swift build` and put it on PATH.\n"
        )
        return 1
    for tool in ("ferry", "ferry-example-trainer"):
        _ensure_executable(os.path.join(_BUNDLE, "bin", tool))
    os.execv(path, [path] + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
