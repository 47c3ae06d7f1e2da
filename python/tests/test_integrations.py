"""The framework callbacks forward numeric logs to ferry.log (called directly: no framework needed)."""
import json
import types

from ferry.integrations import huggingface, lightning


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_hugging_face_callback_logs_numbers_at_the_global_step(contract, tmp_path):
    contract.set("FERRY_METRICS", tmp_path / "m.jsonl")
    callback = huggingface.FerryCallback()
    state = types.SimpleNamespace(global_step=40)
    callback.on_log(None, state, None, logs={"loss": 1.25, "learning_rate": 2e-5, "note": "x", "nan": float("nan")})
    assert [(r["step"], r["metrics"]) for r in records(tmp_path / "m.jsonl")] == [(40, {"loss": 1.25, "learning_rate": 2e-5})]


def test_lightning_callback_logs_every_n_steps(contract, tmp_path):
    contract.set("FERRY_METRICS", tmp_path / "m.jsonl")
    callback = lightning.FerryCallback(every_n_steps=2, prefix="train/")
    for step in (1, 2, 3, 4):
        trainer = types.SimpleNamespace(global_step=step, callback_metrics={"loss": float(step)})
        callback.on_train_batch_end(trainer, None, None, None, step)
    assert [(r["step"], r["metrics"]) for r in records(tmp_path / "m.jsonl")] == [(2, {"train/loss": 2.0}), (4, {"train/loss": 4.0})]
