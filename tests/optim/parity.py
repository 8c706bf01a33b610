"""Trajectory parity with torch.optim: same initial weights, gradients computed in NumPy from
each library's own current weights, many steps, weights and states compared at the end."""

from __future__ import annotations

import numpy as np
import torch

import lamina
from tests.oracle_helpers import assert_close, npy

SHAPES = [(4, 3), (3,), (5,), ()]
TARGETS = [np.asarray(np.random.default_rng(100 + i).normal(size=s), np.float32)
           for i, s in enumerate(SHAPES)]


def init_weights(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.asarray(rng.normal(size=s), np.float32) for s in SHAPES]


def grad_fn(weights: list[np.ndarray], k: int, sign: float = 1.0) -> list[np.ndarray | None]:
    """A non-quadratic loss's gradient plus step-dependent noise; param 2 gets no gradient on
    every third step (its grad is None: the optimizers must skip it). ``sign=-1`` gives the
    gradient of the negated loss, which ``maximize=True`` climbs to the same minimum."""
    rng = np.random.default_rng(1000 + k)
    out = []
    for i, (w, t) in enumerate(zip(weights, TARGETS)):
        if i == 2 and k % 3 == 2:
            out.append(None)
            continue
        g = sign * (2 * (w - t) + 0.3 * np.sin(3 * w) + 0.5 * rng.normal(size=w.shape))
        out.append(np.asarray(g, np.float32))
    return out


def make_pair(init):
    lp = [lamina.nn.Parameter(lamina.from_numpy(w.copy())) for w in init]
    tp = [torch.nn.Parameter(torch.from_numpy(w.copy())) for w in init]
    return lp, tp


def set_grads(lp, tp, k, sign=1.0):
    """Set each list's grads (lamina or torch parameters) from its own current weights."""
    lg = grad_fn([npy(p) for p in lp], k, sign)
    tg = grad_fn([npy(p) for p in tp], k, sign)
    for params, grads in ((lp, lg), (tp, tg)):
        wrap = lamina.from_numpy if isinstance(params[0], lamina.Tensor) else torch.from_numpy
        for p, g in zip(params, grads):
            p.grad = None if g is None else wrap(g)


def groups(params, group_kwargs):
    if group_kwargs is None:
        return params
    return [{"params": params[:2], **group_kwargs[0]}, {"params": params[2:], **group_kwargs[1]}]


def assert_states_close(lopt, topt, rtol, atol):
    lsd, tsd = lopt.state_dict(), topt.state_dict()
    assert lsd["param_groups"] == tsd["param_groups"]
    assert sorted(lsd["state"]) == sorted(tsd["state"])
    for k, ts in tsd["state"].items():
        ls = lsd["state"][k]
        assert list(ls) == list(ts), (k, list(ls), list(ts))
        for key, tv in ts.items():
            # running sums of gradients cancel: compare at the scale of the whole buffer
            scale = max(1.0, float(tv.abs().max()))
            assert_close(ls[key], tv, rtol=rtol, atol=atol * scale, msg=f"state[{k}][{key!r}]")


def run_parity(name: str, kwargs: dict, steps: int = 50, group_kwargs=None,
               rtol: float = 2e-5, atol: float = 2e-6):
    """Run ``steps`` steps of optim.<name>(**kwargs) in both libraries; compare every 10."""
    init = init_weights()
    lp, tp = make_pair(init)
    lopt = getattr(lamina.optim, name)(groups(lp, group_kwargs), **kwargs)
    topt = getattr(torch.optim, name)(groups(tp, group_kwargs), **kwargs)
    assert repr(lopt) == repr(topt)
    for k in range(steps):
        set_grads(lp, tp, k, -1.0 if kwargs.get("maximize") else 1.0)
        lopt.step()
        topt.step()
        if k % 10 == 9 or k == steps - 1:
            for i, (a, b) in enumerate(zip(lp, tp)):
                assert_close(a, b, rtol=rtol, atol=atol, msg=f"{name}{kwargs} step {k} p{i}")
    assert_states_close(lopt, topt, rtol, atol)
    return lopt, topt, lp, tp
