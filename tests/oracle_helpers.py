"""Helpers for parity tests against PyTorch: values cross between the libraries through NumPy.

``npy(t)`` turns a lamina or torch tensor (or a number, list, NumPy array) into a NumPy array,
``lt(a)`` makes a lamina tensor from a NumPy array (a copy, same dtype), ``tt(a)`` a torch one,
and ``assert_close(actual, expected)`` compares any two of them with dtype-aware tolerances.
"""

from __future__ import annotations

import numpy as np
import torch

import lamina

# float32 parity: the two libraries sum and call libm in different orders
_TOL = {
    np.dtype(np.float16): (1e-3, 1e-2),
    np.dtype(np.float32): (1e-5, 1.3e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
}


def npy(t) -> np.ndarray:
    """A NumPy copy of a lamina tensor, torch tensor, NumPy array or Python value."""
    if isinstance(t, lamina.Tensor):
        return np.array(t.detach().cpu()._data, copy=True)
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy().copy()
    return np.asarray(t)


def lt(a, requires_grad: bool = False) -> lamina.Tensor:
    """A lamina cpu tensor holding a copy of ``a`` (its NumPy dtype is kept, float64 too)."""
    arr = np.array(a, copy=True)
    t = lamina.from_numpy(arr)
    if requires_grad:
        t.requires_grad_()
    return t


def tt(a, requires_grad: bool = False) -> torch.Tensor:
    """A torch cpu tensor holding a copy of ``a`` (same dtype)."""
    t = torch.from_numpy(np.array(a, copy=True))
    if requires_grad:
        t.requires_grad_()
    return t


def dtype_name(t) -> str:
    """'float32' for lamina.float32 and torch.float32 alike."""
    return str(t.dtype).split(".")[-1]


def assert_close(actual, expected, *, rtol: float | None = None, atol: float | None = None,
                 check_dtype: bool = True, msg: str = "") -> None:
    """Values (and, for two tensors, dtypes and shapes) agree within dtype-aware tolerances."""
    if check_dtype and hasattr(actual, "dtype") and hasattr(expected, "dtype") and \
            not isinstance(actual, np.ndarray) and not isinstance(expected, np.ndarray):
        assert dtype_name(actual) == dtype_name(expected), \
            f"{msg} dtype: {actual.dtype} != {expected.dtype}"
    a = npy(actual)
    e = npy(expected)
    assert a.shape == e.shape, f"{msg} shape: {a.shape} != {e.shape}"
    if a.dtype.kind in "biu" and e.dtype.kind in "biu":
        np.testing.assert_array_equal(a, e, err_msg=msg)
        return
    r0, a0 = _TOL.get(np.result_type(a.dtype, e.dtype) if a.dtype.kind == "f" else e.dtype,
                      (1e-5, 1.3e-5))
    np.testing.assert_allclose(a.astype(np.float64), e.astype(np.float64),
                               rtol=r0 if rtol is None else rtol,
                               atol=a0 if atol is None else atol, equal_nan=True, err_msg=msg)
