"""The main job: a lazy CNN learns scikit-learn's handwritten digits, end to end, in seconds.

Run::

    pip install "lamina[examples]"      # scikit-learn, matplotlib, tqdm
    python -m lamina.examples.digits    # or: lamina-digits

What it shows, in order:

1. Data: the 1,797 8x8 digit images that scikit-learn ships inside its package (no download),
   split 80/20 into train/test with ``random_split`` and a seeded generator, served by
   ``DataLoader``.
2. Model: a small CNN made of lazy layers (``LazyConv2d``, ``LazyBatchNorm2d``,
   ``LazyLinear``); one convolution is *tied*: the same module object is used twice in a row,
   so its weights are shared. ``--init`` picks an initializer that ``model.apply`` runs
   *before* the first forward: lamina records ``nn.init.*_`` calls on unmaterialized
   parameters and replays them when the shapes become known. The summary table
   (``lamina.utils.summary``) materializes the model by a dry run and counts the tied
   parameters once.
3. Training: Adam, cross-entropy, a tqdm progress bar per epoch when stderr is a terminal
   (plain lines otherwise), then loss and accuracy per epoch.
4. Checkpoints: the state_dict saved as ``.pt`` (``lamina.save``, PyTorch's zip format) and
   ``.safetensors``; both are loaded into a *fresh lazy* model (``load_state_dict``
   materializes it) whose predictions are checked to be identical.
5. Figure: one PNG with the loss and accuracy curves and, per layer, histograms of the
   initial and final weights, so the initializer's effect is visible.

Dependencies: scikit-learn is required (it ships the data); without it the program prints one
line saying what to install and exits with status 1. matplotlib is needed only for the figure:
without it the figure is skipped with one line saying so. tqdm is needed only for the progress
bar: without it, plain per-epoch lines are printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import OrderedDict

import lamina as torch
from lamina.examples import _digits_common
from lamina.examples._cli import (add_run_options, have, load_checkpoints, log_checkpoints,
                                 parse_device, positive_float, positive_int,
                                 save_checkpoints)
from lamina import nn

INITS = ("kaiming", "xavier", "normal", "default")
INSTALL_HINT = 'pip install "lamina[examples]"'
CHECKPOINT = "digits_cnn"
FIGURE = "digits_training.png"


class MissingDependency(Exception):
    """A required optional dependency is not installed (the message says what to install)."""


# ---------------------------------------------------------------------------- model
def build_model() -> nn.Module:
    """The demo's CNN (``_digits_common.build_model``) made of lamina's lazy layers; all
    shapes are inferred at the first call.

    ``features.conv2`` and ``features.conv3`` are the same ``LazyConv2d`` object: two layers,
    one set of weights (16 -> 16 channels, so its input and output shapes agree).
    """
    return _digits_common.build_model(nn)


def initializer(kind: str):
    """The function that ``model.apply`` runs on every module for ``--init kind``.

    Convolutions and linear layers (their lazy twins included) get the chosen weight
    initializer and zero biases; ``default`` leaves every module's own initialization alone.
    """
    if kind not in INITS:
        raise ValueError(f"initializer: unknown kind {kind!r}; expected one of {INITS}")

    def init(m) -> None:
        if kind == "default" or not isinstance(m, (nn.Conv2d, nn.Linear)):
            return
        if kind == "kaiming":
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        elif kind == "xavier":
            nn.init.xavier_uniform_(m.weight)
        else:  # normal: small weights; BatchNorm rescales the conv outputs anyway
            nn.init.normal_(m.weight, mean=0.0, std=0.01)
        if m.bias is not None:
            nn.init.zeros_(m.bias)

    return init


# ---------------------------------------------------------------------------- data
def load_data(seed: int):
    """(train, test) datasets of (1x8x8 float32 image in [0, 1], label) pairs, split 80/20."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise MissingDependency(
            f"scikit-learn is required for the digits data; install it with: {INSTALL_HINT}"
        ) from None

    generator = torch.Generator().manual_seed(seed)
    return _digits_common.split_digits(torch, load_digits(), generator)


def _stack(subset, device):
    """All of a Subset of a TensorDataset as two tensors (images, labels) on ``device``."""
    images, labels = subset.dataset.tensors
    idx = torch.tensor(list(subset.indices), dtype=torch.long)
    return images[idx].to(device), labels[idx].to(device)


