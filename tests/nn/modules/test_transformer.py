"""nn.Transformer and its encoder/decoder stacks and layers against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from tests.oracle_helpers import npy

RNG = np.random.default_rng(7)
TOL = {"atol": 2e-5, "rtol": 2e-4}


def _both(seed, build):
    torch.manual_seed(seed)
    t = build(torch)
    lamina.manual_seed(seed)
    m = build(lamina)
    return t, m


def _same_params(t, m):
    tn, ln = dict(t.named_parameters()), dict(m.named_parameters())
    assert list(tn) == list(ln)
    for k in tn:
        assert tuple(tn[k].shape) == tuple(ln[k].shape), k
        np.testing.assert_array_equal(npy(ln[k]), npy(tn[k]), err_msg=k)
    assert list(t.state_dict()) == list(m.state_dict())


def _close_grads(t, m, tol=TOL):
    for (n, a), (_, b) in zip(m.named_parameters(), t.named_parameters()):
        if b.grad is None:
            assert a.grad is None, n
            continue
        np.testing.assert_allclose(npy(a.grad), npy(b.grad), err_msg=n, **tol)


def _x(shape):
    a = RNG.standard_normal(shape).astype(np.float32)
    return torch.tensor(a, requires_grad=True), lamina.tensor(a, requires_grad=True)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_parity(norm_first, batch_first, activation):
    def build(lib):
        return lib.nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.0,
                                              activation=activation, batch_first=batch_first,
                                              norm_first=norm_first)

    t, m = _both(0, build)
    _same_params(t, m)
    assert repr(t) == repr(m)
    tx, lx = _x((2, 5, 16) if batch_first else (5, 2, 16))
    kpm = np.zeros((2, 5), dtype=bool)
    kpm[1, -1] = True
    to = t(tx, src_key_padding_mask=torch.tensor(kpm))
    lo = m(lx, src_key_padding_mask=lamina.tensor(kpm))
    np.testing.assert_allclose(npy(lo), npy(to), **TOL)
    to.pow(2).sum().backward()
    lo.pow(2).sum().backward()
    np.testing.assert_allclose(npy(lx.grad), npy(tx.grad), **TOL)
    _close_grads(t, m)


def test_encoder_layer_callable_activation_and_no_bias():
    def build(lib):
        return lib.nn.TransformerEncoderLayer(8, 2, 16, 0.0, activation=lib.nn.functional.silu,
                                              bias=False, layer_norm_eps=1e-6)

    t, m = _both(1, build)
    _same_params(t, m)
    assert m.activation_relu_or_gelu == 0
    tx, lx = _x((3, 2, 8))
    np.testing.assert_allclose(npy(m(lx)), npy(t(tx)), **TOL)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_parity(norm_first):
    def build(lib):
        return lib.nn.TransformerDecoderLayer(16, 2, 24, 0.0, norm_first=norm_first)

    t, m = _both(2, build)
    _same_params(t, m)
    tt_, lt_ = _x((4, 3, 16))
    tmem, lmem = _x((6, 3, 16))
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(4)
    lmask = lamina.nn.Transformer.generate_square_subsequent_mask(4)
    to = t(tt_, tmem, tgt_mask=tmask, tgt_is_causal=True)
    lo = m(lt_, lmem, tgt_mask=lmask, tgt_is_causal=True)
    np.testing.assert_allclose(npy(lo), npy(to), **TOL)
    to.sum().backward()
    lo.sum().backward()
    np.testing.assert_allclose(npy(lmem.grad), npy(tmem.grad), **TOL)
    _close_grads(t, m)


def test_square_subsequent_mask():
    for sz in (1, 4):
        a = torch.nn.Transformer.generate_square_subsequent_mask(sz)
        b = lamina.nn.Transformer.generate_square_subsequent_mask(sz)
        np.testing.assert_array_equal(npy(b), npy(a))
        assert b.dtype == lamina.float32
    b = lamina.nn.Transformer.generate_square_subsequent_mask(3, dtype=lamina.float64)
    assert b.dtype == lamina.float64


@pytest.mark.parametrize("batch_first", [False, True])
def test_full_transformer_train_and_eval(batch_first):
    def build(lib):
        return lib.nn.Transformer(d_model=16, nhead=2, num_encoder_layers=2,
                                  num_decoder_layers=2, dim_feedforward=32, dropout=0.1,
                                  batch_first=batch_first)

    t, m = _both(3, build)
    _same_params(t, m)
    assert repr(t) == repr(m)
    N, S, T = 2, 5, 4
    ts, ls = _x((N, S, 16) if batch_first else (S, N, 16))
    tg, lg = _x((N, T, 16) if batch_first else (T, N, 16))
    tmask = t.generate_square_subsequent_mask(T)
    lmask = m.generate_square_subsequent_mask(T)
    spm = np.zeros((N, S), dtype=bool)
    spm[0, -2:] = True
    # train mode: dropout draws come from the same generator in the same order as torch's
    torch.manual_seed(5)
    lamina.manual_seed(5)
    to = t(ts, tg, tgt_mask=tmask, src_key_padding_mask=torch.tensor(spm),
           memory_key_padding_mask=torch.tensor(spm))
    lo = m(ls, lg, tgt_mask=lmask, src_key_padding_mask=lamina.tensor(spm),
           memory_key_padding_mask=lamina.tensor(spm))
    np.testing.assert_allclose(npy(lo), npy(to), **TOL)
    to.pow(2).mean().backward()
    lo.pow(2).mean().backward()
    np.testing.assert_allclose(npy(ls.grad), npy(ts.grad), **TOL)
    _close_grads(t, m)
    t.eval()
    m.eval()
    with torch.no_grad():
        to = t(ts, tg, tgt_mask=tmask)
    with lamina.no_grad():
        lo = m(ls, lg, tgt_mask=lmask)
    np.testing.assert_allclose(npy(lo), npy(to), **TOL)


def test_encoder_stack_with_mask_and_nested_flag():
    def build(lib):
        layer = lib.nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True)
        return lib.nn.TransformerEncoder(layer, 3, norm=lib.nn.LayerNorm(8),
                                         enable_nested_tensor=False)

    t, m = _both(4, build)
    _same_params(t, m)
    tx, lx = _x((2, 6, 8))
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(6)
    lmask = lamina.nn.Transformer.generate_square_subsequent_mask(6)
    to = t(tx, mask=tmask, is_causal=True)
    lo = m(lx, mask=lmask, is_causal=True)
    np.testing.assert_allclose(npy(lo), npy(to), **TOL)
    # a bool mask (True = not allowed), unbatched input
    bm = np.triu(np.ones((6, 6), dtype=bool), 1)
    to = t(tx[0], mask=torch.tensor(bm))
    lo = m(lx[0], mask=lamina.tensor(bm))
    assert tuple(lo.shape) == (6, 8)
    np.testing.assert_allclose(npy(lo), npy(to), **TOL)


def test_state_dict_both_ways_and_module_paths():
    from lamina.nn.modules.transformer import (Transformer, TransformerDecoder,
                                               TransformerDecoderLayer, TransformerEncoder,
                                               TransformerEncoderLayer)

    assert lamina.nn.Transformer is Transformer
    for c in (TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
              TransformerEncoderLayer):
        assert getattr(lamina.nn, c.__name__) is c

    def build(lib):
        return lib.nn.Transformer(8, 2, 1, 1, 16, 0.0)

    t, _ = _both(6, build)
    lamina.manual_seed(60)
    m = build(lamina)
    m.load_state_dict({k: lamina.tensor(v.numpy()) for k, v in t.state_dict().items()})
    _same_params(t, m)
    torch.manual_seed(61)
    t2 = build(torch)
    t2.load_state_dict({k: torch.tensor(npy(v)) for k, v in m.state_dict().items()})
    _same_params(t2, m)


def test_subclassing_transformer():
    class Seq2Seq(lamina.nn.Transformer):
        def __init__(self, vocab, d):
            super().__init__(d_model=d, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                             dim_feedforward=16, dropout=0.0)
            self.emb = lamina.nn.Embedding(vocab, d)
            self.out = lamina.nn.Linear(d, vocab)

        def forward(self, src, tgt):
            mask = self.generate_square_subsequent_mask(tgt.size(0))
            h = super().forward(self.emb(src), self.emb(tgt), tgt_mask=mask)
            return self.out(h)

    m = Seq2Seq(11, 8)
    y = m(lamina.randint(0, 11, (5, 2)), lamina.randint(0, 11, (3, 2)))
    assert tuple(y.shape) == (3, 2, 11)
    y.sum().backward()
    assert m.emb.weight.grad is not None


def test_errors():
    m = lamina.nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="batch number"):
        m(lamina.randn(3, 2, 8), lamina.randn(3, 4, 8))
    with pytest.raises(RuntimeError, match="d_model"):
        m(lamina.randn(3, 2, 6), lamina.randn(3, 2, 6))
    with pytest.raises(RuntimeError, match="relu/gelu"):
        lamina.nn.TransformerEncoderLayer(8, 2, activation="tanh")


def test_whole_model_save_load(tmp_path):
    lamina.manual_seed(0)
    m = lamina.nn.Transformer(8, 2, 1, 1, 16, 0.0, activation="gelu")
    path = tmp_path / "model.pt"
    lamina.save(m, path)
    m2 = lamina.load(path, weights_only=False)
    assert type(m2) is lamina.nn.modules.transformer.Transformer
    x = lamina.randn(3, 2, 8)
    m.eval()
    m2.eval()
    with lamina.no_grad():
        assert lamina.equal(m(x, x), m2(x, x))
