"""lamina.nn.modules.utils: the argument and reset helpers the layer families share.

The layers that use them are tested in tests/nn/modules/ (conv, pooling, padding, norms).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.modules.utils as TU

import lamina as L
from lamina import nn
from lamina.nn.modules import utils as U


@pytest.mark.parametrize("x", [3, (1, 2), [4, 5, 6], range(2)])
def test_ntuple_helpers_match_torch(x):
    for name in ("_single", "_pair", "_triple", "_quadruple"):
        assert getattr(U, name)(x) == getattr(TU, name)(x), name


def test_reverse_repeat_tuple_matches_torch():
    assert U._reverse_repeat_tuple((1, 2, 3), 2) == TU._reverse_repeat_tuple((1, 2, 3), 2)


def test_input_shape_and_value_shape_error():
    lin = nn.Linear(2, 3)
    assert U.input_shape(lin, L.ones(4, 2)) == (4, 2)
    with pytest.raises(TypeError, match="Linear.forward\\(\\): argument 'input' must be Tensor, "
                                        "not list"):
        U.input_shape(lin, [1, 2])
    e = U.value_shape_error(lin, (2,), "(N, 2)")
    assert isinstance(e, ValueError) and "got input of shape (2,); expected (N, 2)" in str(e)


def test_make_affine_registers_or_sets_none():
    m = nn.Module()
    U.make_affine(m, (3,), True, False, None, None)
    assert tuple(m.weight.shape) == (3,) and m.bias is None
    assert list(dict(m.named_parameters())) == ["weight"]
    m2 = nn.Module()
    U.make_affine(m2, (3,), False, True, None, L.float64)
    assert m2.weight is None and m2.bias is None


def _seeded_pair(shape_w, shape_b):
    L.manual_seed(3)
    torch.manual_seed(3)
    return (L.empty(*shape_w), L.empty(*shape_b), torch.empty(*shape_w), torch.empty(*shape_b))


def test_reset_fan_in_uniform_draws_like_torchs_linear_and_conv():
    w, b, tw, tb = _seeded_pair((5, 3, 2), (5,))
    U.reset_fan_in_uniform_(w, b)
    torch.nn.init.kaiming_uniform_(tw, a=5 ** 0.5)
    torch.nn.init.uniform_(tb, -1 / 6 ** 0.5, 1 / 6 ** 0.5)  # fan_in = 3 * 2
    np.testing.assert_array_equal(w.numpy(), tw.numpy())
    np.testing.assert_array_equal(b.numpy(), tb.numpy())
    assert L.rand(1).item() == torch.rand(1).item()  # same generator position after


def test_reset_fan_in_uniform_without_fan_in():
    w, b = L.empty(4, 0), L.full((4,), 7.0)
    with pytest.warns(UserWarning, match="zero-element"):
        U.reset_fan_in_uniform_(w, b, draw_bias_without_fan_in=False)  # conv: bias untouched
    assert b.tolist() == [7.0] * 4
    with pytest.warns(UserWarning, match="zero-element"):
        U.reset_fan_in_uniform_(w, b)  # Linear: U(0, 0)
    assert b.tolist() == [0.0] * 4


def test_uniform_within_draws_in_turn():
    a, b, ta, tb = _seeded_pair((2, 3), (4,))
    U.uniform_within_(0.5, a, b)
    torch.nn.init.uniform_(ta, -0.5, 0.5)
    torch.nn.init.uniform_(tb, -0.5, 0.5)
    np.testing.assert_array_equal(a.numpy(), ta.numpy())
    np.testing.assert_array_equal(b.numpy(), tb.numpy())
