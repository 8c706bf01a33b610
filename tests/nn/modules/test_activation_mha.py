"""nn.MultiheadAttention and F.multi_head_attention_forward against torch."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import lamina
from tests.oracle_helpers import assert_close, npy

RNG = np.random.default_rng(14)


def _pair(seed=0, **kw):
    torch.manual_seed(seed)
    t = torch.nn.MultiheadAttention(**kw)
    lamina.manual_seed(seed)
    m = lamina.nn.MultiheadAttention(**kw)
    return t, m


def _inputs(shapes, dtype=np.float32):
    arrs = [RNG.standard_normal(s).astype(dtype) for s in shapes]
    return ([torch.tensor(a, requires_grad=True) for a in arrs],
            [lamina.tensor(a, requires_grad=True) for a in arrs])


def test_init_matches_torch_seeded():
    for kw in ({"embed_dim": 8, "num_heads": 2},
               {"embed_dim": 8, "num_heads": 2, "add_bias_kv": True, "kdim": 5, "vdim": 3},
               {"embed_dim": 6, "num_heads": 3, "bias": False}):
        t, m = _pair(3, **kw)
        tn = dict(t.named_parameters())
        ln = dict(m.named_parameters())
        assert list(tn) == list(ln)
        for k in tn:
            assert tuple(tn[k].shape) == tuple(ln[k].shape), k
            np.testing.assert_array_equal(npy(ln[k]), npy(tn[k]), err_msg=k)
        assert list(t.state_dict()) == list(m.state_dict())
        assert repr(t) == repr(m)


def test_module_paths():
    from lamina.nn.modules.activation import MultiheadAttention
    from lamina.nn.modules.linear import NonDynamicallyQuantizableLinear

    m = MultiheadAttention(4, 2)
    assert type(m.out_proj) is NonDynamicallyQuantizableLinear
    assert isinstance(m.out_proj, lamina.nn.Linear)
    assert lamina.nn.MultiheadAttention is MultiheadAttention


CASES = list(itertools.product(
    [False, True],                 # batch_first
    [True, False],                 # need_weights
    ["none", "bool", "float"],     # attn_mask
    [False, True],                 # key_padding_mask
))


@pytest.mark.parametrize("batch_first,need_weights,mask,kpm", CASES)
def test_forward_backward_parity(batch_first, need_weights, mask, kpm):
    E, H, L, S, N = 8, 2, 4, 5, 3
    t, m = _pair(1, embed_dim=E, num_heads=H, batch_first=batch_first)
    shp_q = (N, L, E) if batch_first else (L, N, E)
    shp_k = (N, S, E) if batch_first else (S, N, E)
    (tq, tk, tv), (lq, lk, lv) = _inputs([shp_q, shp_k, shp_k])
    kw_t, kw_l = {}, {}
    if mask == "bool":
        a = RNG.random((L, S)) > 0.7
        a[:, 0] = False  # no fully masked rows (torch's explicit path gives NaN there)
        kw_t["attn_mask"], kw_l["attn_mask"] = torch.tensor(a), lamina.tensor(a)
    elif mask == "float":
        a = RNG.standard_normal((N * H, L, S)).astype(np.float32)
        kw_t["attn_mask"], kw_l["attn_mask"] = torch.tensor(a), lamina.tensor(a)
    if kpm:
        a = np.zeros((N, S), dtype=bool)
        a[0, -2:] = True
        if mask == "float":
            a = np.where(a, -1e4, 0).astype(np.float32)
        kw_t["key_padding_mask"], kw_l["key_padding_mask"] = torch.tensor(a), lamina.tensor(a)
    to, tw = t(tq, tk, tv, need_weights=need_weights, **kw_t)
    lo, lw = m(lq, lk, lv, need_weights=need_weights, **kw_l)
    assert tuple(lo.shape) == tuple(to.shape)
    assert_close(lo, to, atol=1e-5, rtol=1e-4)
    if need_weights:
        assert_close(lw, tw, atol=1e-5, rtol=1e-4)
    else:
        assert lw is None and tw is None
    g = RNG.standard_normal(tuple(to.shape)).astype(np.float32)
    to.backward(torch.tensor(g))
    lo.backward(lamina.tensor(g))
    for a, b in zip((lq, lk, lv), (tq, tk, tv)):
        assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-4)
    for (n, a), (_, b) in zip(m.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(npy(a.grad), npy(b.grad), atol=1e-5, rtol=1e-4, err_msg=n)


@pytest.mark.parametrize("opts", [
    {"add_bias_kv": True}, {"add_zero_attn": True}, {"add_bias_kv": True, "add_zero_attn": True},
    {"kdim": 5, "vdim": 3}, {"bias": False}, {"kdim": 5, "vdim": 3, "add_bias_kv": True},
])
@pytest.mark.parametrize("need_weights", [True, False])
def test_options_parity(opts, need_weights):
    E, H, L, S, N = 8, 4, 3, 6, 2
    t, m = _pair(2, embed_dim=E, num_heads=H, **opts)
    kd, vd = opts.get("kdim", E), opts.get("vdim", E)
    (tq, tk, tv), (lq, lk, lv) = _inputs([(L, N, E), (S, N, kd), (S, N, vd)], np.float64)
    t.double()
    m.double()
    a = np.zeros((N, S), dtype=bool)
    a[1, -1] = True
    to, tw = t(tq, tk, tv, key_padding_mask=torch.tensor(a), need_weights=need_weights,
               average_attn_weights=False)
    lo, lw = m(lq, lk, lv, key_padding_mask=lamina.tensor(a), need_weights=need_weights,
               average_attn_weights=False)
    assert_close(lo, to)
    if need_weights:
        assert tuple(lw.shape) == tuple(tw.shape)
        assert_close(lw, tw)
    (to ** 2).sum().backward()
    (lo ** 2).sum().backward()
    for a_, b_ in zip((lq, lk, lv), (tq, tk, tv)):
        assert_close(a_.grad, b_.grad)
    for (n, p), (_, q) in zip(m.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(npy(p.grad), npy(q.grad), atol=1e-9, err_msg=n)


def test_unbatched_and_self_attention_causal():
    E, H, L = 8, 2, 5
    t, m = _pair(4, embed_dim=E, num_heads=H)
    (tx,), (lx,) = _inputs([(L, E)])
    tm = torch.nn.Transformer.generate_square_subsequent_mask(L)
    lm = lamina.nn.Transformer.generate_square_subsequent_mask(L)
    for nw in (True, False):
        to, _ = t(tx, tx, tx, attn_mask=tm, is_causal=True, need_weights=nw)
        lo, _ = m(lx, lx, lx, attn_mask=lm, is_causal=True, need_weights=nw)
        assert tuple(lo.shape) == (L, E)
        assert_close(lo, to, atol=1e-5, rtol=1e-4)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        m(lx, lx, lx, is_causal=True)


def test_eval_mode_matches_and_dropout_draws_match_torch():
    E, H, L, N = 8, 2, 4, 3
    t, m = _pair(5, embed_dim=E, num_heads=H, dropout=0.3, batch_first=True)
    (tx,), (lx,) = _inputs([(N, L, E)])
    for nw in (True, False):
        torch.manual_seed(11)
        lamina.manual_seed(11)
        to, _ = t(tx, tx, tx, need_weights=nw)
        lo, _ = m(lx, lx, lx, need_weights=nw)
        assert_close(lo, to, atol=1e-5, rtol=1e-4)
    t.eval()
    m.eval()
    with torch.no_grad():
        to, tw = t(tx, tx, tx)
    with lamina.no_grad():
        lo, lw = m(lx, lx, lx)
    assert_close(lo, to, atol=1e-5, rtol=1e-4)
    assert_close(lw, tw, atol=1e-5, rtol=1e-4)


def test_state_dict_both_ways():
    t, m = _pair(6, embed_dim=8, num_heads=2, kdim=4, vdim=4, add_bias_kv=True)
    lamina.manual_seed(99)
    m2 = lamina.nn.MultiheadAttention(8, 2, kdim=4, vdim=4, add_bias_kv=True)
    m2.load_state_dict({k: lamina.tensor(v.numpy()) for k, v in t.state_dict().items()})
    for k, v in t.state_dict().items():
        np.testing.assert_array_equal(npy(m2.state_dict()[k]), v.numpy())
    torch.manual_seed(98)
    t2 = torch.nn.MultiheadAttention(8, 2, kdim=4, vdim=4, add_bias_kv=True)
    t2.load_state_dict({k: torch.tensor(npy(v)) for k, v in m.state_dict().items()})
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(t2.state_dict()[k].numpy(), npy(v))


def test_functional_signature_matches_torch():
    import inspect

    a = inspect.signature(torch.nn.functional.multi_head_attention_forward)
    b = inspect.signature(lamina.nn.functional.multi_head_attention_forward)
    assert list(a.parameters) == list(b.parameters)
    for n in a.parameters:
        assert a.parameters[n].default == b.parameters[n].default, n
    a = inspect.signature(torch.nn.MultiheadAttention.forward)
    b = inspect.signature(lamina.nn.MultiheadAttention.forward)
    assert list(a.parameters) == list(b.parameters)


def test_bad_input_errors():
    m = lamina.nn.MultiheadAttention(8, 2)
    with pytest.raises(AssertionError, match="embed_dim must be divisible"):
        lamina.nn.MultiheadAttention(8, 3)
    with pytest.raises(ValueError, match="greater than 0"):
        lamina.nn.MultiheadAttention(0, 2)
    x = lamina.randn(3, 2, 6)
    with pytest.raises(AssertionError, match="embed_dim=8"):
        m(x, x, x)
    x = lamina.randn(3, 2, 8)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        m(x, x, x, attn_mask=lamina.zeros(2, 2))
