"""A nanoGPT-style model: one AdamW training step (forward, backward, clip, step)."""

from __future__ import annotations

from benchmarks.workloads._gpt import make_gpt

TARGET = 1.5
ISSUE = 14
DESCRIPTION = ("GPT (lamina/examples/gpt.py): 4 layers, 4 heads, embedding 128, context 64, "
               "vocab 256, batch 16, sdpa attention; one AdamW step with grad clipping")


def setup(torch):
    _, model = make_gpt(torch, block_size=64, vocab_size=256, n_layer=4, n_head=4, n_embd=128,
                        dropout=0.0)
    opt = model.configure_optimizers(0.1, 3e-4, (0.9, 0.95))
    x = torch.randint(0, 256, (16, 64))
    y = torch.randint(0, 256, (16, 64))
    return torch, model, opt, x, y


def step(state):
    torch, model, opt, x, y = state
    _, loss = model(x, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
