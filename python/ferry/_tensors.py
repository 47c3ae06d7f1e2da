"""Conversions between user models (numpy arrays, torch tensors, modules) and safetensors storage.

Representation (documented in python/README.md): the numpy path hands out BF16 tensors as float32
(exact: bf16 is the top half of a float32) and `send` rounds them back to BF16 (nearest, ties to
even, as torch does) because the received model had them in BF16. The torch path keeps
torch.bfloat16. Arrays of `ml_dtypes.bfloat16` are written as BF16 too.
"""
import numpy as np

from ._safetensors import FLOAT_DTYPES, SafetensorsError, dtype_of

_ALIASES = {"bf16": "BF16", "bfloat16": "BF16", "f16": "F16", "fp16": "F16", "float16": "F16",
            "f32": "F32", "fp32": "F32", "float32": "F32", "f64": "F64", "fp64": "F64", "float64": "F64"}


def float_dtype_name(name):
    """The safetensors name of a float dtype given as `bf16`, `fp16`, `float32`, `F64`, …"""
    key = str(name)
    if key in FLOAT_DTYPES:
        return key
    if key.lower() in _ALIASES:
        return _ALIASES[key.lower()]
    raise ValueError(f"unknown float dtype {name!r}: use one of bf16, fp16, fp32, fp64")


def bf16_to_float32(bits):
    """float32 values of raw bfloat16 bits (exact)."""
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def float32_to_bf16(values):
    """Raw bfloat16 bits of float values, rounded to nearest, ties to even; NaN stays NaN."""
    x = np.ascontiguousarray(values, dtype=np.float32)
    u = x.view(np.uint32).astype(np.uint64)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where(np.isnan(x), np.uint16(0x7FC0), rounded)


def to_float(dtype, storage):
    """Float values of a stored float tensor (BF16 bits widen to float32)."""
    return bf16_to_float32(storage) if dtype == "BF16" else storage


def convert(dtype, storage, target):
    """The storage of a float tensor converted to float dtype `target`."""
    if dtype == target:
        return storage
    values = to_float(dtype, storage)
    if target == "BF16":
        return float32_to_bf16(values)
    return values.astype({"F64": np.float64, "F32": np.float32, "F16": np.float16}[target])


def _is_torch_tensor(value):
    return type(value).__module__.startswith("torch") and hasattr(value, "detach") and hasattr(value, "dtype")


def stored(name, value):
    """(safetensors dtype, storage array) of one tensor given as a torch tensor, array or number."""
    if _is_torch_tensor(value):
        import torch
        tensor = value.detach().to("cpu").contiguous()
        if tensor.dtype == torch.bfloat16:
            return "BF16", tensor.view(torch.int16).numpy().view(np.uint16)
        try:
            array = tensor.numpy()
        except TypeError as error:
            raise SafetensorsError(f"tensor {name!r}: {error}") from None
    else:
        array = np.asarray(value)
        if array.dtype == object:
            raise SafetensorsError(f"tensor {name!r} is a {type(value).__name__}, not an array or tensor")
        if array.dtype.name == "bfloat16":
            return "BF16", array.view(np.uint16)
    try:
        return dtype_of(array), array
    except SafetensorsError as error:
        raise SafetensorsError(f"tensor {name!r}: {error}") from None


def state_of(model):
    """The {name: tensor} mapping of a model: a mapping itself, or anything with `state_dict()`."""
    if hasattr(model, "state_dict") and callable(model.state_dict):
        model = model.state_dict()
    if not hasattr(model, "items"):
        raise TypeError(f"ferry.send needs a dict of arrays or tensors, or a model with state_dict(); "
                        f"got {type(model).__name__}")
    return model


def to_storage(model, received_dtypes, dtype=None):
    """{name: (dtype, storage)} to write for `model`. Float tensors take `dtype` when given, else the
    dtype the same name had in the received model, so BF16/F16 round trips hold."""
    target_all = float_dtype_name(dtype) if dtype is not None else None
    out = {}
    for name, value in state_of(model).items():
        if not isinstance(name, str):
            raise TypeError(f"tensor names must be strings; got {name!r}")
        kind, storage = stored(name, value)
        if kind in FLOAT_DTYPES:
            target = target_all or (received_dtypes.get(name) if received_dtypes.get(name) in FLOAT_DTYPES else None)
            if target:
                storage, kind = convert(kind, storage, target), target
        out[name] = (kind, storage)
    return out


def to_numpy(tensors):
    """{name: writable numpy array} from read storage; BF16 becomes float32."""
    return {name: (bf16_to_float32(s) if d == "BF16" else np.array(s)) for name, (d, s) in tensors.items()}


def to_torch(tensors):
    """{name: torch tensor} from read storage; BF16 stays torch.bfloat16."""
    import torch
    out = {}
    for name, (dtype, storage) in tensors.items():
        if dtype == "BF16":
            out[name] = torch.from_numpy(np.array(storage).view(np.int16)).view(torch.bfloat16)
        else:
            out[name] = torch.from_numpy(np.array(storage))
    return out
