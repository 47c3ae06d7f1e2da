"""SCAFFOLD (Karimireddy et al. 2020, option II) for trainers.

With `workflow: scaffold` every task carries the global control variate c, and the site keeps its own
c_i; `task.control_variates` gives both ({name: array} of the model's float tensors, float32). Train
with the corrected gradient, then report the change of c_i with the model:

    task = ferry.receive()
    c, c_i = task.control_variates.c, task.control_variates.c_i
    x = task.model
    y = dict(x)
    for step in range(K):
        g = gradients(y)
        y = {k: y[k] - lr * ferry.scaffold.corrected_gradient(g[k], c[k], c_i[k]) for k in g}
    new_c_i, delta = ferry.scaffold.control_update(c, c_i, x, y, steps=K, lr=lr)
    ferry.send(y, num_samples=n, control_delta=delta)

ferry updates the site's c_i (c_i + delta) once the task succeeded; the server updates x and c.
"""
import dataclasses
from typing import Any, Dict

import numpy as np


@dataclasses.dataclass
class ControlVariates:
    """The global control variate `c` and this site's `c_i`, by tensor name."""

    c: Dict[str, Any]
    c_i: Dict[str, Any]


def corrected_gradient(grad, c, c_i):
    """g − c_i + c: the SCAFFOLD gradient of one tensor (numpy arrays or torch tensors), or of every
    tensor when given dicts."""
    if isinstance(grad, dict):
        return {name: corrected_gradient(g, c[name], c_i[name]) for name, g in grad.items()}
    if hasattr(grad, "detach"):
        import torch

        return grad - torch.as_tensor(c_i, dtype=grad.dtype, device=grad.device) + torch.as_tensor(c, dtype=grad.dtype, device=grad.device)
    return np.asarray(grad) - np.asarray(c_i) + np.asarray(c)


def control_update(c, c_i, global_model, local_model, steps, lr):
    """Option II: c_i⁺ = c_i − c + (x − y)/(K·η_l), with x the global model, y the trained one, K the
    local steps and η_l the local learning rate. Returns (c_i⁺, Δc_i = c_i⁺ − c_i) as float64 dicts
    over the tensors of c_i."""
    if steps <= 0 or lr <= 0:
        raise ValueError("control_update: steps and lr must be > 0")
    new, delta = {}, {}
    for name in c_i:
        x = np.asarray(_numpy(global_model[name]), dtype=np.float64)
        y = np.asarray(_numpy(local_model[name]), dtype=np.float64)
        old = np.asarray(c_i[name], dtype=np.float64)
        new[name] = old - np.asarray(c[name], dtype=np.float64) + (x - y) / (steps * lr)
        delta[name] = new[name] - old
    return new, delta


def _numpy(value):
    if hasattr(value, "detach"):
        return value.detach().float().cpu().numpy()
    return value
