#!/usr/bin/env python3
"""Example ferry client trainer in plain numpy: linear regression on synthetic per-site data.

ferry runs it once per round. `ferry.receive()` gives the task: the global model (None in round 1)
and the round's config; `ferry.send()` writes the updated model and {"num_samples", "metrics"}. An
evaluate task (`task.kind == "evaluate"`) scores the global model and sends metrics only.
Replace the body of `train` with your own code. Needs numpy and ferry's Python package
(`pip install <ferry checkout>/python`, or PYTHONPATH=<ferry checkout>/python).
"""
import argparse
import os
import sys

import numpy as np

try:
    import ferry
except ImportError:
    sys.exit("train.py: the ferry Python package is missing: pip install <ferry checkout>/python "
             "into this Python, or set PYTHONPATH=<ferry checkout>/python (python/README.md)")


def site_data(site, features, samples=256):
    """Synthetic data that differs per site but shares one true model."""
    digits = "".join(c for c in site if c.isdigit())
    rng = np.random.default_rng(int(digits or "0") + 1)
    true_w = np.linspace(-1.0, 1.0, features, dtype=np.float32)
    x = rng.normal(loc=0.2 * int(digits or "0"), scale=1.0, size=(samples, features)).astype(np.float32)
    y = x @ true_w + 0.5 + rng.normal(scale=0.1, size=samples).astype(np.float32)
    return x, y


def train(model, x, y, epochs, lr):
    w, b = model["weight"].astype(np.float32), float(model["bias"][0])
    for epoch in range(epochs):
        err = x @ w + b - y
        w -= lr * (x.T @ err) / len(y)
        b -= lr * float(err.mean())
        ferry.log(step=epoch, mse=float(np.mean(err ** 2)))
    return {"weight": w, "bias": np.array([b], dtype=np.float32)}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--features", type=int, default=8)
    args = p.parse_args()
    task = ferry.receive()
    lr = float(task.config.get("learning_rate", os.environ.get("LEARNING_RATE", "0.1")))

    x, y = site_data(task.site or "site-1", args.features)
    if task.model is not None:
        model = {"weight": task.model["weight"].reshape(-1), "bias": task.model["bias"].reshape(-1)}
    else:
        model = {"weight": np.zeros(args.features, dtype=np.float32), "bias": np.zeros(1, dtype=np.float32)}
    before = float(np.mean((x @ model["weight"] + model["bias"][0] - y) ** 2))
    if task.kind == "evaluate":  # the server app's evaluate_every, or a cross-site-eval job: metrics only
        ferry.send(metrics={"mse": before}, num_samples=len(y))
        print(f"{task.site}: evaluated mse {before:.4f} on {len(y)} samples")
        return
    model = train(model, x, y, args.epochs, lr)
    after = float(np.mean((x @ model["weight"] + model["bias"][0] - y) ** 2))

    ferry.send(model, num_samples=len(y), metrics={"mse_before": before, "mse": after})
    print(f"{task.site}: mse {before:.4f} -> {after:.4f} on {len(y)} samples")


if __name__ == "__main__":
    main()
