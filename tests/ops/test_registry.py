"""lamina/ops/_registry.py: one declaration per op gives every public spelling of it."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
import lamina.nn.functional as F
from lamina.ops import _registry as R


def test_declared_names_are_bound_once_installed():
    for name, fn in R.FUNCTIONS.items():
        assert getattr(lamina, name) is fn, name
    for name, m in R.METHODS.items():
        assert getattr(lamina.Tensor, name) is m, name
    for name, (fn, torch_fn, _) in R.INPLACE.items():
        m = getattr(lamina.Tensor, name)
        assert m is R._made[id(fn)]
        assert (getattr(lamina, name, None) is m) == torch_fn, name
    for name, fn in R.FUNCTIONAL.items():
        if name not in ("relu", "softmax", "threshold"):  # F's own forms (inplace=, dims)
            assert getattr(F, name) is fn, name


def test_aliases_share_one_function_and_one_in_place_method():
    assert lamina.subtract is lamina.sub and lamina.Tensor.subtract is lamina.Tensor.sub
    assert lamina.Tensor.subtract_ is lamina.Tensor.sub_
    assert lamina.Tensor.arcsin_ is lamina.Tensor.asin_ is lamina.arcsin_
    assert lamina.Tensor.__iadd__ is lamina.Tensor.add_
    assert lamina.Tensor.__radd__._fallback is lamina.add  # the operators' fast path (ops._op.binary_method)


def test_method_given_instead_of_the_function():
    c = lamina.tensor([True, False])
    x, y = lamina.tensor([1.0, 2.0]), lamina.tensor([3.0, 4.0])
    assert np.array_equal(x.where(c, y).numpy(), [1.0, 4.0])  # Tensor.where(condition, other)
    assert "swapdims" in R.FUNCTIONS and lamina.swapdims is lamina.transpose


def test_a_declaration_after_install_is_bound_at_once():
    def _lamina_registry_probe(input):
        return input + 1

    try:
        R.register(_lamina_registry_probe, inplace=True)
        x = lamina.zeros(2)
        assert lamina._lamina_registry_probe(x).tolist() == [1.0, 1.0]
        assert x._lamina_registry_probe().tolist() == [1.0, 1.0]
        assert x._lamina_registry_probe_() is x and x.tolist() == [1.0, 1.0]
        with pytest.raises(RuntimeError, match="leaf Variable"):
            lamina.zeros(2, requires_grad=True)._lamina_registry_probe_()
    finally:
        for table in (R.FUNCTIONS, R.METHODS):
            table.pop("_lamina_registry_probe", None)
        R.INPLACE.pop("_lamina_registry_probe_", None)
        for attr in ("_lamina_registry_probe", "_lamina_registry_probe_"):
            if hasattr(lamina.Tensor, attr):
                delattr(lamina.Tensor, attr)
        vars(lamina).pop("_lamina_registry_probe", None)
