"""Command-line helpers shared by the example programs (digits, charlm): argument types, the
``--device`` / ``--out`` / ``--seed`` options, optional dependencies and the checkpoint files."""

from __future__ import annotations

import argparse
import os

import lamina as torch


def positive_int(text: str) -> int:
    """argparse type: an integer > 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def have(module: str) -> bool:
    """Whether ``module`` can be imported (optional dependencies: matplotlib, tqdm, ...)."""
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def add_run_options(p: argparse.ArgumentParser, out: str, seed_help: str) -> None:
    """``--device``, ``--out`` (default ``out``) and ``--seed`` (``seed_help``) on ``p``."""
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N] (cpu)")
    p.add_argument("--out", default=out, metavar="DIR",
                   help=f"directory for the checkpoints and the figure (./{out})")
    p.add_argument("--seed", type=int, default=0, help=seed_help)


def parse_device(parser: argparse.ArgumentParser, text: str):
    """``--device text`` as a ``lamina.device``: cpu, or an available cuda[:N]; anything else
    exits through ``parser.error`` (status 2)."""
    try:
        dev = torch.device(text)
    except (RuntimeError, ValueError, TypeError) as e:
        parser.error(f"argument --device: {e}")
    if dev.type == "cuda" and not torch.cuda.is_available():
        parser.error(f"argument --device: {text!r} is not available (CUDA needs an "
                     "NVIDIA GPU and CuPy: pip install cupy-cuda12x); use --device cpu")
    if dev.type not in ("cpu", "cuda"):
        parser.error(f"argument --device: expected cpu or cuda[:N], got {text!r}")
    return dev


def save_checkpoints(model, out_dir: str, name: str) -> dict:
    """``model``'s state_dict written as ``out_dir/name.pt`` (lamina.save) and
    ``out_dir/name.safetensors``; returns ``{"pt": path, "safetensors": path}``."""
    import lamina.safetensors

    paths = {"pt": os.path.join(out_dir, name + ".pt"),
             "safetensors": os.path.join(out_dir, name + ".safetensors")}
    state = model.state_dict()
    torch.save(state, paths["pt"])
    lamina.safetensors.save_file(state, paths["safetensors"])
    return paths


def load_checkpoints(paths: dict, device) -> dict:
    """The state_dicts back from ``save_checkpoints``'s files, on ``device``, by kind."""
    import lamina.safetensors

    return {"pt": torch.load(paths["pt"], map_location=str(device), weights_only=True),
            "safetensors": lamina.safetensors.load_file(paths["safetensors"],
                                                        device=str(device))}


def log_checkpoints(paths: dict, log=print) -> None:
    """One line per checkpoint file: its kind, path and size."""
    for kind in ("pt", "safetensors"):
        size = os.path.getsize(paths[kind])
        log(f"checkpoint ({kind}): {paths[kind]} ({size / 1024:.0f} KiB)")
