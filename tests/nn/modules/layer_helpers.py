"""Parity helpers for the layer tests of issue 6 (conv, pooling, norms, embeddings, padding,
upsampling, pixel shuffle, fold): a lamina layer and a torch layer built with the same arguments
get the same weights and buffers (copied through NumPy), then the same input and upstream
gradient; outputs, input gradients, parameter gradients and buffers must agree."""

from __future__ import annotations

import numpy as np
import torch

import lamina
from tests.oracle_helpers import assert_close, lt, npy, tt


def pair(name: str, *args, **kwargs):
    """The lamina layer and the torch layer ``name(*args, **kwargs)``, lamina's state copied
    from torch's (so that the comparison does not depend on the init)."""
    t = getattr(torch.nn, name)(*args, **kwargs)
    m = getattr(lamina.nn, name)(*args, **kwargs)
    copy_state(m, t)
    return m, t


def copy_state(m, t) -> None:
    """torch module -> lamina module: every state_dict entry, by name, through NumPy."""
    sm, st = m.state_dict(), t.state_dict()
    assert list(sm) == list(st)
    with lamina.no_grad():
        for k, v in st.items():
            sm[k].copy_(lt(npy(v)))


def check_repr_and_state(m, t) -> None:
    """repr text, parameter names and shapes, state_dict keys agree."""
    assert repr(m) == repr(t)
    assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    assert list(m.state_dict()) == list(t.state_dict())


def run_both(m, t, x, *, grad=True, extra=(), rtol=None, atol=None, seed=0):
    """Forward ``x`` (NumPy) through both layers, compare outputs; when ``grad``, backward the
    same random upstream gradient and compare the input and parameter gradients. Floating
    ``extra`` arguments are passed after the input (NumPy arrays become tensors). Returns the
    two outputs."""
    xl = lt(x, requires_grad=grad and x.dtype.kind == "f")
    xt = tt(x, requires_grad=grad and x.dtype.kind == "f")
    el = [lt(e) if isinstance(e, np.ndarray) else e for e in extra]
    et = [tt(e) if isinstance(e, np.ndarray) else e for e in extra]
    yl = m(xl, *el)
    yt = t(xt, *et)
    ol = yl[0] if isinstance(yl, tuple) else yl
    ot = yt[0] if isinstance(yt, tuple) else yt
    _close(ol, ot, rtol, atol, "forward")
    if isinstance(yl, tuple):
        for a, b in zip(yl[1:], yt[1:]):
            _close(a, b, None, None, "forward (extra output)")
    if grad:
        g = np.random.RandomState(seed).standard_normal(tuple(ot.shape)).astype(npy(ot).dtype)
        ol.backward(lt(g))
        ot.backward(tt(g))
        if xl.requires_grad:
            _close(xl.grad, xt.grad, rtol, atol, "input grad")
        for (n, p), (_, q) in zip(m.named_parameters(), t.named_parameters()):
            if q.grad is None:
                assert p.grad is None, n
            else:
                _close(p.grad, q.grad, rtol, atol, f"grad of {n}")
    for (n, b), (_, c) in zip(m.named_buffers(), t.named_buffers()):
        _close(b, c, rtol, atol, f"buffer {n}")
    return yl, yt


def _close(a, e, rtol, atol, msg):
    """assert_close with an absolute tolerance scaled by the size of the expected values:
    float32 sums of many terms (conv and norm gradients) differ by a few ulps of the largest."""
    if atol is None and npy(e).dtype == np.float32 and npy(e).size:
        atol = 2e-5 * max(1.0, float(np.abs(npy(e)).max()))
    assert_close(a, e, rtol=rtol, atol=atol, msg=msg)


def rand(*shape, seed=0, dtype=np.float32):
    return np.random.RandomState(seed).standard_normal(shape).astype(dtype)
