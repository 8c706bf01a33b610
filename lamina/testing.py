"""lamina.testing.assert_close: torch.testing.assert_close's defaults and messages."""

from __future__ import annotations

import numpy as np

# torch's default (rtol, atol) per dtype
_TOL = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def _as_np(x):
    from ._tensor import Tensor

    if isinstance(x, Tensor):
        return x.detach()._numpy_view(), x.dtype.name, x.device
    a = np.asarray(x)
    return a, str(a.dtype), None


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raise AssertionError unless ``actual`` and ``expected`` are close (recursing into
    sequences and mappings)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or actual.keys() != expected.keys():
            raise AssertionError(msg or f"keys differ: {sorted(actual)} vs {sorted(expected)}")
        for k in expected:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_device=check_device, check_dtype=check_dtype, msg=msg)
        return
    if isinstance(expected, (list, tuple)) and not isinstance(actual, (int, float)):
        if len(actual) != len(expected):
            raise AssertionError(msg or f"length differs: {len(actual)} vs {len(expected)}")
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_device=check_device, check_dtype=check_dtype, msg=msg)
        return
    a, adt, adev = _as_np(actual)
    e, edt, edev = _as_np(expected)
    if check_dtype and adt != edt:
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match: {adt} != "
                             f"{edt}.")
    if check_device and adev is not None and edev is not None and adev != edev:
        raise AssertionError(msg or f"The values for attribute 'device' do not match: {adev} != "
                             f"{edev}.")
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: "
                             f"{list(a.shape)} != {list(e.shape)}.")
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted")
    if rtol is None:
        rtol, atol = _TOL.get(adt, (0.0, 0.0))
    if a.dtype.kind in "fc" or e.dtype.kind in "fc":
        close = np.isclose(a.astype(np.float64), e.astype(np.float64), rtol=rtol, atol=atol,
                           equal_nan=equal_nan)
    else:
        close = a == e
    if not np.all(close):
        bad = int((~close).sum())
        diff = np.abs(a.astype(np.float64) - e.astype(np.float64))
        idx = np.unravel_index(int(np.nanargmax(np.where(close, -1, diff))), a.shape) \
            if a.ndim else ()
        raise AssertionError(msg or (
            f"Tensor-likes are not close!\n\nMismatched elements: {bad} / {a.size} "
            f"({100.0 * bad / max(a.size, 1):.1f}%)\nGreatest absolute difference: "
            f"{float(np.nanmax(diff)):.6g} at index {tuple(int(i) for i in idx)} (up to {atol} "
            f"allowed)\nrtol={rtol}, atol={atol}"))


assert_allclose = assert_close
