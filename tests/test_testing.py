import numpy as np
import pytest

import lamina as L
from lamina.testing import assert_close


def test_assert_close_defaults_and_failures():
    a = L.tensor([1.0, 2.0])
    assert_close(a, L.tensor([1.0, 2.0 + 1e-7]))
    with pytest.raises(AssertionError, match="not close"):
        assert_close(a, L.tensor([1.0, 2.1]))
    with pytest.raises(AssertionError, match="dtype"):
        assert_close(a, L.tensor([1.0, 2.0], dtype=L.float64))
    with pytest.raises(AssertionError, match="shape"):
        assert_close(a, L.tensor([1.0]))
    assert_close({"x": [a]}, {"x": [a.clone()]})
    assert_close(L.tensor([1, 2]), np.array([1, 2]), check_dtype=False)
    with pytest.raises(AssertionError):
        assert_close(L.tensor([1, 2]), L.tensor([1, 3]))
