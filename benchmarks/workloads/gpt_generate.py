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


def floor_setup():
    from benchmarks.workloads._floor import products

    per_len = {}
    schedule = []
    for i in range(200):  # the context grows from 1 token to the block size, 64
        t = min(i + 1, 64)
        if t not in per_len:
            layer = [(t, 128, 384), (4, t, 32, t), (4, t, t, 32), (t, 128, 128), (t, 128, 512),
                     (t, 512, 128)]
            per_len[t] = products(layer * 4 + [(1, 128, 256)])
        schedule.append(per_len[t])
    return schedule


def floor_step(state):
    """The BLAS products alone (a lower bound): per generated token and layer, the q/k/v
    projection, the per-head scores and weighted values, the output projection and the
    two MLP products, then the head on the last position."""
    from benchmarks.workloads._floor import run_products

    for prods in state:
        run_products(prods)
