"""The op catalogue's two sweeps: float64 finite differences and float32 parity with torch."""

from __future__ import annotations

import gc
import weakref
import zlib

import numpy as np
import pytest
import torch
from oracle_helpers import assert_close, lt, tt

import lamina

from .op_db import OPS, make_inputs

CASES = [pytest.param(op, i, id=f"{op.name}-{i}") for op in OPS for i in range(len(op.samples))]


def _outs(r):
    return list(r) if isinstance(r, (tuple, list)) else [r]


def _seed(op, i):
    return zlib.crc32(f"{op.name}/{i}".encode())


def _needs_grad(op, k):
    return op.grad is None or k in op.grad


@pytest.mark.parametrize("op,i", CASES)
def test_parity_with_torch(op, i):
    arrs = make_inputs(op.samples[i], op.domain, np.float32, _seed(op, i))
    ls = [lt(a, _needs_grad(op, k)) for k, a in enumerate(arrs)]
    ts = [tt(a, _needs_grad(op, k)) for k, a in enumerate(arrs)]
    lo = _outs(op.fn(lamina, *ls))
    to = _outs((op.torch_fn or op.fn)(torch, *ts))
    assert len(lo) == len(to)
    rng = np.random.RandomState(1)
    lsum = tsum = None
    for k, (a, b) in enumerate(zip(lo, to)):
        assert isinstance(a, lamina.Tensor)
        assert_close(a, b, atol=op.atol, rtol=op.rtol, msg=f"output {k}")
        assert a.requires_grad == b.requires_grad, f"output {k} requires_grad"
        if b.requires_grad:
            w = rng.standard_normal(tuple(b.shape)).astype(np.float32)
            lsum = (a * lt(w)).sum() if lsum is None else lsum + (a * lt(w)).sum()
            tsum = (b * tt(w)).sum() if tsum is None else tsum + (b * tt(w)).sum()
    if tsum is None:
        return
    lsum.backward()
    tsum.backward()
    for k, (a, b) in enumerate(zip(ls, ts)):
        if b.grad is None:
            assert a.grad is None or not a.grad._data.any(), f"input {k}: torch has no grad"
            continue
        assert a.grad is not None, f"input {k} got no gradient"
        assert_close(a.grad, b.grad, atol=op.atol * 10, rtol=op.rtol * 10, msg=f"grad {k}")


@pytest.mark.parametrize("op,i", [c for c in CASES if c.values[0].gradcheck])
def test_gradcheck_float64(op, i):
    arrs = make_inputs(op.samples[i], op.domain, np.float64, _seed(op, i))
    ins = [lt(a, _needs_grad(op, k)) for k, a in enumerate(arrs)]

    def f(*xs):
        outs = [o for o in _outs(op.fn(lamina, *xs)) if o.requires_grad]
        return tuple(outs)

    if not f(*ins):
        pytest.skip("no differentiable output")
    assert lamina.autograd.gradcheck(f, ins)


@pytest.mark.parametrize("op,i", [c for c in CASES if c.values[1] == 0])
def test_graph_is_freed_without_gc(op, i):
    # a reference cycle through a node would keep its saved arrays alive until a GC pass
    arrs = make_inputs(op.samples[i], op.domain, np.float32, _seed(op, i))
    ins = [lt(a, _needs_grad(op, k)) for k, a in enumerate(arrs)]
    gc.disable()
    try:
        outs = _outs(op.fn(lamina, *ins))
        refs = [weakref.ref(o.grad_fn) for o in outs if o.grad_fn is not None]
        del outs
        assert refs and all(r() is None for r in refs)
    finally:
        gc.enable()
