"""Live metrics: `ferry.log` appends one JSON line per call to the file `FERRY_METRICS` names
(docs/executor-contract.md, "Live metrics"); the client watcher ships new lines to the server."""
import json
import os
import threading
import time

from ._result import metrics_dict

_lock = threading.Lock()
_next_step = [0]


def log(step=None, **metrics):
    """Records metrics of one training step, e.g. `ferry.log(step=120, loss=0.41, lr=3e-4)`.

    `step` counts up by itself when left out. Outside a ferry executor (no `FERRY_METRICS`) the call
    only checks its arguments. Returns the record written.
    """
    values = metrics_dict(metrics, "ferry.log")
    with _lock:
        if step is None:
            step = _next_step[0]
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"ferry.log: step={step!r} must be a whole number ≥ 0")
        _next_step[0] = step + 1
        record = {"step": step, "time": round(time.time(), 3), "metrics": values}
        path = os.environ.get("FERRY_METRICS")
        if path:
            line = (json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n").encode()
            # One write of a whole line on an O_APPEND descriptor: a reader never sees half a record
            # except at the very end, which it leaves until the line is complete.
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
    return record


def restart_steps():
    """A new task begins: `step` counts from 0 again when left out."""
    with _lock:
        _next_step[0] = 0