# ---------------------------------------------------------------------------- training
def _progress(loader, desc: str, enabled: bool):
    """tqdm over ``loader`` when enabled (and installed), else the loader itself."""
    if not enabled:
        return loader
    from tqdm import tqdm

    return tqdm(loader, desc=desc, leave=False, unit="batch", dynamic_ncols=True)


def evaluate(model, images, labels, batch_size: int = 512):
    """(mean loss, accuracy) of ``model`` in eval mode on tensors ``images``, ``labels``."""
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    model.eval()
    total_loss = 0.0
    correct = 0
    with torch.no_grad():
        for i in range(0, len(labels), batch_size):
            logits = model(images[i:i + batch_size])
            y = labels[i:i + batch_size]
            total_loss += loss_fn(logits, y).item()
            correct += (logits.argmax(1) == y).sum().item()
    return total_loss / len(labels), correct / len(labels)


def train(model, train_set, test_data, args, device, bar: bool, log=print):
    """Train for ``args.epochs`` epochs; returns the per-epoch history (a dict of lists)."""
    from lamina.utils.data import DataLoader

    world = _world_size()
    sampler = None
    net = model
    if world > 1:
        # each rank trains on its share of every epoch with 1/world of the batch: the global
        # batch (and so the optimization) is the single-process one
        from lamina.utils.data.distributed import DistributedSampler

        sampler = DistributedSampler(train_set, seed=args.seed)
        loader = DataLoader(train_set, batch_size=max(1, args.batch_size // world),
                            sampler=sampler)
        net = nn.parallel.DistributedDataParallel(model)
    else:
        generator = torch.Generator().manual_seed(args.seed)
        loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                            generator=generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        seen = correct = 0
        loss_sum = 0.0
        if sampler is not None:
            sampler.set_epoch(epoch)
        batches = _progress(loader, f"epoch {epoch}/{args.epochs}", bar)
        for x, y in batches:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            logits = net(x)
            loss = loss_fn(logits, y)
            loss.backward()
            optimizer.step()
            n = len(y)
            loss_sum += loss.item() * n
            correct += (logits.argmax(1) == y).sum().item()
            seen += n
            if bar:
                batches.set_postfix(loss=f"{loss_sum / seen:.4f}", refresh=False)
        if world > 1:  # the epoch's totals over every rank
            import lamina.distributed as dist

            tot = torch.tensor([loss_sum, correct, seen], dtype=torch.float64)
            dist.all_reduce(tot)
            loss_sum, correct, seen = tot[0].item(), tot[1].item(), tot[2].item()
        test_loss, test_acc = evaluate(model, *test_data)
        history["train_loss"].append(loss_sum / seen)
        history["train_acc"].append(correct / seen)
        history["test_loss"].append(test_loss)
        history["test_acc"].append(test_acc)
        width = len(str(args.epochs))
        log(f"epoch {epoch:>{width}}/{args.epochs}  loss {loss_sum / seen:.4f}  "
            f"train acc {100 * correct / seen:5.1f}%  test loss {test_loss:.4f}  "
            f"test acc {100 * test_acc:5.1f}%  ({time.perf_counter() - t0:.1f} s)")
    return history


def _world_size() -> int:
    import lamina.distributed as dist

    return dist.get_world_size() if dist.is_initialized() else 1


def _rank() -> int:
    import lamina.distributed as dist

    return dist.get_rank() if dist.is_initialized() else 0


def _mpi_world_size() -> int:
    """The number of ranks this process was started with (torchrun-style or mpiexec's env)."""
    for v in ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE"):
        if os.environ.get(v):
            return int(os.environ[v])
    return 1


# ---------------------------------------------------------------------------- checkpoints
def save_and_reload(model, out_dir: str, test_images, device):
    """Save the state_dict as .pt and .safetensors, load each into a fresh lazy model and
    check that its predictions on ``test_images`` equal the trained model's.

    Returns:
        dict: ``{"pt": path, "safetensors": path}``.

    Raises:
        RuntimeError: a reloaded model predicts differently (the checkpoint is not faithful).
    """
    paths = save_checkpoints(model, out_dir, CHECKPOINT)
    model.eval()
    with torch.no_grad():
        expected = model(test_images)
    for kind, sd in load_checkpoints(paths, device).items():
        fresh = build_model().to(device)  # lazy: load_state_dict materializes it
        fresh.load_state_dict(sd)
        fresh.eval()
        with torch.no_grad():
            got = fresh(test_images)
        if not torch.equal(got, expected):
            raise RuntimeError(f"digits: the model reloaded from {paths[kind]} predicts "
                               "differently from the trained model; expected identical logits")
    return paths


# ---------------------------------------------------------------------------- figure
def weight_snapshot(model) -> OrderedDict:
    """Copies of every weight matrix / kernel (dim > 1) as flat NumPy arrays, by layer name.

    ``named_parameters`` lists a tied parameter once, under its first name.
    """
    snap = OrderedDict()
    for name, p in model.named_parameters():
        if p.dim() > 1:
            snap[name] = p.detach().cpu().numpy().ravel().copy()
    return snap


def _tied_names(model) -> dict:
    """first name -> other names, for parameters reachable under several names."""
    names = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        names.setdefault(id(p), []).append(name)
    return {ns[0]: ns[1:] for ns in names.values() if len(ns) > 1}


def write_figure(path: str, history, initial, final, tied, init_kind: str) -> None:
    """One PNG: loss and accuracy curves, then initial/final weight histograms per layer."""
    import matplotlib

    matplotlib.use("Agg")  # headless: no display needed, and never opens a window
    import matplotlib.pyplot as plt

    layers = list(final)
    ncols = 3
    nrows = 1 + (len(layers) + ncols - 2) // ncols  # curves take two cells of the first row
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.3 * nrows), squeeze=False)
    epochs = range(1, len(history["train_loss"]) + 1)

    ax = axes[0][0]
    ax.plot(epochs, history["train_loss"], "o-", label="train")
    ax.plot(epochs, history["test_loss"], "s-", label="test")
    ax.set(title="cross-entropy loss", xlabel="epoch", ylabel="loss")
    ax.legend()
    ax = axes[0][1]
    ax.plot(epochs, [100 * a for a in history["train_acc"]], "o-", label="train")
    ax.plot(epochs, [100 * a for a in history["test_acc"]], "s-", label="test")
    ax.set(title="accuracy", xlabel="epoch", ylabel="%")
    ax.legend()

    cells = [axes[0][2]] + [axes[r][c] for r in range(1, nrows) for c in range(ncols)]
    for ax, name in zip(cells, layers):
        lo = min(initial[name].min(), final[name].min())
        hi = max(initial[name].max(), final[name].max())
        bins = 40 if hi > lo else 1
        ax.hist(initial[name], bins=bins, range=(lo, hi), alpha=0.6, label="initial")
        ax.hist(final[name], bins=bins, range=(lo, hi), alpha=0.6, label="final")
        title = name
        if tied.get(name):
            title += " (tied: " + ", ".join(n.rsplit(".", 1)[0] for n in tied[name]) + ")"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(f"weight value ({initial[name].size:,} weights)")
        ax.legend(fontsize=8)
    for ax in cells[len(layers):]:
        ax.axis("off")
    fig.suptitle(f"lamina digits CNN, --init {init_kind}: curves and weight histograms")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ---------------------------------------------------------------------------- command line
