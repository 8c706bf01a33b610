"""lamina.autograd.gradcheck: float64 central differences catch wrong backwards."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina.autograd.gradcheck import numerical_grads


class _WrongSquare(lamina.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x  # should be 2 * g * x


def _inputs(*shapes):
    rng = np.random.RandomState(0)
    return [lamina.tensor(rng.standard_normal(s), dtype=lamina.float64, requires_grad=True)
            for s in shapes]


def test_gradcheck_is_the_function():
    assert callable(lamina.autograd.gradcheck)
    assert lamina.autograd.gradcheck.__name__ == "gradcheck"


def test_passes_for_correct_ops():
    a, b = _inputs((3, 4), (4,))
    assert lamina.autograd.gradcheck(lambda x, y: (x * y).exp().sum(0), [a, b])


def test_detects_wrong_backward():
    (a,) = _inputs((3,))
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        lamina.autograd.gradcheck(_WrongSquare.apply, [a])
    assert lamina.autograd.gradcheck(_WrongSquare.apply, [a], raise_exception=False) is False


def test_inputs_without_grad_are_constants():
    (a,) = _inputs((2, 3))
    c = lamina.tensor(np.ones((2, 3)), dtype=lamina.float64)
    assert lamina.autograd.gradcheck(lambda x, y: (x * y).sin(), [a, c])


def test_numerical_grads_match_closed_form():
    (a,) = _inputs((4,))
    (num,), vs = numerical_grads(lambda x: x * x * x, [a])
    expected = 3 * a.detach().numpy() ** 2 * vs[0]
    np.testing.assert_allclose(num, expected, rtol=1e-6)


def test_single_tensor_input_and_tuple_output():
    (a,) = _inputs((3,))
    assert lamina.autograd.gradcheck(lambda x: (x.exp(), x * 2), a)
