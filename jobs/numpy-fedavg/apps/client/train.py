#!/usr/bin/env python3
"""numpy-fedavg client trainer: logistic regression on synthetic, site-specific data.

It uses ferry's Python package (python/ in the ferry repository: `pip install ./python`, or
PYTHONPATH=<ferry>/python): `ferry.receive()` gives the global model (None in round 1 when the job
has no initial model: start from zeros), `ferry.send()` writes the model and the result. In an
evaluate task (the server app's `evaluate_every`) it scores the global model and sends metrics only.
"""
import argparse
import os
import sys
import zlib

import numpy as np

try:
    import ferry
except ImportError:
    sys.exit("train.py: the ferry Python package is missing: pip install <ferry checkout>/python "
             "into this Python, or set PYTHONPATH=<ferry checkout>/python (python/README.md)")

FEATURES = 8


def site_data(site, seed=0):
    """Differently shifted Gaussian inputs per site, labelled by one fixed true model."""
    digits = "".join(c for c in site if c.isdigit())
    index = int(digits) if digits else zlib.crc32(site.encode()) % 8 + 1
    true = np.random.default_rng(seed)
    w_true = true.normal(size=FEATURES) * 2.5 / np.sqrt(FEATURES)
    b_true = 0.3 * true.normal()
    rng = np.random.default_rng(seed * 1000 + index)
    n = 60 + 40 * (index % 10)
    shift = rng.normal(size=FEATURES) * 0.8
    x = rng.normal(size=(n, FEATURES)) + shift
    p = 1 / (1 + np.exp(-(x @ w_true + b_true)))
    y = (rng.uniform(size=n) < p).astype(np.float64)
    return x, y


def evaluate(w, b, x, y):
    p = np.clip(1 / (1 + np.exp(-(x @ w + b))), 1e-7, 1 - 1e-7)
    loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    accuracy = float(np.mean((p > 0.5) == (y > 0.5)))
    return loss, accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    task = ferry.receive()
    lr = float(task.config.get("learning_rate", os.environ.get("LEARNING_RATE", "0.1")))

    x, y = site_data(task.site)
    if task.model is not None:
        w, b = task.model["weight"].reshape(FEATURES).astype(np.float64), float(task.model["bias"].reshape(-1)[0])
    else:
        w, b = np.zeros(FEATURES), 0.0
    before = evaluate(w, b, x, y)
    if task.kind == "evaluate":  # evaluate_every: score the global model on this site's data, send metrics only
        ferry.send(metrics={"loss": before[0], "accuracy": before[1]}, num_samples=len(y))
        print(f"site {task.site} round {task.round}: evaluated the global model on {len(y)} samples: "
              f"loss {before[0]:.4f}, accuracy {before[1]:.4f}")
        return
    for epoch in range(args.epochs):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        w = w - lr * (x.T @ (p - y)) / len(y)
        b = b - lr * float(np.mean(p - y))
        ferry.log(step=epoch, loss=evaluate(w, b, x, y)[0])
    loss, accuracy = evaluate(w, b, x, y)
    ferry.send({"weight": w.astype(np.float32), "bias": np.array([b], dtype=np.float32)}, num_samples=len(y),
               metrics={"loss": loss, "accuracy": accuracy, "input_loss": before[0], "input_accuracy": before[1]})
    print(f"site {task.site} round {task.round}: {len(y)} samples, lr {lr:g}, loss {before[0]:.4f} -> {loss:.4f}, "
          f"accuracy {before[1]:.4f} -> {accuracy:.4f}")


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # the stderr tail is reported to the server
        print(f"train.py: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
