"""A Keras / torchinfo-like model summary: one row per module, then totals and memory.

``summary(model, input_size)`` runs the model once (a dry run under ``no_grad``, in eval mode)
with forward hooks on every module to record output shapes, then lists every module path with
its type, output shape, parameter count and trainable flag, and totals:

    >>> import lamina as torch
    >>> from lamina import nn
    >>> from lamina.utils import summary
    >>> net = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 10))
    >>> s = summary(net, (2, 20), verbose=0)
    >>> s.total_params == 20 * 64 + 64 + 64 * 10 + 10
    True
    >>> s.rows[1]["path"], s.rows[1]["output_shape"], s.rows[1]["params"]
    ('0', [2, 64], 1344)

Beyond torchinfo: lazy modules are materialized by the dry run (the summary of a lazy model is
the summary of what it becomes), parameters shared between modules or module paths are counted
once and marked, and the dry run leaves the model as it found it (train/eval flags and buffers
such as BatchNorm's running statistics are restored).
"""

from __future__ import annotations

import lamina
from lamina.nn.parameter import is_lazy
from lamina.nn.utils.materialize import dry_forward, is_shape

__all__ = ["ModelSummary", "summary"]

_MB = 1e6  # SI megabytes, as torchinfo and benchmarks/ report them


class ModelSummary:
    """What :func:`summary` found: the table as text, one dict per row, and the totals.

    ``str(s)`` and ``repr(s)`` give the table, so a notebook shows it.

    Attributes:
        text: the table, as printed.
        rows: one dict per module path, in ``named_modules(remove_duplicate=False)`` order:
            ``path`` (``""`` for the model itself), ``name`` (last path component), ``depth``,
            ``type`` (class name after any lazy materialization), ``output_shape`` (a list of
            ints, nested lists / a dict of them for several outputs, or ``None`` when the
            module was not called), ``calls`` (how often the dry run called the module),
            ``own_params`` (elements of the module's own parameters, ``recurse=False``),
            ``params`` (those counted on this row: elements not counted on an earlier row),
            ``shared_params`` (``own_params - params``), ``shared_with`` (the earlier path that
            holds them, or ``None``), ``trainable`` (``True``, ``False``, ``"partial"``, or
            ``None`` without own parameters), ``lazy`` (the module had unmaterialized
            parameters or buffers before the dry run), ``note`` (text shown in the table).
            Summing ``params`` over all rows gives ``total_params``.
        total_params: elements of all distinct parameters (each shared tensor once).
        trainable_params: those with ``requires_grad``.
        non_trainable_params: ``total_params - trainable_params``.
        shared_params: elements of parameters reachable under more than one name.
        input_bytes, param_bytes, buffer_bytes, activation_bytes: memory estimates in bytes;
            activations are the outputs of the leaf modules in the dry run (containers return
            their children's tensors, so they add nothing).
    """

    __slots__ = ("activation_bytes", "buffer_bytes", "input_bytes", "non_trainable_params",
                 "param_bytes", "rows", "shared_params", "text", "total_params",
                 "trainable_params")

    def __init__(self, text: str, rows: list[dict], totals: dict[str, int]) -> None:
        self.text = text
        self.rows = rows
        for k, v in totals.items():
            setattr(self, k, v)

    @property
    def totals(self) -> dict[str, int]:
        """The totals as a dict (parameter counts and byte sizes)."""
        keys = ("total_params", "trainable_params", "non_trainable_params", "shared_params",
                "input_bytes", "param_bytes", "buffer_bytes", "activation_bytes")
        return {k: getattr(self, k) for k in keys}

    @property
    def total_bytes(self) -> int:
        """Estimated memory of one forward pass: inputs + parameters + buffers + activations."""
        return self.input_bytes + self.param_bytes + self.buffer_bytes + self.activation_bytes

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__


