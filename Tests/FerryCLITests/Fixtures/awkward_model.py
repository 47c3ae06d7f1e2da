#!/usr/bin/env python3
"""Writes a small safetensors model with awkward corners for the docs/examples/dequantize.py check
(ModelCLITests): "/", non-ASCII and control characters in names and metadata; scalar, empty, odd-sized and
all-zero tensors; F16, BF16, I64 and BOOL tensors; inf, subnormal and out-of-fp16-range values.

    python3 awkward_model.py OUT.safetensors
"""
import json
import struct
import sys

import numpy as np

rng = np.random.default_rng(1)
def bf16(a):
    b = a.astype("<f4").view(np.uint32).astype(np.uint64)
    return ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype("<u2")
tensors = [
    ("a/b.weight", "F32", [65, 3], (rng.standard_normal(195) * 0.02).astype("<f4")),
    ("scalar", "F32", [], np.array([3.5], "<f4")),
    ("empty", "F32", [0], np.zeros(0, "<f4")),
    ("odd", "F32", [4097], np.concatenate([rng.standard_normal(4096) * 3, [0.0]]).astype("<f4")),
    ("zeros", "F32", [8192 + 70], np.zeros(8262, "<f4")),
    ("h\u00e9", "F16", [10, 13], (rng.standard_normal(130)).astype("<f2")),
    ("bf", "BF16", [77], bf16(rng.standard_normal(77) * 100)),
    ("ints", "I64", [3], np.array([1, -2, 3], "<i8")),
    ("mask", "BOOL", [5], np.array([1, 0, 1, 1, 0], "u1")),
    ("big", "F32", [3, 5000], (rng.standard_normal(15000) * 1e4).astype("<f4")),
    ("specials", "F32", [8], np.array([np.inf, -np.inf, 1e-40, -0.0, 65519, 65520, 1e30, -7], "<f4")),
]
header = {"__metadata__": {"format": "pt", "note": "tab\there / \u00fc \"q\" \x01"}}
off = 0
for name, dt, shape, data in tensors:
    header[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + data.nbytes]}
    off += data.nbytes
text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
text += b" " * (-(len(text) + 8) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text)
    for *_, data in tensors: f.write(data.tobytes())
