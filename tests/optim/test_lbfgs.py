"""optim.LBFGS against torch: the same closure (a small least-squares + Rosenbrock problem in
float64) gives the same trajectory, loss by loss, with and without the strong-Wolfe line
search, history_size, max_eval, the tolerances; state_dict; the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from tests.oracle_helpers import assert_close, npy

RNG = np.random.default_rng(0)
A = RNG.standard_normal((6, 4))
B = RNG.standard_normal(6)
W0 = [RNG.standard_normal(4), RNG.standard_normal(2) * 0.5]


def _problem(lib):
    ps = [lib.nn.Parameter(lib.from_numpy(w.copy())) for w in W0]
    a = lib.from_numpy(A.copy())
    b = lib.from_numpy(B.copy())

    def loss_fn():
        x, z = ps
        r = a @ x - b
        rosen = (1 - z[0]) ** 2 + 10 * (z[1] - z[0] ** 2) ** 2
        return (r * r).sum() + rosen + (x.tanh() * z.sum()).sum()

    return ps, loss_fn


def run(lib, steps, **kw):
    ps, loss_fn = _problem(lib)
    opt = lib.optim.LBFGS(ps, **kw)
    losses = []
    calls = [0]

    def closure():
        calls[0] += 1
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    for _ in range(steps):
        losses.append(opt.step(closure).item())
    return ps, opt, losses, calls[0]


@pytest.mark.parametrize("kw", [
    {},
    {"line_search_fn": "strong_wolfe"},
    {"lr": 0.5, "max_iter": 5},
    {"history_size": 3, "line_search_fn": "strong_wolfe"},
    {"max_iter": 7, "max_eval": 9, "line_search_fn": "strong_wolfe"},
    {"tolerance_grad": 1e-3, "tolerance_change": 1e-4},
])
def test_trajectory_matches_torch(kw):
    lp, lopt, ll, lc = run(lamina, 4, **kw)
    tp, topt, tl, tc = run(torch, 4, **kw)
    np.testing.assert_allclose(ll, tl, rtol=1e-9, atol=1e-10)
    assert lc == tc
    for a, b in zip(lp, tp):
        assert_close(a, b, rtol=1e-8, atol=1e-9)
    ls = lopt.state[lp[0]]
    ts = topt.state[tp[0]]
    assert ls["func_evals"] == ts["func_evals"] and ls["n_iter"] == ts["n_iter"]
    assert len(ls["old_dirs"]) == len(ts["old_dirs"])
    assert_close(ls["d"], ts["d"], rtol=1e-6, atol=1e-8)


def test_converges_on_quadratic():
    w = lamina.nn.Parameter(lamina.tensor([1.5, -0.5], dtype=lamina.float64))
    opt = lamina.optim.LBFGS([w], line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((w - 3) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    np.testing.assert_allclose(npy(w), [3.0, 3.0], atol=1e-6)


def test_float32_and_lstm_cell_closure():
    # the sine-wave example's pairing: an LSTMCell trained by LBFGS, float32
    for lib in (lamina, torch):
        lib.manual_seed(0)
    cells = []
    for lib in (lamina, torch):
        lib.manual_seed(0)
        cells.append(lib.nn.LSTMCell(1, 5))
    cells[0].load_state_dict({k: lamina.from_numpy(npy(v)) for k, v in
                              cells[1].state_dict().items()})
    xs = np.sin(np.linspace(0, 3, 8)).astype(np.float32)[:, None, None]
    losses = []
    for lib, cell in zip((lamina, torch), cells):
        opt = lib.optim.LBFGS(cell.parameters(), lr=0.5, max_iter=4)
        x = lib.from_numpy(xs.copy())

        def closure():
            opt.zero_grad()
            h = c = lib.zeros(1, 5)
            out = []
            for t in range(7):
                h, c = cell(x[t], (h, c))
                out.append(h[:, :1])
            loss = ((lib.stack(out) - x[1:]) ** 2).mean()
            loss.backward()
            return loss

        losses.append([opt.step(closure).item() for _ in range(2)])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4)


def test_state_dict_round_trip():
    lp, lopt, _, _ = run(lamina, 2, line_search_fn="strong_wolfe")
    tp, topt, _, _ = run(torch, 2, line_search_fn="strong_wolfe")
    sd = lopt.state_dict()
    tsd = topt.state_dict()
    assert sd["param_groups"] == tsd["param_groups"]
    assert sorted(sd["state"][0]) == sorted(tsd["state"][0])
    # resume: a fresh optimizer loaded from the state continues the same trajectory
    ps2, loss_fn = _problem(lamina)
    for p, q in zip(ps2, lp):
        p.data.copy_(q.data)
    opt2 = lamina.optim.LBFGS(ps2, line_search_fn="strong_wolfe")
    opt2.load_state_dict(sd)

    def closure_for(opt, ps, fn):
        def closure():
            opt.zero_grad()
            loss = fn()
            loss.backward()
            return loss
        return closure

    a = opt2.step(closure_for(opt2, ps2, loss_fn)).item()
    b = topt.step(closure_for(topt, tp, _torch_loss(tp))).item()
    np.testing.assert_allclose(a, b, rtol=1e-9)
    for p, q in zip(ps2, tp):
        assert_close(p, q, rtol=1e-7, atol=1e-9)


def _torch_loss(ps):
    a = torch.from_numpy(A.copy())
    b = torch.from_numpy(B.copy())

    def loss_fn():
        x, z = ps
        r = a @ x - b
        rosen = (1 - z[0]) ** 2 + 10 * (z[1] - z[0] ** 2) ** 2
        return (r * r).sum() + rosen + (x.tanh() * z.sum()).sum()

    return loss_fn


def test_errors():
    p = lamina.nn.Parameter(lamina.zeros(2))
    with pytest.raises(ValueError, match="Invalid learning rate"):
        lamina.optim.LBFGS([p], lr=-1)
    with pytest.raises(ValueError, match="per-parameter options"):
        lamina.optim.LBFGS([{"params": [p]}, {"params": [lamina.nn.Parameter(lamina.zeros(1))]}])
    opt = lamina.optim.LBFGS([p], line_search_fn="bogus")

    def closure():
        opt.zero_grad()
        loss = ((p - 1) ** 2).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)
    assert lamina.optim.LBFGS([p]).defaults == torch.optim.LBFGS(
        [torch.nn.Parameter(torch.zeros(2))]).defaults