def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m lamina.examples.digits`` / ``lamina-digits``."""
    p = argparse.ArgumentParser(
        prog="lamina-digits",
        description="Train a small lazy CNN on scikit-learn's 8x8 handwritten digits with "
                    "lamina: summary table, progress, checkpoints (.pt, .safetensors) and a "
                    "figure.",
        epilog=f"Needs scikit-learn (and matplotlib for the figure, tqdm for progress bars): "
               f"{INSTALL_HINT}")
    p.add_argument("--epochs", type=positive_int, default=10, help="training epochs (10)")
    p.add_argument("--batch-size", type=positive_int, default=64, help="batch size (64)")
    p.add_argument("--lr", type=positive_float, default=3e-3, help="Adam learning rate (3e-3)")
    p.add_argument("--init", choices=INITS, default="kaiming",
                   help="weight initializer applied through model.apply before the first "
                        "forward (kaiming)")
    add_run_options(p, "digits-out", "seed of the split, init and shuffle (0)")
    p.add_argument("--nproc", type=positive_int, default=1,
                   help="data-parallel ranks (1); N > 1 re-launches this program on N MPI "
                        "processes (python -m lamina.distributed.run), needs "
                        "'pip install lamina[distributed]'")
    return p


def parse_args(argv=None) -> argparse.Namespace:
    """Parse and check ``argv``; bad values exit through ``parser.error`` (status 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    dev = parse_device(parser, args.device)
    args.device = dev
    return args


def use_progress_bar(log=print) -> bool:
    """Whether to draw tqdm bars: only when stderr (where tqdm draws) is a terminal and tqdm
    is installed; a terminal without tqdm gets one line saying what to install."""
    if not sys.stderr.isatty():
        return False
    if not have("tqdm"):
        log(f"tqdm is not installed: plain lines instead of progress bars ({INSTALL_HINT})")
        return False
    return True


def run(args: argparse.Namespace, log=print) -> dict:
    """The whole job for parsed ``args``; returns what it measured and wrote.

    Returns:
        dict: ``history`` (per-epoch losses/accuracies), ``test_acc`` (final), ``summary``
        (the ModelSummary), ``checkpoints`` ({"pt", "safetensors"} paths), ``figure`` (path,
        or None when matplotlib is missing), ``seconds`` (wall time).

    Raises:
        MissingDependency: scikit-learn is not installed.
    """
    from lamina.utils import summary

    t_start = time.perf_counter()
    train_set, test_set = load_data(args.seed)  # first: fails fast without scikit-learn
    plot = have("matplotlib")
    if not plot:
        log(f"matplotlib is not installed: the figure is skipped ({INSTALL_HINT})")
    lead = _rank() == 0  # with several ranks, rank 0 alone writes the files
    bar = use_progress_bar(log) if lead else False

    device = args.device
    torch.manual_seed(args.seed)
    n_train, n_test = len(train_set), len(test_set)
    log(f"lamina {torch.__version__}: digits CNN on {device}")
    log(f"data: {n_train + n_test:,} 8x8 images from scikit-learn, {n_train:,} train / "
        f"{n_test:,} test (seed {args.seed})")

    model = build_model().to(device)
    # Before any forward: every weight is still an UninitializedParameter. lamina records
    # these init calls and runs them when the first forward materializes the parameters.
    model.apply(initializer(args.init))
    log(f"init: {args.init} (applied with model.apply before the first forward)")

    test_images, test_labels = _stack(test_set, device)
    example = _stack(train_set, device)[0][:args.batch_size]
    info = summary(model, example, verbose=0)  # the dry run materializes the lazy layers
    log(info.text)
    initial = weight_snapshot(model)

    history = train(model, train_set, (test_images, test_labels), args, device, bar, log)

    if not lead:
        return {"history": history, "test_acc": history["test_acc"][-1], "summary": info,
                "checkpoints": None, "figure": None, "seconds": time.perf_counter() - t_start}
    os.makedirs(args.out, exist_ok=True)
    paths = save_and_reload(model, args.out, test_images, device)
    log_checkpoints(paths, log)
    log(f"reloaded both into a fresh lazy model: predictions identical on the {n_test} "
        "test images")

    figure = None
    if plot:
        figure = os.path.join(args.out, FIGURE)
        write_figure(figure, history, initial, weight_snapshot(model), _tied_names(model),
                     args.init)
        log(f"figure: {figure}")
    seconds = time.perf_counter() - t_start
    test_acc = history["test_acc"][-1]
    world = _world_size()
    ranks = f" on {world} ranks" if world > 1 else ""
    log(f"done in {seconds:.1f} s: test accuracy {100 * test_acc:.1f}% after "
        f"{args.epochs} epoch{'s' if args.epochs != 1 else ''}{ranks}")
    return {"history": history, "test_acc": test_acc, "summary": info,
            "checkpoints": paths, "figure": figure, "seconds": seconds}


def main(argv=None) -> int:
    """Entry point of ``python -m lamina.examples.digits`` and the ``lamina-digits`` script.

    Returns:
        int: the exit status (0, or 1 when a required dependency is missing).
    """
    args = parse_args(argv)
    launched = _mpi_world_size()
    if args.nproc > 1 and launched == 1:  # start N copies of this program on MPI
        import lamina.distributed as dist
        from lamina.distributed import run as launcher

        if not dist.is_available():
            print("lamina-digits: --nproc needs mpi4py and an MPI library: "
                  "pip install 'lamina[distributed]'", file=sys.stderr)
            return 1
        rest = list(sys.argv[1:] if argv is None else argv)
        return launcher.main(["--nproc-per-node", str(args.nproc), "-m",
                              "lamina.examples.digits", *rest])
    log = print
    if launched > 1:
        import lamina.distributed as dist

        dist.init_process_group()
        if dist.get_rank() != 0:  # one rank reports and writes the files
            log = _quiet
    try:
        run(args, log)
    except MissingDependency as e:
        print(f"lamina-digits: {e}", file=sys.stderr)
        return 1
    return 0


def _quiet(*a, **k) -> None:
    pass


if __name__ == "__main__":
    sys.exit(main())
