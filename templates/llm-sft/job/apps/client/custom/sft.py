#!/usr/bin/env python3
"""ferry client trainer for supervised fine-tuning of a causal LM (torch + transformers).

Round 1 starts from SFT_BASE_MODEL; later rounds load the global weights `ferry.receive()` gives
(ferry has already undone the wire quantization). `ferry.send()` writes the updated weights (tied
embeddings included, in the dtypes they came in) and {"num_samples": N, "metrics": {...}}; the loss
of every step reaches the server as live metrics (`ferry.log`). Settings come from SFT_* variables;
the round's config (`task.config`, from the server app's round_config) may set `learning_rate`.
Needs ferry's Python package: `pip install <ferry checkout>/python`.

The base model is loaded once per process and the script takes tasks in a loop (`ferry.tasks()`), so
with `persistent: true` under `executor:` in app.yaml one process serves every round and the base
model is loaded once per job (docs/executor-contract.md, "Persistent executors"); that needs env
values without task placeholders (a `dataset` without `{work_dir}`, for example).
"""
import argparse
import json
import math
import os
import sys


def env(name, default):
    return os.environ.get(name, default)


def load_examples(path, limit):
    texts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            row = json.loads(line)
            text = row.get("text") or (row.get("prompt", "") + row.get("response", ""))
            if text:
                texts.append(text)
            if len(texts) >= limit:
                break
    if not texts:
        sys.exit(f"sft.py: no training examples in {path}")
    return texts


def main():
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    try:
        import ferry
    except ImportError:
        sys.exit("sft.py: the ferry Python package is missing: pip install <ferry checkout>/python "
                 "into this Python, or set PYTHONPATH=<ferry checkout>/python (python/README.md)")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = env("SFT_BASE_MODEL", "meta-llama/Llama-3.2-1B")
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[env("SFT_PRECISION", "bf16")]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tokenizer = AutoTokenizer.from_pretrained(base)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(base, torch_dtype=dtype).to(device)
    fresh = True  # the model holds the base weights
    for task in ferry.tasks(tensors="torch"):
        if task.model is None and not fresh:  # a later task without a global model starts from the base again
            model = AutoModelForCausalLM.from_pretrained(base, torch_dtype=dtype).to(device)
        if task.model is not None:
            missing, unexpected = model.load_state_dict({k: v.to(dtype) for k, v in task.model.items()}, strict=False)
            if unexpected:
                sys.exit(f"sft.py: the global model has tensors this architecture lacks: {unexpected[:5]}")
            task.model = None
        fresh = False
        train(task, model, tokenizer, device)


def train(task, model, tokenizer, device):
    import ferry
    import torch

    steps = int(env("SFT_MAX_STEPS", "100"))
    batch = int(env("SFT_BATCH_SIZE", "4"))
    max_length = int(env("SFT_MAX_LENGTH", "1024"))
    lr = float(task.config.get("learning_rate", env("SFT_LEARNING_RATE", "1e-5")))
    model.train()

    texts = load_examples(env("SFT_DATASET", "data/train.jsonl"), steps * batch)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    for step in range(steps):
        chunk = [texts[(step * batch + i) % len(texts)] for i in range(batch)]
        enc = tokenizer(chunk, return_tensors="pt", padding=True, truncation=True, max_length=max_length).to(device)
        labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
        loss = model(**enc, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        ferry.log(step=step, loss=losses[-1])
        if step % 10 == 0:
            print(f"{task.site}: step {step}/{steps} loss {losses[-1]:.4f}", flush=True)

    tail = losses[-min(10, len(losses)):]
    metrics = {"loss": sum(tail) / len(tail), "first_loss": losses[0], "perplexity": math.exp(min(20.0, sum(tail) / len(tail)))}
    ferry.send(model, num_samples=len(texts), metrics=metrics)

if __name__ == "__main__":
    main()
