"""A Hugging Face `transformers.Trainer` callback that forwards logged metrics to `ferry.log`.

    from ferry.integrations.huggingface import FerryCallback
    trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[FerryCallback()])

Every time the Trainer logs (each `logging_steps`), the numeric values (loss, learning_rate,
grad_norm, epoch, …) are recorded at the Trainer's global step.
"""
from .._log import log
from ._numeric import numeric_metrics


def _base():
    try:
        from transformers import TrainerCallback
    except ImportError:  # transformers missing: the class still works when called directly
        return object
    return TrainerCallback


class FerryCallback(_base()):
    """Forwards the Trainer's logs to `ferry.log(step=state.global_step, ...)`.

    `prefix` is put before every metric name (e.g. "train/").
    """

    def __init__(self, prefix=""):
        self.prefix = prefix

    def on_log(self, args, state, control, logs=None, **kwargs):
        values = numeric_metrics(logs, self.prefix)
        if values:
            log(step=int(state.global_step), **values)
        return control
