"""dtypes: names, aliases, default dtype, promote_types and finfo/iinfo, against torch."""

from __future__ import annotations

import itertools
import pickle

import pytest
import torch

import lamina

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
ALIASES = {"half": "float16", "float": "float32", "double": "float64", "short": "int16",
           "int": "int32", "long": "int64"}


@pytest.mark.parametrize("name", NAMES)
def test_dtype_attributes(name):
    d = getattr(lamina, name)
    t = getattr(torch, name)
    assert repr(d) == f"lamina.{name}"
    assert d.is_floating_point == t.is_floating_point
    assert d.is_signed == t.is_signed
    assert d.itemsize == t.itemsize
    assert d.is_complex is False
    assert pickle.loads(pickle.dumps(d)) is d
    assert lamina.ones(1, dtype=d).dtype is d


@pytest.mark.filterwarnings("ignore:TypedStorage is deprecated")
@pytest.mark.parametrize("name", NAMES)
def test_dtype_names_are_torchs(name):
    # each dtype carries its spellings (the one table); torch's objects say what they must be
    d, t = getattr(lamina, name), getattr(torch, name)
    assert lamina.zeros(1, dtype=d).type() == torch.zeros(1, dtype=t).type() \
        == "torch." + d.tensor_type
    assert getattr(torch, d.storage_type).dtype is t
    assert getattr(torch, d.short_name) is t and getattr(lamina, d.short_name) is d
    assert d.scalar_name + "Tensor" == d.tensor_type
    if name != "bool":  # torch's mm names the C++ type when dtypes differ
        other = torch.float64 if t is not torch.float64 else torch.float32
        with pytest.raises(RuntimeError) as e:
            torch.mm(torch.ones(1, 1, dtype=t), torch.ones(1, 1, dtype=other))
        assert f"{d.c_name} != " in str(e.value)


@pytest.mark.parametrize("alias,name", list(ALIASES.items()))
def test_aliases(alias, name):
    assert getattr(lamina, alias) is getattr(lamina, name)


@pytest.mark.parametrize("a,b", list(itertools.product(NAMES, NAMES)))
def test_promote_types_matches_torch(a, b):
    got = lamina.promote_types(getattr(lamina, a), getattr(lamina, b))
    want = torch.promote_types(getattr(torch, a), getattr(torch, b))
    assert got.name == str(want).split(".")[-1]


def test_default_dtype_roundtrip():
    assert lamina.get_default_dtype() is lamina.float32
    try:
        lamina.set_default_dtype(lamina.float64)
        assert lamina.get_default_dtype() is lamina.float64
        assert (lamina.ones(2, dtype=lamina.int64) * 1.5).dtype is lamina.float64
        assert lamina.tensor(1.0).dtype is lamina.float64
    finally:
        lamina.set_default_dtype(lamina.float32)
    assert lamina.tensor(1.0).dtype is lamina.float32


def test_set_default_dtype_rejects_ints():
    with pytest.raises(TypeError):
        lamina.set_default_dtype(lamina.int64)
    assert lamina.get_default_dtype() is lamina.float32


@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo(name):
    a, b = lamina.finfo(getattr(lamina, name)), torch.finfo(getattr(torch, name))
    assert (a.bits, a.eps, a.max, a.min, a.tiny, a.resolution) == \
        (b.bits, b.eps, b.max, b.min, b.tiny, b.resolution)


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo(name):
    a, b = lamina.iinfo(getattr(lamina, name)), torch.iinfo(getattr(torch, name))
    assert (a.bits, a.max, a.min) == (b.bits, b.max, b.min)


def test_finfo_default_is_default_dtype():
    assert lamina.finfo().eps == torch.finfo().eps


@pytest.mark.parametrize("spec", [float, int, bool, "float64", "torch.int32", lamina.float16])
def test_dtype_like_arguments(spec):
    t = lamina.zeros(2, dtype=spec)
    expect = {float: "float32", int: "int64", bool: "bool", "float64": "float64",
              "torch.int32": "int32"}.get(spec, "float16")
    assert t.dtype.name == expect


def test_no_float64_leak():
    import numpy as np

    x = lamina.ones(3)
    for y in (x * 2.5, x + np.float64(1.0), x / 3, x.mean(), x.sum(), x.std(), x.norm(),
              x ** 0.5, 2.0 ** x, x.exp(), lamina.arange(0, 1, 0.5), lamina.linspace(0, 1, 3),
              lamina.tensor(np.float64(2.0)) * x, x.prod(), x.var(), x.logsumexp(0)):
        assert y.dtype is lamina.float32, y


# ------------------------------------------------------------------ bfloat16: named, refused
def test_bfloat16_is_a_dtype_that_cannot_hold_data():
    bf = lamina.bfloat16
    assert isinstance(bf, lamina.dtype) and repr(bf) == "lamina.bfloat16"
    assert bf.is_floating_point and bf.itemsize == 2 and not bf.is_complex
    assert pickle.loads(pickle.dumps(bf)) is bf
    assert lamina.ones(1).dtype != bf
    f, tf = lamina.finfo(bf), torch.finfo(torch.bfloat16)
    for k in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(f, k) == getattr(tf, k), k
    assert lamina.cuda.is_bf16_supported() is torch.cuda.is_bf16_supported() is False
    t = lamina.zeros(1)
    assert (t.is_xpu, t.is_mps, t.is_cuda) == (False, False, False)


@pytest.mark.parametrize("make", [
    lambda m: m.zeros(2, dtype=m.bfloat16),
    lambda m: m.tensor([1.0], dtype=m.bfloat16),
    lambda m: m.ones(2).to(m.bfloat16),
    lambda m: m.ones(2).to("cpu", m.bfloat16),
    lambda m: m.ones(2).to(dtype=m.bfloat16),
    lambda m: m.ones(2).bfloat16(),
    lambda m: m.ones(2).type(m.bfloat16),
    lambda m: m.randn(2, dtype=m.bfloat16),
    lambda m: m.empty(2, dtype="bfloat16"),
    lambda m: m.set_default_dtype(m.bfloat16),
    lambda m: m.nn.Linear(2, 2).to(m.bfloat16),
])
def test_bfloat16_tensors_raise_a_clear_type_error(make):
    with pytest.raises(TypeError, match="bfloat16 is not supported: NumPy"):
        make(lamina)
    assert lamina.get_default_dtype() is lamina.float32
