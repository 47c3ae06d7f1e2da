import os

import pytest


@pytest.fixture
def contract(tmp_path, monkeypatch):
    """The executor contract's environment for one task in tmp_path; returns the paths by name."""
    paths = {
        "FERRY_INPUT_MODEL": "",
        "FERRY_OUTPUT_MODEL": str(tmp_path / "out.safetensors"),
        "FERRY_RESULT": str(tmp_path / "result.json"),
        "FERRY_WORK_DIR": str(tmp_path / "work"),
        "FERRY_APP_DIR": str(tmp_path),
        "FERRY_ROUND": "2",
        "FERRY_ROUNDS": "5",
        "FERRY_SITE": "site-1",
        "FERRY_JOB_ID": "20260101-120000-ab12cd",
        "FERRY_TASK": "train-r0002",
    }
    os.makedirs(paths["FERRY_WORK_DIR"])
    for name in list(os.environ):
        if name.startswith("FERRY_"):
            monkeypatch.delenv(name)
    for name, value in paths.items():
        monkeypatch.setenv(name, value)

    class Contract(dict):
        def set_input(self, path):
            self["FERRY_INPUT_MODEL"] = str(path)
            monkeypatch.setenv("FERRY_INPUT_MODEL", str(path))

        def set(self, name, value):
            self[name] = str(value)
            monkeypatch.setenv(name, str(value))

    return Contract(paths)
