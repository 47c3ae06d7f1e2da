"""Validation of what an executor reports: sample counts and metrics (docs/executor-contract.md)."""
import math
import numbers

MAX_SAMPLES = 10 ** 15


def _number(value):
    if hasattr(value, "item") and callable(value.item):  # numpy scalars, 0-d arrays, torch scalars
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def metrics_dict(metrics, what="metrics"):
    """{name: float} of `metrics`; raises ValueError naming a metric that is not a finite number."""
    if metrics is None:
        return {}
    if not hasattr(metrics, "items"):
        raise TypeError(f"{what} must be a dict of names to numbers; got {type(metrics).__name__}")
    out = {}
    for name, value in metrics.items():
        number = _number(value)
        if number is None or not math.isfinite(number):
            raise ValueError(f"{what}: {name!r} is {value!r}; metrics must be finite numbers")
        out[str(name)] = number
    return out


def sample_count(num_samples):
    """`num_samples` as an int in 0…10¹⁵; raises ValueError otherwise."""
    if hasattr(num_samples, "item") and callable(num_samples.item):
        num_samples = num_samples.item()
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral) \
            or not 0 <= num_samples <= MAX_SAMPLES:
        raise ValueError(f"num_samples={num_samples!r}: it must be a whole number from 0 to 10**15 "
                         f"(the client's weight in the average)")
    return int(num_samples)
