"""lr_scheduler: learning-rate (and momentum) sequences equal to torch's for every scheduler,
state_dict keys and round trips, error paths."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

import lamina

LS = lamina.optim.lr_scheduler
TS = torch.optim.lr_scheduler


def _opts(opt_name="SGD", **kw):
    """A lamina and a torch optimizer with two param groups (different lrs)."""
    kw = {"lr": 0.1, **kw}
    lo = getattr(lamina.optim, opt_name)(
        [{"params": [lamina.nn.Parameter(lamina.ones(2))]},
         {"params": [lamina.nn.Parameter(lamina.ones(3))], "lr": 0.03}], **kw)
    to = getattr(torch.optim, opt_name)(
        [{"params": [torch.nn.Parameter(torch.ones(2))]},
         {"params": [torch.nn.Parameter(torch.ones(3))], "lr": 0.03}], **kw)
    return lo, to


def _snapshot(opt):
    out = []
    for g in opt.param_groups:
        out.append(g["lr"])
        if "momentum" in g:
            out.append(g["momentum"])
        if "betas" in g:
            out.append(tuple(g["betas"]))
    return out


def _run(lsched, tsched, lo, to, epochs, metrics=None):
    seq_l, seq_t = [], []
    for e in range(epochs):
        seq_l.append((list(lsched.get_last_lr()), _snapshot(lo)))
        seq_t.append((list(tsched.get_last_lr()), _snapshot(to)))
        lo.step()
        to.step()
        if metrics is None:
            lsched.step()
            tsched.step()
        else:
            lsched.step(metrics[e])
            tsched.step(metrics[e])
    for (ll, ls), (tl, ts) in zip(seq_l, seq_t):
        assert ll == pytest.approx(tl, rel=1e-12, abs=1e-16)
        assert _flat(ls) == pytest.approx(_flat(ts), rel=1e-12, abs=1e-16)
    return seq_l


def _flat(xs):
    out = []
    for x in xs:
        out.extend(x if isinstance(x, tuple) else [x])
    return out


SIMPLE = [
    ("StepLR", {"step_size": 3}),
    ("StepLR", {"step_size": 2, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [2, 5, 5, 9], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}),
    ("LinearLR", {}),
    ("LinearLR", {"start_factor": 0.1, "end_factor": 0.8, "total_iters": 8}),
    ("ConstantLR", {}),
    ("ConstantLR", {"factor": 0.5, "total_iters": 4}),
    ("PolynomialLR", {"total_iters": 6, "power": 2.0}),
    ("CosineAnnealingWarmRestarts", {"T_0": 5}),
    ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2, "eta_min": 0.01}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4}),
    ("CyclicLR", {"base_lr": [0.01, 0.02], "max_lr": 0.2, "step_size_up": 3,
                  "step_size_down": 5, "mode": "triangular2"}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "mode": "exp_range",
                  "gamma": 0.9}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 30}),
    ("OneCycleLR", {"max_lr": [0.5, 0.2], "epochs": 3, "steps_per_epoch": 10,
                    "anneal_strategy": "linear"}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 30, "three_phase": True, "pct_start": 0.25}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 30, "cycle_momentum": False}),
]


@pytest.mark.parametrize("name, kwargs", SIMPLE, ids=lambda x: str(x))
def test_lr_sequence_matches_torch(name, kwargs):
    lo, to = _opts(momentum=0.9)
    ls = getattr(LS, name)(lo, **kwargs)
    ts = getattr(TS, name)(to, **kwargs)
    _run(ls, ts, lo, to, 30)
    assert list(ls.state_dict()) == list(ts.state_dict())


@pytest.mark.parametrize("kwargs", [
    {"max_lr": 0.01, "total_steps": 25},
    {"max_lr": 0.01, "total_steps": 25, "three_phase": True, "base_momentum": 0.8,
     "max_momentum": 0.9},
])
def test_one_cycle_cycles_adam_beta1(kwargs):
    lo, to = _opts("Adam")
    ls, ts = LS.OneCycleLR(lo, **kwargs), TS.OneCycleLR(to, **kwargs)
    seq = _run(ls, ts, lo, to, 25)
    assert seq[0][1][1][0] == pytest.approx(kwargs.get("max_momentum", 0.95))
    with pytest.raises(ValueError, match="Tried to step 26 times"):
        lo.step()
        ls.step()


def test_one_cycle_with_sgd_momentum_changes_the_trajectory_like_torch():
    lp = lamina.nn.Parameter(lamina.ones(3))
    tp = torch.nn.Parameter(torch.ones(3))
    lo = lamina.optim.SGD([lp], lr=0.1, momentum=0.9)
    to = torch.optim.SGD([tp], lr=0.1, momentum=0.9)
    ls, ts = LS.OneCycleLR(lo, max_lr=0.5, total_steps=20), TS.OneCycleLR(to, max_lr=0.5,
                                                                           total_steps=20)
    for _ in range(20):
        lp.grad = lp.detach() * 2 - 1
        tp.grad = tp.detach() * 2 - 1
        lo.step()
        to.step()
        ls.step()
        ts.step()
    assert lp.tolist() == pytest.approx(tp.tolist(), rel=1e-5)


def test_lambda_and_multiplicative():
    lo, to = _opts()
    fns = [lambda e: 0.9 ** e, lambda e: 1.0 / (e + 1)]
    _run(LS.LambdaLR(lo, fns), TS.LambdaLR(to, fns), lo, to, 12)
    lo, to = _opts()
    _run(LS.MultiplicativeLR(lo, lambda e: 0.95), TS.MultiplicativeLR(to, lambda e: 0.95),
         lo, to, 12)


@pytest.mark.parametrize("kwargs", [
    {},
    {"mode": "max", "patience": 1, "factor": 0.5},
    {"patience": 0, "threshold": 0.1, "threshold_mode": "abs", "cooldown": 2},
    {"patience": 1, "min_lr": [0.02, 0.001], "factor": 0.2},
    {"patience": 1, "mode": "max", "threshold_mode": "abs", "eps": 0.05, "factor": 0.5},
])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    metrics = [1.0, 0.9, 0.95, 0.95, 0.96, 0.89, 0.9, 0.9, 0.91, 0.5, 0.6, 0.7, 0.7, 0.7, 0.8,
               0.8, 0.8, 0.8, 0.9, 1.0, 1.1, 1.0, 1.0, 1.0, 1.0] * 2
    lo, to = _opts()
    ls, ts = LS.ReduceLROnPlateau(lo, **kwargs), TS.ReduceLROnPlateau(to, **kwargs)
    _run(ls, ts, lo, to, len(metrics), metrics)
    lsd, tsd = ls.state_dict(), ts.state_dict()
    assert lsd.keys() == tsd.keys()
    for k in tsd:
        # approx() refuses nested containers in newer pytest: compare list values item-wise
        if isinstance(tsd[k], (list, tuple)):
            assert list(lsd[k]) == pytest.approx(list(tsd[k])), k
        else:
            assert lsd[k] == pytest.approx(tsd[k]) if isinstance(tsd[k], float) else \
                lsd[k] == tsd[k], k


def test_sequential_lr_matches_torch():
    lo, to = _opts()
    l1, t1 = LS.LinearLR(lo, start_factor=0.1, total_iters=4), TS.LinearLR(
        to, start_factor=0.1, total_iters=4)
    l2, t2 = LS.CosineAnnealingLR(lo, T_max=8), TS.CosineAnnealingLR(to, T_max=8)
    l3, t3 = LS.ExponentialLR(lo, 0.8), TS.ExponentialLR(to, 0.8)
    ls = LS.SequentialLR(lo, [l1, l2, l3], milestones=[4, 12])
    ts = TS.SequentialLR(to, [t1, t2, t3], milestones=[4, 12])
    _run(ls, ts, lo, to, 20)
    assert list(ls.state_dict()) == list(ts.state_dict())


def test_chained_scheduler_matches_torch():
    lo, to = _opts()
    ls = LS.ChainedScheduler([LS.ConstantLR(lo, factor=0.1, total_iters=5),
                              LS.ExponentialLR(lo, gamma=0.9)])
    ts = TS.ChainedScheduler([TS.ConstantLR(to, factor=0.1, total_iters=5),
                              TS.ExponentialLR(to, gamma=0.9)])
    _run(ls, ts, lo, to, 15)


def test_state_dict_round_trip_and_torch_state_loads():
    lo, to = _opts()
    ls, ts = LS.StepLR(lo, 3, 0.5), TS.StepLR(to, 3, 0.5)
    for _ in range(4):
        lo.step()
        to.step()
        ls.step()
        ts.step()
    assert ls.state_dict() == ts.state_dict()
    lo2, _ = _opts()
    ls2 = LS.StepLR(lo2, 100)
    ls2.load_state_dict(ts.state_dict())  # plain Python values: torch's state loads as is
    lo2.load_state_dict(lo.state_dict())
    for _ in range(6):
        lo2.step()
        to.step()
        ls2.step()
        ts.step()
        assert ls2.get_last_lr() == pytest.approx(ts.get_last_lr())


def test_resume_with_last_epoch():
    lo, to = _opts()
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups"):
        LS.StepLR(lo, 2, last_epoch=3)
    for g in lo.param_groups:
        g["initial_lr"] = g["lr"]
    for g in to.param_groups:
        g["initial_lr"] = g["lr"]
    _run(LS.ExponentialLR(lo, 0.5, last_epoch=3), TS.ExponentialLR(to, 0.5, last_epoch=3),
         lo, to, 5)


def test_step_with_epoch_uses_closed_form_and_warns():
    lo, to = _opts()
    ls, ts = LS.CosineAnnealingLR(lo, T_max=10), TS.CosineAnnealingLR(to, T_max=10)
    lo.step()
    to.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        ls.step(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts.step(4)
    assert ls.get_last_lr() == pytest.approx(ts.get_last_lr())
    assert ls.get_last_lr()[0] == pytest.approx(0.05 * (1 + math.cos(math.pi * 0.4)))


def test_scheduler_before_optimizer_warns_like_torch():
    lo, _ = _opts()
    s = LS.StepLR(lo, 2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()
    lo2, _ = _opts()
    s2 = LS.StepLR(lo2, 2)
    lo2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s2.step()


@pytest.mark.parametrize("make, exc, msg", [
    (lambda S, o: S.StepLR(object(), 2), TypeError, "object is not an Optimizer"),
    (lambda S, o: S.ConstantLR(o, factor=2.0), ValueError,
     "Constant multiplicative factor expected to be between 0 and 1."),
    (lambda S, o: S.LinearLR(o, start_factor=0), ValueError,
     "Starting multiplicative factor expected to be greater than 0"),
    (lambda S, o: S.LinearLR(o, end_factor=2), ValueError,
     "Ending multiplicative factor expected to be between 0 and 1."),
    (lambda S, o: S.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas, but got 1"),
    (lambda S, o: S.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0."),
    (lambda S, o: S.ReduceLROnPlateau(o, mode="avg"), ValueError, "mode avg is unknown!"),
    (lambda S, o: S.ReduceLROnPlateau(o, threshold_mode="x"), ValueError,
     "threshold mode x is unknown!"),
    (lambda S, o: S.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
    (lambda S, o: S.OneCycleLR(o, 0.1), ValueError,
     "You must define either total_steps OR (epochs AND steps_per_epoch)"),
    (lambda S, o: S.OneCycleLR(o, 0.1, total_steps=10, pct_start=2.0), ValueError,
     "Expected float between 0 and 1 pct_start, but got 2.0"),
    (lambda S, o: S.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="x"), ValueError,
     "anneal_strategy must be one of 'cos' or 'linear', instead got x"),
    (lambda S, o: S.OneCycleLR(o, [0.1], total_steps=10), ValueError,
     "max_lr must have the same length as optimizer.param_groups."),
    (lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=0), ValueError,
     "Expected positive integer T_0, but got 0"),
    (lambda S, o: S.SequentialLR(o, [S.StepLR(o, 2)], milestones=[3]), ValueError,
     "Sequential Schedulers expects number of schedulers provided to be one more"),
    (lambda S, o: S.ChainedScheduler([]), ValueError,
     "ChainedScheduler expects at least one scheduler to be chained"),
])
def test_scheduler_errors_match_torch(make, exc, msg):
    lo, to = _opts()
    with pytest.raises(exc) as te:
        make(TS, to)
    with pytest.raises(exc) as le:
        make(LS, lo)
    assert str(le.value) == str(te.value)
    assert str(le.value).startswith(msg)


def test_cycle_momentum_needs_momentum():
    o = lamina.optim.Adagrad([lamina.nn.Parameter(lamina.ones(1))])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        LS.OneCycleLR(o, 0.1, total_steps=5)
