"""no_grad / enable_grad / set_grad_enabled / inference_mode as context managers and
decorators, against torch."""

from __future__ import annotations

import pytest
from scenario import assert_same

import lamina

SCENARIOS = {
    "no_grad_ctx": """
x = m.tensor([1., 2.], requires_grad=True)
with m.no_grad():
    y = x * 2
out = (y.requires_grad, y.grad_fn, m.is_grad_enabled())""",
    "no_grad_decorator_call": """
@m.no_grad()
def f(x):
    return x * 2
x = m.tensor([1., 2.], requires_grad=True)
out = (f(x).requires_grad, m.is_grad_enabled(), f.__name__)""",
    "no_grad_bare_decorator": """
@m.no_grad
def f(x):
    return x * 2
x = m.tensor([1., 2.], requires_grad=True)
out = (f(x).requires_grad, m.is_grad_enabled())""",
    "enable_grad_decorator_inside_no_grad": """
@m.enable_grad()
def f(x):
    return x * 2
x = m.tensor([1., 2.], requires_grad=True)
with m.no_grad():
    out = (f(x).requires_grad, m.is_grad_enabled())""",
    "enable_grad_nested": """
with m.no_grad():
    with m.enable_grad():
        a = m.is_grad_enabled()
    b = m.is_grad_enabled()
out = (a, b, m.is_grad_enabled())""",
    "inference_mode_decorator": """
@m.inference_mode()
def f(x):
    return x * 2
x = m.tensor([1., 2.], requires_grad=True)
out = (f(x).requires_grad, m.is_grad_enabled(), m.is_inference_mode_enabled())""",
    "inference_mode_bare": """
@m.inference_mode
def f(x):
    return (x * 2, m.is_inference_mode_enabled())
x = m.tensor([1., 2.], requires_grad=True)
y, inside = f(x)
out = (y.requires_grad, inside, m.is_grad_enabled(), m.is_inference_mode_enabled())""",
    "inference_mode_false": """
with m.inference_mode(False):
    a = m.is_grad_enabled()
out = (a, m.is_grad_enabled())""",
    "set_grad_enabled_function": """
m.set_grad_enabled(False); a = m.is_grad_enabled(); m.set_grad_enabled(True)
out = (a, m.is_grad_enabled())""",
    "set_grad_enabled_ctx": """
with m.set_grad_enabled(False):
    a = m.is_grad_enabled()
    x = m.ones(1, requires_grad=True) * 2
out = (a, x.requires_grad, m.is_grad_enabled())""",
    "set_grad_enabled_decorator": """
@m.set_grad_enabled(False)
def f(x):
    return x * 2
x = m.tensor([1., 2.], requires_grad=True)
out = (m.is_grad_enabled(), f(x).requires_grad, m.is_grad_enabled())""",
    "restored_after_exception": """
try:
    with m.no_grad():
        raise ValueError("boom")
except ValueError:
    pass
out = m.is_grad_enabled()""",
    "decorator_reentrant": """
@m.no_grad()
def f(n):
    return m.is_grad_enabled() if n == 0 else f(n - 1)
out = (f(3), m.is_grad_enabled())""",
    "leaf_created_under_no_grad": """
with m.no_grad():
    w = m.ones(2, requires_grad=True)
out = (w.requires_grad, w.is_leaf)""",
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_grad_mode_matches_torch(name):
    assert_same(SCENARIOS[name])
    assert lamina.is_grad_enabled()


def test_generator_function_decorated():
    @lamina.no_grad()
    def gen():
        yield lamina.is_grad_enabled()

    assert list(gen()) == [False]
    assert lamina.is_grad_enabled()


def test_one_no_grad_object_reused_and_nested():
    ctx = lamina.no_grad()
    x = lamina.ones(2, requires_grad=True)
    for _ in range(2):
        with ctx:
            assert not lamina.is_grad_enabled()
            with lamina.enable_grad():
                assert (x * 2).requires_grad
            assert not (x * 2).requires_grad
        assert lamina.is_grad_enabled()

    @lamina.no_grad
    def bare(t):
        return t * 2

    @lamina.enable_grad()
    def called(t):
        return t * 2

    assert not bare(x).requires_grad
    with lamina.no_grad():
        assert called(x).requires_grad
    assert lamina.is_grad_enabled()


def test_grad_mode_is_thread_local():
    import threading

    import lamina

    seen = {}
    inside = threading.Event()
    release = threading.Event()

    def worker():
        # a fresh thread starts with grad enabled, whatever the main thread does
        seen["start"] = lamina.is_grad_enabled()
        with lamina.no_grad():
            inside.set()
            release.wait(5)
            x = lamina.ones(2, requires_grad=True)
            seen["worker_no_grad_result"] = (x * 2).requires_grad
        seen["after"] = lamina.is_grad_enabled()

    with lamina.inference_mode():
        t = threading.Thread(target=worker)
        t.start()
        assert inside.wait(5)
        # the worker's no_grad does not reach this thread, nor our inference mode the worker
        assert lamina.is_inference_mode_enabled() and not lamina.is_grad_enabled()
        release.set()
        t.join(5)
    assert lamina.is_grad_enabled() and not lamina.is_inference_mode_enabled()
    y = lamina.ones(2, requires_grad=True) * 2
    assert y.requires_grad
    assert seen == {"start": True, "worker_no_grad_result": False, "after": True}
