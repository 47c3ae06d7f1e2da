"""The numpy path: receive, send, dtypes (BF16 included), validation, atomic writes."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import ferry
from ferry import _safetensors

safetensors_numpy = pytest.importorskip("safetensors.numpy")


def raw_file(path, tensors):
    """A safetensors file written byte by byte: {name: (dtype, shape, bytes)}."""
    header, blobs, offset = {}, b"", 0
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs += data
        offset += len(data)
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + blobs)


def read_result(contract):
    with open(contract["FERRY_RESULT"]) as f:
        return json.load(f)


def test_first_round_has_no_model_and_the_task_fields(contract):
    task = ferry.receive()
    assert task.model is None and task.dtypes == {}
    assert (task.kind, task.round, task.rounds, task.site, task.name) == ("train", 2, 5, "site-1", "train-r0002")
    assert task.job_id == "20260101-120000-ab12cd" and task.config == {}
    assert task.work_dir == contract["FERRY_WORK_DIR"]


def test_send_writes_a_model_the_safetensors_library_reads_and_the_result(contract):
    ferry.receive()
    weight = np.arange(6, dtype=np.float32).reshape(2, 3)
    ferry.send({"weight": weight, "steps": np.array([3], dtype=np.int64)}, num_samples=120,
               metrics={"loss": np.float32(0.25), "accuracy": 1}) 
    loaded = safetensors_numpy.load_file(contract["FERRY_OUTPUT_MODEL"])
    assert loaded["weight"].dtype == np.float32 and np.array_equal(loaded["weight"], weight)
    assert loaded["steps"].dtype == np.int64 and loaded["steps"].tolist() == [3]
    assert read_result(contract) == {"num_samples": 120, "metrics": {"loss": 0.25, "accuracy": 1.0}}
    assert sorted(os.listdir(os.path.dirname(contract["FERRY_RESULT"]))) == ["out.safetensors", "result.json", "work"]


def test_receive_reads_a_library_file_and_send_keeps_its_dtypes(contract, tmp_path):
    source = {"a": np.linspace(-1, 1, 12, dtype=np.float16).reshape(3, 4), "b": np.array([1.5, 2.5]),
              "mask": np.array([True, False]), "count": np.array([7], dtype=np.int32)}
    safetensors_numpy.save_file(source, str(tmp_path / "in.safetensors"))
    contract.set_input(tmp_path / "in.safetensors")
    task = ferry.receive()
    assert task.dtypes == {"a": "F16", "b": "F64", "mask": "BOOL", "count": "I32"}
    for name, array in source.items():
        assert task.model[name].dtype == array.dtype and np.array_equal(task.model[name], array)
    # Training in float64 does not change the dtypes that go back.
    model = {name: (value.astype(np.float64) * 2 if value.dtype.kind == "f" else value) for name, value in task.model.items()}
    ferry.send(model, num_samples=1)
    back = safetensors_numpy.load_file(contract["FERRY_OUTPUT_MODEL"])
    assert {n: a.dtype for n, a in back.items()} == {n: a.dtype for n, a in source.items()}
    assert np.array_equal(back["a"], (source["a"].astype(np.float64) * 2).astype(np.float16))


def test_received_arrays_are_writable_copies(contract, tmp_path):
    safetensors_numpy.save_file({"w": np.ones(4, dtype=np.float32)}, str(tmp_path / "in.safetensors"))
    contract.set_input(tmp_path / "in.safetensors")
    task = ferry.receive()
    task.model["w"] -= 0.5
    assert task.model["w"].tolist() == [0.5] * 4


def test_bf16_comes_as_float32_and_goes_back_as_bf16_rounded_to_nearest_even(contract, tmp_path):
    bits = np.array([0x3F80, 0xC000, 0x0001, 0x7F80, 0x3F81], dtype="<u2")  # 1, -2, tiny, inf, 1+2^-7
    raw_file(tmp_path / "in.safetensors", {"w": ("BF16", [5], bits.tobytes())})
    contract.set_input(tmp_path / "in.safetensors")
    task = ferry.receive()
    assert task.dtypes == {"w": "BF16"} and task.model["w"].dtype == np.float32
    assert task.model["w"][:2].tolist() == [1.0, -2.0] and task.model["w"][3] == np.inf
    # Unchanged values come back bit for bit; 1 + 2^-8 is a tie (to even: 1.0), 1 + 3·2^-8 rounds up.
    updated = task.model["w"].copy()
    updated[0], updated[1] = 1 + 2.0 ** -8, 1 + 3 * 2.0 ** -8
    ferry.send({"w": updated}, num_samples=1)
    (dtype, stored), = _safetensors.read(contract["FERRY_OUTPUT_MODEL"]).values()
    assert dtype == "BF16"
    assert stored.tolist() == [0x3F80, 0x3F82, 0x0001, 0x7F80, 0x3F81]


def test_dtype_argument_converts_every_float_tensor(contract):
    ferry.receive()
    ferry.send({"w": np.array([1.0, 2.0]), "n": np.array([1], dtype=np.int64)}, num_samples=1, dtype="bf16")
    stored = _safetensors.read(contract["FERRY_OUTPUT_MODEL"])
    assert stored["w"][0] == "BF16" and stored["w"][1].tolist() == [0x3F80, 0x4000]
    assert stored["n"][0] == "I64"


def test_shared_and_strided_arrays_are_written_as_separate_tensors(contract):
    ferry.receive()
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    ferry.send({"embed": base, "head": base, "column": base[:, 1]}, num_samples=1)
    back = safetensors_numpy.load_file(contract["FERRY_OUTPUT_MODEL"])
    assert np.array_equal(back["embed"], base) and np.array_equal(back["head"], base)
    assert back["column"].tolist() == [1, 5, 9]


@pytest.mark.parametrize("num_samples", [-1, 1.5, True, 10 ** 16, "3"])
def test_invalid_num_samples_writes_nothing(contract, num_samples):
    with pytest.raises(ValueError, match="num_samples"):
        ferry.send({"w": np.zeros(2)}, num_samples=num_samples)
    assert not os.path.exists(contract["FERRY_OUTPUT_MODEL"]) and not os.path.exists(contract["FERRY_RESULT"])


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "high", None])
def test_metrics_must_be_finite_numbers(contract, value):
    with pytest.raises(ValueError, match="'loss'"):
        ferry.send({"w": np.zeros(2)}, num_samples=1, metrics={"loss": value})
    assert not os.path.exists(contract["FERRY_RESULT"])


def test_a_failing_write_leaves_no_file_behind(contract):
    with pytest.raises(Exception, match="'bad'"):
        ferry.send({"w": np.zeros(2), "bad": np.array(["text"])}, num_samples=1)
    assert sorted(os.listdir(os.path.dirname(contract["FERRY_RESULT"]))) == ["work"]


def test_outside_an_executor_the_error_says_what_is_missing(monkeypatch):
    for name in list(os.environ):
        if name.startswith("FERRY_"):
            monkeypatch.delenv(name)
    with pytest.raises(ferry.ContractError, match="FERRY_OUTPUT_MODEL"):
        ferry.send({"w": np.zeros(1)}, num_samples=1)


def test_a_truncated_input_model_names_the_file(contract, tmp_path):
    path = tmp_path / "in.safetensors"
    raw_file(path, {"w": ("F32", [4], b"\0" * 16)})
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 4)
    contract.set_input(path)
    with pytest.raises(ferry.SafetensorsError, match="in.safetensors"):
        ferry.receive()


def test_config_comes_from_the_file_ferry_config_names(contract, tmp_path):
    (tmp_path / "config.json").write_text('{"learning_rate": 0.05, "epochs": 3}')
    contract.set("FERRY_CONFIG", tmp_path / "config.json")
    assert ferry.receive().config == {"learning_rate": 0.05, "epochs": 3}
    (tmp_path / "config.json").write_text("[1]")
    with pytest.raises(ferry.ContractError, match="FERRY_CONFIG"):
        ferry.receive()


def test_log_appends_one_json_line_per_call(contract, tmp_path):
    contract.set("FERRY_METRICS", tmp_path / "metrics.jsonl")
    ferry.log(step=10, loss=0.5, lr=np.float64(1e-3))
    ferry.log(loss=0.25)
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [(r["step"], r["metrics"]) for r in lines] == [(10, {"loss": 0.5, "lr": 1e-3}), (11, {"loss": 0.25})]
    with pytest.raises(ValueError, match="step"):
        ferry.log(step=-1, loss=1.0)
    with pytest.raises(ValueError, match="'loss'"):
        ferry.log(step=12, loss=float("nan"))


def test_importing_ferry_imports_no_framework():
    code = ("import sys, ferry, ferry.integrations; "
            "print(sorted(m for m in ('torch', 'transformers', 'lightning', 'pytorch_lightning') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
