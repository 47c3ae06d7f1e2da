"""FedProx's proximal term and SCAFFOLD's control variates, against hand-computed values."""
import json

import numpy as np
import pytest

import ferry
from ferry import _safetensors


def write_config(tmp_path, contract, config):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    contract.set("FERRY_CONFIG", path)


def test_mu_comes_from_the_round_config(contract, tmp_path):
    write_config(tmp_path, contract, {"fedprox_mu": 0.25, "learning_rate": 0.1})
    assert ferry.fedprox.mu(ferry.receive()) == 0.25
    write_config(tmp_path, contract, {})
    with pytest.raises(ferry.ContractError, match="workflow: fedprox"):
        ferry.fedprox.mu(ferry.receive())
    assert ferry.fedprox.mu(ferry.receive(), default=0.0) == 0.0


def test_numpy_proximal_gradient_is_mu_times_the_distance():
    params = {"w": np.array([1.0, 2.0, -1.0], dtype=np.float32), "steps": np.array([3], dtype=np.int64)}
    global_params = {"w": np.array([0.5, 2.0, 1.0]), "steps": np.array([1])}
    gradient = ferry.fedprox.proximal_gradient(params, global_params, mu=0.1)
    assert list(gradient) == ["w"]  # integer tensors have no proximal term
    np.testing.assert_allclose(gradient["w"], [0.05, 0.0, -0.2], rtol=0, atol=1e-15)


def test_torch_proximal_term_and_its_gradient():
    torch = pytest.importorskip("torch", reason="torch is not installed: scripts/python-tests.sh installs it from /opt/wheels")
    model = torch.nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 2.0]]))
        model.bias.copy_(torch.tensor([0.5]))
    global_params = {"weight": torch.tensor([[0.0, 1.0]]), "bias": torch.tensor([1.5])}
    term = ferry.fedprox.proximal_term(model, global_params, mu=0.2)
    # 0.2/2 · ((1−0)² + (2−1)² + (0.5−1.5)²) = 0.1 · 3 = 0.3
    assert abs(term.item() - 0.3) < 1e-7
    term.backward()
    assert torch.allclose(model.weight.grad, torch.tensor([[0.2, 0.2]]))
    assert torch.allclose(model.bias.grad, torch.tensor([-0.2]))
    with pytest.raises(KeyError, match="bias"):
        ferry.fedprox.proximal_term(model, {"weight": global_params["weight"]}, mu=1)


def test_corrected_gradient_and_option_two_update():
    g = {"w": np.array([1.0, -2.0])}
    c = {"w": np.array([0.5, 0.5])}
    c_i = {"w": np.array([0.25, -1.0])}
    np.testing.assert_array_equal(ferry.scaffold.corrected_gradient(g, c, c_i)["w"], [1.25, -0.5])
    x = {"w": np.array([1.0, 1.0])}
    y = {"w": np.array([0.0, 2.0])}
    new, delta = ferry.scaffold.control_update(c, c_i, x, y, steps=4, lr=0.5)
    # c_i − c + (x − y)/(K·η) = [0.25−0.5+0.5, −1−0.5−0.5] = [0.25, −2]
    np.testing.assert_array_equal(new["w"], [0.25, -2.0])
    np.testing.assert_array_equal(delta["w"], [0.0, -1.0])


def test_a_scaffold_task_exposes_c_and_c_i_and_send_writes_the_delta(contract, tmp_path):
    _safetensors.write(str(tmp_path / "c.safetensors"), {"w": ("F32", np.array([0.5, 1.0], dtype=np.float32))})
    _safetensors.write(str(tmp_path / "ci.safetensors"), {"w": ("F32", np.array([0.0, 0.25], dtype=np.float32))})
    contract.set("FERRY_CONTROL_GLOBAL", tmp_path / "c.safetensors")
    contract.set("FERRY_CONTROL_LOCAL", tmp_path / "ci.safetensors")
    contract.set("FERRY_CONTROL_DELTA", tmp_path / "delta.safetensors")
    task = ferry.receive()
    np.testing.assert_array_equal(task.control_variates.c["w"], [0.5, 1.0])
    np.testing.assert_array_equal(task.control_variates.c_i["w"], [0.0, 0.25])
    with pytest.raises(ferry.ContractError, match="control_delta"):
        ferry.send({"w": np.zeros(2, dtype=np.float32)}, num_samples=1)
    ferry.send({"w": np.zeros(2, dtype=np.float32)}, num_samples=1, control_delta={"w": np.array([0.125, -1.0])})
    stored = _safetensors.read(str(tmp_path / "delta.safetensors"))
    assert stored["w"][0] == "F32"
    np.testing.assert_array_equal(stored["w"][1], [0.125, -1.0])


def test_other_tasks_have_no_control_variates_and_refuse_a_delta(contract):
    assert ferry.receive().control_variates is None
    with pytest.raises(ferry.ContractError, match="FERRY_CONTROL_DELTA"):
        ferry.send({"w": np.zeros(2, dtype=np.float32)}, num_samples=1, control_delta={"w": np.zeros(2)})
