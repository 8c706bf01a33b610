"""nn.Embedding and nn.EmbeddingBag against torch: init (N(0, 1) bit for bit, padding row
zeroed), lookups and weight gradients (padding_idx, scale_grad_by_freq, max_norm),
from_pretrained (freeze), bags (sum/mean/max, offsets, include_last_offset,
per_sample_weights, padding_idx), reprs and state_dict keys."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from lamina import nn
from tests.nn.modules.layer_helpers import check_repr_and_state, pair, rand, run_both
from tests.oracle_helpers import assert_close, lt, npy, tt

IDX = np.array([[1, 2, 4, 5], [4, 3, 2, 9], [0, 0, 1, 4]], dtype=np.int64)


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 0}, {"padding_idx": -1},
                                {"scale_grad_by_freq": True},
                                {"padding_idx": 4, "scale_grad_by_freq": True},
                                {"max_norm": 1.0}, {"max_norm": 1.5, "norm_type": 1.0}])
def test_embedding_matches_torch(kw):
    m, t = pair("Embedding", 10, 3, **kw)
    check_repr_and_state(m, t)
    run_both(m, t, IDX)
    run_both(m, t, IDX[0])
    # max_norm renormalizes the looked-up rows of the weight in place
    assert_close(m.weight, t.weight)


def test_default_init_is_bit_identical_to_torch_with_padding_row_zeroed():
    lamina.manual_seed(2)
    torch.manual_seed(2)
    m, t = nn.Embedding(20, 7, padding_idx=3), torch.nn.Embedding(20, 7, padding_idx=3)
    np.testing.assert_array_equal(npy(m.weight), npy(t.weight))
    assert not npy(m.weight)[3].any()
    lamina.manual_seed(4)
    torch.manual_seed(4)
    m, t = nn.EmbeddingBag(5, 2), torch.nn.EmbeddingBag(5, 2)
    np.testing.assert_array_equal(npy(m.weight), npy(t.weight))


def test_from_pretrained_freeze_and_shares_weight():
    w = rand(4, 3)
    wl = lt(w)
    m = nn.Embedding.from_pretrained(wl)
    t = torch.nn.Embedding.from_pretrained(torch.from_numpy(w))
    assert repr(m) == repr(t)
    assert not m.weight.requires_grad
    assert_close(m(lt(np.array([1, 3]))), t(torch.tensor([1, 3])))
    m2 = nn.Embedding.from_pretrained(wl, freeze=False, padding_idx=1)
    assert m2.weight.requires_grad and m2.padding_idx == 1
    # from_pretrained does not zero the padding row (torch neither)
    np.testing.assert_array_equal(npy(m2.weight)[1], w[1])
    with pytest.raises(AssertionError, match="2-dimensional"):
        nn.Embedding.from_pretrained(lt(rand(3)))
    b = nn.EmbeddingBag.from_pretrained(wl, mode="sum")
    tb = torch.nn.EmbeddingBag.from_pretrained(torch.from_numpy(w), mode="sum")
    assert repr(b) == repr(tb) and not b.weight.requires_grad


def test_embedding_constructor_checks():
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 2, padding_idx=-6)
    with pytest.raises(AssertionError, match="Shape of weight does not match"):
        nn.Embedding(5, 2, _weight=lamina.zeros(4, 2))
    with pytest.raises(IndexError, match="index out of range"):
        nn.Embedding(5, 2)(lamina.tensor([5]))


def test_embedding_grad_fn_and_padding_grad():
    m = nn.Embedding(6, 2, padding_idx=2)
    y = m(lamina.tensor([2, 2, 1]))
    assert y.grad_fn.name() == "EmbeddingBackward0"
    y.sum().backward()
    assert npy(m.weight.grad)[2].tolist() == [0.0, 0.0]
    assert npy(m.weight.grad)[1].tolist() == [1.0, 1.0]


FLAT = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 7], dtype=np.int64)
OFFS = np.array([0, 4, 4, 7], dtype=np.int64)  # one empty bag


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("kw", [{}, {"padding_idx": 4}, {"max_norm": 1.0}])
def test_embedding_bag_matches_torch(mode, kw):
    m, t = pair("EmbeddingBag", 10, 3, mode=mode, **kw)
    check_repr_and_state(m, t)
    run_both(m, t, IDX)
    run_both(m, t, FLAT, extra=(OFFS,))


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_scale_grad_by_freq_divides_by_the_true_frequency(mode):
    # torch 2.13's CPU embedding_bag divides some rows by another index's count
    # (pytorch/pytorch#190063); lamina follows the documented rule, which torch's
    # F.embedding (and its CUDA embedding_bag) implement: the reference is embedding + reduce.
    m = nn.EmbeddingBag(10, 3, mode=mode, scale_grad_by_freq=True)
    w = npy(m.weight)
    wt = torch.from_numpy(w.copy()).requires_grad_()
    rows = torch.nn.functional.embedding(torch.from_numpy(IDX), wt, scale_grad_by_freq=True)
    ref = rows.sum(1) if mode == "sum" else rows.mean(1)
    g = rand(*ref.shape, seed=1)
    ref.backward(torch.from_numpy(g))
    y = m(lt(IDX))
    assert_close(y, ref)
    y.backward(lt(g))
    assert_close(m.weight.grad, wt.grad)


def test_embedding_bag_include_last_offset_and_per_sample_weights():
    m, t = pair("EmbeddingBag", 10, 3, mode="sum", include_last_offset=True)
    offs = np.array([0, 3, 3, 10], dtype=np.int64)
    run_both(m, t, FLAT, extra=(offs,))
    psw = rand(len(FLAT), seed=1)
    pl = lt(psw, requires_grad=True)
    pt = tt(psw, requires_grad=True)
    yl = m(lt(FLAT), lt(offs), per_sample_weights=pl)
    yt = t(torch.from_numpy(FLAT), torch.from_numpy(offs), per_sample_weights=pt)
    assert_close(yl, yt)
    yl.sum().backward()
    yt.sum().backward()
    assert_close(pl.grad, pt.grad)
    assert_close(m.weight.grad, t.weight.grad)


def test_embedding_bag_gradcheck():
    w = lt(rand(6, 2, dtype=np.float64), requires_grad=True)
    idx = lt(np.array([0, 2, 2, 5, 1], dtype=np.int64))
    offs = lt(np.array([0, 2], dtype=np.int64))
    for mode in ("sum", "mean", "max"):
        assert lamina.autograd.gradcheck(
            lambda a, mode=mode: nn.functional.embedding_bag(idx, a, offs, mode=mode), (w,))
    assert lamina.autograd.gradcheck(
        lambda a: nn.functional.embedding(idx, a), (w,))
