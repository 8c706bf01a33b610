"""Test-wide switches: the backend conformance device and a NumPy-backed fake CuPy.

``pytest --device cuda`` (or ``LAMINA_TEST_DEVICE=cuda``) makes the ``device`` fixture return
``lamina.device('cuda')``: the tests that take it (tests/test_cuda.py's op catalogue and module
sweeps) then run on the GPU and compare with the CPU. The default is ``cpu``.

``fake_cupy`` installs a tiny CuPy look-alike (``numpy`` underneath, with CuPy's rules that
matter here: arrays of its own type, no implicit conversion to NumPy, NumPy arrays refused as
operands) so the cuda code paths run on a machine without a GPU.
"""

from __future__ import annotations

import os
import sys
import types

import numpy as np
import pytest


def pytest_addoption(parser):
    parser.addoption("--device", default=None,
                     help="device of the `device` fixture: cpu (default) or cuda[:N] "
                          "(also LAMINA_TEST_DEVICE)")


@pytest.fixture(scope="session")
def device(request):
    """The device under test (cpu unless --device / LAMINA_TEST_DEVICE say otherwise)."""
    import lamina

    name = request.config.getoption("--device") or os.environ.get("LAMINA_TEST_DEVICE") or "cpu"
    dev = lamina.device(name)
    if dev.type == "cuda":
        if not lamina.cuda.is_available():
            pytest.fail(f"--device {name}: lamina.cuda.is_available() is False (install "
                        f"lamina[cuda] on a machine with an NVIDIA GPU)", pytrace=False)
        if dev.index is None:
            dev = lamina.device("cuda", 0)
    return dev


# ------------------------------------------------------------------------------ fake CuPy
class FakeArray(np.ndarray):
    """A "device" array: a NumPy array that refuses to mix with host (NumPy) arrays."""

    def __array_finalize__(self, obj):
        self._device_id = getattr(obj, "_device_id", _FakeDevice.current)

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        if method == "at" and len(inputs) > 1:
            # like cupyx.scatter_add, ufunc.at takes host (NumPy) index arrays
            inputs = (inputs[0], _host_index(inputs[1])) + tuple(inputs[2:])
        args = _unwrap_args(inputs, f"{ufunc.__name__}.{method}")
        if args is NotImplemented:
            return NotImplemented
        if out is not None:
            kwargs["out"] = tuple(_host_view(o) for o in out)
        result = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        # CuPy implements NEP-18: numpy.f(cupy arrays) runs cupy.f; NumPy operands are refused
        a = _unwrap_args(args, func.__name__)
        if a is NotImplemented:
            raise TypeError(f"fake cupy: {func.__name__} got a numpy.ndarray operand")
        k = _unwrap_args(tuple(kwargs.values()), func.__name__)
        if k is NotImplemented:
            raise TypeError(f"fake cupy: {func.__name__} got a numpy.ndarray operand")
        return _wrap(func(*a, **dict(zip(kwargs, k))))

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use "
                        "`.get()` to construct a NumPy array explicitly.")

    def get(self):
        return np.array(self.view(np.ndarray), copy=True)

    @property
    def device(self):
        return _FakeDevice(self._device_id)

    @property
    def data(self):
        return _FakePointer(self.view(np.ndarray).__array_interface__["data"][0])

    def __repr__(self):
        return "array(" + np.array2string(self.view(np.ndarray), separator=", ") + ")"

    def tolist(self):
        return self.view(np.ndarray).tolist()

    def item(self, *args):
        return self.view(np.ndarray).item(*args)


class _FakePointer:
    __slots__ = ("ptr",)

    def __init__(self, ptr):
        self.ptr = ptr


class _FakeDevice:
    current = 0

    def __init__(self, device=None):
        self.id = _FakeDevice.current if device is None else int(device)
        self._prev = []

    def __enter__(self):
        self._prev.append(_FakeDevice.current)
        _FakeDevice.current = self.id
        return self

    def __exit__(self, *exc):
        _FakeDevice.current = self._prev.pop()
        return False

    def use(self):
        _FakeDevice.current = self.id

    def synchronize(self):
        pass


def _host_view(x):
    return x.view(np.ndarray) if isinstance(x, FakeArray) else x


class _HostIndex:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _host_index(idx):
    return _HostIndex(idx)


def _unwrap_args(args, where):
    out = []
    for a in args:
        if isinstance(a, FakeArray):
            out.append(a.view(np.ndarray))
        elif isinstance(a, _HostIndex):
            v = a.value
            out.append(tuple(_host_view(x) for x in v) if isinstance(v, tuple) else _host_view(v))
        elif isinstance(a, np.ndarray):
            return NotImplemented
        elif isinstance(a, (list, tuple)):
            inner = _unwrap_args(a, where)
            if inner is NotImplemented:
                return NotImplemented
            out.append(type(a)(inner) if isinstance(a, tuple) else inner)
        else:
            out.append(a)
    return out


