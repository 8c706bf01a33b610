"""The same GPT as gpt_train: sampling 200 tokens one at a time (overhead-bound)."""

from __future__ import annotations

from benchmarks.workloads._gpt import make_gpt

TARGET = 1.0
ISSUE = 14
DESCRIPTION = ("GPT (lamina/examples/gpt.py, 4x4x128, context 64, vocab 256): generate() 200 "
               "tokens, batch 1, top-k 10, multinomial, under no_grad")


def setup(torch):
    _, model = make_gpt(torch, block_size=64, vocab_size=256, n_layer=4, n_head=4, n_embd=128,
                        dropout=0.0)
    model.eval()
    return torch, model, torch.zeros((1, 1), dtype=torch.long)


def step(state):
    torch, model, idx = state
    torch.manual_seed(0)
    model.generate(idx, 200, temperature=1.0, top_k=10)
