"""Loss modules: constructor arguments, reprs, buffers (weight / pos_weight) in state_dict and
.to(), the legacy size_average / reduce pair, and module-level parity with torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import lamina
from lamina import nn
from tests.oracle_helpers import assert_close, lt, npy, tt

RNG = np.random.RandomState(0)
X = RNG.standard_normal((6, 5)).astype(np.float32)
Y = RNG.standard_normal((6, 5)).astype(np.float32)
T = np.array([0, 1, 4, 1, 3, 2], np.int64)
W = RNG.uniform(0.2, 1.5, 5).astype(np.float32)
PROB = RNG.uniform(0.05, 0.95, (6, 5)).astype(np.float32)
SIGNS = np.array([1, -1, 1, -1, 1, 1], np.float32)

# (name, kwargs builder (lib -> kwargs), inputs: list of (array, requires_grad))
SPECS = [
    ("L1Loss", lambda m: {}, [(X, True), (Y, True)]),
    ("MSELoss", lambda m: {"reduction": "sum"}, [(X, True), (Y, True)]),
    ("SmoothL1Loss", lambda m: {"beta": 0.5}, [(X, True), (Y, True)]),
    ("HuberLoss", lambda m: {"delta": 0.5, "reduction": "none"}, [(X, True), (Y, True)]),
    ("CrossEntropyLoss", lambda m: {}, [(X, True), (T, False)]),
    ("CrossEntropyLoss", lambda m: {"weight": m.tensor(W), "ignore_index": 1,
                                    "label_smoothing": 0.1}, [(X, True), (T, False)]),
    ("CrossEntropyLoss", lambda m: {"reduction": "none"}, [(X, True), (PROB, True)]),
    ("NLLLoss", lambda m: {"weight": m.tensor(W)}, [(np.log(PROB), True), (T, False)]),
    ("BCELoss", lambda m: {"weight": m.tensor(W)}, [(PROB, True), (PROB[::-1].copy(), True)]),
    ("BCEWithLogitsLoss", lambda m: {"pos_weight": m.tensor(W)}, [(X, True), (PROB, True)]),
    ("KLDivLoss", lambda m: {"reduction": "batchmean"}, [(np.log(PROB), True), (PROB, True)]),
    ("KLDivLoss", lambda m: {"reduction": "sum", "log_target": True},
     [(np.log(PROB), True), (np.log(PROB[::-1]), True)]),
    ("CosineEmbeddingLoss", lambda m: {"margin": 0.2}, [(X, True), (Y, True), (SIGNS, False)]),
    ("MarginRankingLoss", lambda m: {"margin": 0.1},
     [(X[:, 0].copy(), True), (Y[:, 0].copy(), True), (SIGNS, False)]),
    ("HingeEmbeddingLoss", lambda m: {"margin": 2.0}, [(X, True), (np.sign(Y), False)]),
    ("SoftMarginLoss", lambda m: {}, [(X, True), (np.sign(Y), False)]),
    ("MultiLabelSoftMarginLoss", lambda m: {"weight": m.tensor(W)},
     [(X, True), ((Y > 0).astype(np.float32), False)]),
    ("TripletMarginLoss", lambda m: {"margin": 0.5, "p": 1.0},
     [(X, True), (Y, True), (Y[::-1].copy(), True)]),
    ("MultiMarginLoss", lambda m: {"p": 2, "weight": m.tensor(W)}, [(X, True), (T, False)]),
    ("PoissonNLLLoss", lambda m: {"log_input": False, "full": True},
     [(np.abs(X) + 0.1, True), (np.round(np.abs(Y) * 3), False)]),
    ("GaussianNLLLoss", lambda m: {"full": True},
     [(X, True), (Y, True), (np.abs(Y) + 0.1, True)]),
]
IDS = [f"{s[0]}-{i}" for i, s in enumerate(SPECS)]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_module_forward_backward_match_torch(spec):
    name, kw, inputs = spec
    lm = getattr(nn, name)(**kw(lamina))
    tm = getattr(torch.nn, name)(**kw(torch))
    ls = [lt(a, g) for a, g in inputs]
    ts = [tt(a, g) for a, g in inputs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lo, to = lm(*ls), tm(*ts)
    assert_close(lo, to, atol=2e-5, rtol=2e-5)
    lo.sum().backward()
    to.sum().backward()
    for a, b in zip(ls, ts):
        if b.grad is not None:
            assert_close(a.grad, b.grad, atol=2e-5, rtol=2e-5)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_repr_and_attributes_match_torch(spec):
    name, kw, _ = spec
    lm = getattr(nn, name)(**kw(lamina))
    tm = getattr(torch.nn, name)(**kw(torch))
    assert repr(lm) == repr(tm)
    for attr in ("reduction", "ignore_index", "label_smoothing", "beta", "delta", "margin",
                 "log_target", "p", "eps", "swap", "full", "log_input"):
        if hasattr(tm, attr):
            assert getattr(lm, attr) == getattr(tm, attr), attr
    assert sorted(lm.state_dict()) == sorted(tm.state_dict())


def test_weights_are_buffers():
    m = nn.CrossEntropyLoss(weight=lamina.ones(3))
    assert list(m.state_dict()) == ["weight"]
    assert [n for n, _ in m.named_buffers()] == ["weight"]
    assert list(m.parameters()) == []
    b = nn.BCEWithLogitsLoss(weight=lamina.ones(2), pos_weight=lamina.ones(2))
    assert list(b.state_dict()) == ["weight", "pos_weight"]
    assert nn.CrossEntropyLoss().weight is None
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    m.double()
    assert m.weight.dtype == lamina.float64


def test_default_constructors_match_torch():
    for name in ("L1Loss", "MSELoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
                 "BCEWithLogitsLoss", "KLDivLoss", "HuberLoss", "SmoothL1Loss"):
        lm, tm = getattr(nn, name)(), getattr(torch.nn, name)()
        assert repr(lm) == repr(tm) == f"{name}()"
        assert lm.reduction == tm.reduction == "mean"
    ce = nn.CrossEntropyLoss()
    assert (ce.ignore_index, ce.label_smoothing) == (-100, 0.0)


@pytest.mark.parametrize("size_average,reduce,expected", [
    (None, None, "mean"), (False, None, "sum"), (None, False, "none"), (True, True, "mean"),
])
def test_legacy_size_average_and_reduce(size_average, reduce, expected):
    if size_average is None and reduce is None:
        assert nn.MSELoss().reduction == expected
        return
    with pytest.warns(UserWarning, match=f"reduction='{expected}' instead"):
        lm = nn.MSELoss(size_average=size_average, reduce=reduce)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = torch.nn.MSELoss(size_average=size_average, reduce=reduce)
    assert lm.reduction == tm.reduction == expected


def test_constructor_errors_match_torch():
    for lib in (nn, torch.nn):
        with pytest.raises(ValueError, match="expected margin to be greater than 0, got 0"):
            lib.TripletMarginLoss(margin=0)
        with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
            lib.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="expected weight to be None or 1D tensor, got 2D"):
        nn.MultiMarginLoss(weight=lamina.ones(2, 2))


def test_invalid_reduction_is_reported_at_call_time_like_torch():
    m = nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        m(lamina.randn(2), lamina.randn(2))


def test_cross_entropy_target_shape_error():
    with pytest.raises(RuntimeError, match=r"Expected target size \[2, 3\], got \[2, 4\]"):
        nn.CrossEntropyLoss()(lamina.randn(2, 5, 3), lamina.zeros(2, 4, dtype=lamina.int64))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(4\) to match target "
                                         r"batch_size \(3\)"):
        nn.CrossEntropyLoss()(lamina.randn(4, 5), lamina.zeros(3, dtype=lamina.int64))


def test_loss_prints_like_torch_in_a_training_loop():
    loss = nn.CrossEntropyLoss()(lamina.zeros(2, 4, requires_grad=True),
                                 lamina.tensor([0, 3]))
    tloss = torch.nn.CrossEntropyLoss()(torch.zeros(2, 4, requires_grad=True),
                                        torch.tensor([0, 3]))
    assert repr(loss).replace("lamina", "torch") == repr(tloss)
    assert loss.item() == pytest.approx(tloss.item())
    assert npy(loss).shape == ()
