"""ferry's Python client library: the executor side of a ferry federated-learning job.

    import ferry

    task = ferry.receive()                 # the global model (numpy arrays) and the round's config
    model = task.model or init_model()     # None in round 1 of a job without an initial model
    for step in ...:
        ...
        ferry.log(step=step, loss=loss)    # live metrics, shipped to the server during the task
    ferry.send(model, num_samples=n, metrics={"loss": loss})

In an evaluate task (`task.kind == "evaluate"`) the script evaluates `task.model` and sends metrics
alone: `ferry.send(metrics={"accuracy": acc}, num_samples=n)`.

It speaks ferry's executor contract (docs/executor-contract.md): environment variables in, a
safetensors model and a result JSON out, both written atomically. With `executor: {persistent: true}`
one process takes every task of the job (the model is loaded once):

    for task in ferry.tasks():             # or: while (task := ferry.receive()) is not None:
        ...
        ferry.send(model, num_samples=n)
"""
import os
import sys

from . import _log, _persistent, _safetensors, _tensors, fedprox, scaffold
from ._atomic import write_json
from ._log import log
from ._result import metrics_dict, sample_count
from ._safetensors import SafetensorsError
from ._task import ContractError, Task, read_task, received_dtypes

__all__ = ["Task", "receive", "tasks", "send", "fail", "log", "ContractError", "SafetensorsError", "load_model", "save_model",
           "fedprox", "scaffold"]
__version__ = "0.1.0"

_last = {"dtypes": None, "sent": None}  # "sent": the FERRY_RESULT of the one-shot task already sent


def receive(tensors="numpy"):
    """The next task: kind, round, site, config and the global model; None when there is no more.

    `tensors="numpy"` (default) gives the model as numpy arrays (BF16 tensors as float32);
    `tensors="torch"` gives torch tensors in the file's dtypes (BF16 as torch.bfloat16).

    A persistent executor (`executor: {persistent: true}`) blocks here until the watcher hands it the
    job's next task, and gets None when the job is over on this site: then exit. A one-shot executor
    gets its one task, and None once it was sent, so the same loop serves both.
    """
    folder = _persistent.directory()
    if folder is not None:
        if _persistent.next_request(folder) is None:
            return None
        _log.restart_steps()
    elif _last["sent"] is not None and _last["sent"] == os.environ.get("FERRY_RESULT"):
        return None
    task = read_task(tensors)
    _last["dtypes"] = dict(task.dtypes)
    return task


def tasks(tensors="numpy"):
    """Yields the tasks of this executor until there is no more (see `receive`):
    `for task in ferry.tasks(): ...; ferry.send(model, num_samples=n)`."""
    while True:
        task = receive(tensors)
        if task is None:
            return
        yield task


def fail(reason):
    """Reports that the current task failed, with `reason` (shown on the server).

    A persistent executor answers the task as failed and may go on with the next one; a one-shot
    executor prints the reason to stderr and exits with status 1.
    """
    if _persistent.directory() is None:
        print(f"ferry.fail: {reason}", file=sys.stderr)
        sys.exit(1)
    _persistent.answer(error=reason)


def send(model=None, num_samples=None, metrics=None, *, dtype=None, control_delta=None):
    """Writes the result of this task, atomically: in a train task the trained model, then the result.

    Train tasks (`task.kind == "train"`): `model` is a dict of names to numpy arrays or torch tensors, or
    a module with `state_dict()` (tensors that share memory, like tied embeddings, are written as
    separate copies). Float tensors go back in the dtype the received model had for the same name (so
    BF16 stays BF16), or all in `dtype` ("bf16", "fp16", "fp32", "fp64") when given. `num_samples`
    weighs this site in the average.

    Evaluate tasks (`task.kind == "evaluate"`): the result is `metrics` alone; no model goes back (a
    `model` given is not written). `num_samples` is the number of samples evaluated (default 0).

    `metrics` maps names to finite numbers. In a scaffold task, `control_delta` ({name: array}, the
    change of this site's control variate; `ferry.scaffold.control_update`) is required and written
    as float32 to FERRY_CONTROL_DELTA.
    """
    kind = os.environ.get("FERRY_TASK_KIND") or "train"
    if kind not in ("train", "evaluate"):
        raise ContractError(f"FERRY_TASK_KIND={kind!r}: this version of ferry knows 'train' and 'evaluate' tasks")
    evaluating = kind == "evaluate"
    if not evaluating and model is None:
        raise ContractError("ferry.send() needs the trained model in a train task: send(model, num_samples=…, metrics=…); "
                            "only evaluate tasks (task.kind == 'evaluate') send metrics alone")
    if num_samples is None:
        if not evaluating:
            raise ValueError("num_samples is missing: a train task reports how many samples it trained on "
                             "(the site's weight in the average)")
        num_samples = 0
    count = sample_count(num_samples)
    values = metrics_dict(metrics)
    result = os.environ.get("FERRY_RESULT")
    output = os.environ.get("FERRY_OUTPUT_MODEL")
    if not result or (not evaluating and not output):
        raise ContractError("FERRY_OUTPUT_MODEL and FERRY_RESULT are not set: ferry.send() runs inside a ferry "
                            "executor (docs/executor-contract.md)")
    delta_path = os.environ.get("FERRY_CONTROL_DELTA") or ""
    if delta_path and control_delta is None:
        raise ContractError("this is a scaffold task: pass control_delta= to ferry.send (ferry.scaffold.control_update "
                            "computes it)")
    if control_delta is not None and not delta_path:
        raise ContractError("control_delta given, but FERRY_CONTROL_DELTA is not set: only scaffold tasks report one")
    if not evaluating:
        dtypes = _last["dtypes"] if _last["dtypes"] is not None else received_dtypes()
        save_model(model, output, dtypes=dtypes, dtype=dtype)
    if control_delta is not None:
        save_model(control_delta, delta_path, dtype="fp32")
    write_json(result, {"num_samples": count, "metrics": values})
    if _persistent.current() is None:
        _last["sent"] = result
    _persistent.answer()


def load_model(path, tensors="numpy"):
    """{name: array or tensor} of a safetensors file (see `receive` for `tensors`)."""
    stored = _safetensors.read(path)
    return _tensors.to_torch(stored) if tensors == "torch" else _tensors.to_numpy(stored)


def save_model(model, path, *, dtypes=None, dtype=None, metadata=None):
    """Writes `model` to `path` as safetensors, atomically; `dtypes`/`dtype` as in `send`."""
    _safetensors.write(path, _tensors.to_storage(model, dtypes or {}, dtype), metadata)
