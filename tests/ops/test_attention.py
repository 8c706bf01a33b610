"""F.scaled_dot_product_attention (lamina/ops/attention.py) against torch, plus gradchecks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import lamina
import lamina.nn.functional as F
from tests.oracle_helpers import npy

RNG = np.random.default_rng(3)


def _run(qs, ks, vs, mask=None, dtype=np.float64, mask_grad=False, **kw):
    arrs = [RNG.standard_normal(s).astype(dtype) for s in (qs, ks, vs)]
    tq = [torch.tensor(a, requires_grad=True) for a in arrs]
    lq = [lamina.tensor(a, requires_grad=True) for a in arrs]
    tm = lm = None
    if mask is not None:
        tm = torch.tensor(mask, requires_grad=mask_grad)
        lm = lamina.tensor(mask, requires_grad=mask_grad)
    to = TF.scaled_dot_product_attention(*tq, attn_mask=tm, **kw)
    lo = F.scaled_dot_product_attention(*lq, attn_mask=lm, **kw)
    assert tuple(lo.shape) == tuple(to.shape)
    assert lo.dtype == getattr(lamina, str(to.dtype).split(".")[1])
    tol = {"atol": 1e-10, "rtol": 1e-9} if dtype == np.float64 else {"atol": 2e-6, "rtol": 1e-5}
    np.testing.assert_allclose(npy(lo), npy(to), **tol)
    g = RNG.standard_normal(tuple(to.shape)).astype(dtype)
    to.backward(torch.tensor(g))
    lo.backward(lamina.tensor(g))
    for n, a, b in zip("qkv", lq, tq):
        np.testing.assert_allclose(npy(a.grad), npy(b.grad), err_msg=n, **tol)
    if mask_grad:
        np.testing.assert_allclose(npy(lm.grad), npy(tm.grad), **tol)
    return lo


SHAPES = [
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)),
    ((4, 5), (6, 5), (6, 7)),                      # no batch dims
    ((2, 3, 4, 5), (1, 3, 6, 5), (3, 6, 7)),       # broadcast batch / head dims
    ((5, 1, 2, 3), (5, 1, 2, 3), (5, 1, 2, 3)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shapes", SHAPES)
def test_plain(shapes, dtype):
    _run(*shapes, dtype=dtype)


@pytest.mark.parametrize("L,S", [(4, 4), (4, 6), (6, 4)])
def test_causal(L, S):
    _run((2, 2, L, 3), (2, 2, S, 3), (2, 2, S, 3), is_causal=True)


def test_scale():
    _run((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), scale=0.37)


def test_bool_mask_with_fully_masked_row_gives_zeros():
    m = RNG.random((4, 6)) > 0.4
    m[2] = False
    out = _run((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), mask=m)
    assert np.all(npy(out)[:, :, 2] == 0)


@pytest.mark.parametrize("mshape", [(4, 6), (3, 1, 6), (2, 3, 4, 6), (1, 6)])
def test_float_mask_broadcast_with_grad(mshape):
    m = RNG.standard_normal(mshape)
    _run((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), mask=m, mask_grad=True)


def test_float_mask_with_inf():
    m = np.where(RNG.random((4, 6)) > 0.5, 0.0, -np.inf)
    m[:, 0] = 0.0
    _run((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), mask=m)


def test_gqa():
    _run((2, 6, 4, 5), (2, 2, 6, 5), (2, 2, 6, 7), enable_gqa=True)
    with pytest.raises(RuntimeError, match="enable_gqa"):
        F.scaled_dot_product_attention(lamina.randn(1, 4, 2, 3), lamina.randn(1, 2, 2, 3),
                                       lamina.randn(1, 2, 2, 3))


def test_dropout_draws_match_torch():
    q, k, v = (RNG.standard_normal((2, 3, 4, 5)).astype(np.float32) for _ in range(3))
    for p in (0.2, 0.7):
        torch.manual_seed(1)
        a = TF.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(v),
                                            dropout_p=p)
        lamina.manual_seed(1)
        lk = [lamina.tensor(x, requires_grad=True) for x in (q, k, v)]
        b = F.scaled_dot_product_attention(*lk, dropout_p=p)
        np.testing.assert_allclose(npy(b), npy(a), atol=2e-6, rtol=1e-5)
        b.sum().backward()
        assert all(t.grad is not None for t in lk)


def test_gradcheck_float64():
    def f(q, k, v, m):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m)

    args = [lamina.tensor(RNG.standard_normal(s), requires_grad=True)
            for s in ((2, 3, 4), (2, 5, 4), (2, 5, 3), (3, 5))]
    assert lamina.autograd.gradcheck(f, args)

    def g(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.5)

    assert lamina.autograd.gradcheck(g, args[:3])


def test_node_name_and_no_graph_under_no_grad():
    q = lamina.randn(2, 3, 4, requires_grad=True)
    y = F.scaled_dot_product_attention(q, q, q)
    assert type(y.grad_fn).__name__ == "ScaledDotProductAttentionBackward0"
    with lamina.no_grad():
        assert F.scaled_dot_product_attention(q, q, q).grad_fn is None


def test_errors():
    q = lamina.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=lamina.ones(3, 3, dtype=lamina.bool),
                                       is_causal=True)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(RuntimeError, match="last dim"):
        F.scaled_dot_product_attention(q, lamina.randn(2, 3, 5), q)
    with pytest.raises(RuntimeError, match="attn_mask dtype"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=lamina.ones(3, 3, dtype=lamina.int64))


def test_signature_matches_torch():
    import inspect

    # torch's is a builtin without a signature object: its documented one
    b = inspect.signature(F.scaled_dot_product_attention)
    assert [(n, p.default) for n, p in b.parameters.items()] == [
        ("query", inspect.Parameter.empty), ("key", inspect.Parameter.empty),
        ("value", inspect.Parameter.empty), ("attn_mask", None), ("dropout_p", 0.0),
        ("is_causal", False), ("scale", None), ("enable_gqa", False)]
