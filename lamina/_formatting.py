"""Tensor printing, character for character as PyTorch's ``torch/_tensor_str.py`` prints.

The rules reproduced here (all of them observable in ``repr(torch.tensor(...))``):

- Integer and bool tensors print ``f"{value}"``, right-aligned to the widest element.
- A floating tensor picks one format for all its elements from its nonzero finite values:
  *int mode* (all of them integral: ``1.``, ``-0.``) or ``.{precision}f``, and scientific
  notation (``.{precision}e``) when ``max / min > 1000``, ``max > 1e8`` or ``min < 1e-4``
  (absolute values), unless ``set_printoptions(sci_mode=...)`` forces it. The common width is
  measured on nonzero finite values only, so ``nan``/``inf`` can come out narrower or wider than
  their neighbours, as in torch.
- Above ``threshold`` elements, every dimension longer than ``2 * edgeitems`` is cut to its
  first and last ``edgeitems`` entries around ``...``; the width is measured on what is shown.
- 1-D rows wrap at ``linewidth``; nested brackets are indented by one column per level and
  sub-tensors of rank ``d`` are separated by ``d - 1`` blank lines.
- Suffixes: ``device=...``, then ``size=...`` (empty tensors that are not 1-D, or
  ``edgeitems=0``), then ``dtype=...`` (when not the default float dtype, int64 or bool; an
  empty tensor shows any dtype other than the default float dtype), then the caller's
  ``grad_fn=``/``requires_grad=``; a suffix that would pass ``linewidth`` starts a new line.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["format_tensor", "get_printoptions", "printoptions", "set_printoptions"]


class _PrintOptions:
    """Module-level print options; the field names and defaults are torch's ``PRINT_OPTS``."""

    __slots__ = ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")

    def __init__(self) -> None:
        self.precision: int = 4
        self.threshold: float = 1000
        self.edgeitems: int = 3
        self.linewidth: int = 80
        self.sci_mode: bool | None = None


_OPTS = _PrintOptions()

# (precision, threshold, edgeitems, linewidth) of torch's named profiles.
_PROFILES = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}

_FLOATING = frozenset({"float16", "float32", "float64", "bfloat16"})
_KNOWN = _FLOATING | {"int8", "int16", "int32", "int64", "uint8", "bool"}

