#!/usr/bin/env python3
"""llm-sft client: fine-tunes a small Llama-style causal LM on this site's shard of data/corpus.txt.

The model is built from a config (no download): 2 layers, hidden size 128, a byte-level vocabulary of
256 bytes + 3 special tokens. Every site builds the same initial weights (seed 0) in round 1, so
federated averaging starts from one model; later rounds start from the global model the server sends
(already restored from nf4 to float32 by ferry). ferry's Python package (python/ in the ferry
repository) reads the task and writes the weights and the result (docs/executor-contract.md); the
loss of every step goes to the server as live metrics (`ferry.log`).

The executor is persistent (`persistent: true` in app.yaml): one process per site takes every round's
task, so torch and transformers are imported and the model built once per job, not once per round.

Requirements: python3, torch, transformers, and ferry's package (`pip install <ferry checkout>/python`).
"""
import argparse
import math
import os
import sys
import zlib

import torch
from transformers import LlamaConfig, LlamaForCausalLM

try:
    import ferry
except ImportError:
    sys.exit("train.py: the ferry Python package is missing: pip install <ferry checkout>/python "
             "into this Python, or set PYTHONPATH=<ferry checkout>/python (python/README.md)")

BOS, EOS, PAD = 256, 257, 258
VOCAB = 259
CONTEXT = 128


def build_model():
    config = LlamaConfig(
        vocab_size=VOCAB, hidden_size=128, intermediate_size=344, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=CONTEXT,
        bos_token_id=BOS, eos_token_id=EOS, pad_token_id=PAD, tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    return LlamaForCausalLM(config)


def site_shard(site):
    """The site's paragraphs of the bundled corpus: sites take every N-th paragraph (N = 3)."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "corpus.txt"), encoding="utf-8") as f:
        paragraphs = [p.strip() for p in f.read().split("\n\n") if p.strip()]
    digits = "".join(c for c in site if c.isdigit())
    index = int(digits) if digits else zlib.crc32(site.encode()) % 3 + 1
    return [p for i, p in enumerate(paragraphs) if i % 3 == (index - 1) % 3]


def batches(texts, generator):
    """Byte-tokenized windows of CONTEXT tokens, shuffled."""
    tokens = []
    for text in texts:
        tokens += [BOS] + list(text.encode("utf-8")) + [EOS]
    windows = [tokens[i:i + CONTEXT] for i in range(0, max(1, len(tokens) - CONTEXT), CONTEXT // 2)]
    windows = [w + [PAD] * (CONTEXT - len(w)) for w in windows]
    data = torch.tensor(windows, dtype=torch.long)
    return data[torch.randperm(len(data), generator=generator)]


def evaluate(model, data):
    model.eval()
    with torch.no_grad():
        labels = data.masked_fill(data == PAD, -100)
        return float(model(input_ids=data, labels=labels).loss)


def train_round(task, model, initial, args):
    """One round: start from the global model (or the initial weights), train, send."""
    lr = float(task.config.get("learning_rate", os.environ.get("SFT_LR", "0.001")))
    state = initial if task.model is None else {k: v.float() for k, v in task.model.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected:
        raise SystemExit(f"the global model has tensors this model does not: {unexpected[:5]}")
    generator = torch.Generator().manual_seed(1000 * task.round + len(task.site))
    data = batches(site_shard(task.site), generator)
    before = evaluate(model, data)

    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    for step in range(args.steps):
        start = (step * args.batch) % len(data)
        batch = data[start:start + args.batch]
        loss = model(input_ids=batch, labels=batch.masked_fill(batch == PAD, -100)).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        ferry.log(step=step, loss=float(loss.detach()))
    after = evaluate(model, data)

    ferry.send(model, num_samples=len(data),
               metrics={"loss": after, "perplexity": math.exp(min(after, 50)), "input_loss": before})
    print(f"site {task.site} round {task.round}: {len(data)} windows, {args.steps} steps, loss {before:.4f} -> {after:.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=int(os.environ.get("SFT_STEPS", "30")))
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    model = build_model()  # once per job: every round loads the global weights into it
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    for task in ferry.tasks(tensors="torch"):
        train_round(task, model, initial, args)


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as error:  # the stderr tail is reported to the server
        print(f"train.py: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
