"""lamina/ops/conv.py: each convolution algorithm (stride-1 flat rows, im2col), forced, agrees
with torch for a sweep of geometries, in float32 and float64, forward and backward; the
automatic choice times the candidates once per problem, keeps the winner, and follows
``use_algorithm`` and ``lamina.backends.cudnn.deterministic``; work buffers are reused safely;
im2col memory is chunked."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import lamina
from lamina.ops import conv as C
from tests.oracle_helpers import assert_close, lt, npy, tt

GEOMS = [  # (nd, C_in, C_out, kernel, stride, padding, dilation, groups)
    (1, 3, 4, 3, 1, 1, 1, 1),
    (1, 4, 4, 5, 1, 2, 2, 4),
    (2, 3, 6, (3, 2), 1, (1, 0), 1, 3),
    (2, 2, 4, 3, 1, "same", (2, 1), 2),
    (2, 4, 2, 1, 1, 0, 1, 1),
    (2, 3, 5, 3, 2, 1, 1, 1),
    (3, 2, 4, (2, 3, 2), 1, 1, 1, 2),
    (3, 2, 2, 2, (1, 2, 1), 0, (2, 1, 1), 1),
]


def _fn(nd):
    return (C.conv1d, C.conv2d, C.conv3d)[nd - 1], \
        (torch.nn.functional.conv1d, torch.nn.functional.conv2d,
         torch.nn.functional.conv3d)[nd - 1]


@pytest.mark.parametrize("geom", GEOMS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("algo", C.ALGORITHMS)
def test_conv_algorithms_match_torch(geom, dtype, algo):
    nd, ci, co, k, s, p, d, g = geom
    rs = np.random.RandomState(0)
    x = rs.standard_normal((2, ci) + (7, 6, 5)[:nd]).astype(dtype)
    ks = k if isinstance(k, tuple) else (k,) * nd
    w = rs.standard_normal((co, ci // g) + ks).astype(dtype)
    b = rs.standard_normal(co).astype(dtype)
    fl, ft = _fn(nd)
    xl, wl, bl = lt(x, True), lt(w, True), lt(b, True)
    xt, wt, bt = tt(x, True), tt(w, True), tt(b, True)
    with C.use_algorithm(algo):
        yl = fl(xl, wl, bl, s, p, d, g)
    yt = ft(xt, wt, bt, s, p, d, g)
    tol = {} if dtype == np.float64 else {"atol": 1e-4, "rtol": 1e-4}
    assert_close(yl, yt, **tol)
    assert yl.grad_fn.algo == (algo if s == 1 or algo != "flat" else "im2col")
    go = rs.standard_normal(tuple(yt.shape)).astype(dtype)
    yl.backward(lt(go))
    yt.backward(tt(go))
    for a, e in ((xl, xt), (wl, wt), (bl, bt)):
        assert_close(a.grad, e.grad, **tol)


def test_flat_path_is_taken_for_stride_one_and_not_for_strided():
    assert C.use_flat((1, 1), (30, 30), (28, 28))
    assert not C.use_flat((2, 1), (30, 30), (14, 28))
    assert not C.use_flat((1, 1), (14, 14), (4, 4))  # mostly wasted positions: im2col


def test_flat_layout_shares_padding_between_rows_and_images():
    # 8x8, 3x3, padding 1: rows of 8 + 1 shared zero, images of 9 rows (not 10x10)
    assert C.flat_extent((8, 8), ((1, 1), (1, 1)), (3, 3), (1, 1)) == ((9, 9), (8, 8))
    # padding beyond the kernel's reach: the layout grows to hold every output position
    assert C.flat_extent((4,), ((3, 3),), (1,), (1,)) == ((10,), (10,))
    geo = C._Flat((5, 7), ((0, 0), (0, 0)), (2, 3), (1, 2))
    assert geo.taps == (7, 2) and geo.offmax == 11 and geo.lead == 0


@pytest.mark.parametrize("kw", [{"padding": 3}, {"padding": (2, 0), "dilation": (1, 2)},
                                {"padding": "same", "dilation": 2}], ids=str)
@pytest.mark.parametrize("need", ["xwb", "w", "b", "x", "wb"])
@pytest.mark.parametrize("ci,co", [(2, 4), (4, 2)], ids=["accumulated", "shifted"])
def test_flat_path_gradient_subsets_and_wide_padding(kw, need, ci, co, monkeypatch):
    # the bias rides in the GEMM as a ones row of the kept columns: every subset of needed
    # gradients must still come out right (also with columns rebuilt in backward), with the
    # input gradient by either method (accumulated GEMM rows, or shifted output rows)
    monkeypatch.setattr(C, "FLAT_MIN_FILL", 0.0)  # the fixed rule picks flat
    rs = np.random.RandomState(5)
    x = rs.standard_normal((3, ci, 6, 5))
    w = rs.standard_normal((co, ci, 3, 3))
    b = rs.standard_normal(co)
    for save in (C.SAVE_COLS_BYTES, 0):
        monkeypatch.setattr(C, "SAVE_COLS_BYTES", save)
        ls = [lt(a, c in need) for a, c in ((x, "x"), (w, "w"), (b, "b"))]
        ts = [tt(a, c in need) for a, c in ((x, "x"), (w, "w"), (b, "b"))]
        yl = C.conv2d(*ls, **kw)
        yt = torch.nn.functional.conv2d(*ts, **kw)
        assert_close(yl, yt)
        go = rs.standard_normal(tuple(yt.shape))
        yl.backward(lt(go))
        yt.backward(tt(go))
        for a, e, c in zip(ls, ts, "xwb"):
            if c in need:
                assert_close(a.grad, e.grad)
            else:
                assert a.grad is None


def test_scratch_buffer_reuse_across_shapes_and_grad_modes():
    rs = np.random.RandomState(1)
    shapes = [(2, 3, 9, 9), (1, 3, 4, 4), (3, 3, 12, 11), (2, 3, 9, 9)]
    w = rs.standard_normal((4, 3, 3, 3)).astype(np.float32)
    for shape, grad in itertools.product(shapes, (False, True)):
        x = rs.standard_normal(shape).astype(np.float32)
        with lamina.set_grad_enabled(grad):
            y = C.conv2d(lt(x), lt(w), padding=1)
        ref = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1)
        np.testing.assert_allclose(npy(y), ref.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("flat", [True, False])
def test_chunked_batches_keep_columns_bounded_and_correct(flat, monkeypatch):
    monkeypatch.setattr(C, "FLAT_MIN_FILL", 0.0 if flat else 2.0)  # the fixed rule's pick
    monkeypatch.setattr(C, "COLS_BUDGET", 3 * 9 * 64 * 4 + 1)  # about one image per chunk
    monkeypatch.setattr(C, "SAVE_COLS_BYTES", 0)
    rs = np.random.RandomState(2)
    x = rs.standard_normal((5, 3, 8, 8)).astype(np.float32)
    w = rs.standard_normal((2, 3, 3, 3)).astype(np.float32)
    b = rs.standard_normal(2).astype(np.float32)
    xl, wl, bl = lt(x, True), lt(w, True), lt(b, True)
    xt, wt, bt = tt(x, True), tt(w, True), tt(b, True)
    yl = C.conv2d(xl, wl, bl, padding=1)
    yt = torch.nn.functional.conv2d(xt, wt, bt, padding=1)
    assert_close(yl, yt, atol=1e-4, rtol=1e-4)
    yl.sum().backward()
    yt.sum().backward()
    assert_close(xl.grad, xt.grad, atol=1e-4, rtol=1e-4)
    assert_close(wl.grad, wt.grad, atol=1e-4, rtol=1e-4)
    assert_close(bl.grad, bt.grad, atol=1e-4, rtol=1e-4)


def test_conv_transpose_matches_torch_float64():
    rs = np.random.RandomState(3)
    x = rs.standard_normal((2, 4, 3, 5))
    w = rs.standard_normal((4, 3, 3, 2))
    for kw in ({"stride": 2, "padding": 1, "output_padding": 1},
               {"groups": 2, "dilation": 2}, {}):
        xl, wl = lt(x, True), lt(w[:, : 3 if kw.get("groups", 1) == 1 else 1].copy(), True)
        xt, wt = tt(x, True), tt(npy(wl), True)
        yl = C.conv_transpose2d(xl, wl, **kw)
        yt = torch.nn.functional.conv_transpose2d(xt, wt, **kw)
        assert_close(yl, yt)
        yl.sum().backward()
        yt.sum().backward()
        assert_close(xl.grad, xt.grad)
        assert_close(wl.grad, wt.grad)


def test_no_graph_under_no_grad_and_dtype_kept():
    x = lamina.randn(1, 2, 5, 5)
    w = lamina.randn(3, 2, 3, 3, requires_grad=True)
    with lamina.no_grad():
        y = C.conv2d(x, w, padding=1)
    assert y.grad_fn is None and y.dtype == lamina.float32
    with pytest.raises(TypeError, match="argument 'padding' must be tuple of ints"):
        C.conv_transpose2d(x, w.detach().transpose(0, 1), padding="same")


def _problem(n=8, c=16, o=16, hw=20):
    rs = np.random.RandomState(7)
    x = rs.standard_normal((n, c, hw, hw)).astype(np.float32)
    w = rs.standard_normal((o, c, 3, 3)).astype(np.float32)
    return x, w


def test_automatic_choice_times_the_candidates_once_and_keeps_the_fastest(monkeypatch):
    monkeypatch.setattr(lamina.backends.cudnn, "benchmark", True)  # the opt-in to timing
    # flat made slow on purpose: the measurement must pick im2col, once per problem
    monkeypatch.setattr(C, "_TUNED", {})
    calls = []
    real = C.conv_forward_flat

    def slow_flat(*a, **k):
        calls.append("flat")
        import time
        time.sleep(0.1)
        return real(*a, **k)

    monkeypatch.setattr(C, "conv_forward_flat", slow_flat)
    x, w = _problem()
    xl, wl = lt(x, True), lt(w, True)
    y = C.conv2d(xl, wl, padding=1)
    # one warm-up run, then (the warm-up being slow) one timed round
    assert y.grad_fn.algo in ("im2col", "batch_last") and calls == ["flat", "flat"]
    y2 = C.conv2d(xl, wl, padding=1)
    assert y2.grad_fn.algo == y.grad_fn.algo and len(calls) == 2  # cached: no new measurement
    assert len(C._TUNED) == 1
    y.sum().backward()
    ref = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1)
    np.testing.assert_allclose(npy(y), ref.numpy(), rtol=1e-4, atol=1e-4)
    # another batch size is another problem; with no gradients another one again
    C.conv2d(lt(x[:4]), lt(w), padding=1)
    with lamina.no_grad():
        C.conv2d(xl, wl, padding=1)
    assert len(C._TUNED) == 3 and len(calls) == 6


def test_timing_warms_each_candidate_up_then_times_interleaved_rounds(monkeypatch):
    # the first run of a candidate pays for fresh work buffers: it is not timed, and the
    # candidates then alternate for TUNE_ROUNDS rounds (a single noisy round cannot decide)
    monkeypatch.setattr(lamina.backends.cudnn, "benchmark", True)
    monkeypatch.setattr(C, "_TUNED", {})
    monkeypatch.setattr(C, "TUNE_SLOW_S", float("inf"))  # a loaded machine: still all rounds
    order = []
    real = C._conv_fwd

    def spy(algo, *a, **k):
        order.append(algo)
        return real(algo, *a, **k)

    monkeypatch.setattr(C, "_conv_fwd", spy)
    x, w = _problem()
    C.conv2d(lt(x), lt(w, True), padding=1)
    k = len(C.ALGORITHMS)
    assert order[:k] == list(C.ALGORITHMS)  # the warm-up runs
    assert order[k:k + k * C.TUNE_ROUNDS] == list(C.ALGORITHMS) * C.TUNE_ROUNDS
    assert len(order) == k + k * C.TUNE_ROUNDS + 1  # and the real forward


def test_by_default_the_choice_is_the_fixed_rule_and_nothing_is_timed(monkeypatch):
    # torch's default benchmark=False: the same algorithm on every machine, whatever its load
    monkeypatch.setattr(C, "_TUNED", {})
    assert lamina.backends.cudnn.benchmark is False

    def no_timing(*a, **k):
        raise AssertionError("timed")

    monkeypatch.setattr(C, "_time_candidates", no_timing)
    x, w = _problem()
    y = C.conv2d(lt(x), lt(w, True), padding=1)
    assert y.grad_fn.algo == C._fixed_rule(x, w, (1, 1), ((1, 1), (1, 1)), (1, 1))
    assert not C._TUNED


def test_forced_deterministic_and_small_problems_skip_the_measurement(monkeypatch):
    monkeypatch.setattr(lamina.backends.cudnn, "benchmark", True)  # the opt-in to timing
    monkeypatch.setattr(C, "_TUNED", {})

    def no_timing(*a, **k):
        raise AssertionError("timed")

    monkeypatch.setattr(C, "_time_candidates", no_timing)
    x, w = _problem()
    with C.use_algorithm("flat"):
        assert C.conv2d(lt(x), lt(w), padding=1).grad_fn is None  # no grad: no node
        assert C.conv2d(lt(x), lt(w, True), padding=1).grad_fn.algo == "flat"
        # flat runs stride 1 only: a strided convolution takes im2col
        assert C.conv2d(lt(x), lt(w, True), padding=1, stride=2).grad_fn.algo == "im2col"
    with lamina.backends.cudnn.flags(enabled=True, deterministic=True):
        y = C.conv2d(lt(x), lt(w, True), padding=1)
    assert y.grad_fn.algo == C._fixed_rule(x, w, (1, 1), ((1, 1), (1, 1)), (1, 1)) == "flat"
    small_x, small_w = _problem(n=1, c=2, o=2, hw=5)
    assert C.conv2d(lt(small_x), lt(small_w, True)).grad_fn.algo == "im2col"  # fill < 0.5
    assert C._TUNED and all(v in C.ALGORITHMS for v in C._TUNED.values())
    with pytest.raises(ValueError, match="unknown convolution algorithm 'winograd'"):
        with C.use_algorithm("winograd"):
            pass


def test_the_measured_choice_is_one_of_the_candidates_and_matches_torch(monkeypatch):
    monkeypatch.setattr(lamina.backends.cudnn, "benchmark", True)  # the opt-in to timing
    monkeypatch.setattr(C, "_TUNED", {})
    x, w = _problem(n=8, c=16, o=16, hw=20)
    xl, wl = lt(x, True), lt(w, True)
    y = C.conv2d(xl, wl, padding=1)
    assert y.grad_fn.algo in C.ALGORITHMS and list(C._TUNED.values()) == [y.grad_fn.algo]
    xt, wt = tt(x, True), tt(w, True)
    yt = torch.nn.functional.conv2d(xt, wt, padding=1)
    assert_close(y, yt, atol=1e-4, rtol=1e-4)
    y.sum().backward()
    yt.sum().backward()
    assert_close(xl.grad, xt.grad, atol=1e-3, rtol=1e-4)
    assert_close(wl.grad, wt.grad, atol=1e-3, rtol=1e-4)


def test_batch_last_takes_unbatched_input_and_falls_back_when_its_columns_are_too_big(
        monkeypatch):
    rs = np.random.RandomState(5)
    x = rs.standard_normal((3, 9, 7)).astype(np.float32)  # unbatched (C, H, W)
    w = rs.standard_normal((4, 3, 3, 3)).astype(np.float32)
    xl, wl = lt(x, True), lt(w, True)
    xt, wt = tt(x, True), tt(w, True)
    with C.use_algorithm("batch_last"):
        yl = C.conv2d(xl, wl, padding=1, stride=(2, 1))
    yt = torch.nn.functional.conv2d(xt, wt, padding=1, stride=(2, 1))
    assert yl.grad_fn.algo == "batch_last"
    assert_close(yl, yt, atol=1e-5, rtol=1e-5)
    yl.sum().backward()
    yt.sum().backward()
    assert_close(xl.grad, xt.grad, atol=1e-5, rtol=1e-5)
    assert_close(wl.grad, wt.grad, atol=1e-4, rtol=1e-5)
    # batch_last never chunks its column matrix: past COLS_BUDGET it is neither forced nor
    # timed (im2col chunks instead)
    monkeypatch.setattr(C, "COLS_BUDGET", 1000)
    assert not C.batch_last_fits(x[None], w, (1, 1), ((1, 1), (1, 1)), (1, 1))
    with C.use_algorithm("batch_last"):
        assert C.conv2d(lt(x), lt(w, True), padding=1).grad_fn.algo == "im2col"
    monkeypatch.setattr(lamina.backends.cudnn, "benchmark", True)
    monkeypatch.setattr(C, "_TUNED", {})
    monkeypatch.setattr(C, "TUNE_MIN_FLOPS", 0)
    timed = []
    real = C._time_candidates

    def spy(*a):
        timed.append(a[-1])
        return real(*a)

    monkeypatch.setattr(C, "_time_candidates", spy)
    C.conv2d(lt(x[None]), lt(w, True), padding=1)
    assert timed == [("flat", "im2col")]
