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


# ---------------------------------------------------------------- recycled result arrays
def _results():
    r = getattr(W._LOCAL, "results", None)
    return [a for lst in r.by_key.values() for a in lst] if r is not None else []


def test_a_result_is_a_plain_array_reused_only_once_nothing_refers_to_it():
    a = W.result(np, (300, 200), np.float32)
    assert a.shape == (300, 200) and a.dtype == np.float32 and a.flags.c_contiguous
    assert a.base is None  # a plain array: it can be a tensor's own storage
    a[...] = 1
    b = W.result(np, (300, 200), np.float32)
    assert b is not a and not np.shares_memory(a, b)  # a is alive
    view = a[5:9]
    ident = id(a)
    del a
    c = W.result(np, (300, 200), np.float32)
    assert not np.shares_memory(c, view)  # a view of it keeps it in use
    assert (view == 1).all()
    del view
    d = W.result(np, (300, 200), np.float32)
    assert id(d) == ident  # now idle: handed out again
    e = W.result(np, (200, 300), np.float32)
    assert not any(e is x for x in (b, c, d))  # another shape: another array


def test_result_zeros_are_zero_on_a_recycled_array():
    a = W.result(np, (100, 1000), np.float64)
    a[...] = 7
    del a
    z = W.result_zeros(np, (100, 1000), np.float64)
    assert (z == 0).all()


def test_small_results_and_other_array_libraries_are_not_kept():
    a = W.result(np, (10, 10), np.float32)
    assert a.shape == (10, 10) and _results() == []

    class FakeXP:
        __name__ = "cupy"

        @staticmethod
        def empty(shape, dtype):
            return ("empty", shape, dtype)

    assert W.result(FakeXP, (1 << 20,), np.float32) == ("empty", (1 << 20,), np.float32)
    assert _results() == []


def test_the_results_stay_within_their_capacity(monkeypatch):
    monkeypatch.setattr(W, "RESULT_CAPACITY", 4 << 20)
    live = [W.result(np, (1 << 18,), np.float32) for _ in range(4)]  # 4 x 1 MiB: full
    extra = W.result(np, (1 << 18,), np.float32)  # everything in use: a plain array
    assert not any(extra is a for a in _results())
    assert W.held_bytes() <= 4 << 20
    del live
    other = W.result(np, (1 << 17,), np.float64)  # idle arrays of another shape make room
    assert any(other is a for a in _results()) and W.held_bytes() <= 4 << 20


def test_each_thread_recycles_its_own_results():
    mine = W.result(np, (512, 512), np.float32)
    ident = id(mine)  # stays unique: this thread's list keeps the array alive
    del mine  # idle, but only for this thread
    seen = []

    def other():
        a = W.result(np, (512, 512), np.float32)
        seen.append((id(a), len(_results())))

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen[0][0] != ident and seen[0][1] == 1
    assert id(W.result(np, (512, 512), np.float32)) == ident


def test_op_results_on_recycled_arrays_never_change_a_live_tensor():
    rs = np.random.RandomState(0)
    x = lamina.tensor(rs.standard_normal(1 << 19).astype(np.float32), requires_grad=True)
    g = lamina.ones(1 << 19)
    y1 = x.exp()
    r1 = y1.detach().numpy().copy()
    y2 = (x * 2).exp()  # same shape: must not take y1's array
    np.testing.assert_array_equal(y1.detach().numpy(), r1)
    assert not np.shares_memory(y1.detach().numpy(), y2.detach().numpy())
    y1.backward(g)
    grad1 = x.grad.numpy().copy()
    kept = x.grad
    (x * 3).exp().backward(g)  # accumulates into the kept .grad, which nothing recycles
    np.testing.assert_allclose(kept.numpy(), grad1 + 3 * np.exp(3 * x.detach().numpy()),
                               rtol=1e-6)
    m = lamina.nn.Linear(1024, 512)
    a = lamina.relu(m(lamina.randn(256, 1024)))
    ref = a.detach().numpy().copy()
    for _ in range(3):
        lamina.relu(m(lamina.randn(256, 1024))).sum().backward()
    np.testing.assert_array_equal(a.detach().numpy(), ref)


def test_arith_is_the_ufunc_with_a_recycled_or_temporary_output():
    rs = np.random.RandomState(1)
    a = rs.standard_normal((256, 300)).astype(np.float32)
    b = rs.standard_normal(300).astype(np.float32)
    for ufunc in (np.add, np.subtract, np.multiply, np.divide):
        for other in (b, 2.5, np.float32(3), a):
            got = W.arith(np, ufunc, a, other)
            want = ufunc(a, other)
            assert got.dtype == want.dtype and got.base is None
            np.testing.assert_array_equal(got, want)
            tmp = W.arith(np, ufunc, a, other, temporary=True)
            np.testing.assert_array_equal(tmp, want)
            assert any(np.shares_memory(tmp, buf) for buf in _bufs())
    wide = W.arith(np, np.add, a[:1], a)  # b widens the result: a plain ufunc call
    np.testing.assert_array_equal(wide, a[:1] + a)
    ints = np.arange(100_000, dtype=np.int64)
    q = W.arith(np, np.divide, ints, 3)  # integer true division is float
    assert q.dtype == np.float64 and np.array_equal(q, ints / 3)
    assert W.arith(np, np.add, a, np.float64(1)).dtype == (a + np.float64(1)).dtype
