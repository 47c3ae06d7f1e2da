#!/usr/bin/env python3
"""ferry client trainer for supervised fine-tuning of a causal LM (torch + transformers).

Round 1 starts from SFT_BASE_MODEL (no --input); later rounds load the global weights from --input
(ferry has already undone the wire quantization). Writes the updated weights to --output as
safetensors and {"num_samples": N, "metrics": {...}} to --result. Settings come from SFT_* variables.
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
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--input", default=env("FERRY_INPUT_MODEL", ""))
    p.add_argument("--output", default=env("FERRY_OUTPUT_MODEL", ""))
    p.add_argument("--result", default=env("FERRY_RESULT", ""))
    p.add_argument("--site", default=env("FERRY_SITE", ""))
    args = p.parse_args()
    if not args.output or not args.result:
        sys.exit("sft.py: --output and --result are required (or FERRY_OUTPUT_MODEL / FERRY_RESULT)")

    import torch
    from safetensors.torch import load_file, save_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = env("SFT_BASE_MODEL", "meta-llama/Llama-3.2-1B")
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[env("SFT_PRECISION", "bf16")]
    steps = int(env("SFT_MAX_STEPS", "100"))
    batch = int(env("SFT_BATCH_SIZE", "4"))
    max_length = int(env("SFT_MAX_LENGTH", "1024"))
    lr = float(env("SFT_LEARNING_RATE", "1e-5"))
    device = "cuda" if torch.cuda.is_available() else "cpu"

    tokenizer = AutoTokenizer.from_pretrained(base)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(base, torch_dtype=dtype)
    if args.input and os.path.exists(args.input) and os.path.getsize(args.input) > 0:
        state = load_file(args.input)
        missing, unexpected = model.load_state_dict({k: v.to(dtype) for k, v in state.items()}, strict=False)
        if unexpected:
            sys.exit(f"sft.py: the global model has tensors this architecture lacks: {unexpected[:5]}")
        del state
    model.to(device)
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
        if step % 10 == 0:
            print(f"{args.site}: step {step}/{steps} loss {losses[-1]:.4f}", flush=True)

    model.to("cpu")
    tmp = args.output + ".tmp"
    save_model(model, tmp)
    os.replace(tmp, args.output)
    tail = losses[-min(10, len(losses)):]
    metrics = {"loss": sum(tail) / len(tail), "first_loss": losses[0], "perplexity": math.exp(min(20.0, sum(tail) / len(tail)))}
    with open(args.result + ".tmp", "w") as f:
        json.dump({"num_samples": len(texts), "metrics": metrics}, f)
    os.replace(args.result + ".tmp", args.result)


if __name__ == "__main__":
    main()
