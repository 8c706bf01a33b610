"""lamina._formatting against real PyTorch reprs of the same values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lamina import _formatting
from lamina._formatting import format_tensor, get_printoptions, printoptions, set_printoptions


@pytest.fixture(autouse=True)
def _torch_dtype_prefix(monkeypatch):
    """lamina prints ``dtype=lamina.float64``; compare the rest with torch's text."""
    monkeypatch.setattr(_formatting, "_DTYPE_PREFIX", "torch.")


def test_dtype_suffix_names_lamina(monkeypatch):
    monkeypatch.setattr(_formatting, "_DTYPE_PREFIX", "lamina.")
    got = format_tensor(np.array([1.5, 2.0]), "float64")
    assert got == "tensor([1.5000, 2.0000], dtype=lamina.float64)"


@pytest.fixture(autouse=True)
def _reset_printoptions():
    """Every test starts and ends with both libraries at their default options."""
    set_printoptions(profile="default")
    torch.set_printoptions(profile="default")
    yield
    set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


def _rng(seed: int) -> np.random.RandomState:
    return np.random.RandomState(seed)


def _name(a: np.ndarray) -> str:
    return str(a.dtype)


def _torch_repr(a: np.ndarray) -> str:
    # A C-ordered copy (np.ascontiguousarray would turn a 0-d array into 1-d).
    return repr(torch.from_numpy(a.copy(order="C")))


def _check(a: np.ndarray, suffixes=()) -> str:
    got = format_tensor(a, _name(a), list(suffixes))
    assert got == _torch_repr(a)
    return got


nan, inf = float("nan"), float("inf")

