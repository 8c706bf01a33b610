"""lamina.utils.data.dataloader against torch.utils.data: batch shapes, seeded order, collation.

The datasets and samplers have their own files (test_dataset.py, test_sampler.py).
"""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as TD

import lamina as L
from lamina.utils.data import (BatchSampler, DataLoader, Dataset, IterableDataset,
                               SequentialSampler, TensorDataset, default_collate,
                               get_worker_info)

X = np.arange(40, dtype=np.float32).reshape(20, 2)


def _both(seed):
    L.manual_seed(seed)
    torch.manual_seed(seed)


def _labels(loader):
    return [b[1].tolist() for b in loader]


@pytest.mark.parametrize("seed", [0, 1, 42])
@pytest.mark.parametrize("bs,drop_last", [(1, False), (4, False), (6, True), (7, False)])
def test_shuffled_order_matches_torch(seed, bs, drop_last):
    _both(seed)
    ld = DataLoader(TensorDataset(L.tensor(X), L.arange(20)), batch_size=bs, shuffle=True,
                    drop_last=drop_last)
    td = TD.DataLoader(TD.TensorDataset(torch.tensor(X), torch.arange(20)), batch_size=bs,
                       shuffle=True, drop_last=drop_last)
    # two epochs: the default generator advances identically
    for _ in range(2):
        assert _labels(ld) == _labels(td)
    assert len(ld) == len(td)


def test_generator_argument_and_batch_shapes():
    g1 = L.Generator().manual_seed(7)
    g2 = torch.Generator().manual_seed(7)
    ld = DataLoader(TensorDataset(L.tensor(X), L.arange(20)), batch_size=8, shuffle=True,
                    generator=g1)
    td = TD.DataLoader(TD.TensorDataset(torch.tensor(X), torch.arange(20)), batch_size=8,
                       shuffle=True, generator=g2)
    lb, tb = list(ld), list(td)
    assert [tuple(b[0].shape) for b in lb] == [tuple(b[0].shape) for b in tb] == \
        [(8, 2), (8, 2), (4, 2)]
    for a, b in zip(lb, tb):
        np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
        assert a[1].dtype == L.int64


def test_default_collate_like_torch():
    cases = [
        [(1, 2.0), (3, 4.0)],
        [{"a": 1, "b": np.array([1.0, 2.0])}, {"a": 2, "b": np.array([3.0, 4.0])}],
        [[1, 2], [3, 4]],
        [np.float32(1.0), np.float32(2.0)],
        [True, False],
    ]
    for batch in cases:
        got = default_collate(batch)
        exp = TD.default_collate(batch)
        _same_structure(got, exp)
    assert default_collate(["a", "b"]) == ["a", "b"]
    Point = collections.namedtuple("Point", "x y")
    got = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(got, Point) and got.x.tolist() == [1, 3]
    assert got.y.dtype == L.float64
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object(), object()])


def test_default_collate_of_tensor_samples():
    rs = np.random.RandomState(0)
    imgs = rs.standard_normal((5, 1, 3, 3)).astype(np.float32)
    samples = [L.tensor(imgs[i]) for i in range(5)]
    got = default_collate(samples)  # the one-array fast path: a fresh, gradient-free copy
    assert got.shape == (5, 1, 3, 3) and got.dtype == L.float32 and got.grad_fn is None
    np.testing.assert_array_equal(got.numpy(), imgs)
    got[0] = 0.0
    assert samples[0].abs().sum().item() > 0  # no memory shared with the samples
    labels = [L.tensor(i) for i in range(4)]  # 0-d tensors
    _same_structure(default_collate(labels), TD.default_collate([torch.tensor(i)
                                                                for i in range(4)]))
    # a sample that requires grad: the general stack op (torch's StackBackward0 node)
    w = L.ones(2, requires_grad=True)
    out = default_collate([w, L.zeros(2)])
    assert out.grad_fn is not None and type(out.grad_fn).__name__ == "StackBackward0"
    # mixed dtypes promote and mismatched shapes raise, as torch.stack does
    _same_structure(default_collate([L.tensor([1, 2]), L.tensor([0.5, 1.0])]),
                    TD.default_collate([torch.tensor([1, 2]), torch.tensor([0.5, 1.0])]))
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([L.zeros(2), L.zeros(3)])


def _same_structure(a, b):
    if isinstance(b, torch.Tensor):
        assert isinstance(a, L.Tensor)
        assert str(a.dtype).split(".")[1] == str(b.dtype).split(".")[1]
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(b, dict):
        assert a.keys() == b.keys()
        for k in b:
            _same_structure(a[k], b[k])
    elif isinstance(b, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _same_structure(x, y)
    else:
        assert a == b


class _Squares(Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        info = get_worker_info()
        return {"x": L.tensor([float(i * i)]), "w": -1 if info is None else info.id}


def test_dict_samples_and_workers():
    single = list(DataLoader(_Squares(), batch_size=4))
    assert [tuple(b["x"].shape) for b in single] == [(4, 1), (4, 1), (2, 1)]
    assert single[0]["w"].tolist() == [-1] * 4
    multi = list(DataLoader(_Squares(), batch_size=4, num_workers=2))
    for a, b in zip(single, multi):
        np.testing.assert_array_equal(a["x"].numpy(), b["x"].numpy())
    assert {int(w) for b in multi for w in b["w"].tolist()} <= {0, 1}


class _Stream(IterableDataset):
    def __iter__(self):
        return iter(range(7))


def test_iterable_dataset():
    out = [b.tolist() for b in DataLoader(_Stream(), batch_size=3)]
    assert out == [[0, 1, 2], [3, 4, 5], [6]]
    out = [b.tolist() for b in DataLoader(_Stream(), batch_size=3, drop_last=True)]
    assert out == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(_Stream(), shuffle=True)
    with pytest.raises(RuntimeError, match="num_workers=0"):
        DataLoader(_Stream(), num_workers=2)


def test_argument_errors():
    ds = TensorDataset(L.arange(5))
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, shuffle=True, sampler=SequentialSampler(ds))
    with pytest.raises(ValueError, match="batch_sampler"):
        DataLoader(ds, batch_size=2, batch_sampler=BatchSampler(SequentialSampler(ds), 2, False))
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)


def test_batch_size_none_and_custom_collate():
    ds = TensorDataset(L.arange(3))
    out = list(DataLoader(ds, batch_size=None))
    assert [o[0].item() for o in out] == [0, 1, 2]
    out = list(DataLoader(ds, batch_size=2, collate_fn=lambda b: len(b)))
    assert out == [2, 1]