# Printed dtypes read as torch's (``dtype=torch.float16``) so that reprs match PyTorch's.
_DTYPE_PREFIX = "lamina."  # dtype suffix, as repr(lamina.float64)


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set options for printing tensors (torch's ``set_printoptions``).

    As in torch, ``profile`` is applied first and the other arguments override it, and
    ``sci_mode`` is always assigned: leaving it out resets it to ``None`` (automatic).

    Args:
        precision: Digits after the decimal point of floating point output (default 4).
        threshold: Number of elements above which the output is summarized (default 1000).
        edgeitems: Items shown at the beginning and end of each summarized dimension (default 3).
        linewidth: Characters per line before wrapping (default 80).
        profile: ``'default'``, ``'short'`` or ``'full'``: a preset of the four options above.
        sci_mode: ``True``/``False`` forces scientific notation on/off; ``None`` chooses it.

    Raises:
        ValueError: ``profile`` is not one of the three names (torch ignores it silently);
            nothing is changed then.
    """
    if profile is not None and profile not in _PROFILES:
        raise ValueError(
            f"set_printoptions: unknown profile; expected one of 'default', 'short', 'full', "
            f"got {profile!r}"
        )
    if profile is not None:
        _OPTS.precision, _OPTS.threshold, _OPTS.edgeitems, _OPTS.linewidth = _PROFILES[profile]
    if precision is not None:
        _OPTS.precision = precision
    if threshold is not None:
        _OPTS.threshold = threshold
    if edgeitems is not None:
        _OPTS.edgeitems = edgeitems
    if linewidth is not None:
        _OPTS.linewidth = linewidth
    _OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current print options, as keyword arguments for :func:`set_printoptions`."""
    return {
        "precision": _OPTS.precision,
        "threshold": _OPTS.threshold,
        "edgeitems": _OPTS.edgeitems,
        "linewidth": _OPTS.linewidth,
        "sci_mode": _OPTS.sci_mode,
    }


@contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Temporarily change the print options (torch's ``torch._tensor_str.printoptions``).

    Args:
        **kwargs: The arguments of :func:`set_printoptions`.

    Yields:
        None; the previous options are restored on exit.
    """
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Chooses one format and one width for every element shown (torch's ``_Formatter``)."""

    __slots__ = ("floating", "int_mode", "sci_mode", "max_width", "precision")

    def __init__(self, shown: np.ndarray, floating: bool) -> None:
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        self.precision = _OPTS.precision
        flat = shown.reshape(-1)
        if not floating:
            if flat.size:
                if flat.dtype == np.bool_:
                    self.max_width = 5 if not flat.all() else 4  # "False" / "True"
                else:
                    lo, hi = int(flat.min()), int(flat.max())
                    self.max_width = max(1, len(str(lo)), len(str(hi)))
            return
        vals = flat[np.isfinite(flat) & (flat != 0)]
        if vals.size == 0:
            return  # only zeros, nan and inf: int mode, width 1, as torch
        # Integrality is judged in the tensor's own dtype, the ratios in float64 (torch converts
        # to double because float16 overflows at 1e8).
        self.int_mode = bool((np.ceil(vals) == vals).all())
        absvals = np.abs(vals).astype(np.float64)
        lo, hi = float(absvals.min()), float(absvals.max())
        if _OPTS.sci_mode is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        else:
            self.sci_mode = _OPTS.sci_mode
        if self.sci_mode:
            fmt, extra = f"{{:.{self.precision}e}}", 0
        elif self.int_mode:
            fmt, extra = "{:.0f}", 1  # room for the "." that marks a float
        else:
            fmt, extra = f"{{:.{self.precision}f}}", 0
        # The printed length is monotone in |v| for one sign (the exponent's digits grow at both
        # ends, so the smallest magnitudes count too): the extremes of each sign give the width
        # torch finds by formatting every value.
        pos, neg = vals[vals > 0], vals[vals < 0]
        candidates = []
        if pos.size:
            candidates += [pos.min(), pos.max()]
        if neg.size:
            candidates += [neg.min(), neg.max()]
        self.max_width = max(len(fmt.format(float(v))) + extra for v in candidates)

    def format(self, value: Any) -> str:
        """One element (a Python scalar from ``tolist``), right-aligned to the common width."""
        if self.floating:
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{self.precision}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{self.precision}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _summarized(a: np.ndarray, edgeitems: int) -> np.ndarray:
    """The elements a summarized print shows (torch's ``get_summarized_data``)."""
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        if a.shape[0] > 2 * edgeitems:
            # a[-0:] is the whole row: torch's quirk, harmless since only "..." is printed then.
            return np.concatenate((a[:edgeitems], a[-edgeitems:]))
        return a
    if not edgeitems:
        return a[(slice(0, 0),) * a.ndim]
    if a.shape[0] > 2 * edgeitems:
        rows = list(range(edgeitems)) + list(range(a.shape[0] - edgeitems, a.shape[0]))
    else:
        rows = range(a.shape[0])
    return np.stack([_summarized(a[i], edgeitems) for i in rows])


def _vector_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    # Each element takes its width plus ", ".
    per_line = max(1, math.floor((_OPTS.linewidth - indent) / (fmt.max_width + 2)))
    edge = _OPTS.edgeitems
    if summarize and not edge:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * edge:
        data = (
            [fmt.format(v) for v in a[:edge].tolist()]
            + [" ..."]
            + [fmt.format(v) for v in a[-edge:].tolist()]
        )
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    edge = _OPTS.edgeitems
    n = a.shape[0]
    if summarize and n > 2 * edge:
        slices = (
            [_tensor_str_with_formatter(a[i], indent + 1, summarize, fmt) for i in range(edge)]
            + ["..."]
            + [
                _tensor_str_with_formatter(a[i], indent + 1, summarize, fmt)
                for i in range(n - edge, n)
            ]
        )
    else:
        slices = [_tensor_str_with_formatter(a[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _tensor_str(a: np.ndarray, indent: int, floating: bool) -> str:
    """The bracketed contents of a non-empty array (torch's ``_tensor_str``)."""
    summarize = a.size > _OPTS.threshold
    shown = _summarized(a, _OPTS.edgeitems) if summarize else a
    return _tensor_str_with_formatter(a, indent, summarize, _Formatter(shown, floating))


def _add_suffixes(tensor_str: str, suffixes: Sequence[str], indent: int) -> str:
    parts = [tensor_str]
    # torch's arithmetic, "+ 1" included: the room kept is for ", " and the closing ")".
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > _OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def format_tensor(
    arr: np.ndarray,
    dtype_name: str,
    suffixes: Sequence[str] = (),
    *,
    default_dtype_name: str = "float32",
    prefix: str = "tensor(",
) -> str:
    """A tensor's ``repr``, exactly as PyTorch prints it.

    Args:
        arr: The tensor's values as a NumPy array (cuda arrays are copied to the host first).
        dtype_name: The tensor's lamina dtype name (``'float32'``, ``'int64'``, ``'bool'``, ...).
        suffixes: Already formatted trailing items such as ``"device='cuda:0'"``,
            ``"grad_fn=<AddBackward0>"`` or ``"requires_grad=True"``. A ``device=`` item is placed
            before the size and dtype items, the others after them, as torch orders them.
        default_dtype_name: The current default floating dtype; its dtype suffix is omitted.
        prefix: The opening text; its length is the indentation of continuation lines.

    Returns:
        The text, e.g. ``"tensor([1., 2.], dtype=torch.float64, requires_grad=True)"``.

    Raises:
        ValueError: ``dtype_name`` is not a dtype lamina knows.
    """
    if dtype_name not in _KNOWN:
        raise ValueError(
            f"format_tensor: unknown dtype; expected one of {', '.join(sorted(_KNOWN))}, "
            f"got {dtype_name!r}"
        )
    arr = np.asarray(arr)
    floating = dtype_name in _FLOATING
    if floating and arr.dtype.kind != "f":
        # e.g. ml_dtypes' bfloat16: widening to float32 is exact, so every rule still holds.
        arr = arr.astype(np.float32)
    indent = len(prefix)
    devices = [s for s in suffixes if s.startswith("device=")]
    own: list[str] = []
    if arr.size == 0:
        # NumPy prints the shape of an empty array unless it is (0,); so does torch.
        if arr.ndim != 1:
            own.append(f"size={tuple(arr.shape)}")
        # No element shows whether the dtype is integral, so anything but the default is named.
        if dtype_name != default_dtype_name:
            own.append(f"dtype={_DTYPE_PREFIX}{dtype_name}")
        body = "[]"
    else:
        if not _OPTS.edgeitems:
            own.append(f"size={tuple(arr.shape)}")
        if dtype_name not in (default_dtype_name, "int64", "bool"):
            own.append(f"dtype={_DTYPE_PREFIX}{dtype_name}")
        body = _tensor_str(arr, indent, floating)
    rest = [s for s in suffixes if not s.startswith("device=")]
    return _add_suffixes(prefix + body, devices + own + rest, indent)