# name -> array; every entry is compared with repr(torch.from_numpy(array)).
CASES: dict[str, np.ndarray] = {
    # random normals in each float dtype and shape
    "randn_f32_5": _rng(0).randn(5).astype(np.float32),
    "randn_f32_3x4": _rng(1).randn(3, 4).astype(np.float32),
    "randn_f64_2x3x4": _rng(2).randn(2, 3, 4),
    "randn_f16_4x3": _rng(3).randn(4, 3).astype(np.float16),
    "randn_f32_2x2x2x2": _rng(4).randn(2, 2, 2, 2).astype(np.float32),
    "randn_f32_2x1x3x1x2": _rng(5).randn(2, 1, 3, 1, 2).astype(np.float32),
    "randn_scaled_f32": (_rng(6).randn(6, 5) * 100).astype(np.float32),
    "randn_f64_1x1": _rng(7).randn(1, 1),
    "uniform_pos_f32": _rng(8).rand(7).astype(np.float32),
    # wrapping past 80 columns
    "wrap_f32_50": _rng(9).randn(50).astype(np.float32),
    "wrap_f32_3x40": _rng(10).randn(3, 40).astype(np.float32),
    "wrap_int64_100": np.arange(-50, 50, dtype=np.int64),
    "wrap_intfloat_100": np.arange(100, dtype=np.float32),
    "wrap_bool_60": _rng(11).rand(60) > 0.5,
    "wrap_sci_30": (_rng(12).randn(30) * 1e-6).astype(np.float32),
    # scientific notation
    "sci_small": np.array([1e-8, 1.0], dtype=np.float32),
    "sci_large": np.array([1e10, 1.0], dtype=np.float32),
    "sci_ratio": np.array([0.001, 5.0], dtype=np.float32),
    "sci_ratio_edge": np.array([0.001, 1.0], dtype=np.float64),
    "sci_min_edge": np.array([1e-4, 0.5], dtype=np.float64),
    "sci_max_edge": np.array([1e8, 2e7], dtype=np.float64),
    "sci_only_small": np.array([1e-5], dtype=np.float32),
    "sci_three_digit_exp": np.array([1e200, -3e-150, 2.5]),
    "sci_neg": np.array([-1e-9, -2e-3, 4e5], dtype=np.float32),
    "sci_intvalued": np.array([1e9, 3.0, -7.0], dtype=np.float32),
    "sci_round_up": np.array([9.99996e9, 1.0]),
    "sci_f16_subnormal": np.array([1e-7, 1.0, 65504.0], dtype=np.float16),
    # integer-valued floats
    "intfloat": np.array([1.0, 2.0, -3.0], dtype=np.float32),
    "intfloat_wide": np.array([100000.0, 1.0, -2.0], dtype=np.float32),
    "intfloat_2d": np.array([[0.0, 1.0], [-2.0, 300.0]]),
    "intfloat_f16": np.array([[1, 2], [3, 2048]], dtype=np.float16),
    # mixed negative, rounding that grows the integer part
    "mixed_negative": np.array([-1.5, 2.25, -0.125, 10.0], dtype=np.float32),
    "round_up_width": np.array([9.99996, 0.5, -9.99996]),
    "round_to_zero": np.array([-0.00004999, 0.5]),
    "neg_zero_only": np.array([0.0, -0.0], dtype=np.float32),
    "zeros_2d": np.zeros((2, 3), dtype=np.float32),
    "neg_zero_with_vals": np.array([-0.0, 1.5, 2.0], dtype=np.float32),
    "neg_zero_int_mode": np.array([-0.0, 1.0], dtype=np.float32),
    # nan / inf
    "nan_inf_mixed": np.array([nan, inf, -inf, 1.5], dtype=np.float32),
    "nan_int_mode": np.array([nan, 1.0, 2.0], dtype=np.float32),
    "nan_only": np.array([nan, nan]),
    "inf_only": np.array([inf, -inf], dtype=np.float32),
    "nan_sci": np.array([nan, 1e-8, 2.0], dtype=np.float32),
    "inf_wide_vals": np.array([[inf, 1234.5678], [-inf, -0.5]], dtype=np.float32),
    # integers and bool
    "int8": np.array([-128, 0, 127], dtype=np.int8),
    "int16_2d": _rng(13).randint(-3000, 3000, size=(3, 4)).astype(np.int16),
    "int32_3d": _rng(14).randint(-10, 10, size=(2, 3, 2)).astype(np.int32),
    "int64": np.array([0, -1, 123456789012], dtype=np.int64),
    "uint8": np.array([0, 7, 255], dtype=np.uint8),
    "uint8_2d": _rng(15).randint(0, 256, size=(4, 4)).astype(np.uint8),
    "bool_1d": np.array([True, False, True]),
    "bool_all_true": np.array([[True, True]]),
    "bool_2d": _rng(16).rand(3, 3) > 0.5,
    # 0-d
    "scalar_f32": np.array(3.25, dtype=np.float32),
    "scalar_f32_int": np.array(2.0, dtype=np.float32),
    "scalar_f64": np.array(-1.0 / 3.0),
    "scalar_f16": np.array(0.1, dtype=np.float16),
    "scalar_sci": np.array(1e-12, dtype=np.float32),
    "scalar_nan": np.array(nan, dtype=np.float32),
    "scalar_neg_inf": np.array(-inf),
    "scalar_neg_zero": np.array(-0.0, dtype=np.float32),
    "scalar_int64": np.array(-42, dtype=np.int64),
    "scalar_int32": np.array(7, dtype=np.int32),
    "scalar_uint8": np.array(200, dtype=np.uint8),
    "scalar_bool": np.array(True),
    # empty
    "empty_f32": np.zeros((0,), dtype=np.float32),
    "empty_f32_0x3": np.zeros((0, 3), dtype=np.float32),
    "empty_f32_2x0x4": np.zeros((2, 0, 4), dtype=np.float32),
    "empty_f64": np.zeros((0,), dtype=np.float64),
    "empty_f16_3x0": np.zeros((3, 0), dtype=np.float16),
    "empty_int64": np.zeros((0,), dtype=np.int64),
    "empty_int32_0x3": np.zeros((0, 3), dtype=np.int32),
    "empty_bool": np.zeros((0,), dtype=np.bool_),
    "empty_uint8_0x0": np.zeros((0, 0), dtype=np.uint8),
    # summarized (> 1000 elements)
    "summ_f32_2000": _rng(17).randn(2000).astype(np.float32),
    "summ_f32_50x50": _rng(18).randn(50, 50).astype(np.float32),
    "summ_f64_10x10x20": _rng(19).randn(10, 10, 20),
    "summ_f32_1001": _rng(20).randn(1001).astype(np.float32),
    "summ_f32_4x300": _rng(21).randn(4, 300).astype(np.float32),
    "summ_f32_300x4": _rng(22).randn(300, 4).astype(np.float32),
    "summ_int64": np.arange(5000, dtype=np.int64).reshape(50, 100),
    "summ_bool": _rng(23).rand(2000) > 0.5,
    "summ_f16_4d": _rng(24).randn(6, 7, 8, 9).astype(np.float16),
    "summ_hidden_outlier": np.concatenate(
        [np.ones(10, np.float32), np.full(1000, 1e-9, np.float32), np.ones(10, np.float32)]
    ),
    "summ_f32_3x3x3x3x20": _rng(25).randn(3, 3, 3, 3, 20).astype(np.float32),
    "exactly_1000": _rng(26).randn(1000).astype(np.float32),
}


