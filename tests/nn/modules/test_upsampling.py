"""nn.Upsample, UpsamplingNearest2d, UpsamplingBilinear2d and F.interpolate against torch:
nearest, linear, bilinear, bicubic, trilinear (align_corners both ways), sizes and scale
factors, forward and backward, reprs; float64 gradchecks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from lamina import nn
from tests.nn.modules.layer_helpers import check_repr_and_state, pair, rand, run_both
from tests.oracle_helpers import assert_close, lt


@pytest.mark.parametrize("kw,shape", [
    ({"scale_factor": 2}, (2, 3, 5)),
    ({"scale_factor": 2}, (2, 3, 4, 5)),
    ({"size": (7, 3)}, (1, 2, 4, 5)),
    ({"scale_factor": 1.5, "mode": "nearest"}, (1, 2, 4, 5)),
    ({"scale_factor": 2, "mode": "nearest-exact"}, (1, 2, 3, 5)),
    ({"scale_factor": 2, "mode": "linear"}, (2, 3, 5)),
    ({"size": 9, "mode": "linear", "align_corners": True}, (2, 3, 5)),
    ({"scale_factor": 2, "mode": "bilinear"}, (2, 3, 4, 5)),
    ({"scale_factor": (2, 3), "mode": "bilinear", "align_corners": True}, (1, 2, 4, 5)),
    ({"size": (3, 4), "mode": "bilinear"}, (1, 2, 7, 9)),
    ({"scale_factor": 2, "mode": "bicubic"}, (1, 2, 4, 5)),
    ({"scale_factor": 2, "mode": "bicubic", "align_corners": True}, (1, 2, 4, 5)),
    ({"scale_factor": 2, "mode": "trilinear"}, (1, 2, 3, 4, 2)),
    ({"size": (4, 3, 5), "mode": "trilinear", "align_corners": True}, (1, 2, 3, 4, 2)),
    ({"scale_factor": 2, "mode": "nearest"}, (1, 2, 3, 2, 2)),
    ({"scale_factor": 0.5, "mode": "bilinear", "recompute_scale_factor": True}, (1, 2, 8, 6)),
])
def test_upsample_matches_torch(kw, shape):
    m, t = pair("Upsample", **kw)
    check_repr_and_state(m, t)
    run_both(m, t, rand(*shape))


@pytest.mark.parametrize("name,kw", [("UpsamplingNearest2d", {"scale_factor": 2}),
                                     ("UpsamplingNearest2d", {"size": (5, 7)}),
                                     ("UpsamplingBilinear2d", {"scale_factor": 2}),
                                     ("UpsamplingBilinear2d", {"size": 6})])
def test_fixed_mode_upsampling_matches_torch(name, kw):
    m, t = pair(name, **kw)
    check_repr_and_state(m, t)
    run_both(m, t, rand(2, 3, 3, 4))


def test_interpolate_area_and_errors():
    x = rand(1, 2, 6, 9)
    assert_close(nn.functional.interpolate(lt(x), size=(3, 4), mode="area"),
                 torch.nn.functional.interpolate(torch.from_numpy(x), size=(3, 4), mode="area"))
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        nn.functional.interpolate(lt(x), size=3, scale_factor=2)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        nn.functional.interpolate(lt(x), scale_factor=2, align_corners=True)


def test_interpolate_gradchecks():
    F = nn.functional
    x = lt(rand(1, 2, 3, 4, dtype=np.float64), requires_grad=True)
    for mode in ("nearest", "bilinear", "bicubic"):
        assert lamina.autograd.gradcheck(
            lambda a, mode=mode: F.interpolate(a, size=(5, 6), mode=mode), (x,))
    assert lamina.autograd.gradcheck(
        lambda a: F.interpolate(a, scale_factor=2, mode="bilinear", align_corners=True), (x,))
    x1 = lt(rand(1, 2, 4, dtype=np.float64), requires_grad=True)
    assert lamina.autograd.gradcheck(lambda a: F.interpolate(a, size=7, mode="linear"), (x1,))
