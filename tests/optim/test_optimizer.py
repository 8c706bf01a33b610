"""Optimizer base class: param groups, state, state_dict round trips (lamina <-> torch),
zero_grad, hooks, closures, error paths, lazy/reshaped parameters and devices."""

from __future__ import annotations

import copy
import io
import pickle

import numpy as np
import pytest
import torch

import lamina
from tests.optim.parity import groups, init_weights, make_pair, set_grads
from tests.oracle_helpers import assert_close, npy

ALL = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam", "Adadelta"]
KW = {"SGD": {"lr": 0.05, "momentum": 0.9}, "Adam": {"lr": 0.05, "amsgrad": True},
      "AdamW": {"lr": 0.05}, "RMSprop": {"lr": 0.01, "centered": True, "momentum": 0.5},
      "Adagrad": {"lr": 0.1, "lr_decay": 0.01}, "Adamax": {"lr": 0.05}, "NAdam": {"lr": 0.05},
      "RAdam": {"lr": 0.05}, "Adadelta": {"lr": 0.5}}


def _lp(*shape):
    return lamina.nn.Parameter(lamina.ones(*shape))


# ---------------------------------------------------------------------------- construction
def test_param_groups_defaults_and_repr_match_torch():
    lp, tp = make_pair(init_weights())
    lo = lamina.optim.SGD(groups(lp, [{"lr": 0.5}, {"momentum": 0.9}]), lr=0.1)
    to = torch.optim.SGD(groups(tp, [{"lr": 0.5}, {"momentum": 0.9}]), lr=0.1)
    assert repr(lo) == repr(to)
    assert lo.defaults == to.defaults
    for lg, tg in zip(lo.param_groups, to.param_groups):
        assert list(lg) == list(tg)
        assert {k: v for k, v in lg.items() if k != "params"} == \
            {k: v for k, v in tg.items() if k != "params"}
        assert len(lg["params"]) == len(tg["params"])


@pytest.mark.parametrize("name", ALL)
def test_repr_and_defaults_of_every_optimizer_match_torch(name):
    lo = getattr(lamina.optim, name)([_lp(2)])
    to = getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2))])
    assert repr(lo) == repr(to)
    assert lo.defaults == to.defaults


def test_add_param_group_and_named_params():
    a, b = _lp(2), _lp(3)
    opt = lamina.optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["params"] == [b] and opt.param_groups[1]["lr"] == 0.01
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    named = lamina.optim.SGD([("w", a), ("b", b)], lr=0.1)
    assert named.param_groups[0]["param_names"] == ["w", "b"]
    assert named.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


@pytest.mark.parametrize("make, exc, msg", [
    (lambda m, P: m.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
    (lambda m, P: m.SGD(P(2), lr=0.1), TypeError,
     ("params argument given to the optimizer should be an iterable of Tensors or dicts, but "
      "got torch.FloatTensor")),
    (lambda m, P: m.SGD([{"params": {P(2)}}], lr=0.1), TypeError,
     "optimizer parameters need to be organized in ordered collections"),
    (lambda m, P: m.SGD([1.0], lr=0.1), TypeError,
     "optimizer can only optimize Tensors, but one of the params is float"),
    (lambda m, P: m.SGD([P(2) * 2], lr=0.1), ValueError, "can't optimize a non-leaf Tensor"),
])
def test_construction_errors_match_torch(make, exc, msg):
    with pytest.raises(exc) as te:
        make(torch.optim, lambda n: torch.nn.Parameter(torch.ones(n)))
    with pytest.raises(exc) as le:
        make(lamina.optim, lambda n: lamina.nn.Parameter(lamina.ones(n)))
    assert str(le.value) == str(te.value)
    assert str(le.value).startswith(msg)


def test_duplicate_params_across_groups_raise_and_within_group_warn():
    p, q = _lp(2), _lp(2)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter"):
        lamina.optim.SGD([{"params": [p]}, {"params": [q, p]}], lr=0.1)
    opt = lamina.optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p]})
    assert len(opt.param_groups) == 1  # the failed add changed nothing
    with pytest.warns(UserWarning, match="duplicate parameters"):
        lamina.optim.SGD([p, p], lr=0.1)
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([q])


