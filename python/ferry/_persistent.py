"""Persistent executors (`executor: {persistent: true}`): one process takes every task of a job over
the request protocol of docs/executor-contract.md ("Persistent executors").

The watcher writes `requests/<n>.json` (n = 1, 2, … in the life of this process) into the folder
`FERRY_EXECUTOR_DIR` names; the executor answers with the task's model and result files, then
`requests/<n>.done`. The file `stop` in that folder says the job is over here: exit.
"""
import json
import os
import time

from ._atomic import write_json

POLL_SECONDS = 0.1

# The request fields that become the one-shot contract's variables while the task runs, so that the
# rest of the package (send, log) and user code reading os.environ see the task's values.
_VARIABLES = {
    "input_model": "FERRY_INPUT_MODEL", "output_model": "FERRY_OUTPUT_MODEL", "result": "FERRY_RESULT",
    "round": "FERRY_ROUND", "rounds": "FERRY_ROUNDS", "site": "FERRY_SITE", "job_id": "FERRY_JOB_ID",
    "task": "FERRY_TASK", "app_dir": "FERRY_APP_DIR", "work_dir": "FERRY_WORK_DIR", "config": "FERRY_CONFIG",
    "metrics": "FERRY_METRICS", "kind": "FERRY_TASK_KIND",
}

_state = {"next": 1, "current": None, "env": ()}


def directory():
    """The persistent executor's folder, or None when this process runs one task (the one-shot contract)."""
    return os.environ.get("FERRY_EXECUTOR_DIR") or None


def reset():
    """Forgets the requests seen (for tests that play several processes in one)."""
    _state["next"], _state["current"], _state["env"] = 1, None, ()


def current():
    """The number of the request received and not yet answered, or None."""
    return _state["current"]


def _request_path(folder, n):
    return os.path.join(folder, "requests", f"{n:06d}.json")


def _done_path(folder, n):
    return os.path.join(folder, "requests", f"{n:06d}.done")


def next_request(folder, poll=POLL_SECONDS, timeout=None):
    """Blocks until the next request or the stop file appears; returns the request (a dict), or None
    at the stop. The request's values are put into os.environ under the one-shot contract's names."""
    from ._task import ContractError

    if _state["current"] is not None:
        raise ContractError(f"ferry.receive(): task {_state['current']} was not answered: call ferry.send(...) "
                            f"(or ferry.fail(reason)) before receiving the next task")
    n = _state["next"]
    path, stop = _request_path(folder, n), os.path.join(folder, "stop")
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        # Looked up by name, never found by listing the folder: a share shows new names to a lookup first.
        if os.path.exists(path):
            break
        if os.path.exists(stop):
            return None
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError(f"no request {path} within {timeout} s")
        time.sleep(poll)
    try:
        with open(path, encoding="utf-8") as f:
            request = json.load(f)
    except (OSError, ValueError) as error:
        raise ContractError(f"cannot read the request {path}: {error}") from None
    if not isinstance(request, dict) or request.get("seq") != n:
        raise ContractError(f"the request {path} is not request {n} of this executor")
    for field, name in _VARIABLES.items():
        value = request.get(field)
        os.environ[name] = "" if value is None else str(value)
    # The task's variables beyond the placeholders (`env`: scaffold's FERRY_CONTROL_*); the previous
    # task's go first, so a variable never outlives its task.
    for name in _state["env"]:
        os.environ.pop(name, None)
    extra = request.get("env") or {}
    for name, value in extra.items():
        os.environ[str(name)] = str(value)
    _state["env"] = tuple(str(name) for name in extra)
    _state["current"], _state["next"] = n, n + 1
    return request


def answer(error=None):
    """Writes the done marker of the current request (after its result files); `error` reports a failure."""
    n = _state["current"]
    if n is None:
        return
    value = {"status": "ok"} if error is None else {"status": "failed", "error": str(error)[:4096]}
    write_json(_done_path(directory(), n), value)
    _state["current"] = None
