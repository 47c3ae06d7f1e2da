"""Integrations with training frameworks, imported on first use so ferry works without them:

- `ferry.integrations.huggingface.FerryCallback`: a `transformers.Trainer` callback.
- `ferry.integrations.lightning.FerryCallback`: a PyTorch Lightning callback.

Both forward the trainer's logged metrics to `ferry.log`, so they reach the server during the task.
"""
import importlib

__all__ = ["huggingface", "lightning"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
