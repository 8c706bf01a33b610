"""lamina.amp.GradScaler against torch.amp.GradScaler: the same scaled losses, gradients,
skipped steps, scale updates and state dicts; the disabled paths are no-ops."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import torch

import lamina
from tests.oracle_helpers import assert_close, npy

W = np.array([[0.5, -1.0, 0.25], [1.5, 0.75, -0.5]], np.float32)
B = np.array([0.1, -0.2], np.float32)
X = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)


def _setup(lib, **kw):
    m = lib.nn.Linear(3, 2)
    with lib.no_grad():
        m.weight.copy_(lib.tensor(W))
        m.bias.copy_(lib.tensor(B))
    opt = lib.optim.SGD(m.parameters(), lr=0.1)
    return m, opt, lib.amp.GradScaler("cpu", **kw)


def _train(lib, steps, bad_steps=(), clip=False, **kw):
    """A loop as the AMP recipe writes it; on ``bad_steps`` the loss is made inf."""
    m, opt, scaler = _setup(lib, **kw)
    log = []
    for i in range(steps):
        opt.zero_grad()
        loss = (m(lib.tensor(X)) ** 2).mean()
        if i in bad_steps:
            loss = loss * float("inf")
        scaler.scale(loss).backward()
        if clip:
            scaler.unscale_(opt)
            lib.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        ret = scaler.step(opt)
        scaler.update()
        log.append((ret, scaler.get_scale(), scaler._get_growth_tracker(), npy(m.weight.grad)))
    return m, scaler, log


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # NumPy on the inf steps
@pytest.mark.parametrize("bad_steps", [(), (1,), (0, 1, 2), (3,)])
@pytest.mark.parametrize("clip", [False, True])
def test_training_loop_matches_torch(bad_steps, clip):
    kw = {"init_scale": 2.0 ** 10, "growth_interval": 2}
    ml, sl, logl = _train(lamina, 6, bad_steps, clip, **kw)
    mt, st, logt = _train(torch, 6, bad_steps, clip, **kw)
    for a, b in zip(logl, logt):
        assert a[:3] == b[:3]  # same skipped steps, scales and growth trackers
        assert_close(a[3], b[3])  # gradients come from matmuls: tolerance
    assert_close(ml.weight, mt.weight)
    assert_close(ml.bias, mt.bias)
    assert sl.state_dict() == st.state_dict()


def test_scaled_values_and_unscaled_gradients_match_torch():
    out = []
    for lib in (lamina, torch):
        m, opt, scaler = _setup(lib, init_scale=3.0)
        loss = m(lib.tensor(X)).sum()
        scaled = scaler.scale(loss)
        pair = scaler.scale([loss, (loss, loss)])
        scaled.backward()
        g_scaled = npy(m.weight.grad)
        scaler.unscale_(opt)
        out.append((npy(scaled), [npy(pair[0]), npy(pair[1][0])], type(pair[1]), g_scaled,
                    npy(m.weight.grad)))
    assert_close(out[0][0], out[1][0])
    assert_close(out[0][1], out[1][1])
    assert out[0][2] is out[1][2] is tuple
    assert_close(out[0][3], out[1][3])
    assert_close(out[0][4], out[1][4])
    # unscale_ is one float32 multiply by the float32 reciprocal, in both
    for o in out:
        np.testing.assert_array_equal(o[4], o[3] * np.float32(1 / 3.0))


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_growth_stops_at_float32_overflow():
    for lib in (lamina, torch):
        m, opt, scaler = _setup(lib, init_scale=2.0 ** 127, growth_interval=1)
        scaler.scale(m(lib.tensor(X)).sum() * 0).backward()
        scaler.step(opt)
        scaler.update()
        assert scaler.get_scale() == 2.0 ** 127


def test_misuse_raises_like_torch():
    for lib in (lamina, torch):
        m, opt, scaler = _setup(lib)
        with pytest.raises(AssertionError, match="did not use scaler.scale"):
            scaler.step(opt)
        scaler.scale(m(lib.tensor(X)).sum()).backward()
        scaler.unscale_(opt)
        with pytest.raises(RuntimeError, match="already been called"):
            scaler.unscale_(opt)
        scaler.step(opt)
        with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
            scaler.step(opt)
        with pytest.raises(RuntimeError, match="after step"):
            scaler.unscale_(opt)
        with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
            scaler.step(opt, closure=lambda: None)
        with pytest.raises(ValueError, match="outputs must be a Tensor"):
            scaler.scale(3.0)
        with pytest.raises(AssertionError, match="growth factor"):
            lib.amp.GradScaler("cpu", growth_factor=1.0)
        with pytest.raises(RuntimeError, match="source state dict is empty"):
            scaler.load_state_dict({})


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # NumPy on the inf step
def test_state_dict_round_trip_and_pickle():
    _, s, _ = _train(lamina, 3, (1,), init_scale=8.0, growth_interval=5)
    fresh = lamina.amp.GradScaler("cpu")
    fresh.load_state_dict(s.state_dict())
    assert fresh.state_dict() == s.state_dict()
    back = pickle.loads(pickle.dumps(s))
    assert back.state_dict() == s.state_dict()
    assert back.scale(lamina.tensor(1.0)).item() == s.get_scale()
    back.update(16.0)  # the float form of update: no inf checks needed
    assert back.get_scale() == 16.0


@pytest.mark.parametrize("make", [
    lambda lib: lib.amp.GradScaler(enabled=False),
    lambda lib: lib.amp.GradScaler("cpu", enabled=False),
    lambda lib: lib.cuda.amp.GradScaler(enabled=False),
])
def test_disabled_scaler_is_a_no_op(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = []
        for lib in (lamina, torch):
            s = make(lib)
            m, opt, _ = _setup(lib)
            loss = m(lib.tensor(X)).sum()
            assert s.scale(loss) is loss
            outs = [loss]
            assert s.scale(outs) is outs
            loss.backward()
            s.unscale_(opt)
            assert s.step(opt) is None  # SGD.step() returns None
            s.update()
            res.append((s.is_enabled(), s.get_scale(), s.state_dict(), npy(m.weight)))
    assert res[0][:3] == res[1][:3] == (False, 1.0, {})
    np.testing.assert_array_equal(res[0][3], res[1][3])


def test_disabled_step_passes_the_closure_through():
    s = lamina.amp.GradScaler("cpu", enabled=False)
    m, opt, _ = _setup(lamina)

    def closure():
        opt.zero_grad()
        loss = m(lamina.tensor(X)).sum()
        loss.backward()
        return loss

    before = float(m(lamina.tensor(X)).sum())
    assert float(s.step(opt, closure)) == before  # the closure's loss, then the step
    assert float(m(lamina.tensor(X)).sum()) != before


@pytest.mark.skipif(torch.cuda.is_available(), reason="the oracle is a CPU-only torch")
def test_cuda_scaler_without_gpu_warns_and_disables(monkeypatch):
    monkeypatch.setattr(lamina.cuda, "is_available", lambda: False)
    for lib in (lamina, torch):
        with pytest.warns(UserWarning, match="CUDA is not available.  Disabling"):
            s = lib.amp.GradScaler()
        assert not s.is_enabled()
        with pytest.warns(FutureWarning, match="torch.amp.GradScaler\\('cuda', args...\\)"), \
                pytest.warns(UserWarning, match="Disabling"):
            s = lib.cuda.amp.GradScaler()
        assert not s.is_enabled()
