"""Atomic file writes: a temporary file in the same folder, fsync, then rename over the target."""
import contextlib
import json
import os
import tempfile


@contextlib.contextmanager
def atomic_writer(path, mode="wb"):
    """Yields a file to write; on success it replaces `path` whole, on an exception nothing changes."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json(path, value):
    """Writes `value` as JSON to `path` atomically."""
    with atomic_writer(path, "w") as f:
        json.dump(value, f, allow_nan=False)
        f.write("\n")
