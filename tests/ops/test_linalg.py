"""lamina/ops/linalg.py. Its ops run through the op catalogue (tests/ops/op_db.py, tests/ops/test_op_db.py)."""

from __future__ import annotations

from ._coverage import missing

# Ops of this module tested outside the catalogue, and where.
ELSEWHERE = {}


def test_every_op_is_tested():
    assert missing("linalg", ELSEWHERE) == []


def test_matmul_without_a_node_is_the_plain_product():
    """ops.linalg.matmul's inline path (2-D, no node recorded) gives what the op gives."""
    import numpy as np

    import lamina

    a = lamina.randn(3, 4, requires_grad=True)
    b = lamina.randn(4, 2, requires_grad=True)
    with lamina.no_grad():
        c = a @ b
    assert c.grad_fn is None and not c.requires_grad and c._version_counter == [0]
    np.testing.assert_array_equal(c.numpy(), a.detach().numpy().dot(b.detach().numpy()))
    d = a.detach() @ b.detach()  # grad mode on, nothing requires grad
    assert d.grad_fn is None and np.array_equal(d.numpy(), c.numpy())
    e = a @ b
    assert type(e.grad_fn).__name__ == "MmBackward0"
    np.testing.assert_array_equal(e.detach().numpy(), c.numpy())