def _wrap(x):
    if isinstance(x, np.ndarray) and not isinstance(x, FakeArray):
        return x.view(FakeArray)
    if isinstance(x, np.generic):  # CuPy returns 0-d device arrays, never NumPy scalars
        return np.asarray(x).view(FakeArray)
    if isinstance(x, tuple):
        return type(x)(_wrap(v) for v in x) if type(x) is tuple else x
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


def _wrap_function(fn, name):
    def wrapper(*args, **kwargs):
        a = _unwrap_args(args, name)
        k = _unwrap_args(tuple(kwargs.values()), name)
        if a is NotImplemented or k is NotImplemented:
            raise TypeError(f"fake cupy: cupy.{name} got a numpy.ndarray operand (CuPy refuses "
                            f"host arrays; move them with cupy.asarray first)")
        return _wrap(fn(*a, **dict(zip(kwargs, k))))
    wrapper.__name__ = name
    return wrapper


class _Namespace(types.ModuleType):
    """cupy / cupy.linalg / cupy.lib...: NumPy's functions with device arrays in and out."""

    def __init__(self, name, target):
        super().__init__(name)
        self._target = target

    def __getattr__(self, name):
        attr = getattr(self._target, name)
        if isinstance(attr, np.ufunc) or isinstance(attr, type) or not callable(attr):
            if isinstance(attr, types.ModuleType):
                sub = _Namespace(f"{self.__name__}.{name}", attr)
                setattr(self, name, sub)
                return sub
            return attr
        w = _wrap_function(attr, name)
        setattr(self, name, w)
        return w


class _RandomState:
    def __init__(self, seed=0, method=None):
        self._g = np.random.default_rng(seed)

    def seed(self, seed):
        self._g = np.random.default_rng(seed)

    def uniform(self, low=0.0, high=1.0, size=None, dtype=float):
        return _wrap(self._g.uniform(low, high, size).astype(dtype))

    def normal(self, loc=0.0, scale=1.0, size=None, dtype=float):
        return _wrap(self._g.normal(loc, scale, size).astype(dtype))

    def random_sample(self, size=None, dtype=float):
        return _wrap(self._g.random(size).astype(dtype))

    def randint(self, low, high=None, size=None, dtype=int):
        return _wrap(self._g.integers(low, high, size, dtype=np.dtype(dtype)))

    def permutation(self, n):
        return _wrap(self._g.permutation(n))


def make_fake_cupy(device_count: int = 2):
    """A module object that behaves like ``cupy`` for lamina's purposes."""
    cp = _Namespace("cupy", np)
    cp.ndarray = FakeArray
    cp.__version__ = "0.0-fake"

    def asarray(a, dtype=None, order=None):
        if isinstance(a, FakeArray):
            return a if dtype is None or a.dtype == dtype else a.astype(dtype)
        # a host -> device transfer copies
        return np.array(a, dtype=dtype, copy=True).view(FakeArray)

    def asnumpy(a, stream=None, order="C", out=None):
        if isinstance(a, FakeArray):
            return a.get()
        return np.asarray(a)

    cp.asarray = asarray
    cp.array = lambda a, dtype=None, copy=True, order="K", ndmin=0: asarray(a, dtype).copy()
    cp.asnumpy = asnumpy
    runtime = types.SimpleNamespace(
        getDeviceCount=lambda: device_count,
        getDeviceProperties=lambda i: {"name": b"Fake GPU"})
    curand = types.SimpleNamespace(CURAND_RNG_PSEUDO_PHILOX4_32_10=101)
    cp.cuda = types.SimpleNamespace(runtime=runtime, Device=_FakeDevice, curand=curand)
    cp.random = types.SimpleNamespace(RandomState=_RandomState)
    cp.get_default_memory_pool = lambda: types.SimpleNamespace(
        free_all_blocks=lambda: None, used_bytes=lambda: 512, total_bytes=lambda: 1024)
    return cp


def _reset_lamina_cuda_state():
    """Forget cached cuda backends/generators (they hold whichever cupy was imported)."""
    if "lamina" not in sys.modules:
        return
    from lamina import _device, cuda, random
    from lamina._backends import cupy_backend

    cupy_backend._BACKENDS.clear()
    for d in _device._CACHE.values():
        if d.type == "cuda":
            d._backend = None
    random._cuda_generators.clear()
    cuda._current = 0
    _FakeDevice.current = 0


@pytest.fixture
def fake_cupy(monkeypatch):
    """Install the fake CuPy (2 "GPUs") as ``cupy`` for one test; lamina's cuda paths use it."""
    cp = make_fake_cupy(2)
    _reset_lamina_cuda_state()
    monkeypatch.setitem(sys.modules, "cupy", cp)
    yield cp
    _reset_lamina_cuda_state()
