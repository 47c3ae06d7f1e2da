#!/usr/bin/env python3
"""Example ferry client trainer in plain numpy: linear regression on synthetic per-site data.

ferry runs it once per round with the global model (--input; absent or empty in round 1) and
expects the updated model at --output (safetensors) and {"num_samples": N, "metrics": {...}} at
--result. Replace the body of `train` with your own code; keep the file contract.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    """Returns {name: float32 array} from a safetensors file (F64/F32/F16/BF16 tensors)."""
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        raw = data[start:end]
        if info["dtype"] == "BF16":
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            array = bits.view(np.float32)
        else:
            array = np.frombuffer(raw, dtype=np.dtype(DTYPES[info["dtype"]]).newbyteorder("<"))
        tensors[name] = array.astype(np.float32).reshape(info["shape"])
    return tensors


def write_safetensors(path, tensors):
    """Writes {name: array} as F32 tensors, atomically (temp file + rename)."""
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
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def site_data(site, features, samples=256):
    """Synthetic data that differs per site but shares one true model."""
    digits = "".join(c for c in site if c.isdigit())
    rng = np.random.default_rng(int(digits or "0") + 1)
    true_w = np.linspace(-1.0, 1.0, features, dtype=np.float32)
    x = rng.normal(loc=0.2 * int(digits or "0"), scale=1.0, size=(samples, features)).astype(np.float32)
    y = x @ true_w + 0.5 + rng.normal(scale=0.1, size=samples).astype(np.float32)
    return x, y


def train(model, x, y, epochs, lr):
    w, b = model["weight"].copy(), float(model["bias"][0])
    for _ in range(epochs):
        err = x @ w + b - y
        w -= lr * (x.T @ err) / len(y)
        b -= lr * float(err.mean())
    return {"weight": w, "bias": np.array([b], dtype=np.float32)}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--input", default=os.environ.get("FERRY_INPUT_MODEL", ""))
    p.add_argument("--output", default=os.environ.get("FERRY_OUTPUT_MODEL"))
    p.add_argument("--result", default=os.environ.get("FERRY_RESULT"))
    p.add_argument("--site", default=os.environ.get("FERRY_SITE", "site-1"))
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--features", type=int, default=8)
    args = p.parse_args()
    if not args.output or not args.result:
        sys.exit("train.py: --output and --result are required (or FERRY_OUTPUT_MODEL / FERRY_RESULT)")
    lr = float(os.environ.get("LEARNING_RATE", "0.1"))

    x, y = site_data(args.site, args.features)
    if args.input and os.path.exists(args.input) and os.path.getsize(args.input) > 0:
        model = read_safetensors(args.input)
        model = {"weight": model["weight"].reshape(-1), "bias": model["bias"].reshape(-1)}
    else:
        model = {"weight": np.zeros(args.features, dtype=np.float32), "bias": np.zeros(1, dtype=np.float32)}
    before = float(np.mean((x @ model["weight"] + model["bias"][0] - y) ** 2))
    model = train(model, x, y, args.epochs, lr)
    after = float(np.mean((x @ model["weight"] + model["bias"][0] - y) ** 2))

    write_safetensors(args.output, model)
    with open(args.result + ".tmp", "w") as f:
        json.dump({"num_samples": len(y), "metrics": {"mse_before": before, "mse": after}}, f)
    os.replace(args.result + ".tmp", args.result)
    print(f"{args.site}: mse {before:.4f} -> {after:.4f} on {len(y)} samples")


if __name__ == "__main__":
    main()
