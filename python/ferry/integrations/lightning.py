"""A PyTorch Lightning callback that forwards logged metrics to `ferry.log`.

    from ferry.integrations.lightning import FerryCallback
    trainer = lightning.Trainer(callbacks=[FerryCallback(every_n_steps=10)])

Every `every_n_steps` training batches the numeric values of `trainer.callback_metrics` (what the
LightningModule passed to `self.log`) are recorded at `trainer.global_step`.
"""
from .._log import log
from ._numeric import numeric_metrics


def _base():
    for module in ("lightning.pytorch", "pytorch_lightning"):
        try:
            return __import__(module, fromlist=["Callback"]).Callback
        except ImportError:
            continue
    return object  # Lightning missing: the class still works when called directly


class FerryCallback(_base()):
    """Forwards `trainer.callback_metrics` to `ferry.log` every `every_n_steps` batches."""

    def __init__(self, every_n_steps=10, prefix=""):
        if every_n_steps < 1:
            raise ValueError(f"every_n_steps={every_n_steps}: it must be at least 1")
        self.every_n_steps = every_n_steps
        self.prefix = prefix

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step % self.every_n_steps:
            return
        values = numeric_metrics(trainer.callback_metrics, self.prefix)
        if values:
            log(step=int(trainer.global_step), **values)
