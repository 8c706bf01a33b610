"""parameters_to_vector / vector_to_parameters vs torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from tests.oracle_helpers import assert_close

U = lamina.nn.utils


def _pair():
    rng = np.random.default_rng(0)
    ws = [np.asarray(rng.normal(size=s), np.float32) for s in [(3, 2), (4,), ()]]
    return ([lamina.nn.Parameter(lamina.from_numpy(w.copy())) for w in ws],
            [torch.nn.Parameter(torch.from_numpy(w.copy())) for w in ws])


def test_parameters_to_vector_matches_torch_and_is_differentiable():
    lp, tp = _pair()
    lv, tv = U.parameters_to_vector(lp), torch.nn.utils.parameters_to_vector(tp)
    assert_close(lv, tv)
    assert lv.requires_grad and lv.grad_fn is not None
    w = np.arange(11, dtype=np.float32)
    (lv * lamina.from_numpy(w)).sum().backward()
    (tv * torch.from_numpy(w)).sum().backward()
    for a, b in zip(lp, tp):
        assert_close(a.grad, b.grad)


def test_vector_to_parameters_shares_memory_like_torch():
    lp, tp = _pair()
    vec = np.arange(11, dtype=np.float32) * 0.5
    lvec, tvec = lamina.from_numpy(vec.copy()), torch.from_numpy(vec.copy())
    U.vector_to_parameters(lvec, lp)
    torch.nn.utils.vector_to_parameters(tvec, tp)
    for a, b in zip(lp, tp):
        assert_close(a, b)
        assert tuple(a.shape) == tuple(b.shape)
    lvec[0] = 100.0
    assert lp[0][0, 0].item() == 100.0
    assert all(isinstance(p, lamina.nn.Parameter) for p in lp)


def test_vector_to_parameters_rejects_non_tensor():
    lp, tp = _pair()
    with pytest.raises(TypeError) as te:
        torch.nn.utils.vector_to_parameters([1.0], tp)
    with pytest.raises(TypeError) as le:
        U.vector_to_parameters([1.0], lp)
    assert str(le.value) == str(te.value) == "expected torch.Tensor, but got: list"


def test_parameters_on_different_devices_raise(fake_cupy):
    a = lamina.nn.Parameter(lamina.ones(2))
    b = lamina.nn.Parameter(lamina.ones(2).to("cuda"))
    with pytest.raises(TypeError, match="Found two parameters on different devices"):
        U.parameters_to_vector([a, b])
    with pytest.raises(TypeError, match="Found two parameters on different devices"):
        U.vector_to_parameters(lamina.ones(4), [a, b])
