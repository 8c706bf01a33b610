"""lamina.nn._errors: a layer's input error names the layer and its path in the model.

Each layer's own messages are tested next to the layer in tests/nn/modules/; the path filling
through ``Module.__call__`` is also exercised in tests/nn/test_module.py.
"""

from __future__ import annotations

import pytest

import lamina as L
from lamina import nn
from lamina.nn._errors import ModuleInputError, shape_error


def test_shape_error_text():
    lin = nn.Linear(256, 10)
    e = shape_error(lin, (2, 128), "(*, 256)")
    assert isinstance(e, RuntimeError)
    assert str(e) == ("Linear(in_features=256, out_features=10, bias=True) got input of shape "
                      "(2, 128); expected (*, 256)")


def test_multiline_repr_is_shortened_to_the_class_name():
    seq = nn.Sequential(nn.Linear(2, 2))
    assert str(ModuleInputError(seq, "is wrong")) == "Sequential is wrong"


def test_path_is_filled_in_by_the_enclosing_modules():
    net = nn.Sequential(nn.Linear(4, 3), nn.Sequential(nn.ReLU(), nn.Linear(5, 2)))
    with pytest.raises(ModuleInputError) as ei:
        net(L.ones(1, 4))
    assert ei.value.path == "1.1"
    assert "at '1.1' got input of shape (1, 3); expected (*, 5)" in str(ei.value)
