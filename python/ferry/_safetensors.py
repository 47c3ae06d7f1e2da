"""Reading and writing safetensors files with numpy only.

The format (https://huggingface.co/docs/safetensors) is an 8-byte little-endian header length, a
JSON header naming each tensor's dtype, shape and byte range, then the data. The package does this
itself, rather than through `safetensors.numpy`, because numpy has no bfloat16 (the library refuses
BF16 files in numpy) and the library refuses tensors that share memory. The tests check these files
against the `safetensors` library in both directions.
"""
import json
import os

import numpy as np

from ._atomic import atomic_writer

# safetensors dtype -> little-endian numpy storage dtype. BF16 is stored as its raw 16 bits.
STORAGE = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2",
    "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
    "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?",
}
FLOAT_DTYPES = {"F64", "F32", "F16", "BF16"}
_NUMPY_TO_SAFETENSORS = {
    "float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16",
    "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8",
    "uint64": "U64", "uint32": "U32", "uint16": "U16", "uint8": "U8", "bool": "BOOL",
}
_MAX_HEADER = 100 * 1024 * 1024


class SafetensorsError(ValueError):
    """A file that is not a valid safetensors file, or a tensor that cannot be written as one."""


def dtype_of(array):
    """The safetensors dtype name of a numpy array (`bfloat16` arrays of ml_dtypes map to BF16)."""
    name = _NUMPY_TO_SAFETENSORS.get(array.dtype.name)
    if name is None:
        raise SafetensorsError(f"numpy dtype {array.dtype} has no safetensors equivalent; "
                               f"convert it to float32, float16 or an integer type")
    return name


def read_header(path):
    """The header of the file at `path`: ({name: {"dtype", "shape", "data_offsets"}}, data start)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        prefix = f.read(8)
        if len(prefix) < 8:
            raise SafetensorsError(f"{path}: {size} bytes, too short for a safetensors file")
        length = int.from_bytes(prefix, "little")
        if length > min(_MAX_HEADER, size - 8):
            raise SafetensorsError(f"{path}: header length {length} exceeds the file ({size} bytes)")
        try:
            header = json.loads(f.read(length))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise SafetensorsError(f"{path}: the header is not JSON: {error}") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path}: the header is not a JSON object")
    header.pop("__metadata__", None)
    data_size = size - 8 - length
    for name, info in header.items():
        dtype = info.get("dtype") if isinstance(info, dict) else None
        if dtype not in STORAGE:
            raise SafetensorsError(f"{path}: tensor {name!r} has unsupported dtype {dtype!r}")
        start, end = info["data_offsets"]
        count = int(np.prod(info["shape"], dtype=np.int64))
        if not 0 <= start <= end <= data_size or end - start != count * np.dtype(STORAGE[dtype]).itemsize:
            raise SafetensorsError(f"{path}: tensor {name!r} has data_offsets {info['data_offsets']} that do not "
                                   f"match its shape {info['shape']} and {dtype} within {data_size} data bytes")
    return header, 8 + length


def read(path):
    """Every tensor of the file as {name: (dtype name, numpy array)}; BF16 arrays hold the raw bits
    (uint16). Arrays are memory-mapped read-only views: copy one to change it."""
    header, start = read_header(path)
    if not header:
        return {}
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=start) if os.path.getsize(path) > start else b""
    tensors = {}
    for name in sorted(header, key=lambda n: header[n]["data_offsets"][0]):
        info = header[name]
        begin, end = info["data_offsets"]
        raw = data[begin:end] if end > begin else np.zeros(0, dtype=np.uint8)
        tensors[name] = (info["dtype"], np.frombuffer(raw, dtype=STORAGE[info["dtype"]]).reshape(info["shape"]))
    return tensors


def write(path, tensors, metadata=None):
    """Writes {name: (dtype name, numpy array of that dtype's storage)} atomically to `path`."""
    header, offset, order = {}, 0, sorted(tensors)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in order:
        dtype, array = tensors[name]
        size = array.size * np.dtype(STORAGE[dtype]).itemsize
        header[name] = {"dtype": dtype, "shape": [int(d) for d in array.shape], "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with atomic_writer(path) as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for name in order:
            dtype, array = tensors[name]
            f.write(np.ascontiguousarray(array, dtype=STORAGE[dtype]).tobytes())