@pytest.mark.parametrize("key", list(CASES))
def test_matches_torch(key):
    _check(CASES[key])


def test_noncontiguous_and_strided_views():
    a = _rng(30).randn(6, 8).astype(np.float32)
    for view in (a.T, a[::2, 1::3], a[:, ::-1]):
        assert format_tensor(view, "float32") == _torch_repr(view)


GRAD_CASES = [k for k, v in CASES.items() if v.dtype.kind == "f"]


@pytest.mark.parametrize("key", GRAD_CASES)
def test_requires_grad_suffix(key):
    a = CASES[key]
    expected = repr(torch.from_numpy(a.copy()).requires_grad_())
    assert format_tensor(a, _name(a), ["requires_grad=True"]) == expected


@pytest.mark.parametrize("key", GRAD_CASES)
def test_grad_fn_suffix(key):
    a = CASES[key]
    t = torch.from_numpy(a.copy()).requires_grad_() * 1
    assert format_tensor(a, _name(a), ["grad_fn=<MulBackward0>"]) == repr(t)


def test_suffix_wraps_onto_new_line_like_torch():
    # A float64 row that fills the line pushes both the dtype and the grad suffix down.
    a = _rng(31).randn(7) * 10
    t = torch.from_numpy(a.copy()).requires_grad_() * 1
    got = format_tensor(a, "float64", ["grad_fn=<MulBackward0>"])
    assert got == repr(t)
    assert "],\n       dtype=torch.float64, grad_fn=<MulBackward0>)" in got
    # A float32 matrix whose last row is long: only the grad_fn suffix moves down.
    c = _rng(34).randn(2, 7).astype(np.float32)
    t = torch.from_numpy(c.copy()).requires_grad_() * 1
    got = format_tensor(c, "float32", ["grad_fn=<MulBackward0>"])
    assert got == repr(t)
    assert "]],\n       grad_fn=<MulBackward0>)" in got
    b = np.arange(14, dtype=np.int16)
    got = format_tensor(b, "int16")
    assert got == _torch_repr(b)
    assert "\n       dtype=torch.int16)" in got


@pytest.mark.parametrize("key", ["randn_f32_3x4", "empty_f16_3x0", "scalar_uint8", "wrap_f32_50"])
def test_device_suffix_goes_before_dtype(key):
    a = CASES[key]
    t = torch.from_numpy(a.copy())
    ts = torch._tensor_str
    # torch's own pieces, with the suffix list torch builds for a cuda tensor.
    body = ts._tensor_str(t, 7) if a.size else "[]"
    names = ["device='cuda:0'"]
    if a.size == 0 and a.ndim != 1:
        names.append(f"size={tuple(a.shape)}")
    if str(t.dtype) not in ("torch.float32", "torch.int64", "torch.bool"):
        names.append(f"dtype={t.dtype}")
    names.append("grad_fn=<AddBackward0>")
    expected = ts._add_suffixes("tensor(" + body, names, 7, False)
    got = format_tensor(a, _name(a), ["device='cuda:0'", "grad_fn=<AddBackward0>"])
    assert got == expected


@pytest.mark.parametrize("key", ["randn_f32_3x4", "randn_f64_2x3x4", "intfloat", "empty_f32_0x3"])
def test_default_dtype_float64(key):
    a = CASES[key]
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        expected = _torch_repr(a)
    finally:
        torch.set_default_dtype(old)
    assert format_tensor(a, _name(a), default_dtype_name="float64") == expected


def test_parameter_prefix():
    a = _rng(32).randn(3, 30).astype(np.float32)
    expected = repr(torch.nn.Parameter(torch.from_numpy(a.copy())))
    got = "Parameter containing:\n" + format_tensor(a, "float32", ["requires_grad=True"])
    assert got == expected


def test_custom_prefix_sets_indent():
    a = _rng(33).randn(2, 3).astype(np.float32)
    got = format_tensor(a, "float32", prefix="Foo(")
    assert got.splitlines()[1].startswith("     [")  # len("Foo(") + 1
    assert got.startswith("Foo([[") and got.endswith("]])")


# ---- print options ------------------------------------------------------------------------

OPTION_SETS = [
    {"precision": 2},
    {"precision": 0},
    {"precision": 8},
    {"threshold": 5},
    {"threshold": 0},
    {"edgeitems": 1, "threshold": 10},
    {"edgeitems": 0, "threshold": 10},
    {"edgeitems": 0},
    {"linewidth": 40},
    {"linewidth": 10},
    {"linewidth": 200},
    {"sci_mode": True},
    {"sci_mode": False},
    {"profile": "short"},
    {"profile": "full"},
    {"profile": "short", "precision": 6},
    {"profile": "full", "linewidth": 120, "sci_mode": True},
]

