"""lamina/__init__.py: the top-level functions defined there (not re-exports) and its lazy
attributes.

The names it re-exports are tested with their modules (tests/test_tensor.py, tests/ops/,
tests/test_creation.py, ...); the thread settings in tests/_backends/test_numpy_backend.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina as L


def test_small_functions_match_torch():
    a = np.array([[1.5, -2.0], [0.0, 3.0]], dtype=np.float32)
    x, t = L.tensor(a), torch.tensor(a)
    assert L.is_tensor(x) and not L.is_tensor(a)
    assert L.numel(x) == torch.numel(t) == 4
    assert L.is_floating_point(x) and not L.is_floating_point(L.arange(3))
    assert L.is_complex(x) is torch.is_complex(t) is False
    assert L.get_device(x) == torch.get_device(t) == -1
    np.testing.assert_array_equal(L.fill(x, 7.0).numpy(), torch.fill(t, 7.0).numpy())
    assert x.tolist() == a.tolist()  # fill is out of place
    c = L.clone(x)
    assert c.tolist() == a.tolist() and c.data_ptr() != x.data_ptr()
    np.testing.assert_array_equal(L.relu_(c).numpy(), torch.relu_(t.clone()).numpy())


def test_detach_and_compile_identity():
    x = L.ones(2, requires_grad=True)
    assert not L.detach(x * 2).requires_grad
    net = L.nn.Linear(2, 2)
    assert L.compile(net)._orig_mod is net and L.compile()(net)._orig_mod is net


def test_lazy_attributes_and_refusals():
    assert L.save is L.serialization.save and L.load is L.serialization.load
    with pytest.raises(AttributeError, match="module 'lamina' has no attribute 'nope'"):
        L.nope  # noqa: B018
    with pytest.raises(RuntimeError, match="no global default device"):
        L.set_default_device("cpu")
