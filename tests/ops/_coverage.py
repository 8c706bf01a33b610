"""Which Op classes the op catalogue (tests/ops/op_db.py) exercises.

Each catalogue entry runs once in float64 with grad; every node of the resulting graphs names
the Op class that made it. The mirrored test file of each ``lamina/ops`` module checks that
every Op defined there shows up (or is on the list below, with where it is tested instead).
"""

from __future__ import annotations

import functools
import importlib
import inspect

import numpy as np

import lamina
from lamina.ops._op import Op

from .op_db import OPS, make_inputs


@functools.cache
def covered() -> frozenset:
    seen = set()
    for op in OPS:
        for i, shapes in enumerate(op.samples):
            arrs = make_inputs(shapes, op.domain, np.float64, i)
            ts = [lamina.tensor(a, requires_grad=op.grad is None or k in op.grad)
                  for k, a in enumerate(arrs)]
            try:
                out = op.fn(lamina, *ts)
            except Exception:  # noqa: BLE001 - the catalogue tests report these
                continue
            stack = [o.grad_fn for o in (out if isinstance(out, (tuple, list)) else [out])
                     if isinstance(o, lamina.Tensor) and o.grad_fn is not None]
            done = set()
            while stack:
                n = stack.pop()
                if id(n) in done:
                    continue
                done.add(id(n))
                seen.add(getattr(n, "op", None))
                for nxt in getattr(n, "next", ()) or ():
                    if isinstance(nxt, tuple) and nxt and nxt[0] is not None:
                        stack.append(nxt[0])
    return frozenset(seen)


def ops_of(module: str) -> list:
    mod = importlib.import_module(f"lamina.ops.{module}")
    return sorted((c for c in vars(mod).values()
                   if inspect.isclass(c) and issubclass(c, Op) and c is not Op
                   and c.__module__ == mod.__name__ and "forward" in vars(c)),
                  key=lambda c: c.__name__)


def missing(module: str, elsewhere: dict) -> list:
    """Ops of ``lamina.ops.<module>`` neither in the catalogue nor in ``elsewhere``."""
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for where in elsewhere.values():
        for path in where.split("(")[0].split(","):
            path = path.strip()
            assert os.path.exists(os.path.join(os.path.dirname(root), path)), path
    cov = covered()
    return [c.__name__ for c in ops_of(module) if c not in cov and c.__name__ not in elsewhere]