def test_required_option():
    from lamina.optim.optimizer import required

    class Plain(lamina.optim.Optimizer):
        def __init__(self, params, lr=required):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):
            for g in self.param_groups:
                for p in g["params"]:
                    p._data -= g["lr"] * p.grad._data

    p = _lp(2)
    with pytest.raises(ValueError, match="didn't specify a value of required optimization "
                                         "parameter lr"):
        Plain([p])
    opt = Plain([{"params": [p], "lr": 0.5}])
    p.grad = lamina.ones(2)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.5, 0.5])
    assert repr(required) == "<required parameter>"


# ---------------------------------------------------------------------------- zero_grad / step
def test_zero_grad_set_to_none_and_zero():
    p = _lp(3)
    (p * 2).sum().backward()
    opt = lamina.optim.SGD([p], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and p.grad.tolist() == [0.0, 0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_grad_none_params_are_skipped_and_get_no_state():
    a, b = _lp(2), _lp(2)
    a.grad = lamina.ones(2)
    opt = lamina.optim.Adam([a, b], lr=0.1)
    opt.step()
    assert b.tolist() == [1.0, 1.0]
    assert a in opt.state and b not in opt.state


def test_step_with_closure_runs_with_grad_enabled():
    p = _lp(2)
    opt = lamina.optim.SGD([p], lr=0.25)
    calls = []

    def closure():
        calls.append(lamina.is_grad_enabled())
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with lamina.no_grad():
        loss = opt.step(closure)
    assert calls == [True]
    assert loss.item() == 2.0
    np.testing.assert_allclose(p.detach().numpy(), [0.5, 0.5])


def test_tied_parameter_is_stepped_once_like_torch():
    class Tied(lamina.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = lamina.nn.Parameter(lamina.ones(3))
            self.b = self.a

    class TTied(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Parameter(torch.ones(3))
            self.b = self.a

    lm, tm = Tied(), TTied()
    lo = lamina.optim.SGD(lm.parameters(), lr=0.1, momentum=0.9)
    to = torch.optim.SGD(tm.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        lo.zero_grad()
        to.zero_grad()
        ((lm.a * lm.b) * lamina.tensor([1.0, 2.0, 3.0])).sum().backward()
        ((tm.a * tm.b) * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
        lo.step()
        to.step()
    assert len(lo.param_groups[0]["params"]) == 1
    assert_close(lm.a, tm.a)


# ---------------------------------------------------------------------------- hooks
def test_step_hooks_order_args_and_removal():
    p = _lp(1)
    p.grad = lamina.ones(1)
    opt = lamina.optim.SGD([p], lr=0.1)
    seen = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: seen.append(("pre", o is opt, len(a), k)))
    h2 = opt.register_step_post_hook(lambda o, a, k: seen.append(("post", p.item())))
    opt.step()
    assert seen == [("pre", True, 1, {}), ("post", pytest.approx(0.9))]
    h1.remove()
    h2.remove()
    opt.step()
    assert len(seen) == 2


def test_global_step_hooks():
    from lamina.optim.optimizer import (
        register_optimizer_step_post_hook,
        register_optimizer_step_pre_hook,
    )

    p = _lp(1)
    p.grad = lamina.ones(1)
    seen = []
    h1 = register_optimizer_step_pre_hook(lambda o, a, k: seen.append("pre"))
    h2 = register_optimizer_step_post_hook(lambda o, a, k: seen.append("post"))
    try:
        lamina.optim.Adam([p]).step()
    finally:
        h1.remove()
        h2.remove()
    lamina.optim.Adam([p]).step()
    assert seen == ["pre", "post"]


def test_state_dict_hooks():
    p = _lp(1)
    opt = lamina.optim.SGD([p], lr=0.1)
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    assert opt.state_dict()["extra"] == 1
    seen = []
    opt.register_load_state_dict_pre_hook(lambda o, sd: seen.append("pre"))
    opt.register_load_state_dict_post_hook(lambda o: seen.append("post"))
    opt.load_state_dict(opt.state_dict())
    assert seen == ["pre", "post"]


# ---------------------------------------------------------------------------- state_dict
@pytest.mark.parametrize("name", ALL)
def test_state_dict_layout_matches_torch(name):
    lp, tp = make_pair(init_weights())
    lo = getattr(lamina.optim, name)(lp, **KW[name])
    to = getattr(torch.optim, name)(tp, **KW[name])
    for k in range(4):
        set_grads(lp, tp, k)
        lo.step()
        to.step()
    lsd, tsd = lo.state_dict(), to.state_dict()
    assert list(lsd) == list(tsd) == ["state", "param_groups"]
    assert lsd["param_groups"] == tsd["param_groups"]
    assert list(lsd["state"]) == list(tsd["state"])
    for k in tsd["state"]:
        assert list(lsd["state"][k]) == list(tsd["state"][k])
        for key, tv in tsd["state"][k].items():
            lv = lsd["state"][k][key]
            assert isinstance(lv, lamina.Tensor)
            assert str(lv.dtype).split(".")[-1] == str(tv.dtype).split(".")[-1]
            assert tuple(lv.shape) == tuple(tv.shape)


@pytest.mark.parametrize("name", ALL)
def test_state_dict_round_trip_continues_identically(name):
    lp, _ = make_pair(init_weights())
    opt = getattr(lamina.optim, name)(lp, **KW[name])
    for k in range(5):
        set_grads(lp, lp, k)
        opt.step()
    lp2 = [lamina.nn.Parameter(p.detach().clone()) for p in lp]
    opt2 = getattr(lamina.optim, name)(lp2, lr=123.0)
    opt2.load_state_dict(opt.state_dict())
    assert opt2.param_groups[0]["lr"] == KW[name]["lr"]
    assert opt2.param_groups[0]["params"][0] is lp2[0]
    for k in range(5, 10):
        set_grads(lp, lp2, k)
        opt.step()
        opt2.step()
    for a, b in zip(lp, lp2):
        np.testing.assert_array_equal(npy(a), npy(b))


def test_loaded_state_is_not_aliased():
    p = _lp(3)
    p.grad = lamina.ones(3)
    opt = lamina.optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    sd = opt.state_dict()
    q = _lp(3)
    q.grad = lamina.ones(3)
    opt2 = lamina.optim.SGD([q], lr=0.1, momentum=0.9)
    opt2.load_state_dict(sd)
    before = sd["state"][0]["momentum_buffer"].tolist()
    opt2.step()
    assert sd["state"][0]["momentum_buffer"].tolist() == before


@pytest.mark.parametrize("name", ALL)
def test_load_torch_state_dict_converted_through_numpy(name):
    """A torch optimizer's state (tensors -> NumPy -> lamina) continues the same trajectory."""
    lp, tp = make_pair(init_weights())
    to = getattr(torch.optim, name)(tp, **KW[name])
    for k in range(5):
        set_grads(tp, tp, k)
        to.step()
    tsd = to.state_dict()
    converted = {
        "state": {k: {key: lamina.from_numpy(v.detach().numpy().copy())
                      for key, v in s.items()} for k, s in tsd["state"].items()},
        "param_groups": copy.deepcopy(tsd["param_groups"])}
    lp = [lamina.nn.Parameter(lamina.from_numpy(npy(p))) for p in tp]
    lo = getattr(lamina.optim, name)(lp)
    lo.load_state_dict(converted)
    for k in range(5, 25):
        set_grads(lp, tp, k)
        lo.step()
        to.step()
    for a, b in zip(lp, tp):
        assert_close(a, b, rtol=2e-5, atol=2e-6)


def test_load_accepts_torch_tensors_directly_and_casts_to_param_dtype():
    tp = torch.nn.Parameter(torch.ones(3))
    tp.grad = torch.ones(3)
    to = torch.optim.Adam([tp])
    to.step()
    p = lamina.nn.Parameter(lamina.ones(3, dtype=lamina.float64))
    lo = lamina.optim.Adam([p])
    lo.load_state_dict(to.state_dict())
    st = lo.state[p]
    assert st["exp_avg"].dtype == lamina.float64  # cast to the param's dtype, like torch
    assert st["step"].dtype == lamina.float32  # ... but not `step`
    assert st["step"].item() == 1.0


def test_save_with_lamina_load_with_torch_and_back():
    lp, tp = make_pair(init_weights())
    lo = lamina.optim.Adam(lp, lr=0.05)
    for k in range(3):
        set_grads(lp, lp, k)
        lo.step()
    buf = io.BytesIO()
    lamina.save(lo.state_dict(), buf)
    buf.seek(0)
    to = torch.optim.Adam(tp, lr=1.0)
    to.load_state_dict(torch.load(buf, weights_only=True))
    assert to.param_groups[0]["lr"] == 0.05
    assert_close(to.state[tp[0]]["exp_avg"], lo.state[lp[0]]["exp_avg"])
    buf = io.BytesIO()
    torch.save(to.state_dict(), buf)
    buf.seek(0)
    lo2 = lamina.optim.Adam(lp)
    lo2.load_state_dict(lamina.load(buf))
    assert_close(lo2.state[lp[0]]["exp_avg_sq"], lo.state[lp[0]]["exp_avg_sq"])


def test_load_state_dict_errors_leave_optimizer_unchanged():
    a, b = _lp(2), _lp(3)
    a.grad, b.grad = lamina.ones(2), lamina.ones(3)
    opt = lamina.optim.Adam([a, b], lr=0.1)
    opt.step()
    good = opt.state_dict()
    two_groups = lamina.optim.Adam([{"params": [a]}, {"params": [b]}]).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict(two_groups)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        opt.load_state_dict(lamina.optim.Adam([a]).state_dict())
    swapped = lamina.optim.Adam([b, a], lr=0.7)
    b.grad, a.grad = lamina.ones(3), lamina.ones(2)
    swapped.step()
    before = {k: v.tolist() for k, v in opt.state[a].items()}
    with pytest.raises(ValueError) as e:
        opt.load_state_dict(swapped.state_dict())
    assert "state 'exp_avg' of parameter 0 has shape (3,); expected (2,)" in str(e.value)
    assert "parameter 1 has shape (2,); expected (3,)" in str(e.value)
    assert opt.param_groups[0]["lr"] == 0.1
    assert {k: v.tolist() for k, v in opt.state[a].items()} == before
    opt.load_state_dict(good)


def test_pickle_and_deepcopy():
    p = _lp(2)
    p.grad = lamina.ones(2)
    opt = lamina.optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    clone = copy.deepcopy(opt)
    assert repr(clone) == repr(opt)
    q = clone.param_groups[0]["params"][0]
    assert q is not p and clone.state[q]["momentum_buffer"].tolist() == [1.0, 1.0]
    again = pickle.loads(pickle.dumps(opt))
    assert again.state_dict()["param_groups"] == opt.state_dict()["param_groups"]


# ---------------------------------------------------------------------------- lazy / devices
@pytest.mark.parametrize("name", ALL)
def test_parameter_materialized_after_optimizer_creation(name):
    """A lazy module's parameter gets its real shape after the optimizer was built (and even
    after it stepped): its state is re-created from the new shape instead of breaking."""
    p = lamina.nn.Parameter(lamina.empty(0))
    opt = getattr(lamina.optim, name)([p], **KW[name])
    opt.step()  # no grad yet: nothing happens
    p.data = lamina.ones(4, 3)
    p.grad = lamina.ones(4, 3)
    opt.step()
    p.data = lamina.ones(2, 5)
    p.grad = lamina.ones(2, 5)
    opt.step()
    for v in opt.state[p].values():
        assert v.ndim == 0 or tuple(v.shape) == (2, 5)
    tp = torch.nn.Parameter(torch.ones(2, 5))
    tp.grad = torch.ones(2, 5)
    to = getattr(torch.optim, name)([tp], **KW[name])
    to.step()
    assert_close(p, tp)


def test_param_cast_to_float64_after_step_moves_state():
    p = _lp(2)
    p.grad = lamina.ones(2)
    opt = lamina.optim.Adam([p], lr=0.1)
    opt.step()
    p.data = p.detach().double()
    p.grad = lamina.ones(2, dtype=lamina.float64)
    opt.step()
    assert opt.state[p]["exp_avg"].dtype == lamina.float64
    assert opt.state[p]["step"].item() == 2.0


@pytest.mark.parametrize("name", ALL)
def test_cuda_backend_matches_cpu(fake_cupy, name):
    """The updates run with the parameter device's namespace (CuPy on cuda)."""
    init = init_weights()
    cpu = [lamina.nn.Parameter(lamina.from_numpy(w.copy())) for w in init]
    gpu = [lamina.nn.Parameter(lamina.from_numpy(w.copy()).to("cuda")) for w in init]
    oc = getattr(lamina.optim, name)(cpu, **KW[name])
    og = getattr(lamina.optim, name)(gpu, **KW[name])
    for k in range(5):
        set_grads(cpu, cpu, k)
        for pc, pg in zip(cpu, gpu):
            pg.grad = None if pc.grad is None else pc.grad.to("cuda")
        oc.step()
        og.step()
    for pc, pg in zip(cpu, gpu):
        assert pg.device.type == "cuda"
        assert isinstance(pg._data, fake_cupy.ndarray)
        np.testing.assert_allclose(npy(pg), npy(pc), rtol=1e-6, atol=1e-7)
    for v in og.state[gpu[0]].values():
        assert v.device.type == ("cpu" if v.ndim == 0 else "cuda")


@pytest.mark.parametrize("name, kw", [("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
                                      ("Adam", {"lr": 0.01, "weight_decay": 1e-3}),
                                      ("AdamW", {"lr": 0.01}),
                                      ("RMSprop", {"lr": 0.003, "momentum": 0.5})])
def test_tiny_mlp_training_matches_torch(name, kw):
    """50 steps of a 3-8-2 MLP trained with each library's own autograd."""
    rng = np.random.default_rng(7)
    init = [rng.normal(size=s).astype(np.float32) * 0.5 for s in [(8, 3), (8,), (2, 8), (2,)]]
    x = rng.normal(size=(16, 3)).astype(np.float32)
    y = rng.normal(size=(16, 2)).astype(np.float32)
    lp, tp = [lamina.nn.Parameter(lamina.from_numpy(w.copy())) for w in init], \
        [torch.nn.Parameter(torch.from_numpy(w.copy())) for w in init]
    lo, to = getattr(lamina.optim, name)(lp, **kw), getattr(torch.optim, name)(tp, **kw)

    def loss(lib, p, xx, yy):
        h = (xx @ p[0].T + p[1]).relu()
        return ((h @ p[2].T + p[3] - yy) ** 2).mean()

    lx, ly, tx, ty = lamina.from_numpy(x), lamina.from_numpy(y), torch.from_numpy(x), \
        torch.from_numpy(y)
    for _ in range(50):
        lo.zero_grad()
        to.zero_grad()
        ll, tl = loss(lamina, lp, lx, ly), loss(torch, tp, tx, ty)
        ll.backward()
        tl.backward()
        lo.step()
        to.step()
    assert ll.item() == pytest.approx(tl.item(), rel=1e-4)
    for a, b in zip(lp, tp):
        assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_check_args_uses_torchs_messages_in_order():
    from lamina.optim.optimizer import _check_args

    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        _check_args(-1, epsilon=-1)
    with pytest.raises(ValueError, match="Invalid epsilon value: -1"):
        _check_args(0.1, epsilon=-1, weight_decay=-1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        _check_args(0.1, betas=(0.5, 1.0))
    with pytest.raises(ValueError, match="Invalid rho value: 1.5"):
        _check_args(0.1, rho=1.5)
    with pytest.raises(RuntimeError, match="differentiable=True"):
        _check_args(0.1, rho=1.0, differentiable=True)
    _check_args(0.0, betas=(0.0, 0.999), rho=0.0, weight_decay=0)