def summary(model, input_size=None, *example_inputs, input_data=None, dtypes=None,
            device=None, depth: int | None = None, verbose: int = 1) -> ModelSummary:
    """Summarize ``model`` as a table: module paths, types, output shapes, parameters, memory.

    The model runs once on the given inputs (or on zeros of ``input_size``) under ``no_grad``
    and in eval mode, so Dropout draws nothing and BatchNorm updates nothing; afterwards every
    module's ``training`` flag and every buffer's values are restored. Lazy modules are
    materialized by that run. Without any input the table still lists the parameters (output
    shapes are ``--``), unless the model has lazy parameters, which need the dry run.

    Args:
        model: the ``nn.Module``.
        input_size: the shape of the input, batch dimension included (torchinfo's
            convention), e.g. ``(64, 1, 8, 8)``; a list of shapes for several inputs. A Tensor
            here is taken as the first example input, so ``summary(model, x)`` works.
        *example_inputs: further example input tensors (or all of them, after
            ``input_size=None``), passed to ``model`` positionally.
        input_data: torchinfo's spelling: a Tensor, or a list/tuple of positional inputs.
        dtypes: one dtype per shape of ``input_size`` (default: the default float dtype).
        device: where the zeros of ``input_size`` are created (and example inputs moved);
            default: the device of the model's first materialized parameter or buffer, else cpu.
        depth: show rows down to this nesting depth (the model itself is depth 0); the totals
            always cover the whole model. ``None`` shows every module.
        verbose: ``0`` returns the summary without printing it; ``1`` (default) prints it too.

    Returns:
        ModelSummary: ``.text`` (also ``str()``), ``.rows``, ``.totals`` and total attributes.

    Raises:
        TypeError: ``model`` is not a Module, or an input is not a Tensor / shape.
        ValueError: both ``input_size`` shapes and ``input_data`` are given, a shape is not
            made of positive ints, or the model is lazy and no input was given.

    Example:
        >>> from lamina import nn
        >>> from lamina.utils import summary
        >>> net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(2))
        >>> summary(net, (4, 3), verbose=0).total_params  # 3*8+8 + 8*2+2
        50
    """
    if not isinstance(model, lamina.nn.Module):
        raise TypeError(f"summary(): model must be an nn.Module; got {type(model).__name__}")
    if not isinstance(verbose, int):
        raise TypeError(f"summary(): verbose must be an int (0 or 1); got {verbose!r}")
    if depth is not None and (not isinstance(depth, int) or depth < 0):
        raise ValueError(f"summary(): depth must be a non-negative int or None; got {depth!r}")
    inputs = _collect_inputs(model, input_size, example_inputs, input_data, dtypes, device)

    lazy_ids = {id(m) for m in model.modules() if _has_lazy_state(m)}
    if inputs is None and lazy_ids:
        first = next(n for n, m in model.named_modules() if id(m) in lazy_ids)
        raise ValueError(
            f"summary(): module {first or type(model).__name__!r} has lazy parameters that are "
            "not materialized yet; expected input_size or example inputs for a dry run, "
            "got none")

    calls: dict[int, list] = {}
    if inputs is not None:
        _dry_run(model, inputs, calls)

    rows = _rows(model, calls, lazy_ids)
    totals = _totals(model, inputs, calls)
    text = _render(model, rows, totals, depth)
    result = ModelSummary(text, rows, totals)
    if verbose:
        print(text)
    return result


# ---------------------------------------------------------------------------- inputs
def _collect_inputs(model, input_size, example_inputs, input_data, dtypes, device):
    """The positional inputs of the dry run, or None when there are none."""
    tensors: list = []
    shapes: list = []
    if isinstance(input_size, lamina.Tensor):
        tensors.append(input_size)
    elif input_size is not None:
        if is_shape(input_size):
            shapes = [tuple(input_size)]
        elif isinstance(input_size, (tuple, list)) and input_size and all(
                is_shape(s) for s in input_size):
            shapes = [tuple(s) for s in input_size]
        else:
            raise TypeError("summary(): input_size must be a shape such as (64, 1, 8, 8), a "
                            f"list of shapes, or a Tensor; got {input_size!r}")
        for s in shapes:
            if any(d <= 0 for d in s):
                raise ValueError(f"summary(): input_size dimensions must be positive; got {s}")
    tensors.extend(example_inputs)
    if input_data is not None:
        if shapes:
            raise ValueError("summary(): give either input_size shapes or input_data, not both")
        tensors.extend(input_data if isinstance(input_data, (tuple, list)) else [input_data])
    if shapes and tensors:
        raise ValueError("summary(): give either input_size shapes or example inputs, not both")
    if not shapes and not tensors:
        return None

    if device is None:
        device = _model_device(model)
    else:
        device = lamina.device(device)
    if shapes:
        if dtypes is None:
            dtypes = [lamina.get_default_dtype()] * len(shapes)
        elif len(dtypes) != len(shapes):
            raise ValueError(f"summary(): expected one dtype per input shape ({len(shapes)}); "
                             f"got {len(dtypes)}")
        return [lamina.zeros(s, dtype=dt, device=device) for s, dt in zip(shapes, dtypes)]
    return list(tensors)


