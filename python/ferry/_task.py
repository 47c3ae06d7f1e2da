"""The task a ferry executor runs, read from the executor contract's environment variables
(docs/executor-contract.md)."""
import dataclasses
import json
import os
from typing import Any, Dict, Optional

from . import _safetensors, _tensors


class ContractError(RuntimeError):
    """The process was not started the way ferry starts executors (a variable is missing or invalid)."""


def _env(name, required=True):
    value = os.environ.get(name)
    if value is None and required:
        raise ContractError(f"{name} is not set: ferry.receive() and ferry.send() run inside a ferry executor "
                            f"(docs/executor-contract.md); to try a script by hand, set {name} yourself")
    return value


def _int_env(name, default):
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ContractError(f"{name}={value!r} is not a whole number") from None


def read_config(path):
    """The round's config: the JSON object in the file `FERRY_CONFIG` names, {} when there is none."""
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except (OSError, ValueError) as error:
        raise ContractError(f"FERRY_CONFIG: cannot read the round config {path}: {error}") from None
    if not isinstance(value, dict):
        raise ContractError(f"FERRY_CONFIG: {path} holds {type(value).__name__}, not a JSON object")
    return value


@dataclasses.dataclass
class Task:
    """One task from the server: what to do, with which global model and config.

    `model` is None when there is no global model yet (round 1 of a job without an initial model:
    initialize your own). `dtypes` maps each received tensor to its safetensors dtype (`F32`, `BF16`, …);
    `ferry.send` writes float tensors back in these dtypes.
    """

    kind: str
    round: int
    rounds: int
    site: str
    job_id: str
    name: str
    config: Dict[str, Any]
    model: Optional[Dict[str, Any]]
    dtypes: Dict[str, str]
    input_model: str
    output_model: str
    result: str
    work_dir: str
    app_dir: str
    control_variates: Optional[Any] = None
    """scaffold: the global c and this site's c_i (`ferry.scaffold.ControlVariates`), None otherwise."""

    @property
    def is_first_round(self):
        """True in round 1."""
        return self.round == 1


def read_task(tensors="numpy"):
    """Builds the Task from the environment; `tensors` is "numpy" or "torch"."""
    if tensors not in ("numpy", "torch"):
        raise ValueError(f"tensors={tensors!r}: use 'numpy' or 'torch'")
    input_model = _env("FERRY_INPUT_MODEL", required=False) or ""
    model, dtypes = None, {}
    if input_model:
        if not os.path.exists(input_model):
            raise ContractError(f"FERRY_INPUT_MODEL names {input_model}, which does not exist")
        stored = _safetensors.read(input_model)
        dtypes = {name: dtype for name, (dtype, _) in stored.items()}
        model = _tensors.to_torch(stored) if tensors == "torch" else _tensors.to_numpy(stored)
    return Task(
        kind=os.environ.get("FERRY_TASK_KIND") or "train",
        round=_int_env("FERRY_ROUND", 1),
        rounds=_int_env("FERRY_ROUNDS", 1),
        site=os.environ.get("FERRY_SITE", ""),
        job_id=os.environ.get("FERRY_JOB_ID", ""),
        name=os.environ.get("FERRY_TASK", ""),
        config=read_config(os.environ.get("FERRY_CONFIG")),
        model=model,
        dtypes=dtypes,
        input_model=input_model,
        output_model=os.environ.get("FERRY_OUTPUT_MODEL", ""),
        result=os.environ.get("FERRY_RESULT", ""),
        work_dir=os.environ.get("FERRY_WORK_DIR", ""),
        app_dir=os.environ.get("FERRY_APP_DIR", ""),
        control_variates=_control_variates(tensors),
    )


def _control_variates(tensors):
    """c and c_i of a scaffold task (FERRY_CONTROL_GLOBAL / FERRY_CONTROL_LOCAL), None otherwise."""
    paths = [os.environ.get("FERRY_CONTROL_GLOBAL") or "", os.environ.get("FERRY_CONTROL_LOCAL") or ""]
    if not paths[0]:
        return None
    from .scaffold import ControlVariates

    values = []
    for variable, path in zip(["FERRY_CONTROL_GLOBAL", "FERRY_CONTROL_LOCAL"], paths):
        if not path or not os.path.exists(path):
            raise ContractError(f"{variable} names {path!r}, which does not exist")
        stored = _safetensors.read(path)
        values.append(_tensors.to_torch(stored) if tensors == "torch" else _tensors.to_numpy(stored))
    return ControlVariates(c=values[0], c_i=values[1])


def received_dtypes():
    """The dtypes of the input model's tensors, from its header ({} when there is no input model)."""
    path = os.environ.get("FERRY_INPUT_MODEL") or ""
    if not path or not os.path.exists(path):
        return {}
    header, _ = _safetensors.read_header(path)
    return {name: info["dtype"] for name, info in header.items()}
