"""Picking the finite numbers out of a framework's metrics dict."""
import math


def numeric_metrics(values, prefix=""):
    """{prefix + name: float} of the finite numeric entries of `values` (tensors and numpy scalars
    included); strings, lists and NaNs are left out."""
    out = {}
    for name, value in (values or {}).items():
        if hasattr(value, "numel") and value.numel() != 1:
            continue
        if hasattr(value, "item") and callable(value.item):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if math.isfinite(value):
            out[prefix + str(name)] = float(value)
    return out
