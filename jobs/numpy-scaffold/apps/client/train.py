#!/usr/bin/env python3
"""numpy-scaffold client trainer: logistic regression with SCAFFOLD's corrected gradient steps.

`ferry.receive()` gives the global model x and the control variates (task.control_variates: c, the
server's, and c_i, this site's); each of K steps follows g − c_i + c; `ferry.scaffold.control_update`
gives the change of c_i (option II), sent back with the model by `ferry.send(..., control_delta=)`.
"""
import argparse
import sys
import zlib

import numpy as np

try:
    import ferry
except ImportError:
    sys.exit("train.py: the ferry Python package is missing: pip install <ferry checkout>/python "
             "into this Python, or set PYTHONPATH=<ferry checkout>/python (python/README.md)")


def skewed_data(site, features):
    """Site-specific inputs, with labels from one true model flipped towards the site's favourite class."""
    index = zlib.crc32(site.encode()) % 97
    true = np.random.default_rng(7).normal(size=features)
    rng = np.random.default_rng(index)
    n = 50 + index % 50
    x = rng.normal(loc=rng.normal(size=features), size=(n, features))
    y = (x @ true > 0).astype(np.float64)
    y[rng.uniform(size=n) < 0.2] = index % 2  # label skew: each site favours one class
    return x, y


def loss_and_gradients(w, b, x, y):
    p = np.clip(1 / (1 + np.exp(-(x @ w + b))), 1e-7, 1 - 1e-7)
    loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    return loss, x.T @ (p - y) / len(y), np.array([np.mean(p - y)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    task = ferry.receive()
    lr = float(task.config.get("learning_rate", 0.5))
    c, c_i = task.control_variates.c, task.control_variates.c_i
    x_global = task.model
    w, b = x_global["weight"].astype(np.float64), x_global["bias"].astype(np.float64)
    x, y = skewed_data(task.site, w.shape[0])
    before, _, _ = loss_and_gradients(w, b, x, y)
    for step in range(args.steps):
        loss, gw, gb = loss_and_gradients(w, b, x, y)
        w = w - lr * ferry.scaffold.corrected_gradient(gw, c["weight"], c_i["weight"])
        b = b - lr * ferry.scaffold.corrected_gradient(gb, c["bias"], c_i["bias"])
        ferry.log(step=step, loss=loss)
    trained = {"weight": w, "bias": b}
    _, delta = ferry.scaffold.control_update(c, c_i, x_global, trained, steps=args.steps, lr=lr)
    loss, _, _ = loss_and_gradients(w, b, x, y)
    ferry.send(trained, num_samples=len(y), metrics={"loss": loss, "input_loss": before}, control_delta=delta)
    print(f"site {task.site} round {task.round}: {len(y)} samples, loss {before:.4f} -> {loss:.4f}")


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # the stderr tail is reported to the server
        print(f"train.py: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
