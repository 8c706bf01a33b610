"""nn.utils.rnn against torch: pad_sequence (batch_first, padding_value, padding_side),
pack_padded_sequence (enforce_sorted both ways), pad_packed_sequence (total_length),
pack_sequence, unpack_sequence, unpad_sequence, PackedSequence's fields and .to(); values,
gradients and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as TR

import lamina
import lamina.nn.utils.rnn as LR
from tests.oracle_helpers import assert_close, lt, npy, tt


def _seqs(lengths, feat=(3,), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n,) + feat).astype(np.float32) for n in lengths]


def _both(arrs):
    a = [lt(x, requires_grad=True) for x in arrs]
    b = [tt(x, requires_grad=True) for x in arrs]
    return a, b


def _backward_same(out_l, out_t, seed=1):
    w = np.random.default_rng(seed).standard_normal(tuple(out_t.shape)).astype(np.float32)
    (out_l * lt(w)).sum().backward()
    (out_t * tt(w)).sum().backward()


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("feat", [(3,), (), (2, 2)])
def test_pad_sequence(batch_first, padding_side, feat):
    a, b = _both(_seqs([2, 5, 1], feat))
    pl = LR.pad_sequence(a, batch_first=batch_first, padding_value=-1.5,
                         padding_side=padding_side)
    pt = TR.pad_sequence(b, batch_first=batch_first, padding_value=-1.5,
                         padding_side=padding_side)
    assert_close(pl, pt)
    _backward_same(pl, pt)
    for x, y in zip(a, b):
        assert_close(x.grad, y.grad)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce", [True, False])
def test_pack_and_pad_round_trip(batch_first, enforce):
    lengths = [5, 3, 3, 1] if enforce else [3, 5, 1, 3]
    x = np.random.default_rng(0).standard_normal(
        (4, 5, 2) if batch_first else (5, 4, 2)).astype(np.float32)
    xl = lt(x, requires_grad=True)
    xt = tt(x, requires_grad=True)
    pl = LR.pack_padded_sequence(xl, lengths, batch_first=batch_first, enforce_sorted=enforce)
    pt = TR.pack_padded_sequence(xt, torch.tensor(lengths), batch_first=batch_first,
                                 enforce_sorted=enforce)
    assert_close(pl.data, pt.data)
    assert_close(pl.batch_sizes, pt.batch_sizes)
    assert str(pl.batch_sizes.dtype) == "lamina.int64"
    for f in ("sorted_indices", "unsorted_indices"):
        if getattr(pt, f) is None:
            assert getattr(pl, f) is None
        else:
            assert_close(getattr(pl, f), getattr(pt, f))
    for total in (None, 7):
        ul, lenl = LR.pad_packed_sequence(pl, batch_first=batch_first, padding_value=0.5,
                                          total_length=total)
        ut, lent = TR.pad_packed_sequence(pt, batch_first=batch_first, padding_value=0.5,
                                          total_length=total)
        assert_close(ul, ut)
        assert_close(lenl, lent)
    _backward_same(ul, ut)
    assert_close(xl.grad, xt.grad)


def test_pack_sequence_unpack_unpad():
    arrs = _seqs([4, 2, 3])
    a, b = _both(arrs)
    for enforce in (False,):
        pl = LR.pack_sequence(a, enforce_sorted=enforce)
        pt = TR.pack_sequence(b, enforce_sorted=enforce)
        assert_close(pl.data, pt.data)
        for x, y in zip(LR.unpack_sequence(pl), TR.unpack_sequence(pt)):
            assert_close(x, y)
    pl = LR.pack_sequence([a[0], a[2], a[1]])
    pt = TR.pack_sequence([b[0], b[2], b[1]])
    assert_close(pl.data, pt.data)
    padded = LR.pad_sequence(a, batch_first=True)
    out = LR.unpad_sequence(padded, lamina.tensor([4, 2, 3]), batch_first=True)
    for x, y in zip(out, arrs):
        assert_close(x, lt(y))
    out = LR.unpad_sequence(LR.pad_sequence(a), lamina.tensor([4, 2, 3]))
    for x, y in zip(out, arrs):
        assert_close(x, lt(y))


def test_packed_sequence_fields_and_to():
    p = LR.pack_sequence([lamina.ones(3, 2), lamina.ones(1, 2)])
    data, bs, si, ui = p
    assert p.data is data and p.batch_sizes is bs and si is None and ui is None
    q = p.to(lamina.float64)
    assert q.data.dtype == lamina.float64 and q.batch_sizes is p.batch_sizes
    assert p.to(lamina.float32) is p
    assert p.double().data.dtype == lamina.float64
    assert not p.is_cuda
    assert repr(p).startswith("PackedSequence(data=tensor(")
    assert isinstance(p, tuple) and len(p) == 4
    p2 = LR.PackedSequence(p.data, p.batch_sizes)
    assert p2.unsorted_indices is None
    p3 = LR.pack_sequence([lamina.ones(1, 2), lamina.ones(3, 2)], enforce_sorted=False)
    inv = LR.invert_permutation(p3.sorted_indices)
    assert npy(inv).tolist() == npy(p3.unsorted_indices).tolist()


def _err(fn):
    with pytest.raises(Exception) as e:
        fn()
    return type(e.value), str(e.value)


def test_errors_match_torch():
    x = np.zeros((3, 2, 4), np.float32)
    for lengths in ([1, 2], [3, 0], [2, 3, 1]):
        assert _err(lambda: LR.pack_padded_sequence(lt(x), lengths)) == \
            _err(lambda: TR.pack_padded_sequence(tt(x), lengths))
    assert _err(lambda: LR.pad_sequence([])) == _err(lambda: TR.pad_sequence([]))
    assert _err(lambda: LR.pad_sequence([lamina.zeros(2)], padding_side="mid")) == \
        _err(lambda: TR.pad_sequence([torch.zeros(2)], padding_side="mid"))
    assert _err(lambda: LR.pad_sequence([lamina.zeros(2, 3), lamina.zeros(3, 4)])) == \
        _err(lambda: TR.pad_sequence([torch.zeros(2, 3), torch.zeros(3, 4)]))
    p = LR.pack_sequence([lamina.ones(3, 2)])
    pt = TR.pack_sequence([torch.ones(3, 2)])
    assert _err(lambda: LR.pad_packed_sequence(p, total_length=2)) == \
        _err(lambda: TR.pad_packed_sequence(pt, total_length=2))
    with pytest.raises(RuntimeError, match="exceeds the padded sequence length"):
        LR.pack_padded_sequence(lt(x), [4, 2])


def test_namespaces():
    assert lamina.nn.utils.rnn.pad_sequence is LR.pad_sequence
    assert lamina.nn.utils.PackedSequence is LR.PackedSequence
    assert lamina.nn.utils.pack_padded_sequence is LR.pack_padded_sequence
