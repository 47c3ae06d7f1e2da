"""The torch path: bf16 tensors, modules, tied weights (runs where torch is installed)."""
import numpy as np
import pytest

import ferry

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")


class Tied(torch.nn.Module):
    """An embedding and an output layer that share one weight, as with tie_word_embeddings."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(10, 4)
        self.head = torch.nn.Linear(4, 10, bias=False)
        self.head.weight = self.embed.weight


def test_receive_gives_torch_tensors_in_the_file_dtypes(contract, tmp_path):
    source = {"w": torch.randn(3, 4).to(torch.bfloat16), "h": torch.randn(2).half(), "n": torch.tensor([5])}
    safetensors_torch.save_file(source, str(tmp_path / "in.safetensors"))
    contract.set_input(tmp_path / "in.safetensors")
    task = ferry.receive(tensors="torch")
    assert task.dtypes == {"w": "BF16", "h": "F16", "n": "I64"}
    for name, tensor in source.items():
        assert task.model[name].dtype == tensor.dtype and torch.equal(task.model[name], tensor)


def test_bf16_torch_round_trip_is_bit_exact_and_float32_updates_round_like_torch(contract, tmp_path):
    weight = torch.randn(64, 33).to(torch.bfloat16)
    safetensors_torch.save_file({"w": weight}, str(tmp_path / "in.safetensors"))
    contract.set_input(tmp_path / "in.safetensors")
    task = ferry.receive(tensors="torch")
    ferry.send(task.model, num_samples=1)
    assert torch.equal(safetensors_torch.load_file(contract["FERRY_OUTPUT_MODEL"])["w"], weight)
    update = weight.float() + torch.randn(64, 33) * 1e-3
    ferry.send({"w": update}, num_samples=1)
    back = safetensors_torch.load_file(contract["FERRY_OUTPUT_MODEL"])["w"]
    assert back.dtype == torch.bfloat16 and torch.equal(back, update.to(torch.bfloat16))


def test_numpy_receive_of_bf16_matches_torch(contract, tmp_path):
    weight = torch.randn(100).to(torch.bfloat16)
    safetensors_torch.save_file({"w": weight}, str(tmp_path / "in.safetensors"))
    contract.set_input(tmp_path / "in.safetensors")
    assert np.array_equal(ferry.receive().model["w"], weight.float().numpy())


def test_a_module_with_tied_weights_is_sent_whole_and_loads_back(contract):
    torch.manual_seed(0)
    model = Tied()
    with pytest.raises(RuntimeError):  # what ferry works around: the library refuses shared tensors
        safetensors_torch.save_file(model.state_dict(), contract["FERRY_OUTPUT_MODEL"] + ".lib")
    ferry.send(model, num_samples=3, metrics={"loss": torch.tensor(0.5)})
    saved = safetensors_torch.load_file(contract["FERRY_OUTPUT_MODEL"])
    assert set(saved) == {"embed.weight", "head.weight"}
    assert torch.equal(saved["head.weight"], model.embed.weight.detach())
    fresh = Tied()
    fresh.load_state_dict(saved)
    assert fresh.head.weight is fresh.embed.weight and torch.equal(fresh.embed.weight, model.embed.weight)


def test_non_contiguous_and_grad_tensors_are_written(contract):
    ferry.receive(tensors="torch")
    base = torch.randn(4, 6, requires_grad=True)
    ferry.send({"t": base.t(), "p": base}, num_samples=1)
    saved = safetensors_torch.load_file(contract["FERRY_OUTPUT_MODEL"])
    assert torch.equal(saved["t"], base.detach().t()) and torch.equal(saved["p"], base.detach())
