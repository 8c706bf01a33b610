"""lamina/_backends/_workspace.py: per-thread work buffers, reused only when nothing refers to
them, bounded, and never behind an array that conv/pool return."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import lamina
from lamina._backends import _workspace as W
from lamina.ops import conv as C


@pytest.fixture(autouse=True)
def _fresh_pool():
    W.clear()
    yield
    W.clear()


def _bufs():
    pools = getattr(W._LOCAL, "pools", {})
    return [b for p in pools.values() for b in p.bufs]


def test_an_idle_buffer_is_reused_and_a_referenced_one_is_not():
    a = W.empty(np, (300, 200), np.float32)
    assert a.shape == (300, 200) and a.dtype == np.float32 and a.flags.c_contiguous
    a[...] = 1
    b = W.empty(np, (300, 200), np.float32)
    assert not np.shares_memory(a, b)  # a is alive
    view = a[10:20]
    del a
    c = W.empty(np, (300, 200), np.float32)
    assert not np.shares_memory(c, view)  # a view keeps its buffer out of the pool
    assert (view == 1).all()
    ptr = c.ctypes.data
    del c
    d = W.empty(np, (300, 200), np.float32)
    assert d.ctypes.data == ptr  # idle again: handed out again
    assert len(_bufs()) == 3


def test_zeros_are_zero_even_on_a_reused_buffer():
    a = W.empty(np, (100, 1000), np.float64)
    a.fill(7.0)
    del a
    z = W.zeros(np, (100, 1000), np.float64)
    assert not z.any()


def test_small_and_huge_requests_are_plain_arrays():
    small = W.empty(np, (10,), np.float32)
    huge_shape = (W.MAX_BYTES // 4 + 1,)
    assert small.base is None and _bufs() == []
    huge = W.empty(np, huge_shape, np.float32)
    assert huge.base is None and _bufs() == []


def test_the_pool_stays_within_its_capacity(monkeypatch):
    monkeypatch.setattr(W, "CAPACITY", 3 << 20)
    held = [W.empty(np, (1 << 18,), np.float32) for _ in range(5)]  # 1 MiB each
    assert W.held_bytes() <= 3 << 20
    assert sum(a.base is None for a in held) == 2  # no room left: plain arrays
    del held
    W.empty(np, (1 << 19,), np.float32)  # 2 MiB: idle 1 MiB buffers are dropped for it
    assert W.held_bytes() <= 3 << 20


def test_each_thread_has_its_own_buffers():
    mine = W.empty(np, (1 << 16,), np.float32)
    ptr = mine.ctypes.data
    del mine
    seen = []

    def other():
        a = W.empty(np, (1 << 16,), np.float32)
        seen.append((a.ctypes.data, W.held_bytes()))

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen[0][0] != ptr and seen[0][1] > 0
    assert W.empty(np, (1 << 16,), np.float32).ctypes.data == ptr


def test_other_array_libraries_get_plain_arrays():
    class FakeXP:
        __name__ = "cupy"

        @staticmethod
        def empty(shape, dtype):
            return ("empty", shape, dtype)

    assert W.empty(FakeXP, (1 << 20,), np.float32) == ("empty", (1 << 20,), np.float32)
    assert _bufs() == []


@pytest.mark.parametrize("algo", C.ALGORITHMS)
def test_conv_and_pool_results_never_share_a_pool_buffer(algo):
    rs = np.random.RandomState(0)
    x = lamina.tensor(rs.standard_normal((8, 3, 20, 20)).astype(np.float32),
                      requires_grad=True)
    w = lamina.tensor(rs.standard_normal((16, 3, 3, 3)).astype(np.float32),
                      requires_grad=True)
    b = lamina.tensor(rs.standard_normal(16).astype(np.float32), requires_grad=True)
    with C.use_algorithm(algo):
        y = C.conv2d(x, w, b, padding=1)
        z = lamina.nn.functional.max_pool2d(y, 2) + lamina.nn.functional.avg_pool2d(y, 2)
        z.sum().backward()
        y2 = C.conv2d(x.detach(), w.detach(), padding=1)  # another call reuses the buffers
    assert _bufs()
    results = [y, z, y2, x.grad, w.grad, b.grad]
    for buf in _bufs():
        for r in results:
            assert not np.shares_memory(r.detach().numpy(), buf)
    ref = y.detach().numpy().copy()
    with C.use_algorithm(algo):
        C.conv2d(x.detach() * 2, w.detach(), b.detach(), padding=1)  # more buffer traffic
    np.testing.assert_array_equal(y.detach().numpy(), ref)
