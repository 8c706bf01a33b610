"""lamina.optim._steps: the per-parameter loop and helpers every optimizer's ``step`` shares.

Each optimizer's trajectory against torch is tested in tests/optim/test_<name>.py.
"""

from __future__ import annotations

import numpy as np

import lamina as L
from lamina.optim import _steps


class _Opt(L.optim.Optimizer):
    def __init__(self, params):
        super().__init__(params, {"lr": L.tensor(0.5)})


def test_param_steps_skips_params_without_grad_and_creates_state_once():
    a = L.nn.Parameter(L.ones(2))
    b = L.nn.Parameter(L.ones(3))
    s = L.nn.Parameter(L.tensor(2.0))  # 0-d: handed out as a 1-element view
    opt = _Opt([a, b, s])
    a.grad = L.full((2,), 3.0)
    s.grad = L.tensor(1.0)
    inits = []

    def init(st, p):
        inits.append(p)
        st["step"] = L.tensor(0.0)
        st["m"] = L.zeros_like(p)

    for _ in range(2):
        seen = []
        for xp, d, g, st, arr, step in _steps.param_steps(opt, opt.param_groups[0], init):
            assert xp is np and d.shape == arr(st["m"]).shape
            d -= g
            seen.append(step)
        assert seen in ([1.0, 1.0], [2.0, 2.0])
    assert inits == [a, s]
    assert a.tolist() == [-5.0, -5.0] and s.item() == 0.0 and b.tolist() == [1.0] * 3
    assert b not in opt.state


def test_helpers():
    assert _steps.group_lr({"lr": L.tensor(0.25)}) == 0.25 and _steps.group_lr({"lr": 3}) == 3
    assert _steps.closure_loss(None) is None
    with L.no_grad():
        assert _steps.closure_loss(lambda: L.is_grad_enabled()) is True
    d, g = np.array([2.0]), np.array([1.0])
    np.testing.assert_array_equal(_steps.l2_grad(d, g, 0.5, True), [0.0])
    assert _steps.l2_grad(d, g, 0, False) is g


def test_moment_updates_match_torchs_in_place_ops():
    import torch

    rng = np.random.default_rng(1)
    m0, g, v0 = (rng.standard_normal(6).astype(np.float32) for _ in range(3))
    for w in (0.1, 0.5, 0.9):  # both of lerp's formulas
        m = m0.copy()
        _steps.lerp_(np, m, g, w)
        np.testing.assert_allclose(m, torch.tensor(m0).lerp_(torch.tensor(g), w).numpy(),
                                   rtol=1e-6, atol=1e-7)
        v = v0.copy()
        t = np.empty_like(v)
        assert _steps.ema_square_(np, v, g, w, t) is t
        ref = torch.tensor(v0).mul_(w).addcmul_(torch.tensor(g), torch.tensor(g), value=1 - w)
        # torch's vectorized kernel may round the last bit differently (fused multiply-add)
        np.testing.assert_allclose(v, ref.numpy(), rtol=1e-6, atol=1e-7)


def test_decayed_grad_and_zero_state():
    d, g = np.array([2.0]), np.array([1.0])
    assert _steps.decayed_grad(d, g, 0.5, 0.1, True, True).tolist() == [-1.0]
    assert d.tolist() == [2.0 * (1 - 0.05)]  # decoupled: the parameter is scaled
    assert _steps.decayed_grad(np.array([2.0]), g, 0.5, 0.1, False, False).tolist() == [1.2]
    st = {}
    _steps.zero_state("exp_avg", "exp_avg_sq")(st, L.ones(2, 3))
    assert list(st) == ["step", "exp_avg", "exp_avg_sq"]
    assert st["step"].item() == 0 and st["exp_avg"].shape == (2, 3)
