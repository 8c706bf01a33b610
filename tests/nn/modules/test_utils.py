"""lamina.nn.modules.utils: the argument helpers the layer families share.

The layers that use them are tested in tests/nn/modules/ (conv, pooling, padding, norms).
"""

from __future__ import annotations

import pytest
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
