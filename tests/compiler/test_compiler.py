"""lamina/compiler/__init__.py: torch.compile's signature and wrappers (OptimizedModule, the
decorator forms), guards and recompiles, reset(), disable, is_compiling."""

from __future__ import annotations

import inspect
import threading

import numpy as np
import pytest
import torch

import lamina
from lamina import compiler
from lamina.compiler import _Fallback

nn = lamina.nn


@pytest.fixture(autouse=True)
def _fresh():
    compiler.reset()
    yield
    compiler.reset()


def _programs(c):
    return [e for e in c._cache.values() if not isinstance(e, _Fallback)]


@pytest.mark.parametrize("fn", [lamina.compile, compiler.compile])
def test_signature_matches_torch_compile(fn):
    ours = inspect.signature(fn).parameters
    theirs = inspect.signature(torch.compile).parameters
    assert list(ours) == list(theirs)
    for name, p in theirs.items():
        assert ours[name].kind == p.kind, name
        assert ours[name].default == p.default, name


def test_optimized_module_wraps_like_torch():
    lamina.manual_seed(0)
    lin = nn.Linear(3, 2)
    c = lamina.compile(lin)
    t = torch.compile(torch.nn.Linear(3, 2))
    assert type(c).__name__ == type(t).__name__ == "OptimizedModule"
    assert isinstance(c, nn.Module) and c._orig_mod is lin
    assert list(c.state_dict()) == list(t.state_dict()) == ["_orig_mod.weight", "_orig_mod.bias"]
    assert c.weight is lin.weight and c.in_features == 3
    assert repr(c).startswith("OptimizedModule(\n  (_orig_mod): Linear(")
    c.eval()
    assert not lin.training and not c.training
    x = lamina.randn(4, 3)
    assert np.array_equal(c(x).detach().numpy(), lin(x).detach().numpy())
    assert lamina.compile is not None and isinstance(lamina.compile(lin), type(c))


def test_decorator_forms_and_disable():
    @lamina.compile
    def f(x):
        return x * 2 + 1

    @lamina.compile(fullgraph=True, dynamic=False, mode="reduce-overhead")
    def g(x):
        return (x * 3).sum()

    x = lamina.arange(4.0)
    assert f(x).tolist() == [1.0, 3.0, 5.0, 7.0]
    assert f(x).tolist() == [1.0, 3.0, 5.0, 7.0]
    assert g(x).item() == 18.0 and g(x).item() == 18.0
    assert len(_programs(f)) == 1 and len(_programs(g)) == 1
    assert f.__name__ == "f"

    def h(x):
        return x + 1
    assert lamina.compile(h, disable=True) is h
    with pytest.raises(RuntimeError, match="Either mode or options"):
        lamina.compile(h, mode="default", options={})


def test_compile_on_a_method():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)

        @lamina.compile
        def forward(self, x):
            return self.lin(x).relu()

    m = M()
    x = lamina.randn(2, 3)
    want = m.lin(x).relu()
    for _ in range(2):
        assert np.array_equal(m(x).detach().numpy(), want.detach().numpy())
    assert len(_programs(M.forward)) == 1


def test_guards_retrace_on_shape_dtype_grad_mode_and_training():
    lamina.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.0))
    c = lamina.compile(net)
    x = lamina.randn(2, 4)
    c(x)
    c(x)
    assert len(c._compiled._cache) == 1
    c(lamina.randn(3, 4))  # shape
    with lamina.no_grad():  # grad mode
        c(x)
    c.eval()  # training flag
    c(x)
    c(x.double().float())  # same guards: no new entry
    assert len(c._compiled._cache) == 4
    # requires_grad of a captured parameter is guarded too
    net[0].weight.requires_grad_(False)
    out = c(x)
    assert out.requires_grad  # the bias still requires grad
    out.sum().backward()
    assert net[0].weight.grad is None and net[0].bias.grad is not None


def test_recompile_limit_then_eager_with_the_reason():
    f = lamina.compile(lambda x: x + 1, recompile_limit=2)
    for n in range(1, 5):
        assert f(lamina.ones(n)).tolist() == [2.0] * n
    assert len(f._cache) == 2
    assert any("recompile_limit (2)" in r for _, r in compiler.fallback_reasons())
    compiler.config.recompile_limit, old = 1, compiler.config.recompile_limit
    try:
        g = lamina.compile(lambda x: x + 1)
        g(lamina.ones(1))
        g(lamina.ones(2))
        assert len(g._cache) == 1
    finally:
        compiler.config.recompile_limit = old
    with pytest.raises(compiler.Unsupported, match="recompile_limit"):
        h = lamina.compile(lambda x: x + 1, recompile_limit=1, fullgraph=True)
        h(lamina.ones(1))
        h(lamina.ones(2))


def test_reset_forgets_programs_and_reasons():
    f = lamina.compile(lambda x: x * 2)
    g = lamina.compile(lambda x: x.sum().item())
    f(lamina.ones(2))
    g(lamina.ones(2))
    assert f._cache and compiler.fallback_reasons()
    compiler.reset()
    assert not f._cache and not g._cache and compiler.fallback_reasons() == []


def test_disable_inside_a_compiled_function_and_is_compiling():
    seen = []

    @compiler.disable
    def side(x):
        seen.append(compiler.is_compiling())
        return x + 1

    def fn(x):
        seen.append(compiler.is_compiling())
        return side(x * 2)

    c = lamina.compile(fn)
    assert c(lamina.ones(1)).tolist() == [3.0]
    assert seen == [True, True]
    assert not compiler.is_compiling()
    assert any("disable" in r for _, r in compiler.fallback_reasons())
    assert c(lamina.ones(1)).tolist() == [3.0]  # eager from now on


def test_other_threads_run_eager_while_a_trace_is_running():
    started, go = threading.Event(), threading.Event()
    results = []

    def slow(x):
        y = x * 2
        started.set()
        go.wait(5)
        return y + 1

    def other():
        started.wait(5)
        results.append(compiler.is_compiling())
        a = lamina.ones(3) * 5  # runs on the originals, records nothing
        results.append(a.sum().item())
        go.set()

    th = threading.Thread(target=other)
    th.start()
    c = lamina.compile(slow)
    out = c(lamina.ones(2))
    th.join()
    assert results == [False, 15.0]
    assert out.tolist() == [3.0, 3.0] and len(_programs(c)) == 1
