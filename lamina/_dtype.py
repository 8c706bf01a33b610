"""dtype objects, PyTorch's type promotion and the default dtype."""

from __future__ import annotations

import numpy as np


class dtype:
    """A tensor element type, printed as ``lamina.float32`` (torch prints ``torch.float32``).

    Each dtype carries every spelling of itself that lamina needs, so no module keeps its own
    table keyed by dtype names:

    * ``name``: torch's (and NumPy's) name, ``"float32"``;
    * ``scalar_name``: torch's C++ ScalarType, ``"Float"`` (error texts; ``FloatTensor`` and
      ``FloatStorage`` are it plus a suffix, see ``tensor_type`` / ``storage_type``);
    * ``c_name``: the C++ type torch's kernels print, ``"float"``, ``"c10::Half"``;
    * ``short_name``: torch's short alias where it has one (``"half"``, ``"long"``), else
      ``name``.
    """

    __slots__ = ("name", "np", "is_floating_point", "is_complex", "is_signed", "itemsize", "_cat",
                 "scalar_name", "c_name", "short_name")

    def __init__(self, name: str, npdtype, cat: int, scalar_name: str, c_name: str,
                 short_name: str | None = None):
        self.name = name
        self.scalar_name = scalar_name
        self.c_name = c_name
        self.short_name = short_name or name
        self.np = np.dtype(npdtype)
        # promotion category: 0 bool, 1 integer, 2 floating
        self._cat = cat
        self.is_floating_point = cat == 2
        self.is_complex = False
        self.is_signed = name not in ("bool", "uint8")
        self.itemsize = self.np.itemsize

    def __repr__(self) -> str:
        return f"lamina.{self.name}"

    @property
    def tensor_type(self) -> str:
        """torch's legacy tensor type name, ``"FloatTensor"``."""
        return self.scalar_name + "Tensor"

    @property
    def storage_type(self) -> str:
        """torch's legacy typed-storage name, ``"FloatStorage"`` (what torch.save writes)."""
        return self.scalar_name + "Storage"

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_complex(self):  # pragma: no cover - complex tensors are not supported
        raise RuntimeError("complex dtypes are not supported by lamina")


# the one table of dtype names: name, NumPy type, category, ScalarType, C++ type, short alias
bool = dtype("bool", np.bool_, 0, "Bool", "bool")  # noqa: A001 - torch.bool
uint8 = dtype("uint8", np.uint8, 1, "Byte", "unsigned char")
int8 = dtype("int8", np.int8, 1, "Char", "signed char")
int16 = dtype("int16", np.int16, 1, "Short", "short int", "short")
int32 = dtype("int32", np.int32, 1, "Int", "int", "int")
int64 = dtype("int64", np.int64, 1, "Long", "long int", "long")
float16 = dtype("float16", np.float16, 2, "Half", "c10::Half", "half")
float32 = dtype("float32", np.float32, 2, "Float", "float", "float")
float64 = dtype("float64", np.float64, 2, "Double", "double", "double")

# torch's aliases
half = float16
float = float32  # noqa: A001
double = float64
short = int16
int = int32  # noqa: A001
long = int64

ALL = (bool, uint8, int8, int16, int32, int64, float16, float32, float64)


class _UnsupportedDtype(dtype):
    """A torch dtype lamina names but cannot store: comparisons and attribute checks work
    (``x.dtype == torch.bfloat16``), making or casting a tensor raises TypeError."""

    __slots__ = ("_why",)

    def __init__(self, name: str, itemsize: int, why: str, scalar_name: str):
        self.name = name
        self.scalar_name = scalar_name
        self.c_name = "c10::" + scalar_name
        self.short_name = name
        self._cat = 2
        self.is_floating_point = True
        self.is_complex = False
        self.is_signed = True
        self.itemsize = itemsize
        self._why = why

    @property
    def np(self):
        raise TypeError(self._why)


bfloat16 = _UnsupportedDtype(
    "bfloat16", 2,
    "lamina.bfloat16 is not supported: NumPy, which holds lamina's tensors, has no bfloat16 "
    "type, so lamina cannot create a bfloat16 tensor or cast to one; use lamina.float16 or "
    "lamina.float32 (lamina.bfloat16 exists so that dtype checks and "
    "lamina.cuda.is_bf16_supported() work)", "BFloat16")

_NAMES = {d.name: d for d in ALL}
_NAMES.update({d.short_name: d for d in ALL})  # torch's aliases: half, float, double, ...
_NAMES["bfloat16"] = bfloat16
_FROM_NP = {d.np: d for d in ALL}
_FROM_NP_TYPE = {d.np.type: d for d in ALL}


def scalar_name(npdtype) -> str:
    """torch's ScalarType name ("Float", "Long") of a NumPy dtype, as its error texts spell it."""
    return _FROM_NP[npdtype].scalar_name


