"""A character-level language model: a small GPT learns to write Python's own documentation.

Run::

    python -m lamina.examples.charlm            # or: lamina-charlm
    python -m lamina.examples.charlm --quick    # a few seconds: a smoke run

What it shows, in order:

1. Data: the English text of ``pydoc_data.topics`` (the help pages of ``help("if")`` and
   friends), which ships with every Python install, so nothing is downloaded. Characters
   become token ids; the first 90% is for training, the rest for validation.
2. Model: the GPT of ``lamina.examples.gpt`` (token + position embeddings, pre-norm blocks
   with causal self-attention through ``F.scaled_dot_product_attention``, a GELU MLP, the
   output head tied to the token embedding), with its summary table.
3. A sample from the untrained model (noise), then training with AdamW (two parameter groups,
   gradient clipping) on random windows of the text, with progress lines showing the
   training and validation loss.
4. Checkpoints: the state_dict saved as ``.pt`` (``lamina.save``, PyTorch's zip format) and
   ``.safetensors``; each is loaded into a fresh model whose logits are checked to be
   identical to the trained model's.
5. A sample from the trained model, and a figure of the loss curves when matplotlib is
   installed (without it, one line says the figure is skipped).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import lamina as torch
from lamina.examples._cli import (add_run_options, have, load_checkpoints, log_checkpoints,
                                 parse_device, positive_float, positive_int,
                                 save_checkpoints)
from lamina.examples.gpt import GPT, GPTConfig, get_batch

CHECKPOINT = "charlm_gpt"
FIGURE = "charlm_loss.png"
INSTALL_HINT = 'pip install "lamina[examples]"'


# ---------------------------------------------------------------------------- data
def load_text() -> str:
    """The help-topic pages of this Python (``pydoc_data.topics``), joined in a fixed order."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[k].strip() for k in sorted(topics))


class CharCodec:
    """Characters <-> token ids over the sorted set of characters in a text."""

    def __init__(self, text: str):
        self.chars = sorted(set(text))
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, s: str) -> list:
        return [self.stoi[c] for c in s]

    def decode(self, ids) -> str:
        return "".join(self.chars[i] for i in ids)


# ---------------------------------------------------------------------------- training
@torch.no_grad()
def estimate_loss(model, data, args, generator):
    """Mean cross-entropy over ``args.eval_batches`` random batches of ``data``, eval mode."""
    model.eval()
    total = 0.0
    for _ in range(args.eval_batches):
        x, y = get_batch(data, args.block_size, args.batch_size, generator)
        total += model(x.to(args.device), y.to(args.device))[1].item()
    model.train()
    return total / args.eval_batches


def sample(model, codec, args, prompt: str = "\n", n: int | None = None, seed: int = 0) -> str:
    """``n`` characters generated after ``prompt`` (temperature 0.8, top-k 10), seeded."""
    torch.manual_seed(seed)
    model.eval()
    idx = torch.tensor([codec.encode(prompt)], dtype=torch.long, device=args.device)
    out = model.generate(idx, n or args.sample_chars, temperature=0.8, top_k=10)
    model.train()
    return codec.decode(out[0].tolist()[len(prompt):])


