"""Evaluate tasks: task.kind, metrics-only results, and send() refusing to leave out the model in train tasks."""
import json
import os

import numpy as np
import pytest

import ferry


def evaluate_task(contract):
    contract.set("FERRY_TASK_KIND", "evaluate")
    contract.set("FERRY_OUTPUT_MODEL", "")
    contract.set("FERRY_TASK", "eval-r0002")


def test_an_evaluate_task_says_so_and_sends_metrics_alone(contract, tmp_path):
    model = tmp_path / "in.safetensors"
    ferry.save_model({"w": np.ones(3, dtype=np.float32)}, str(model))
    contract.set_input(model)
    evaluate_task(contract)
    task = ferry.receive()
    assert task.kind == "evaluate" and task.name == "eval-r0002" and task.model["w"].tolist() == [1, 1, 1]
    ferry.send(metrics={"accuracy": 0.75}, num_samples=40)
    with open(contract["FERRY_RESULT"]) as f:
        assert json.load(f) == {"num_samples": 40, "metrics": {"accuracy": 0.75}}
    assert sorted(os.listdir(tmp_path)) == ["in.safetensors", "result.json", "work"]


def test_num_samples_is_optional_in_an_evaluate_task_and_a_model_is_not_written(contract, tmp_path):
    evaluate_task(contract)
    ferry.receive()
    ferry.send({"w": np.zeros(2, dtype=np.float32)}, metrics={"loss": 1.5})
    with open(contract["FERRY_RESULT"]) as f:
        assert json.load(f) == {"num_samples": 0, "metrics": {"loss": 1.5}}
    assert not any(name.endswith(".safetensors") for name in os.listdir(tmp_path))


def test_a_train_task_refuses_metrics_without_a_model(contract):
    ferry.receive()
    with pytest.raises(ferry.ContractError, match="needs the trained model in a train task"):
        ferry.send(metrics={"loss": 0.5}, num_samples=3)
    assert not os.path.exists(contract["FERRY_RESULT"])


def test_a_train_task_needs_num_samples(contract):
    ferry.receive()
    with pytest.raises(ValueError, match="num_samples is missing"):
        ferry.send({"w": np.zeros(2, dtype=np.float32)}, metrics={"loss": 0.5})
    assert not os.path.exists(contract["FERRY_RESULT"])


def test_an_unknown_task_kind_is_refused(contract):
    contract.set("FERRY_TASK_KIND", "predict")
    with pytest.raises(ferry.ContractError, match="knows 'train' and 'evaluate'"):
        ferry.send(metrics={"loss": 0.5}, num_samples=3)