OPTION_ARRAYS = [
    "randn_f32_3x4",
    "randn_f64_2x3x4",
    "wrap_f32_50",
    "wrap_int64_100",
    "sci_small",
    "sci_large",
    "intfloat",
    "nan_inf_mixed",
    "neg_zero_only",
    "summ_f32_50x50",
    "summ_f32_2000",
    "summ_int64",
    "summ_bool",
    "scalar_f32",
    "scalar_int32",
    "empty_f32_0x3",
    "empty_int64",
    "uint8_2d",
    "bool_1d",
]


def _opts_id(opts: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in opts.items())


@pytest.mark.parametrize("opts", OPTION_SETS, ids=_opts_id)
def test_printoptions_match_torch(opts):
    set_printoptions(**opts)
    torch.set_printoptions(**opts)
    assert get_printoptions() == torch._tensor_str.get_printoptions()
    for key in OPTION_ARRAYS:
        a = CASES[key]
        assert format_tensor(a, _name(a)) == _torch_repr(a), key
        if a.dtype.kind == "f":
            expected = repr(torch.from_numpy(a.copy()).requires_grad_())
            assert format_tensor(a, _name(a), ["requires_grad=True"]) == expected, key


def test_get_printoptions_defaults():
    assert get_printoptions() == {
        "precision": 4,
        "threshold": 1000,
        "edgeitems": 3,
        "linewidth": 80,
        "sci_mode": None,
    }
    assert get_printoptions() == torch._tensor_str.get_printoptions()


def test_profiles_and_sci_mode_reset_like_torch():
    for calls in (
        [{"profile": "full"}],
        [{"sci_mode": True}, {"precision": 3}],  # sci_mode is reset when not passed
        [{"profile": "short"}, {"profile": "default"}],
        [{"edgeitems": 5}, {"profile": "short", "edgeitems": 7}],
    ):
        for kw in calls:
            set_printoptions(**kw)
            torch.set_printoptions(**kw)
        assert get_printoptions() == torch._tensor_str.get_printoptions()


def test_printoptions_context_manager_restores():
    set_printoptions(precision=6)
    a = np.array([1.0 / 3.0], dtype=np.float32)
    with printoptions(precision=1, sci_mode=True):
        assert get_printoptions()["precision"] == 1
        with torch._tensor_str.printoptions(precision=1, sci_mode=True):
            assert format_tensor(a, "float32") == _torch_repr(a)
    assert get_printoptions()["precision"] == 6
    assert get_printoptions()["sci_mode"] is None


def test_unknown_profile_raises_and_changes_nothing():
    set_printoptions(precision=2)
    before = get_printoptions()
    with pytest.raises(ValueError, match="unknown profile"):
        set_printoptions(precision=7, profile="fulll")
    assert get_printoptions() == before


def test_unknown_dtype_raises():
    with pytest.raises(ValueError, match="unknown dtype"):
        format_tensor(np.zeros(2, np.complex64), "complex64")


def test_module_state_is_shared():
    set_printoptions(precision=1)
    assert _formatting._OPTS.precision == 1
    assert format_tensor(np.array([0.25, 1.5], np.float32), "float32") == "tensor([0.2, 1.5])"


# ---- property test: arbitrary float arrays -------------------------------------------------

@st.composite
def _float_arrays(draw):
    dtype = draw(st.sampled_from([np.float16, np.float32, np.float64]))
    bits = np.dtype(dtype).itemsize * 8
    special = [0.0, -0.0, 1.0, -1.0, 9.99995, 999.5, 1e-4, 0.5, 0.001, 2048.0]
    if bits > 16:
        special += [99999.5, 1e8, 1e-30, 9.99996e9]
    elements = st.one_of(
        st.floats(allow_nan=True, allow_infinity=True, width=bits),
        st.sampled_from(special),
        st.integers(-2048, 2048).map(float),
    )
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=7))
    return draw(hnp.arrays(dtype=dtype, shape=shape, elements=elements))


@settings(max_examples=200, deadline=None)
@given(a=_float_arrays())
def test_property_float_arrays_match_torch(a):
    _check(a)


@settings(max_examples=60, deadline=None)
@given(
    a=hnp.arrays(
        dtype=st.sampled_from([np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_]),
        shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=9),
    )
)
def test_property_int_arrays_match_torch(a):
    _check(a)
