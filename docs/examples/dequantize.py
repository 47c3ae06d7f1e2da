#!/usr/bin/env python3
"""Restore a model written by `ferry model quantize` with numpy only (docs/quantized-format.md).

    python3 dequantize.py model.nf4.safetensors restored.safetensors

Reads the whole file into memory (fine for examples and tests; ferry itself streams).
"""
import json
import struct
import sys

import numpy as np

# bitsandbytes' signed dynamic map (blockwise8), FP4 and NF4 code books: float32 bit patterns.
DYNAMIC_MAP = (
    "bf7e3333 bf7a999a bf770000 bf736666 bf6fcccd bf6c3333 bf68999a bf650000 bf616666 bf5dcccd "
    "bf5a3333 bf56999a bf530000 bf4f6666 bf4bcccd bf483333 bf44999a bf410000 bf3d6666 bf39cccd "
    "bf363334 bf32999a bf2f0000 bf2b6666 bf27cccd bf243334 bf20999a bf1d0000 bf196666 bf15cccd "
    "bf123334 bf0e999a bf0b0000 bf076666 bf03cccc bf003333 bef93332 bef20000 beeacccc bee3999a "
    "bedc6666 bed53333 bece0000 bec6cccc bebf999a beb86666 beb13333 beaa0000 bea2cccc be9b999a "
    "be946666 be8d3334 be860000 be7d9999 be6f3333 be60cccd be526666 be440000 be35999a be273333 "
    "be18cccd be0a6666 bdf80000 bddb3334 bdc9eb85 bdc428f7 bdbe6667 bdb8a3d7 bdb2e148 bdad1eb8 "
    "bda75c2a bda1999a bd9bd70a bd96147b bd9051eb bd8a8f5d bd84cccd bd7e147b bd728f5d bd670a3d "
    "bd5b851f bd500000 bd447ae1 bd38f5c3 bd2d70a3 bd21eb85 bd166667 bd0ae148 bcfeb852 bce7ae15 "
    "bcd0a3d7 bcb9999a bca28f5d bc8b851f bc68f5c3 bc3ae148 bc1f3b64 bc160418 bc0ccccd bc039581 "
    "bbf4bc6a bbe24dd3 bbcfdf3b bbbd70a4 bbab020d bb989374 bb8624dd bb676c8a bb428f5c bb1db22d "
    "baf1a9fc baa7ef9d ba7765ff ba59e83e ba3c6a80 ba1eecc1 ba016f01 b9c7e283 b98ce705 b923d70b "
    "b8ba1f4b b88aefb3 b8378034 b7b24206 b70205ff b65a1a94 b513a3b7 00000000 3513a3b7 365a1a94 "
    "370205ff 37b24206 38378034 388aefb3 38ba1f4b 3923d70b 398ce705 39c7e283 3a016f01 3a1eecc1 "
    "3a3c6a80 3a59e83e 3a7765ff 3aa7ef9d 3af1a9fc 3b1db22d 3b428f5c 3b676c8a 3b8624dd 3b989374 "
    "3bab020d 3bbd70a4 3bcfdf3b 3be24dd3 3bf4bc6a 3c039581 3c0ccccd 3c160418 3c1f3b64 3c3ae148 "
    "3c68f5c3 3c8b851f 3ca28f5d 3cb9999a 3cd0a3d7 3ce7ae15 3cfeb852 3d0ae148 3d166667 3d21eb85 "
    "3d2d70a3 3d38f5c3 3d447ae1 3d500000 3d5b851f 3d670a3d 3d728f5d 3d7e147b 3d84cccd 3d8a8f5d "
    "3d9051eb 3d96147b 3d9bd70a 3da1999a 3da75c2a 3dad1eb8 3db2e148 3db8a3d7 3dbe6667 3dc428f7 "
    "3dc9eb85 3ddb3334 3df80000 3e0a6666 3e18cccd 3e273333 3e35999a 3e440000 3e526666 3e60cccd "
    "3e6f3333 3e7d9999 3e860000 3e8d3334 3e946666 3e9b999a 3ea2cccc 3eaa0000 3eb13333 3eb86666 "
    "3ebf999a 3ec6cccc 3ece0000 3ed53333 3edc6666 3ee3999a 3eeacccc 3ef20000 3ef93332 3f003333 "
    "3f03cccc 3f076666 3f0b0000 3f0e999a 3f123334 3f15cccd 3f196666 3f1d0000 3f20999a 3f243334 "
    "3f27cccd 3f2b6666 3f2f0000 3f32999a 3f363334 3f39cccd 3f3d6666 3f410000 3f44999a 3f483333 "
    "3f4bcccd 3f4f6666 3f530000 3f56999a 3f5a3333 3f5dcccd 3f616666 3f650000 3f68999a 3f6c3333 "
    "3f6fcccd 3f736666 3f770000 3f7a999a 3f7e3333 3f800000 "
)
FP4 = "00000000 3baaaaab 3f2aaaab 3f800000 3eaaaaab 3f000000 3e2aaaab 3e800000 00000000 bbaaaaab bf2aaaab bf800000 beaaaaab bf000000 be2aaaab be800000"
NF4 = "bf800000 bf3239b1 bf066b30 beca32a0 be91a24d be3d353f bdba7871 00000000 3da2faff 3e24cae3 3e7c04dd 3ead033a 3ee1a4b8 3f1007ab 3f3913b3 3f800000"
CODES = {name: np.array([int(h, 16) for h in text.split()], dtype=np.uint32).view(np.float32)
         for name, text in (("blockwise8", DYNAMIC_MAP), ("fp4", FP4), ("nf4", NF4))}
