"""The fused recurrent op (lamina.ops.rnn.RNNLayer): float64 finite-difference gradchecks of
every mode (tanh, relu, LSTM with and without projection, GRU), both directions, with and
without biases and with a (packed-sequence) mask; the packed <-> padded gather / scatter ops;
the op's forward against a plain step-by-step reference; one node per layer-direction."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina.autograd import gradcheck
from lamina.ops.rnn import PackedToPadded, PaddedToPacked, rnn_layer
from tests.oracle_helpers import assert_close, lt

T, B, I, H, P = 4, 3, 2, 3, 2


def _p(shape, seed):
    return lt(np.random.default_rng(seed).standard_normal(shape) * 0.7, requires_grad=True)


def _args(mode, bias, proj):
    G = {"LSTM": 4, "GRU": 3}.get(mode, 1) * H
    hp = P if proj else H
    x = _p((T, B, I), 0)
    h0 = _p((B, hp), 1)
    c0 = _p((B, H), 2) if mode == "LSTM" else None
    w_ih = _p((G, I), 3)
    w_hh = _p((G, hp), 4)
    b_ih = _p((G,), 5) if bias else None
    b_hh = _p((G,), 6) if bias else None
    w_hr = _p((P, H), 7) if proj else None
    return [x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr]


MASK = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0], [1, 0, 0]], np.float64)[:, :, None]

CASES = [(m, bias, proj, rev, mask)
         for m in ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")
         for bias in (True, False)
         for proj in ((False, True) if m == "LSTM" else (False,))
         for rev in (False, True)
         for mask in (False, True)]


@pytest.mark.parametrize("mode,bias,proj,reverse,mask", CASES)
def test_gradcheck_float64(mode, bias, proj, reverse, mask):
    args = _args(mode, bias, proj)
    m = MASK if mask else None

    def f(*a):
        return rnn_layer(mode, *a, reverse=reverse, mask=m)

    assert gradcheck(f, args, eps=1e-6, atol=1e-6, rtol=1e-5)


def _reference(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse, mask):
    """A plain NumPy step loop (no fusion) to check the op's forward against."""
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    b_ih = 0 if b_ih is None else b_ih
    b_hh = 0 if b_hh is None else b_hh
    h, c = h0, c0
    ys = [None] * x.shape[0]
    for t in (range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])):
        gi = x[t] @ w_ih.T + b_ih
        gh = h @ w_hh.T + b_hh
        if mode == "LSTM":
            i, f, g, o = np.split(gi + gh, 4, axis=1)
            cn = sig(f) * c + sig(i) * np.tanh(g)
            hn = sig(o) * np.tanh(cn)
            if w_hr is not None:
                hn = hn @ w_hr.T
        elif mode == "GRU":
            r = sig(gi[:, :H] + gh[:, :H])
            z = sig(gi[:, H:2 * H] + gh[:, H:2 * H])
            n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
            hn = (1 - z) * n + z * h
        else:
            a = gi + gh
            hn = np.tanh(a) if mode == "RNN_TANH" else np.maximum(a, 0)
        mt = 1 if mask is None else mask[t]
        ys[t] = hn * mt
        h = mt * hn + (1 - mt) * h
        if mode == "LSTM":
            c = mt * cn + (1 - mt) * c
    return np.stack(ys), h, c


@pytest.mark.parametrize("mode,bias,proj,reverse,mask", CASES[::3])
def test_forward_matches_step_reference(mode, bias, proj, reverse, mask):
    args = _args(mode, bias, proj)
    m = MASK if mask else None
    out = rnn_layer(mode, *args, reverse=reverse, mask=m)
    arrs = [None if a is None else a.detach().numpy() for a in args]
    y, h, c = _reference(mode, *arrs, reverse, m)
    np.testing.assert_allclose(out[0].detach().numpy(), y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out[1].detach().numpy(), h, rtol=1e-12, atol=1e-12)
    if mode == "LSTM":
        np.testing.assert_allclose(out[2].detach().numpy(), c, rtol=1e-12, atol=1e-12)


def test_one_node_per_layer_direction():
    args = _args("LSTM", True, False)
    y, h, c = rnn_layer("LSTM", *args)
    assert y.grad_fn is h.grad_fn is c.grad_fn
    assert type(y.grad_fn).__name__ == "RnnBackward0"
    with lamina.no_grad():
        y2 = rnn_layer("LSTM", *args)[0]
    assert y2.grad_fn is None and not y2.requires_grad
    assert_close(y2, y)


def test_second_backward_raises_and_in_place_change_is_detected():
    args = _args("GRU", True, False)
    y, h = rnn_layer("GRU", *args)
    s = y.sum()
    s.backward(retain_graph=True)
    s.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        s.backward()
    args = _args("RNN_TANH", True, False)
    y, h = rnn_layer("RNN_TANH", *args)
    with lamina.no_grad():
        args[3].mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_packed_padded_gather_scatter_gradcheck():
    data = _p((5, 2), 0)
    idx = np.array([0, 1, 2, 3, 6])  # positions in a (3, 3) grid

    def f(d):
        return PackedToPadded.apply(d, idx, 3, 3, 0.0)

    assert gradcheck(f, [data])
    padded = _p((3, 3, 2), 1)

    def g(p):
        return PaddedToPacked.apply(p, idx)

    assert gradcheck(g, [padded])
    out = PackedToPadded.apply(data, idx, 3, 3, -2.0).detach().numpy()
    assert (out.reshape(9, 2)[[4, 5, 7, 8]] == -2.0).all()
