"""nn.Fold and nn.Unfold against torch: kernel, dilation, padding and stride, batched and
unbatched, forward and backward, reprs; fold is unfold's adjoint; float64 gradchecks."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import nn
from tests.nn.modules.layer_helpers import check_repr_and_state, pair, rand, run_both
from tests.oracle_helpers import lt, npy

UNFOLD_KW = [
    {"kernel_size": 2},
    {"kernel_size": (2, 3), "stride": 2},
    {"kernel_size": 3, "padding": 1, "dilation": 2},
    {"kernel_size": (3, 2), "dilation": (1, 2), "padding": (2, 0), "stride": (1, 2)},
]


@pytest.mark.parametrize("kw", UNFOLD_KW)
@pytest.mark.parametrize("batched", [True, False])
def test_unfold_matches_torch(kw, batched):
    m, t = pair("Unfold", **kw)
    check_repr_and_state(m, t)
    shape = ((2,) if batched else ()) + (3, 7, 8)
    run_both(m, t, rand(*shape))


@pytest.mark.parametrize("kw", UNFOLD_KW)
@pytest.mark.parametrize("batched", [True, False])
def test_fold_matches_torch(kw, batched):
    u = nn.Unfold(**kw)
    cols = u(lamina.zeros(1, 3, 7, 8))
    m, t = pair("Fold", (7, 8), **kw)
    check_repr_and_state(m, t)
    shape = ((2,) if batched else ()) + tuple(cols.shape[1:])
    run_both(m, t, rand(*shape))


def test_fold_is_the_adjoint_of_unfold():
    kw = {"kernel_size": 3, "padding": 1, "stride": 2}
    x = rand(2, 3, 7, 8)
    c = rand(*nn.Unfold(**kw)(lt(x)).shape, seed=1)
    lhs = float((npy(nn.Unfold(**kw)(lt(x))) * c).sum())
    rhs = float((x * npy(nn.Fold((7, 8), **kw)(lt(c)))).sum())
    np.testing.assert_allclose(lhs, rhs, rtol=1e-5)


def test_gradchecks_and_errors():
    F = nn.functional
    x = lt(rand(1, 2, 4, 5, dtype=np.float64), requires_grad=True)
    assert lamina.autograd.gradcheck(lambda a: F.unfold(a, 2, padding=1, stride=2), (x,))
    c = lt(rand(1, 8, 6, dtype=np.float64), requires_grad=True)
    assert lamina.autograd.gradcheck(lambda a: F.fold(a, (3, 4), 2), (c,))
    with pytest.raises(RuntimeError, match="match the calculated number of sliding blocks"):
        nn.Fold((4, 4), 2)(lamina.randn(1, 8, 5))
    with pytest.raises(NotImplementedError, match="Only 3D or 4D input"):
        nn.Unfold(2)(lamina.randn(4, 4))
