#!/usr/bin/env python3
"""numpy-fedavg client trainer: logistic regression on synthetic, site-specific data.

The executor contract (docs/executor-contract.md): read the global model from --input (empty on the
first round when the job has no initial model: start from zeros), train, write the model to --output
as safetensors and {"num_samples": N, "metrics": {...}} to --result. Only numpy is needed: the few
lines below read and write the safetensors format directly.
"""
import argparse
import json
import os
import struct
import sys
import zlib

import numpy as np

FEATURES = 8


def read_safetensors(path):
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
        data = f.read()
    dtypes = {"F32": np.float32, "F16": np.float16, "F64": np.float64}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        out[name] = np.frombuffer(data[start:end], dtype=dtypes[info["dtype"]]).reshape(info["shape"]).astype(np.float64)
    return out


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        blob = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    os.replace(tmp, path)


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
    parser.add_argument("--input", default=os.environ.get("FERRY_INPUT_MODEL", ""))
    parser.add_argument("--output", default=os.environ.get("FERRY_OUTPUT_MODEL"))
    parser.add_argument("--result", default=os.environ.get("FERRY_RESULT"))
    parser.add_argument("--site", default=os.environ.get("FERRY_SITE"))
    parser.add_argument("--round", type=int, default=int(os.environ.get("FERRY_ROUND", "1")))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=float(os.environ.get("LEARNING_RATE", "0.1")))
    args = parser.parse_args()
    if not args.output or not args.result or not args.site:
        parser.error("--output, --result and --site are required (or FERRY_OUTPUT_MODEL, FERRY_RESULT, FERRY_SITE)")

    x, y = site_data(args.site)
    if args.input:
        model = read_safetensors(args.input)
        w, b = model["weight"].reshape(FEATURES), float(model["bias"].reshape(-1)[0])
    else:
        w, b = np.zeros(FEATURES), 0.0
    before = evaluate(w, b, x, y)
    for _ in range(args.epochs):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        w = w - args.lr * (x.T @ (p - y)) / len(y)
        b = b - args.lr * float(np.mean(p - y))
    loss, accuracy = evaluate(w, b, x, y)
    write_safetensors(args.output, {"weight": w, "bias": np.array([b])})
    with open(args.result + ".tmp", "w") as f:
        json.dump({"num_samples": int(len(y)), "metrics": {"loss": loss, "accuracy": accuracy,
                                                           "input_loss": before[0], "input_accuracy": before[1]}}, f)
    os.replace(args.result + ".tmp", args.result)
    print(f"site {args.site} round {args.round}: {len(y)} samples, loss {before[0]:.4f} -> {loss:.4f}, "
          f"accuracy {before[1]:.4f} -> {accuracy:.4f}")


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # the stderr tail is reported to the server
        print(f"train.py: {error}", file=sys.stderr)
        sys.exit(1)
