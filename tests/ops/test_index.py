"""Indexing (lamina/ops/index.py) against torch: every index form torch accepts, in get and set.

Each case is a function of the library (so tensors are built by each side); the results,
dtypes, errors and gradients must match torch's.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import lamina
from tests.oracle_helpers import assert_close, npy

BASE = np.arange(60, dtype=np.float32).reshape(3, 4, 5)

CASES = {
    # Python ranges act like lists
    "range": lambda L: range(3),
    "range_step": lambda L: range(0, 3, 2),
    "range_neg": lambda L: range(-1, 1),
    "range_empty": lambda L: range(0),
    "range_and_list": lambda L: (range(3), [0, 1, 2]),
    "range_and_tensor": lambda L: (range(3), L.tensor([1, 2, 3])),
    "ranges3": lambda L: (range(2), range(2), range(2)),
    # lists and nested lists
    "list": lambda L: [0, 2],
    "list_neg": lambda L: [-1, 0],
    "list_empty": lambda L: [],
    "list_float": lambda L: [0.7, 1.9],  # torch truncates to long
    "list_bool": lambda L: [True, False, True],
    "list_bool_int": lambda L: [True, 0],
    "list_np_ints": lambda L: [np.int64(0), np.int64(1)],
    "list_of_lists": lambda L: [[0, 1], [2, 0]],  # read as a tuple (deprecated in torch)
    "list_of_tuples": lambda L: [(0, 1), (1, 2)],
    "list_of_0d_tensors": lambda L: [L.tensor(0), L.tensor(2)],
    "list_tensor_int": lambda L: [L.tensor(0), 1],
    "list_of_bool_tensors": lambda L: [L.tensor(True), L.tensor(False), L.tensor(True)],
    "list_none": lambda L: [0, None],
    "list_slice": lambda L: [0, slice(None)],
    "list_ellipsis": lambda L: [Ellipsis, 0],
    "list_33_lists": lambda L: [[0]] * 33,  # 32 or more: one index, not a tuple
    "tuple_of_lists": lambda L: ([0, 1], [2, 3]),
    "tuple_nested": lambda L: ([0, 1], slice(1, 3), [[0], [1]]),
    # NumPy arrays and scalars
    "np_int64": lambda L: np.array([0, 2]),
    "np_int32": lambda L: np.array([0, 2], dtype=np.int32),
    "np_int8": lambda L: np.array([0, 2], dtype=np.int8),
    "np_float": lambda L: np.array([0.7, 1.9]),
    "np_float_in_tuple": lambda L: (slice(None), np.array([0.7, 1.9])),
    "np_bool": lambda L: np.array([True, False, True]),
    "np_bool_2d": lambda L: np.ones((3, 4), dtype=bool),
    "np_uint8": lambda L: np.array([1, 0, 1], dtype=np.uint8),
    "np_uint8_in_tuple": lambda L: (slice(None), np.array([1, 0, 1, 0], dtype=np.uint8)),
    "np_0d": lambda L: np.array(1),
    "np_int64_scalar": lambda L: np.int64(1),
    "np_int8_scalar": lambda L: np.int8(1),
    "np_float_scalar": lambda L: np.float64(1),
    "np_bool_scalar": lambda L: np.bool_(True),
    # tensors of every dtype
    "t_int64": lambda L: L.tensor([0, 2], dtype=L.int64),
    "t_int32": lambda L: L.tensor([0, 2], dtype=L.int32),
    "t_int16": lambda L: L.tensor([0, 2], dtype=L.int16),  # refused by torch
    "t_int8": lambda L: L.tensor([0, 2], dtype=L.int8),  # refused by torch
    "t_uint8_mask": lambda L: L.tensor([1, 0, 1], dtype=L.uint8),
    "t_uint8_mask_int": lambda L: (L.tensor([1, 0, 1], dtype=L.uint8), 0),
    "t_uint8_mask_last": lambda L: (Ellipsis, L.tensor([1, 0, 1, 0, 1], dtype=L.uint8)),
    "t_float": lambda L: L.tensor([0.0, 1.0]),
    "t_2d_int": lambda L: L.tensor([[0, 1], [2, 0]]),
    "t_bool": lambda L: L.tensor([True, False, True]),
    "t_bool_2d": lambda L: L.tensor([[True, False, True, False]] * 3),
    "t_bool_3d": lambda L: L.tensor(BASE > 30),
    "t_bool_2d_ellipsis": lambda L: (L.tensor([[True, False, True, False]] * 3), Ellipsis),
    "t_bool_int": lambda L: (L.tensor([True, False, True]), 1),
    "t_bool_short": lambda L: L.tensor([True, False]),
    "t_0d_int64": lambda L: L.tensor(1),
    "t_0d_int64_tuple": lambda L: (L.tensor(1), 2),
    "t_0d_int8": lambda L: L.tensor(1, dtype=L.int8),
    "t_0d_int16_tuple": lambda L: (0, L.tensor(1, dtype=L.int16)),
    "t_0d_uint8": lambda L: L.tensor(1, dtype=L.uint8),
    "t_0d_uint8_tuple": lambda L: (0, L.tensor(1, dtype=L.uint8)),
    "t_0d_bool": lambda L: L.tensor(True),
    "t_0d_bool_tuple": lambda L: (0, L.tensor(False)),
    "t_oob": lambda L: L.tensor([0, 5]),
    # None / ... / bools mixed with advanced indices
    "none_ell_int": lambda L: (None, Ellipsis, 1),
    "none_only": lambda L: None,
    "ell_list": lambda L: (Ellipsis, [0, 1]),
    "none_list_none": lambda L: (None, [0, 1], None),
    "slice_list_list": lambda L: (slice(None), [0, 1], [1, 2]),
    "list_slice_list": lambda L: ([0, 1], slice(None), [1, 2]),
    "int_slice_list": lambda L: (1, slice(None), [1, 2]),
    "int_list_int": lambda L: (0, [1, 2], 3),
    "int_none_list": lambda L: (1, None, [0, 2]),
    "list_none_list": lambda L: ([0, 1], None, [0, 2]),
    "list_int": lambda L: ([0, 2], 1),
    "true": lambda L: True,
    "false": lambda L: False,
    "true_int": lambda L: (True, 0),
    "false_int": lambda L: (False, 0),
    "int_true_int": lambda L: (0, True, 1),
    "true_ell_int": lambda L: (True, Ellipsis, 0),
    "ell_ell": lambda L: (Ellipsis, Ellipsis),
    "ell_int_ell": lambda L: (Ellipsis, 0, Ellipsis),
    "int_ell_ell": lambda L: (0, Ellipsis, Ellipsis),
    "ell_ell_int": lambda L: (Ellipsis, Ellipsis, 0),
    "int_ell_int_ell_int": lambda L: (0, Ellipsis, 1, Ellipsis, 2),
    # slices and bad entries
    "step2": lambda L: slice(None, None, 2),
    "neg_step": lambda L: slice(None, None, -1),
    "neg_step_tuple": lambda L: (slice(None), slice(None, None, -2)),
    "zero_step": lambda L: slice(None, None, 0),
    "int_oob": lambda L: (0, 7),
    "list_oob": lambda L: [0, 5],
    "list_neg_oob": lambda L: [-4],
    "too_many": lambda L: (0, 0, 0, 0),
    "float": lambda L: 1.0,
    "str": lambda L: "a",
    "dict": lambda L: {},
}


def _run(lib, key, value=None):
    """x[idx] (value None) or x[idx] = value on a fresh tensor: ('ok', array) or ('err', type)."""
    x = lib.tensor(BASE.copy())
    idx = CASES[key](lib)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if value is None:
                r = x[idx]
                return "ok", npy(r), str(r.dtype).split(".")[-1]
            x[idx] = value(lib) if callable(value) else value
            return "ok", npy(x), ""
        except Exception as e:  # noqa: BLE001 - the error type is what is compared
            return "err", type(e), str(e)


def _same(got, want):
    assert got[0] == want[0], f"lamina: {got}, torch: {want}"
    if want[0] == "ok":
        assert got[1].shape == want[1].shape
        np.testing.assert_array_equal(got[1], want[1])
        assert got[2] == want[2]
    else:
        assert got[1] is want[1], f"lamina raised {got[1].__name__}: {got[2]}; torch " \
                                  f"{want[1].__name__}: {want[2]}"


@pytest.mark.parametrize("key", list(CASES))
def test_getitem_matches_torch(key):
    _same(_run(lamina, key), _run(torch, key))


@pytest.mark.parametrize("key", list(CASES))
def test_setitem_scalar_matches_torch(key):
    _same(_run(lamina, key, -1.0), _run(torch, key, -1.0))


@pytest.mark.parametrize("key", list(CASES))
def test_setitem_tensor_matches_torch(key):
    want = _run(torch, key)
    if want[0] != "ok":
        pytest.skip("torch refuses this index")
    vals = -np.arange(want[1].size, dtype=np.float32).reshape(want[1].shape) - 1
    _same(_run(lamina, key, lambda L: L.tensor(vals)), _run(torch, key, lambda L: L.tensor(vals)))


def test_setitem_uint8_mask_with_a_full_value_works():
    # torch refuses a uint8 mask only with a one-element value (its masked_fill_ path)
    vals = np.ones((2, 4, 5), np.float32)
    _same(_run(lamina, "t_uint8_mask", lambda L: L.tensor(vals)),
          _run(torch, "t_uint8_mask", lambda L: L.tensor(vals)))
    _same(_run(lamina, "t_uint8_mask", lambda L: L.tensor([2.0])),
          _run(torch, "t_uint8_mask", lambda L: L.tensor([2.0])))


GRAD_CASES = ["range", "range_and_tensor", "list", "list_of_lists", "tuple_of_lists",
              "tuple_nested", "np_int64", "np_bool_2d", "t_uint8_mask", "t_bool_3d",
              "t_0d_int8", "t_0d_uint8_tuple", "none_list_none", "int_slice_list",
              "list_none_list", "true_ell_int", "int_ell_int_ell_int", "list_33_lists",
              "step2", "list_float"]


@pytest.mark.filterwarnings("ignore:indexing with dtype torch.uint8")  # torch, in backward
@pytest.mark.parametrize("key", GRAD_CASES)
def test_getitem_gradient_matches_torch(key):
    grads = []
    for lib in (lamina, torch):
        x = lib.tensor(BASE.copy(), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = x[CASES[key](lib)]
        w = lib.tensor(np.linspace(-1, 1, y.numel(), dtype=np.float32).reshape(tuple(y.shape)))
        (y * w).sum().backward()
        grads.append((x.grad, type(y.grad_fn).__name__))
    assert_close(grads[0][0], grads[1][0])
    assert grads[0][1] == grads[1][1]


@pytest.mark.parametrize("key", ["range_and_tensor", "list_of_lists", "np_bool_2d",
                                 "t_0d_int8", "int_slice_list", "true_ell_int"])
def test_setitem_gradient_matches_torch(key):
    out = []
    for lib in (lamina, torch):
        x = lib.tensor(BASE.copy(), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            shape = tuple(x.detach()[CASES[key](lib)].shape)
            v = lib.tensor(np.full(shape, 2.0, np.float32), requires_grad=True)
            y = x * 1
            y[CASES[key](lib)] = v * 3
        w = lib.tensor(np.linspace(-1, 1, 60, dtype=np.float32).reshape(3, 4, 5))
        (y * w).sum().backward()
        out.append((x.grad, v.grad))
    assert_close(out[0][0], out[1][0])
    assert_close(out[0][1], out[1][1])


def test_range_index_in_get_and_set():
    # the form of the issue: t[range(n), idx] = v (a Python range acts like a list)
    t = lamina.zeros(4, 3)
    idx = lamina.tensor([2, 0, 1, 2])
    t[range(4), idx] = 1.0
    assert t.sum().item() == 4.0
    np.testing.assert_array_equal(npy(t[range(4), idx]), np.ones(4, np.float32))


def test_deprecation_warnings_point_at_the_caller():
    x = lamina.zeros(3, 4)
    with pytest.warns(UserWarning, match="non-tuple sequence") as rec:
        x[[[0, 1], [1, 2]]]
    assert rec[0].filename == __file__
    with pytest.warns(UserWarning, match="uint8") as rec:
        x[lamina.tensor([1, 0, 1], dtype=lamina.uint8)]
    assert rec[0].filename == __file__


def test_negative_step_message():
    x = lamina.zeros(3)
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1] = 1.0


@pytest.mark.parametrize("key", ["range_and_tensor", "list_of_lists", "np_int64", "np_bool_2d",
                                 "t_uint8_mask", "t_0d_int8", "int_slice_list", "true_ell_int",
                                 "int_ell_int_ell_int", "list_float"])
def test_index_forms_on_cuda_match_cpu(key, fake_cupy):
    # the fake CuPy (tests/conftest.py) refuses host arrays: every index must reach the device
    want_get, want_set = _run(lamina, key), _run(lamina, key, -1.0)
    x = lamina.tensor(BASE.copy()).cuda()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(npy(x[CASES[key](lamina)]), want_get[1])
        if want_set[0] == "err":
            with pytest.raises(want_set[1]):
                x[CASES[key](lamina)] = -1.0
            return
        x[CASES[key](lamina)] = -1.0
    np.testing.assert_array_equal(npy(x), want_set[1])


def test_every_op_is_tested():
    # the Ops of lamina/ops/index.py also run through the op catalogue (tests/ops/op_db.py)
    from ._coverage import missing

    assert missing("index", {}) == []
