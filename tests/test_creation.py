"""Creation functions against torch: dtype inference, shapes, memory sharing, random streams."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from oracle_helpers import npy
from scenario import assert_same

import lamina

SCENARIOS = {
    "tensor_inference": """
out = (m.tensor([1, 2]), m.tensor([1., 2]), m.tensor([True]), m.tensor(3), m.tensor(3.5),
       m.tensor([[1, 2], [3, 4]], dtype=m.float16), m.tensor([1, 2.5, True]))""",
    "tensor_from_numpy_values": """
import numpy as np
out = (m.tensor(np.array([1., 2.])), m.tensor(np.array([1, 2], dtype=np.int32)),
       m.tensor(np.float32(2.5)), m.tensor(np.array(3)), m.tensor(np.array([True])))""",
    "tensor_of_tensors": "out = m.tensor([m.tensor(1.), m.tensor(2.)])",
    "tensor_copies": """
import warnings
a = m.ones(2)
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    b = m.tensor(a)
b[0] = 5.; out = (a, len(w), w[0].category.__name__)""",
    "tensor_ragged": "out = m.tensor([[1, 2], [3]])",
    "tensor_mixed_nesting": "out = m.tensor([[1, 2], 3])",
    "tensor_string": "out = m.tensor('abc')",
    "tensor_requires_grad": "out = m.tensor([1, 2], dtype=m.float32, requires_grad=True)",
    "tensor_int_requires_grad": "out = m.tensor([1, 2], requires_grad=True)",
    "tensor_empty": "out = (m.tensor([]), m.tensor([[]]).shape, m.tensor([]).dtype)",
    "as_tensor_shares_float64": """
import numpy as np
a = np.array([1., 2.]); t = m.as_tensor(a); a[0] = 7; out = (t, t.dtype)""",
    "as_tensor_shares_float32": """
import numpy as np
a = np.array([1., 2.], dtype=np.float32); t = m.as_tensor(a); a[0] = 7; out = t""",
    "as_tensor_list": "out = m.as_tensor([1., 2.])",
    "as_tensor_tensor_identity": """
x = m.tensor([1., 2.])
out = (m.as_tensor(x) is x, m.as_tensor(x, dtype=m.float64), m.as_tensor(x, dtype=m.float32) is x)""",
    "from_numpy_shares": """
import numpy as np
a = np.array([1., 2.]); t = m.from_numpy(a); a[0] = 7; t[1] = 9; out = (t, a.tolist())""",
    "from_numpy_not_array": "out = m.from_numpy([1, 2])",
    "zeros_ones": """
out = (m.zeros(2, 3), m.zeros((2, 3)), m.zeros([2]), m.zeros(()), m.zeros(2, dtype=m.int64),
       m.ones(1, 2, dtype=m.bool), m.ones(m.Size([2])), m.zeros(0, 2).shape)""",
    "negative_size": "out = m.ones(-1)",
    "float_size": "out = m.ones(2.5)",
    "full": """
out = (m.full((2,), 3), m.full((2,), 3.), m.full((2,), True), m.full([2, 1], 1.5, dtype=m.float64),
       m.full((), 2))""",
    "empty": """
out = (m.empty(2, 3).shape, m.empty(0).shape, m.empty((2,), dtype=m.int32).dtype,
       m.empty(2, requires_grad=True).requires_grad)""",
    "eye": "out = (m.eye(3), m.eye(2, 3), m.eye(2, dtype=m.int64), m.eye(0).shape)",
    "arange_ints_floats": """
out = (m.arange(5), m.arange(1, 4), m.arange(0, 1, 0.25), m.arange(5.), m.arange(1, 2.5, 0.5),
       m.arange(3, dtype=m.float32), m.arange(0, 5, 2).dtype)""",
    "arange_float_steps": """
out = (m.arange(0, 1, 0.1), m.arange(-1, 1, 0.3), m.arange(10, 0, -3), m.arange(0, 10, 3),
       m.arange(0, 0.3, 0.1), m.arange(1, 0, -0.1).shape)""",
    "arange_empty": "out = (m.arange(0), m.arange(2, 2))",
    "arange_bad_sign": "out = m.arange(0, 5, -1)",
    "arange_zero_step": "out = m.arange(0, 5, 0)",
    "arange_tensor_bound": "out = m.arange(m.tensor(3))",
    "linspace": """
out = (m.linspace(0, 1, 5), m.linspace(-1, 1, 4), m.linspace(0, 10, 1), m.linspace(0, 1, 0),
       m.linspace(3, 3, 3), m.linspace(0, 1, 7, dtype=m.float64), m.linspace(0., 1., 11))""",
    "likes": """
