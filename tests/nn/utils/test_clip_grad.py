"""clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_ vs torch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import lamina
from tests.oracle_helpers import assert_close

U = lamina.nn.utils
SHAPES = [(4, 3), (3,), (), (2, 2, 2)]


def _pair(seed=0, scale=1.0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    grads = [np.asarray(rng.normal(size=s) * scale, dtype) for s in SHAPES]
    lp = [lamina.nn.Parameter(lamina.zeros(s, dtype=lamina.float64 if dtype == np.float64
                                           else lamina.float32)) for s in SHAPES]
    tp = [torch.nn.Parameter(torch.zeros(s, dtype=torch.float64 if dtype == np.float64
                                         else torch.float32)) for s in SHAPES]
    for a, b, g in zip(lp, tp, grads):
        a.grad = lamina.from_numpy(g.copy())
        b.grad = torch.from_numpy(g.copy())
    return lp, tp


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, math.inf, "inf", -math.inf, 0])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    lp, tp = _pair()
    lt = U.clip_grad_norm_(lp, max_norm, norm_type=norm_type)
    tt = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type=norm_type)
    assert_close(lt, tt)
    for a, b in zip(lp, tp):
        assert_close(a.grad, b.grad)


def test_clip_grad_norm_float64_and_single_tensor():
    lp, tp = _pair(dtype=np.float64)
    assert_close(U.clip_grad_norm_(lp, 1.0), torch.nn.utils.clip_grad_norm_(tp, 1.0))
    lp, tp = _pair(1)
    assert_close(U.clip_grad_norm_(lp[0], 0.1), torch.nn.utils.clip_grad_norm_(tp[0], 0.1))
    assert_close(lp[0].grad, tp[0].grad)
    assert_close(lp[1].grad, tp[1].grad)  # untouched


def test_clip_grad_norm_skips_none_grads_and_empty():
    p, q = lamina.nn.Parameter(lamina.ones(2)), lamina.nn.Parameter(lamina.ones(2))
    q.grad = lamina.tensor([3.0, 4.0])
    total = U.clip_grad_norm_([p, q], 1.0)
    assert total.item() == pytest.approx(5.0)
    assert p.grad is None
    empty = U.clip_grad_norm_([p], 1.0)
    assert empty.item() == 0.0 and empty.dtype == lamina.float32
    with pytest.warns(UserWarning, match="empty generator"):
        U.clip_grad_norm_((x for x in []), 1.0)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_clip_grad_norm_nonfinite():
    p = lamina.nn.Parameter(lamina.ones(2))
    p.grad = lamina.tensor([1.0, float("inf")])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from "
                                           "`parameters` is non-finite"):
        U.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert p.grad.tolist() == [1.0, float("inf")]  # unchanged after the error
    total = U.clip_grad_norm_([p], 1.0)
    assert math.isinf(total.item())
    tp = torch.nn.Parameter(torch.ones(2))
    tp.grad = torch.tensor([1.0, float("inf")])
    torch.nn.utils.clip_grad_norm_([tp], 1.0)
    np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())  # [0, nan] in both


def test_total_norm_and_clip_with_norm_helpers():
    lp, tp = _pair(3, scale=5.0)
    lg, tg = [p.grad for p in lp], [p.grad for p in tp]
    ln, tn = U.get_total_norm(lg, 2.0), torch.nn.utils.get_total_norm(tg, 2.0)
    assert_close(ln, tn)
    U.clip_grads_with_norm_(lp, 2.0, ln)
    torch.nn.utils.clip_grads_with_norm_(tp, 2.0, tn)
    for a, b in zip(lp, tp):
        assert_close(a.grad, b.grad)


def test_clip_grad_norm_deprecated_alias():
    lp, _ = _pair()
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        U.clip_grad_norm(lp, 1.0)


@pytest.mark.parametrize("clip", [0.1, 1, 10.0])
def test_clip_grad_value_matches_torch(clip):
    lp, tp = _pair(2, scale=2.0)
    assert U.clip_grad_value_(lp, clip) is None
    torch.nn.utils.clip_grad_value_(tp, clip)
    for a, b in zip(lp, tp):
        assert_close(a.grad, b.grad)


def test_clipping_records_no_graph_and_bumps_grad_version():
    p = lamina.nn.Parameter(lamina.ones(3))
    (p * lamina.tensor([3.0, 4.0, 12.0])).sum().backward()
    v = p.grad._version
    U.clip_grad_norm_([p], 1.0)
    assert p.grad.grad_fn is None and p.grad._version == v + 1
    np.testing.assert_allclose(p.grad.numpy(), np.array([3, 4, 12]) / 13, rtol=1e-5)
    U.clip_grad_value_([p], 0.5)
    assert p.grad._version == v + 2


def test_clip_on_cuda_backend(fake_cupy):
    g = np.array([3.0, 4.0], np.float32)
    p = lamina.nn.Parameter(lamina.zeros(2).to("cuda"))
    p.grad = lamina.from_numpy(g.copy()).to("cuda")
    total = U.clip_grad_norm_([p], 1.0)
    assert total.device.type == "cuda" and total.item() == pytest.approx(5.0)
    assert isinstance(p.grad._data, fake_cupy.ndarray)
    np.testing.assert_allclose(p.grad.cpu().numpy(), [0.6, 0.8], rtol=1e-5)
    U.clip_grad_value_([p], 0.7)
    np.testing.assert_allclose(p.grad.cpu().numpy(), [0.6, 0.7], rtol=1e-5)