def _model_device(model):
    tensors = (*model.parameters(), *model.buffers())
    for t in tensors:
        if not is_lazy(t):
            return t.device
    for t in tensors:  # all lazy: they still know where they will live (module.to moves them)
        dev = getattr(t, "device", None)
        if dev is not None:
            return dev
    return lamina.device("cpu")


def _has_lazy_state(module) -> bool:
    return any(is_lazy(t) for t in (*module.parameters(recurse=False),
                                    *module.buffers(recurse=False)))


# ---------------------------------------------------------------------------- dry run
def _describe(out):
    """(shape description, bytes) of a module output: tensors, sequences and dicts of them."""
    if isinstance(out, lamina.Tensor):
        return list(out.shape), out.numel() * out.element_size()
    if isinstance(out, (tuple, list)):
        parts = [_describe(o) for o in out]
        return [p[0] for p in parts], sum(p[1] for p in parts)
    if isinstance(out, dict):
        parts = {k: _describe(v) for k, v in out.items()}
        return {k: p[0] for k, p in parts.items()}, sum(p[1] for p in parts.values())
    return None, 0


def _dry_run(model, inputs, calls) -> None:
    """Run ``model(*inputs)`` (the dry run of ``nn.utils.materialize``: eval mode, no_grad);
    record each module call's output."""
    # Eval mode already keeps BatchNorm's statistics still; the copies also cover custom
    # modules that update buffers in forward. Lazy buffers have no values to keep yet.
    saved = [(b, b.detach().clone()) for b in model.buffers() if not is_lazy(b)]
    handles = []
    # containers return their children's tensors: only leaves' outputs count as activations
    leaves = {id(m) for m in model.modules() if next(m.children(), None) is None}

    def hook(module, args, output):
        calls.setdefault(id(module), []).append((*_describe(output), id(module) in leaves))

    try:
        for m in model.modules():
            handles.append(m.register_forward_hook(hook))
        dry_forward(model, inputs)
    finally:
        for h in handles:
            h.remove()
        with lamina.no_grad():
            for b, copy in saved:
                if b.shape == copy.shape:
                    b.copy_(copy)


# ---------------------------------------------------------------------------- rows, totals
def _rows(model, calls, lazy_ids) -> list[dict]:
    owner: dict[int, str] = {}  # id(param) -> path of the first row that counted it
    first_path: dict[int, str] = {}  # id(module) -> its first path
    occurrence: dict[int, int] = {}
    named = list(model.named_modules(remove_duplicate=False))
    npaths: dict[int, int] = {}
    for _, m in named:
        npaths[id(m)] = npaths.get(id(m), 0) + 1
    rows = []
    for path, m in named:
        k = occurrence.get(id(m), 0)
        occurrence[id(m)] = k + 1
        mcalls = calls.get(id(m), [])
        # A module reachable under several paths and called once per path (a tied layer in a
        # Sequential): the k-th path gets the k-th call.
        call = mcalls[k] if k < len(mcalls) else (mcalls[-1] if mcalls else None)
        own = [p for _, p in m.named_parameters(recurse=False)]
        new = shared = 0
        shared_with = None
        for p in own:
            if id(p) in owner:
                shared += p.numel()
                shared_with = shared_with or owner[id(p)]
            else:
                owner[id(p)] = path
                new += p.numel()
        flags = {p.requires_grad for p in own}
        trainable = None if not own else ("partial" if len(flags) == 2 else flags.pop())
        note = []
        if k > 0:
            note.append(f"same module as {_show_path(first_path[id(m)])}")
        elif shared:
            note.append(f"shares {shared:,} params with {_show_path(shared_with)}")
        first_path.setdefault(id(m), path)
        if id(m) in lazy_ids and k == 0:
            note.append("lazy, materialized")
        if k == 0 and len(mcalls) > npaths[id(m)]:
            note.append(f"called {len(mcalls)}x")
        rows.append({
            "path": path,
            "name": path.rsplit(".", 1)[-1] if path else "",
            "depth": path.count(".") + 1 if path else 0,
            "type": type(m).__name__,
            "output_shape": call[0] if call else None,
            "calls": len(mcalls),
            "own_params": new + shared,
            "params": new,
            "shared_params": shared,
            "shared_with": shared_with,
            "trainable": trainable,
            "lazy": id(m) in lazy_ids,
            "note": "; ".join(note),
        })
    return rows