out = (m.zeros_like(m.ones(2, dtype=m.int32)), m.ones_like(m.ones(2, 3)),
       m.full_like(m.ones(2), 7), m.empty_like(m.ones(2, 3)).shape,
       m.zeros_like(m.ones(2), dtype=m.float64), m.ones_like(m.ones(2), requires_grad=True),
       m.full_like(m.ones(2, dtype=m.int64), 2.7))""",
    "default_dtype": "out = (m.get_default_dtype(), m.tensor([1.5]).dtype, m.arange(2.).dtype)",
    "randint_equal_bounds": "out = m.randint(3, 3, (2,))",
    "rand_int_dtype": "out = m.rand(2, 3, dtype=m.int64)",
    "randn_int_dtype": "out = m.randn(2, dtype=m.int64)",
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_creation_matches_torch(name):
    assert_same(SCENARIOS[name])


# ---------------------------------------------------------------------- random streams
RANDOM = {
    "randn_3x20": lambda m: m.randn(3, 20),
    "rand_3x5": lambda m: m.rand(3, 5),
    "randn_small": lambda m: m.randn(5),
    "randn_16_then_17": lambda m: (m.randn(16), m.randn(17)),
    "double": lambda m: (m.randn(2, dtype=m.float64), m.rand(3, dtype=m.float64)),
    "randint": lambda m: (m.randint(0, 10, (5,)), m.randint(5, (3,)),
                          m.randint(3, 10, (2, 2), dtype=m.int32)),
    # every spelling of torch.randint's two overloads draws the same bits as torch
    "randint_high_size_kw": lambda m: (m.randint(5, size=(3,)), m.randint(high=5, size=(3,)),
                                       m.randint(size=(2, 2), high=7)),
    "randint_low_high_kw": lambda m: (m.randint(2, 9, size=(3,)), m.randint(2, high=9, size=(3,)),
                                      m.randint(low=2, high=9, size=[3])),
    "randint_sizes": lambda m: (m.randint(5, m.Size([2, 2])), m.randint(5, ()),
                                m.randint(m.tensor(5), (3,)), m.randint(-10, -2, (3,)),
                                m.randint(0, 2 ** 40, (3,))),
    "randint_dtypes": lambda m: (m.randint(0, 10, (4,), dtype=m.float32),
                                 m.randint(0, 10, (4,), dtype=m.float64),
                                 m.randint(0, 10, (4,), dtype=m.uint8),
                                 m.randint(0, 2, (4,), dtype=m.bool),
                                 m.randint(0, 10, (3,), dtype=m.float32, requires_grad=True)),
    "randint_generator": lambda m: (
        m.randint(0, 10, (3,), generator=m.Generator().manual_seed(3)),
        m.randint(high=10, size=(3,), generator=m.Generator().manual_seed(3), dtype=m.int32)),
    "randint_like": lambda m: (m.randint_like(m.zeros(2, 3), 10),
                               m.randint_like(m.zeros(2, 3), 2, 10),
                               m.randint_like(m.zeros(2, 3), high=10),
                               m.randint_like(m.zeros(2, 3), low=2, high=10),
                               m.randint_like(m.zeros(2, 3, dtype=m.int32), 10),
                               m.randint_like(m.zeros(2, 3), 10, dtype=m.int64),
                               m.randint_like(m.zeros(3), m.tensor(7)),
                               m.randint_like(m.zeros(3), 10, requires_grad=True),
                               m.randint_like(m.zeros(2, 3), 10,
                                              generator=m.Generator().manual_seed(3))),
    "randperm": lambda m: m.randperm(10),
    "likes": lambda m: (m.rand_like(m.ones(3)), m.randn_like(m.ones(2, dtype=m.float64))),
    "normal_floats": lambda m: (m.normal(0.0, 1.0, (4,)), m.normal(2.0, 3.0, size=(3,))),
    "normal_tensors": lambda m: (m.normal(m.zeros(3), m.ones(3)), m.normal(m.tensor([0., 10.]),
                                                                          2.0)),
    "bernoulli": lambda m: (m.bernoulli(m.tensor([0.2, 0.8, 0.5, 0.5])),
                            m.bernoulli(m.full((5,), 0.5))),
    "inplace_fills": lambda m: (m.empty(6).uniform_(-2, 2), m.empty(3).normal_(5, 0.1),
                                m.zeros(5).bernoulli_(0.3)),
    "rand_requires_grad": lambda m: m.rand(2, requires_grad=True),
}


@pytest.mark.parametrize("name", list(RANDOM))
def test_random_streams_match_torch(name):
    outs = []
    for m in (lamina, torch):
        m.manual_seed(42)
        r = RANDOM[name](m)
        outs.append(r if isinstance(r, tuple) else (r,))
    for a, b in zip(*outs):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        assert a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(npy(a), npy(b))


def test_manual_seed_randn_3_20_prints_like_torch():
    lamina.manual_seed(42)
    a = lamina.randn(3, 20)
    torch.manual_seed(42)
    b = torch.randn(3, 20)
    assert repr(a) == repr(b)


def test_generator_argument():
    outs = []
    for m in (lamina, torch):
        g = m.Generator().manual_seed(7)
        m.manual_seed(0)
        outs.append((npy(m.rand(3, generator=g)), npy(m.randn(2, generator=g)),
                     npy(m.rand(2))))
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)


def test_from_numpy_unsupported_dtype_names_the_supported_ones():
    with pytest.raises(TypeError, match="uint16; lamina supports bool, uint8"):
        lamina.from_numpy(np.array([1, 2], dtype=np.uint16))


def test_randperm_dtype_and_device():
    p = lamina.randperm(7, dtype=lamina.int32)
    assert p.dtype == lamina.int32 and sorted(p.tolist()) == list(range(7))


def test_default_dtype_affects_creation():
    old = lamina.get_default_dtype()
    try:
        lamina.set_default_dtype(lamina.float64)
        assert lamina.tensor([1.5]).dtype == lamina.float64
        assert lamina.zeros(2).dtype == lamina.float64
        assert lamina.rand(2).dtype == lamina.float64
        assert lamina.arange(0, 1, 0.5).dtype == lamina.float64
        assert (lamina.tensor([1, 2]) / 2).dtype == lamina.float64
    finally:
        lamina.set_default_dtype(old)
    assert lamina.zeros(2).dtype == lamina.float32


def test_legacy_constructors():
    assert lamina.Tensor(2, 3).shape == (2, 3)
    assert lamina.Tensor([1, 2]).dtype == lamina.float32
    assert lamina.FloatTensor([1, 2]).dtype == lamina.float32
    assert lamina.LongTensor([1, 2]).dtype == lamina.int64
    assert isinstance(lamina.ones(2), lamina.FloatTensor)
    assert not isinstance(lamina.ones(2, dtype=lamina.int64), lamina.FloatTensor)


# ---------------------------------------------------------------------- out= (issue 11)
@pytest.mark.parametrize("make", [
    lambda m, o: m.zeros(2, 3, out=o), lambda m, o: m.ones(size=(4,), out=o),
    lambda m, o: m.full((2,), 7, out=o), lambda m, o: m.arange(5, out=o),
    lambda m, o: m.linspace(0, 1, 4, out=o), lambda m, o: m.eye(3, out=o)])
@pytest.mark.parametrize("dtype", ["float64", "int64"])
def test_factory_out_writes_into_out_like_torch(make, dtype):
    o_t = torch.empty(0, dtype=getattr(torch, dtype))
    o_l = lamina.empty(0, dtype=getattr(lamina, dtype))
    r_t, r_l = make(torch, o_t), make(lamina, o_l)
    assert r_l is o_l and r_t is o_t
    assert o_l.dtype == getattr(lamina, dtype)
    np.testing.assert_array_equal(npy(o_l), o_t.numpy())


def test_factory_out_random_draws_match_torch():
    torch.manual_seed(3)
    lamina.manual_seed(3)
    o_t, o_l = torch.empty(2, 3), lamina.empty(2, 3)
    torch.rand(2, 3, out=o_t)
    lamina.rand(2, 3, out=o_l)
    np.testing.assert_array_equal(npy(o_l), o_t.numpy())


RANDINT_ERRORS = {
    "high_only": lambda m: m.randint(5),
    "no_args": lambda m: m.randint(),
    "size_only": lambda m: m.randint(size=(3,)),
    "low_and_size_only": lambda m: m.randint(low=2, size=(3,)),
    "int_size": lambda m: m.randint(5, 3),
    "int_size_3": lambda m: m.randint(0, 5, 3),
    "float_high": lambda m: m.randint(5.0, (3,)),
    "float_bounds": lambda m: m.randint(1.5, 5.5, (3,)),
    "size_twice": lambda m: m.randint(0, 5, (3,), size=(3,)),
    "empty_range": lambda m: m.randint(5, 5, (3,)),
    "negative_high": lambda m: m.randint(-3, (3,)),
    "int_requires_grad": lambda m: m.randint(0, 10, (3,), requires_grad=True),
    "like_no_high": lambda m: m.randint_like(m.zeros(2)),
    "like_too_many": lambda m: m.randint_like(m.zeros(2), 1, 2, 3),
}


@pytest.mark.parametrize("name", list(RANDINT_ERRORS))
def test_randint_errors_match_torch(name):
    kinds = []
    for m in (lamina, torch):
        with pytest.raises((TypeError, RuntimeError)) as e:
            RANDINT_ERRORS[name](m)
        kinds.append(e.type)
    assert kinds[0] is kinds[1]