NUMPY = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
         "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "u1", "F8_E4M3": "u1", "F8_E5M2": "u1"}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", {}) or {}
    body = memoryview(data)[8 + n:]
    tensors = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        tensors[name] = (t["dtype"], t["shape"], np.frombuffer(body[begin:end], dtype=NUMPY[t["dtype"]]))
    return metadata, tensors, sorted(header, key=lambda k: (*header[k]["data_offsets"], k))


def to_dtype(values_f32, dtype):
    """float32 -> stored bytes of dtype (F32, F16 or BF16), round to nearest even."""
    if dtype == "F32":
        return values_f32.astype("<f4")
    if dtype == "F16":
        return values_f32.astype("<f2")
    bits = values_f32.astype("<f4").view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(values_f32)
    rounded[nan] = ((bits[nan] >> 16) | 0x40).astype(np.uint16)
    return rounded


def to_float32(raw, dtype):
    if dtype == "F32":
        return raw.astype(np.float32)
    if dtype == "F16":
        return raw.astype(np.float32)
    return (raw.astype(np.uint32) << 16).view(np.float32)  # BF16


def restore(entry, stored, tensors):
    fmt, n = entry["format"], int(np.prod(entry["shape"], dtype=np.int64))
    if fmt in ("fp16", "bf16"):
        values = to_float32(stored, "F16" if fmt == "fp16" else "BF16")
    else:
        absmax = tensors[entry["absmax"]][2]
        if fmt.endswith("-dq"):  # double-quantized absmax: code2[q] * absmax2[j // 256] + offset, each step in float32
            group = np.arange(absmax.size, dtype=np.int64) // entry["absmax_block_size"]
            scales = tensors[entry["absmax2"]][2]
            offset = tensors[entry["absmax_offset"]][2][0]
            with np.errstate(invalid="ignore", over="ignore"):
                absmax = (CODES["blockwise8"][absmax] * scales[group]).astype(np.float32) + offset
            fmt = fmt[:-len("-dq")]
        absmax = absmax.astype(np.float32)
        if fmt == "blockwise8":
            index = stored
        else:  # two codes per byte, first element in the high nibble
            index = np.stack([stored >> 4, stored & 0xF], axis=1).reshape(-1)[:n]
        block = np.arange(n, dtype=np.int64) // entry["block_size"]
        with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 is NaN, as in ferry
            values = CODES[fmt][index] * absmax[block]  # one float32 multiply
    return to_dtype(values.astype(np.float32), entry["source_dtype"]).reshape(entry["shape"])


def json_string(text):
    """A JSON string as ferry writes it: escapes only '"', '\\' and control characters; UTF-8 and '/' as is."""
    escapes = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    return '"' + "".join(escapes.get(c, "\\u%04x" % ord(c) if ord(c) < 0x20 else c) for c in text) + '"'


def main(src, dst):
    metadata, tensors, order = read_safetensors(src)
    if metadata.get("ferry.quantized.version") != "1":
        sys.exit(f"{src}: not a ferry-quantized file (version 1)")
    entries = {k[len("ferry.tensor."):]: json.loads(v) for k, v in metadata.items() if k.startswith("ferry.tensor.")}
    absmax_names = {e[k] for e in entries.values() for k in ("absmax", "absmax2", "absmax_offset") if e.get(k)}
    out = []
    for name in order:
        if name in absmax_names:
            continue
        dtype, shape, raw = tensors[name]
        if name in entries:
            entry = entries[name]
            out.append((name, entry["source_dtype"], entry["shape"], restore(entry, raw, tensors)))
        else:
            out.append((name, dtype, shape, raw))
    # The restored header (docs/quantized-format.md section 8): compact JSON, __metadata__ first with its keys
    # sorted (omitted when empty), then the tensors in data order with fresh contiguous offsets; spaces pad
    # 8 + length to a multiple of 8.
    kept = {k: v for k, v in metadata.items() if not k.startswith("ferry.")}
    fields, offset = [], 0
    if kept:
        fields.append(json_string("__metadata__") + ":{" + ",".join(
            json_string(k) + ":" + json_string(kept[k]) for k in sorted(kept)) + "}")
    for name, dtype, shape, values in out:
        size = values.nbytes
        fields.append(json_string(name) + ':{"dtype":"%s","shape":[%s],"data_offsets":[%d,%d]}'
                      % (dtype, ",".join(str(d) for d in shape), offset, offset + size))
        offset += size
    text = ("{" + ",".join(fields) + "}").encode("utf-8")
    text += b" " * (-(len(text) + 8) % 8)
    with open(dst, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for _, _, _, values in out:
            f.write(np.ascontiguousarray(values).tobytes())


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: dequantize.py QUANTIZED.safetensors RESTORED.safetensors")
    main(sys.argv[1], sys.argv[2])