def _by_name(name: str) -> dtype:
    return _NAMES[name]


def from_np(npdtype) -> dtype:
    """The lamina dtype of a NumPy dtype (float64 stays float64: callers decide defaults)."""
    d = _FROM_NP.get(npdtype)
    if d is None:
        d = _FROM_NP.get(np.dtype(npdtype))
        if d is None:
            raise TypeError(f"can't convert NumPy array of dtype {npdtype}; lamina supports "
                            f"{', '.join(x.name for x in ALL)}")
    return d


def to_dtype(d) -> dtype:
    """Accept a lamina dtype, a NumPy dtype / type, a Python type or a name."""
    if d.__class__ is dtype:
        return d
    if d is None:
        return _default
    if d.__class__ is _UnsupportedDtype:
        raise TypeError(d._why)
    import builtins

    if d is builtins.float:
        return _default
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool
    if isinstance(d, str):
        name = d[6:] if d.startswith("torch.") else d
        if name in _NAMES:
            return to_dtype(_NAMES[name])
        raise TypeError(f"unknown dtype {d!r}")
    try:
        return from_np(np.dtype(d))
    except TypeError:
        raise TypeError(f"expected a lamina dtype, got {d!r}") from None


_default = float32


def get_default_dtype() -> dtype:
    """The dtype of new floating tensors (float32 unless changed)."""
    return _default


def set_default_dtype(d) -> None:
    """Set the floating dtype used for Python floats and new tensors (float16/32/64)."""
    global _default
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default = d


def promote_types(type1: dtype, type2: dtype) -> dtype:
    """torch.promote_types: the smallest dtype both can be cast to."""
    a, b = type1, type2
    if a is b:
        return a
    if a._cat != b._cat:
        return a if a._cat > b._cat else b
    if a._cat == 1 and (a is uint8 or b is uint8):
        other = b if a is uint8 else a
        if other is int8:
            return int16
        return other
    return a if a.itemsize >= b.itemsize else b


def result_type_scalar(t: dtype, scalar) -> dtype:
    """Dtype of ``tensor <op> python_scalar`` (a scalar only raises the category)."""
    import builtins

    c = scalar.__class__
    if c is builtins.float:
        return t if t._cat == 2 else _default
    if c is builtins.int:
        return t if t._cat >= 1 else int64
    if c is builtins.bool:
        return t
    if isinstance(scalar, np.generic):
        return result_type_scalar(t, scalar.item())
    raise TypeError(f"unsupported operand type {type(scalar).__name__}")


def scalar_dtype(scalar) -> dtype:
    import builtins

    c = scalar.__class__
    if c is builtins.bool:
        return bool
    if c is builtins.int:
        return int64
    if c is builtins.float:
        return _default
    if isinstance(scalar, np.generic):
        return scalar_dtype(scalar.item())
    raise TypeError(f"unsupported scalar type {type(scalar).__name__}")


def iinfo_max(d: dtype):
    return np.iinfo(d.np).max


class finfo:
    """torch.finfo for floating dtypes."""

    def __init__(self, type=None):  # noqa: A002 - torch's argument name
        if type is bfloat16 or type in ("bfloat16", "torch.bfloat16"):
            # torch.finfo(torch.bfloat16): 8 exponent bits as float32, 8 significand bits
            self.bits, self.eps, self.resolution = 16, 2.0 ** -7, 0.01
            self.max = builtins_float((2 - 2.0 ** -7) * 2.0 ** 127)
            self.min, self.tiny = -self.max, 2.0 ** -126
            self.smallest_normal, self.dtype = self.tiny, "bfloat16"
            return
        d = to_dtype(type)
        f = np.finfo(d.np)
        self.bits = f.bits
        self.eps = builtins_float(f.eps)
        self.max = builtins_float(f.max)
        self.min = builtins_float(f.min)
        self.tiny = builtins_float(f.tiny)
        self.smallest_normal = self.tiny
        self.resolution = 10.0 ** -builtins_int(f.precision)  # torch: a decimal power, not NumPy's
        self.dtype = d.name

    def __repr__(self):
        return (f"finfo(resolution={self.resolution}, min={self.min:.6e}, max={self.max:.6e}, "
                f"eps={self.eps:.6e}, smallest_normal={self.tiny:.6e}, tiny={self.tiny:.6e}, "
                f"dtype={self.dtype})")


class iinfo:
    """torch.iinfo for integer dtypes."""

    def __init__(self, type):  # noqa: A002
        d = to_dtype(type)
        f = np.iinfo(d.np)
        self.bits = f.bits
        self.max = builtins_int(f.max)
        self.min = builtins_int(f.min)
        self.dtype = d.name


def builtins_float(x):
    import builtins

    return builtins.float(x)


def builtins_int(x):
    import builtins

    return builtins.int(x)