def train(model, train_data, val_data, args, log=print) -> dict:
    """``args.steps`` AdamW steps; returns the history (per-step loss, periodic val loss)."""
    opt = model.configure_optimizers(weight_decay=0.1, learning_rate=args.lr,
                                     betas=(0.9, 0.95))
    g = torch.Generator().manual_seed(args.seed)
    g_eval = torch.Generator().manual_seed(args.seed + 1)
    history = {"step": [], "loss": [], "eval_step": [], "val_loss": []}
    every = max(1, args.steps // 10)
    width = len(str(args.steps))
    t0 = time.perf_counter()
    window = []
    for step in range(1, args.steps + 1):
        # a short warmup, then cosine decay to a tenth of the peak rate
        if step <= args.warmup:
            lr = args.lr * step / args.warmup
        else:
            frac = (step - args.warmup) / max(1, args.steps - args.warmup)
            lr = args.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * frac)))
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = get_batch(train_data, args.block_size, args.batch_size, g)
        _, loss = model(x.to(args.device), y.to(args.device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        value = loss.item()
        history["step"].append(step)
        history["loss"].append(value)
        window.append(value)
        if step % every == 0 or step == args.steps:
            val = estimate_loss(model, val_data, args, g_eval)
            history["eval_step"].append(step)
            history["val_loss"].append(val)
            log(f"step {step:>{width}}/{args.steps}  loss {sum(window) / len(window):.4f}  "
                f"val loss {val:.4f}  lr {lr:.2e}  ({time.perf_counter() - t0:.1f} s)")
            window = []
    return history


# ---------------------------------------------------------------------------- checkpoints
def save_and_reload(model, config, out_dir: str, probe, device) -> dict:
    """Save the state_dict as .pt and .safetensors, load each into a fresh GPT and check that
    its logits on ``probe`` equal the trained model's.

    Raises:
        RuntimeError: a reloaded model computes different logits.
    """
    paths = save_checkpoints(model, out_dir, CHECKPOINT)
    model.eval()
    with torch.no_grad():
        expected = model(probe, probe)[1]
    for kind, sd in load_checkpoints(paths, device).items():
        fresh = GPT(config).to(device)
        fresh.load_state_dict(sd)
        if fresh.lm_head.weight is not fresh.transformer.wte.weight:
            raise RuntimeError(f"charlm: loading {paths[kind]} untied the output head")
        fresh.eval()
        with torch.no_grad():
            got = fresh(probe, probe)[1]
        if not torch.equal(got, expected):
            raise RuntimeError(f"charlm: the model reloaded from {paths[kind]} computes a "
                               "different loss from the trained model; expected identical")
    model.train()
    return paths


# ---------------------------------------------------------------------------- figure
def write_figure(path: str, history, baseline: float) -> None:
    """One PNG: training loss per step (and its running mean), validation loss."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    steps, loss = history["step"], history["loss"]
    ax.plot(steps, loss, color="tab:blue", alpha=0.35, lw=0.8, label="train (per step)")
    k = max(1, len(loss) // 25)
    if len(loss) >= k:
        run = [sum(loss[i - k + 1:i + 1]) / k for i in range(k - 1, len(loss))]
        ax.plot(steps[k - 1:], run, color="tab:blue", lw=1.8, label=f"train ({k}-step mean)")
    ax.plot(history["eval_step"], history["val_loss"], "s-", color="tab:orange",
            label="validation")
    ax.axhline(baseline, color="gray", ls="--", lw=1, label="uniform guess (log vocab)")
    ax.set(title="lamina char-level GPT on pydoc_data.topics", xlabel="step",
           ylabel="cross-entropy (nats / char)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ---------------------------------------------------------------------------- command line
def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m lamina.examples.charlm`` / ``lamina-charlm``."""
    p = argparse.ArgumentParser(
        prog="lamina-charlm",
        description="Train a small character-level GPT with lamina on the help text that ships "
                    "with Python (pydoc_data.topics): samples before and after, progress, "
                    "checkpoints (.pt, .safetensors) and a loss figure.",
        epilog=f"The figure needs matplotlib: {INSTALL_HINT}")
    p.add_argument("--steps", type=positive_int, default=None,
                   help="training steps (450; 20 with --quick)")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run of a few seconds: 20 steps, a smaller model, short samples")
    p.add_argument("--batch-size", type=positive_int, default=32, help="batch size (32)")
    p.add_argument("--block-size", type=positive_int, default=64,
                   help="context length in characters (64)")
    p.add_argument("--layers", type=positive_int, default=2, help="transformer blocks (2)")
    p.add_argument("--heads", type=positive_int, default=4, help="attention heads (4)")
    p.add_argument("--embd", type=positive_int, default=64,
                   help="embedding width, a multiple of --heads (64)")
    p.add_argument("--lr", type=positive_float, default=3e-3, help="peak AdamW rate (3e-3)")
    p.add_argument("--attention", choices=("sdpa", "explicit"), default="sdpa",
                   help="F.scaled_dot_product_attention or the explicit masked softmax (sdpa)")
    p.add_argument("--sample-chars", type=positive_int, default=None,
                   help="length of each sample (300; 60 with --quick)")
    add_run_options(p, "charlm-out", "seed of the init, batches, samples (0)")
    return p


def parse_args(argv=None) -> argparse.Namespace:
    """Parse and check ``argv``; bad values exit through ``parser.error`` (status 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.quick:
        args.steps = args.steps or 20
        args.sample_chars = args.sample_chars or 60
        args.embd, args.layers, args.block_size = min(args.embd, 32), 1, min(args.block_size,
                                                                              32)
        args.batch_size = min(args.batch_size, 16)
    args.steps = args.steps or 450
    args.sample_chars = args.sample_chars or 300
    if args.embd % args.heads:
        parser.error(f"argument --embd: {args.embd} is not a multiple of --heads {args.heads}")
    dev = parse_device(parser, args.device)
    args.device = dev
    args.warmup = max(1, min(50, args.steps // 10))
    args.eval_batches = 2 if args.quick else 8
    return args


def _indent(text: str) -> str:
    return "\n".join("    | " + line for line in text.splitlines() or [""])


def run(args: argparse.Namespace, log=print) -> dict:
    """The whole job for parsed ``args``; returns what it measured and wrote.

    Returns:
        dict: ``history``, ``val_loss`` (final), ``samples`` ({"before", "after"}),
        ``checkpoints`` ({"pt", "safetensors"} paths), ``figure`` (path or None),
        ``num_params``, ``seconds``.
    """
    t_start = time.perf_counter()
    plot = have("matplotlib")
    if not plot:
        log(f"matplotlib is not installed: the figure is skipped ({INSTALL_HINT})")
    text = load_text()
    codec = CharCodec(text)
    data = torch.tensor(codec.encode(text), dtype=torch.long)
    n = int(0.9 * len(data))
    train_data, val_data = data[:n], data[n:]
    log(f"lamina {torch.__version__}: character-level GPT on {args.device}")
    log(f"data: pydoc_data.topics, {len(text):,} characters, vocabulary of "
        f"{codec.vocab_size} characters; {len(train_data):,} train / {len(val_data):,} "
        "validation")

    torch.manual_seed(args.seed)
    config = GPTConfig(block_size=args.block_size, vocab_size=codec.vocab_size,
                       n_layer=args.layers, n_head=args.heads, n_embd=args.embd, dropout=0.0,
                       flash=args.attention == "sdpa")
    model = GPT(config).to(args.device)
    num_params = model.get_num_params(non_embedding=False)
    log(f"model: GPT, {args.layers} block{'s' if args.layers != 1 else ''}, {args.heads} "
        f"heads, width {args.embd}, context {args.block_size}, {args.attention} attention; "
        f"{num_params:,} parameters (output head tied to the token embedding)")
    try:
        from lamina.utils import summary

        example = train_data[:args.block_size].view(1, -1).to(args.device)
        log(summary(model, example, verbose=0).text)
    except Exception as e:  # the summary is a nicety: never let it stop the demo
        log(f"(summary table unavailable: {type(e).__name__}: {e})")

    baseline = math.log(codec.vocab_size)
    before = sample(model, codec, args, seed=args.seed)
    log(f"\nsample before training (seed {args.seed}):\n" + _indent(before))
    log(f"\ntraining: {args.steps} steps of {args.batch_size} x {args.block_size} characters, "
        f"AdamW lr {args.lr:g} (uniform guess: loss {baseline:.3f})")
    history = train(model, train_data, val_data, args, log)

    os.makedirs(args.out, exist_ok=True)
    probe = val_data[:(args.block_size + 1) * 2][:args.block_size * 2]
    probe = probe.view(2, args.block_size).to(args.device)
    paths = save_and_reload(model, config, args.out, probe, args.device)
    log_checkpoints(paths, log)
    log("reloaded both into a fresh GPT: identical loss on a validation batch")

    after = sample(model, codec, args, seed=args.seed)
    log(f"\nsample after training (seed {args.seed}):\n" + _indent(after))
    figure = None
    if plot:
        figure = os.path.join(args.out, FIGURE)
        write_figure(figure, history, baseline)
        log(f"figure: {figure}")
    seconds = time.perf_counter() - t_start
    val = history["val_loss"][-1]
    log(f"done in {seconds:.1f} s: validation loss {val:.3f} nats/char "
        f"(perplexity {math.exp(val):.2f}; a uniform guess is {baseline:.2f} nats) after "
        f"{args.steps} steps")
    return {"history": history, "val_loss": val, "samples": {"before": before, "after": after},
            "checkpoints": paths, "figure": figure, "num_params": num_params,
            "seconds": seconds, "vocab_size": codec.vocab_size}


def main(argv=None) -> int:
    """Entry point of ``python -m lamina.examples.charlm`` and the ``lamina-charlm`` script."""
    run(parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