def _totals(model, inputs, calls) -> dict[str, int]:
    params = list(model.parameters())  # distinct tensors, as torch counts them
    seen: dict[int, int] = {}
    for _, p in model.named_parameters(remove_duplicate=False):
        seen[id(p)] = seen.get(id(p), 0) + 1
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    leaf_bytes = sum(c[1] for cs in calls.values() for c in cs if c[2])
    return {
        "total_params": total,
        "trainable_params": trainable,
        "non_trainable_params": total - trainable,
        "shared_params": sum(p.numel() for p in params if seen[id(p)] > 1),
        "input_bytes": sum(_describe(x)[1] for x in inputs) if inputs else 0,
        "param_bytes": sum(p.numel() * p.element_size() for p in params),
        "buffer_bytes": sum(b.numel() * b.element_size() for b in model.buffers()),
        "activation_bytes": leaf_bytes,
    }


# ---------------------------------------------------------------------------- text
def _show_path(path: str) -> str:
    return path if path else "(model)"


def _fmt_shape(shape) -> str:
    if shape is None:
        return "--"
    if isinstance(shape, dict):
        return "{" + ", ".join(f"{k}: {_fmt_shape(v)}" for k, v in shape.items()) + "}"
    return "[" + ", ".join(_fmt_shape(s) if isinstance(s, (list, dict)) or s is None
                           else str(s) for s in shape) + "]"


def _fmt_mb(x: float) -> str:
    # two decimals, as torchinfo prints; small models would read 0.00 everywhere, so below
    # 0.01 MB two significant digits are shown instead
    return f"{x:.2f}" if x >= 0.01 or x == 0 else f"{x:.2g}"


def _fmt_trainable(flag) -> str:
    return {None: "--", True: "True", False: "False", "partial": "Partial"}[flag]


def _render(model, rows, totals, depth) -> str:
    header = ("Layer (path)", "Type", "Output shape", "Param #", "Trainable", "Note")
    body = []
    for r in rows:
        if depth is not None and r["depth"] > depth:
            continue
        indent = "  " * r["depth"]
        params = "--" if not r["own_params"] else f"{r['params']:,}"
        body.append((indent + _show_path(r["path"]), r["type"], _fmt_shape(r["output_shape"]),
                     params, _fmt_trainable(r["trainable"]), r["note"]))
    ncols = 6 if any(b[5] for b in body) else 5
    widths = [max(len(x[i]) for x in (header, *body)) for i in range(ncols)]

    def line(cells) -> str:
        out = []
        for i in range(ncols):
            # numbers read best right-aligned; everything else left-aligned
            out.append(cells[i].rjust(widths[i]) if i == 3 else cells[i].ljust(widths[i]))
        return "  ".join(out).rstrip()

    width = max(sum(widths) + 2 * (ncols - 1), 60)
    thick, thin = "=" * width, "-" * width
    mb = {k: totals[k] / _MB for k in ("input_bytes", "param_bytes", "buffer_bytes",
                                       "activation_bytes")}
    mb["total"] = sum(mb.values())
    mb = {k: _fmt_mb(v) for k, v in mb.items()}
    lines = [f"Model summary: {type(model).__name__}", thick, line(header), thick]
    lines += [line(b) for b in body]
    lines += [
        thick,
        f"Total params: {totals['total_params']:,}",
        f"Trainable params: {totals['trainable_params']:,}",
        f"Non-trainable params: {totals['non_trainable_params']:,}",
    ]
    if totals["shared_params"]:
        lines.append(f"Shared params (counted once): {totals['shared_params']:,}")
    lines += [
        thin,
        f"Input size (MB): {mb['input_bytes']}",
        f"Params size (MB): {mb['param_bytes']}",
        f"Buffers size (MB): {mb['buffer_bytes']}",
        f"Activations, forward pass (MB): {mb['activation_bytes']}",
        f"Estimated total size (MB): {mb['total']}",
        thick,
    ]
    return "\n".join(lines)
