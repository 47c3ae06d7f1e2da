"""The persistent executor protocol on the Python side: ferry.receive() waits for requests/<n>.json,
ferry.send answers with the result files and requests/<n>.done, the stop file ends the loop."""
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import ferry
from ferry import _persistent


@pytest.fixture
def executor_dir(tmp_path, monkeypatch):
    """A persistent executor's environment (FERRY_EXECUTOR_DIR, no per-task variables)."""
    for name in list(os.environ):
        if name.startswith("FERRY_"):
            monkeypatch.delenv(name)
    folder = tmp_path / "executor"
    (folder / "requests").mkdir(parents=True)
    monkeypatch.setenv("FERRY_EXECUTOR_DIR", str(folder))
    monkeypatch.setenv("FERRY_SITE", "site-1")
    _persistent.reset()
    yield folder
    _persistent.reset()


def write_request(folder, n, round_, model=None, kind="train", config=None):
    """Plays the watcher: the task's folder and requests/<n>.json, written atomically."""
    task = folder.parent / "tasks" / f"train-r{round_:04d}"
    (task / "work").mkdir(parents=True, exist_ok=True)
    if config is not None:
        (task / "config.json").write_text(json.dumps(config))
    if model is not None:
        ferry.save_model(model, task / "input.safetensors")
    request = {
        "seq": n, "kind": kind, "task": task.name, "round": round_, "rounds": 3, "site": "site-1", "job_id": "job",
        "input_model": str(task / "input.safetensors") if model is not None else "",
        "output_model": str(task / "output.safetensors"), "result": str(task / "result.json"),
        "work_dir": str(task / "work"), "app_dir": str(folder.parent), "timeout_seconds": 60,
        "config": str(task / "config.json") if config is not None else "", "metrics": str(task / "metrics.jsonl"),
    }
    tmp = folder / "requests" / f".{n}.tmp"
    tmp.write_text(json.dumps(request))
    os.replace(tmp, folder / "requests" / f"{n:06d}.json")
    return task


def test_tasks_come_in_turn_and_each_is_answered_with_a_done_marker(executor_dir):
    first = write_request(executor_dir, 1, 1, config={"learning_rate": 0.5})
    task = ferry.receive()
    assert (task.name, task.round, task.rounds, task.kind) == ("train-r0001", 1, 3, "train")
    assert task.model is None and task.config == {"learning_rate": 0.5}
    assert task.output_model == str(first / "output.safetensors")
    ferry.log(step=0, loss=1.0)
    assert not (executor_dir / "requests" / "000001.done").exists()
    ferry.send({"w": np.ones(3, dtype=np.float32)}, num_samples=7, metrics={"loss": 0.5})
    assert json.loads((first / "result.json").read_text()) == {"num_samples": 7, "metrics": {"loss": 0.5}}
    assert json.loads((executor_dir / "requests" / "000001.done").read_text()) == {"status": "ok"}
    assert (first / "metrics.jsonl").read_text().count("\n") == 1

    second = write_request(executor_dir, 2, 2, model={"w": np.full(3, 2.0, dtype=np.float32)})
    task = ferry.receive()
    assert task.round == 2 and task.config == {}
    np.testing.assert_array_equal(task.model["w"], np.full(3, 2.0, dtype=np.float32))
    assert ferry.log(loss=0.1)["step"] == 0, "steps count from 0 again in each task"
    ferry.send(task.model, num_samples=1)
    assert ferry.load_model(second / "output.safetensors")["w"].tolist() == [2.0, 2.0, 2.0]
    assert (executor_dir / "requests" / "000002.done").exists()


def test_receive_blocks_until_the_request_and_returns_none_at_the_stop_file(executor_dir):
    def receive_in_thread():
        got = []
        thread = threading.Thread(target=lambda: got.append(ferry.receive()))
        thread.start()
        return thread, got

    thread, got = receive_in_thread()
    time.sleep(0.3)
    assert got == [] and thread.is_alive(), "receive() returned before any request"
    write_request(executor_dir, 1, 1)
    thread.join(30)
    assert [task.round for task in got] == [1]
    ferry.send({"w": np.zeros(1, dtype=np.float32)}, num_samples=1)

    thread, got = receive_in_thread()
    time.sleep(0.3)
    assert thread.is_alive(), "receive() must wait for the next request"
    (executor_dir / "stop").write_text("{}")
    thread.join(30)
    assert got == [None], "the stop file must make receive() return None"
    assert list(ferry.tasks()) == []


def test_a_second_receive_without_an_answer_is_an_error(executor_dir):
    write_request(executor_dir, 1, 1)
    ferry.receive()
    with pytest.raises(ferry.ContractError, match="not answered"):
        ferry.receive()


def test_fail_answers_the_task_as_failed(executor_dir):
    write_request(executor_dir, 1, 1)
    ferry.receive()
    ferry.fail("CUDA out of memory")
    assert json.loads((executor_dir / "requests" / "000001.done").read_text()) == {
        "status": "failed", "error": "CUDA out of memory"}
    write_request(executor_dir, 2, 2)
    assert ferry.receive().round == 2


def test_a_one_shot_executor_gets_one_task_then_none(contract):
    assert ferry.receive() is not None
    ferry.send({"w": np.zeros(2, dtype=np.float32)}, num_samples=3)
    assert ferry.receive() is None
    assert list(ferry.tasks()) == []


def test_a_whole_persistent_process(tmp_path, executor_dir):
    """A real process running the documented loop: two tasks, then the stop file makes it exit 0."""
    script = tmp_path / "train.py"
    script.write_text(
        "import os, ferry\n"
        "print('loaded', os.getpid(), flush=True)\n"
        "for task in ferry.tasks():\n"
        "    model = task.model or {'w': __import__('numpy').zeros(2, dtype='float32')}\n"
        "    model['w'] = model['w'] + task.round\n"
        "    ferry.send(model, num_samples=task.round)\n"
        "print('bye', flush=True)\n")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(ferry.__file__)))
    process = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        for n in (1, 2):
            task = write_request(executor_dir, n, n)
            done = executor_dir / "requests" / f"{n:06d}.done"
            deadline = time.monotonic() + 60
            while not done.exists() and time.monotonic() < deadline:
                assert process.poll() is None, "the executor exited before it answered"
                time.sleep(0.02)
            assert done.exists()
            assert json.loads((task / "result.json").read_text())["num_samples"] == n
        (executor_dir / "stop").write_text("{}")
        assert process.wait(60) == 0
        lines = process.stdout.read().split()
        assert lines[0] == "loaded" and lines[-1] == "bye"
    finally:
        if process.poll() is None:
            process.kill()
