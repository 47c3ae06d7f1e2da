"""FedProx (Li et al., "Federated Optimization in Heterogeneous Networks", 2020) for trainers.

With `workflow: fedprox` the server sends `mu` in every round's config (`task.config["fedprox_mu"]`,
`mu(task)` here). Each client minimizes its loss plus the proximal term

    mu/2 · Σ ‖w − w_global‖²

over all float parameters, which keeps local training near the global model:

    task = ferry.receive(tensors="torch")
    global_params = {k: v.detach().clone() for k, v in model.state_dict().items()}  # after loading task.model
    loss = criterion(model(x), y) + ferry.fedprox.proximal_term(model, global_params, ferry.fedprox.mu(task))

`proximal_gradient` is the same term's gradient for numpy trainers: add it to the loss gradient.
"""
import numpy as np

from ._task import ContractError

CONFIG_KEY = "fedprox_mu"


def mu(task, default=None):
    """The proximal weight the server sent with `task` (`task.config["fedprox_mu"]`).

    Raises ContractError when the task carries none and no `default` is given (the job does not run
    `workflow: fedprox`).
    """
    value = task.config.get(CONFIG_KEY, default)
    if value is None:
        raise ContractError(f"the round config has no {CONFIG_KEY!r}: the server app runs `workflow: fedprox` with `mu:` "
                            "to send it (docs/job-format.md)")
    value = float(value)
    if not value >= 0:
        raise ContractError(f"{CONFIG_KEY} is {value}, not a number >= 0")
    return value


def _named(params):
    """(name, tensor) pairs of a module (named_parameters: the trainable ones) or a dict."""
    if hasattr(params, "named_parameters"):
        return list(params.named_parameters())
    if isinstance(params, dict):
        return list(params.items())
    raise TypeError("pass a torch module or a dict of names to tensors")


def proximal_term(model, global_params, mu):
    """mu/2 · Σ ‖w − w_global‖² as a torch scalar that gradients flow through.

    `model` is a torch module (its trainable parameters) or a dict of names to tensors; `global_params`
    maps the same names to the global model's tensors (`task.model` received with tensors="torch", or a
    copy of the parameters taken before training). Non-float tensors are skipped; a parameter missing
    from `global_params` is an error.
    """
    import torch

    total = None
    for name, w in _named(model):
        if not torch.is_floating_point(w):
            continue
        if name not in global_params:
            raise KeyError(f"proximal_term: the global model has no tensor {name!r}")
        reference = torch.as_tensor(global_params[name]).to(device=w.device, dtype=w.dtype).detach()
        square = torch.sum((w - reference) ** 2)
        total = square if total is None else total + square
    if total is None:
        return torch.zeros(())
    return 0.5 * float(mu) * total


def proximal_gradient(params, global_params, mu):
    """{name: mu · (w − w_global)}: the gradient of the proximal term, for numpy trainers."""
    out = {}
    for name, w in params.items():
        w = np.asarray(w)
        if not np.issubdtype(w.dtype, np.floating):
            continue
        if name not in global_params:
            raise KeyError(f"proximal_gradient: the global model has no tensor {name!r}")
        out[name] = float(mu) * (w.astype(np.float64) - np.asarray(global_params[name], dtype=np.float64))
    return out
