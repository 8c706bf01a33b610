"""lamina/ops/promotion.py: PyTorch's type promotion of binary operands, against torch (more
broadcasting and promotion properties in tests/test_properties.py)."""

from __future__ import annotations

import itertools

import pytest
import torch

import lamina
from lamina.ops.promotion import _prep

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def _pair(m, a, b, dims):
    return (m.ones(dims[0], dtype=getattr(m, a)), m.ones(dims[1], dtype=getattr(m, b)))


@pytest.mark.parametrize("dims", [((2,), (2,)), ((2,), ()), ((), (2,))])
@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
def test_two_tensors_promote_as_torch(a, b, dims):
    x, y = _prep(*_pair(lamina, a, b, dims))
    want = torch.result_type(*_pair(torch, a, b, dims))
    assert x.dtype.name == y.dtype.name == str(want).split(".")[1]


@pytest.mark.parametrize("scalar", [True, 3, 2.5, -300])
@pytest.mark.parametrize("a", DTYPES)
def test_tensor_and_python_scalar_promote_as_torch(a, scalar):
    x, s = _prep(lamina.ones(2, dtype=getattr(lamina, a)), scalar)
    want = torch.result_type(torch.ones(2, dtype=getattr(torch, a)), scalar)
    assert x.dtype.name == str(want).split(".")[1]
    if a in ("int8", "uint8") and scalar == -300:  # torch wraps an out-of-range int like C
        want = torch.tensor(-300).to(getattr(torch, a)).item()
        assert s == want == {"int8": -44, "uint8": 212}[a]


def test_true_division_promotes_integers_to_the_default_float():
    x, y = _prep(lamina.ones(2, dtype=lamina.int64), lamina.ones(2, dtype=lamina.int32),
                 true_div=True)
    assert x.dtype is y.dtype is lamina.get_default_dtype()
