"""Indexing: __getitem__/__setitem__, clone, gather/scatter, index_select, masked_fill,
nonzero, topk, sort."""

from __future__ import annotations

from .._device import backend
from .._tensor import Tensor, _make, _wrap_dim
from ..autograd.grad_mode import STATE
from ._op import Op, as_view
from ._registry import register


def _is_basic(idx) -> bool:
    for k in idx:
        # a Python bool is an advanced index in torch (a copy, IndexBackward0), not an int
        if not (k is None or k is Ellipsis or k.__class__ is int or k.__class__ is slice):
            return False
    return True


_IDX_MSG = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
            "valid indices")
_DTYPE_MSG = "tensors used as indices must be long, int, byte or bool tensors"


def _is_seq(v) -> bool:
    """Python's sequence protocol, as torch's indexing checks it (lists, tuples, ranges,
    strings, tensors and NumPy arrays, not dicts)."""
    t = v.__class__
    return hasattr(t, "__len__") and hasattr(t, "__getitem__") and not isinstance(v, dict)


def _seq_as_tuple(index) -> bool:
    """torch's rule (NumPy's old one) for a sequence that is not a tuple: one holding a tensor,
    a sequence, a slice, ``...`` or None, shorter than 32, is read as a tuple of indices
    (``x[[[0, 1], [2, 3]]]`` is ``x[[0, 1], [2, 3]]``, with torch's deprecation warning);
    any other (``x[[0, 2]]``, ``x[range(3)]``) is one index."""
    if isinstance(index, Tensor) or hasattr(index, "dtype"):
        return False
    try:
        n = len(index)
    except TypeError:
        return False
    if n >= 32:
        return False
    for v in index:
        if v is None or v is Ellipsis or isinstance(v, slice) or _is_seq(v):
            import warnings

            warnings.warn("Using a non-tuple sequence for multidimensional indexing is "
                          "deprecated; use x[tuple(seq)] instead of x[seq] (lamina, like torch "
                          "2.13, reads it as a tuple)", UserWarning, stacklevel=4)
            return True
    return False


def _index_array(a, from_tensor: bool):
    """An index array as NumPy/CuPy should see it, with torch's dtype rules: bool masks stay,
    uint8 is a (deprecated) mask, a 0-d integer index is an int (torch selects), int8/int16
    tensors are refused, a NumPy array of another dtype is read as int64."""
    kind = a.dtype.kind
    if kind == "b":
        return a
    if a.dtype.itemsize == 1 and kind == "u":
        if a.ndim:
            import warnings

            warnings.warn("indexing with dtype uint8 is now deprecated, please use a dtype "
                          "bool instead.", UserWarning, stacklevel=5)
        return a.astype(bool)
    if kind in "iu":
        if a.ndim == 0:
            return int(a)
        if from_tensor and a.dtype.itemsize < 4:
            raise IndexError(_DTYPE_MSG)
        return a
    if from_tensor:
        raise IndexError(_DTYPE_MSG)
    if kind == "f":
        return _index_array(a.astype("int64"), False)
    raise IndexError(f"{_IDX_MSG} (got an array of dtype {a.dtype})")


def _index_item(k, xp, dev):
    """One entry of a torch index -> the NumPy/CuPy entry."""
    if k is None or k is Ellipsis:
        return k
    c = k.__class__
    if c is int or c is bool:
        return k
    if c is slice:
        if k.step is not None:
            step = k.step.__index__() if not isinstance(k.step, Tensor) else int(k.step)
            if step == 0:
                raise ValueError("slice step cannot be zero")
            if step < 0:
                raise ValueError("step must be greater than zero")
        return k
    if isinstance(k, Tensor):
        a = k._data
        if k._device != dev:
            if k._device.type != "cpu":
                raise RuntimeError(f"indices should be either on cpu or on the same device "
                                   f"as the indexed tensor ({dev}), got {k._device}")
            # torch accepts cpu indices for a cuda tensor: move them over
            a = backend(dev).from_numpy(a)
        return _index_array(a, True)
    if isinstance(k, int):  # int subclasses (IntEnum ...)
        return int(k)
    if hasattr(k, "dtype") and hasattr(k, "ndim"):
        if not _is_seq(k):  # a NumPy scalar: integers only, as torch
            if k.dtype.kind in "iu":
                return int(k)
            raise IndexError(f"{_IDX_MSG} (got {c.__module__}.{c.__name__})")
        return _index_array(xp.asarray(k), False)
    if _is_seq(k):
        if isinstance(k, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{c.__name__}'")
        a = xp.asarray(_unwrap_list(k))
        if a.dtype.kind in "US":
            raise TypeError("new(): invalid data type 'str'")
        # torch builds a long tensor from the list (floats truncated), bool if all are bools
        if a.dtype.kind != "b":
            a = a.astype("int64", copy=False)
        return a
    if hasattr(k, "__index__"):
        return k.__index__()
    raise IndexError(f"{_IDX_MSG} (got {c.__name__})")


def _specified(k) -> int:
    """How many dims of the indexed tensor an index entry consumes."""
    if k is None or k is Ellipsis or k is True or k is False:
        return 0
    if hasattr(k, "dtype") and k.dtype.kind == "b":
        return k.ndim
    return 1


def _merge_ellipses(idx, ndim):
    """torch lets an index hold several ``...``: each after the first stands for the same
    count of dims, so it is empty when the index names every dim and anything after it is
    out of range otherwise."""
    first = idx.index(Ellipsis)
    extra = ndim - sum(_specified(k) for k in idx)
    out = list(idx[:first + 1])
    seen = False
    for k in idx[first + 1:]:
        if k is Ellipsis:
            seen = True
            continue
        if seen and extra > 0:
            raise IndexError(f"too many indices for tensor of dimension {ndim}")
        out.append(k)
    return tuple(out)


def _convert_index(index, xp, dev, shape):
    """torch index -> numpy/cupy index tuple (tensors and lists become arrays)."""
    if index.__class__ is not tuple:
        index = tuple(index) if _seq_as_tuple(index) else (index,)
    out = []
    for k in index:  # a loop, not a comprehension: the warnings' stacklevel
        out.append(_index_item(k, xp, dev))
    out = tuple(out)
    if len(out) > 1 and sum(1 for k in out if k is Ellipsis) > 1:
        out = _merge_ellipses(out, len(shape))
    return out


def _unwrap_list(k):
    return [(_unwrap_list(v) if isinstance(v, (list, tuple, range)) else
             (v.tolist() if isinstance(v, Tensor) or hasattr(v, "tolist") else v)) for v in k]


def _byte_mask(index) -> bool:
    """Whether a torch index holds a uint8 mask (an array with dims)."""
    items = index if isinstance(index, (tuple, list)) else (index,)
    for k in items:
        a = k._data if isinstance(k, Tensor) else k
        if hasattr(a, "dtype") and a.dtype == "uint8" and getattr(a, "ndim", 0) > 0:
            return True
    return False


def _check_bounds(idx, shape):
    # numpy raises IndexError too, but with its own words; torch's is clearer about the dim
    d = 0
    for k in idx:
        if k is None or k is True or k is False:
            continue
        if k is Ellipsis:
            # the Ellipsis stands for the dims no other entry takes (basic indices only here)
            d += len(shape) - sum(_specified(j) for j in idx)
            continue
        if isinstance(k, int) and not isinstance(k, bool):
            if d >= len(shape):
                raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
            if not -shape[d] <= k < shape[d]:
                raise IndexError(f"index {k} is out of bounds for dimension {d} with size "
                                 f"{shape[d]}")
        d += 1


class GetItem(Op):
    """x[idx] for a basic index (ints, slices, None, Ellipsis): a view of x.

    Its variants in ``_BASIC_OPS`` carry the name of the last op torch's indexing applies.
    """

    node_name = "SliceBackward0"

    @staticmethod
    def forward(ctx, x, idx):
        ctx.shape = x.shape
        ctx.idx = idx
        return x[idx]

    @staticmethod
    def backward(ctx, g):
        gx = ctx.xp.zeros(ctx.shape, g.dtype)
        gx[ctx.idx] = g
        return gx, None


_SELECT = GetItem.named("SelectBackward0")
# by the name of torch's last node
_BASIC_OPS = {c.node_name: c for c in (GetItem, _SELECT, GetItem.named("UnsqueezeBackward0"),
                                       GetItem.named("AliasBackward0"))}


class Index(GetItem):
    """x[idx] with integer / bool arrays in the index (a copy; repeated indices sum):
    ``GetItem``'s forward, a scatter-add backward."""

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        gx = xp.zeros(ctx.shape, g.dtype)
        _scatter_add_index(xp, gx, ctx.idx, g)
        return gx, None


_INDEX_SELECT = Index.named("IndexSelectBackward0")


def _scatter_add_index(xp, gx, idx, g):
    """gx[idx] += g with repeated indices summed."""
    # one integer array on the first dim: sum rows with a sort-free bincount-like reduction
    if len(idx) == 1 and hasattr(idx[0], "dtype") and idx[0].dtype.kind in "iu" and \
            idx[0].ndim == 1 and gx.ndim >= 1:
        i = idx[0]
        i = xp.where(i < 0, i + gx.shape[0], i)
        flat = g.reshape(len(i), -1)
        out = gx.reshape(gx.shape[0], -1)
        if i.size and len(i) <= 4 * gx.shape[0]:
            # unique indices: one fancy assignment; otherwise np.add.at
            uniq = xp.unique(i)
            if uniq.size == i.size:
                out[i] += flat
                return
        xp.add.at(out, i, flat)
        return
    xp.add.at(gx, idx, g)


def _is_array(k) -> bool:
    return hasattr(k, "dtype")


def _basic_name(index, idx, shape) -> str:
    """Name of the node torch's basic indexing ends with: the last select / slice / unsqueeze
    it applies (full slices apply nothing in a tuple); AliasBackward0 when none applies."""
    if not isinstance(index, tuple):
        k = idx[0]
        if k is None:
            return "UnsqueezeBackward0"
        if k is Ellipsis:
            return "AliasBackward0"
        return "SliceBackward0" if isinstance(k, slice) else "SelectBackward0"
    last = "AliasBackward0"
    consumed = sum(1 for k in idx if k is not None and k is not Ellipsis)
    di = 0
    for k in idx:
        if k is None:
            last = "UnsqueezeBackward0"
        elif k is Ellipsis:
            di += len(shape) - consumed
        elif isinstance(k, slice):
            n = shape[di]
            if k.indices(n) != (0, n, 1):
                last = "SliceBackward0"
            di += 1
        else:
            last = "SelectBackward0"
            di += 1
    return last


def _split_int_advanced(idx):
    """torch applies integers before advanced (tensor) indices, NumPy treats them together:
    ``x[1, :, t]`` is ``x[1][:, t]`` in torch. Returns the two steps."""
    first = []
    second = []
    for k in idx:
        if _is_array(k):
            first.extend([slice(None)] * (k.ndim if k.dtype.kind == "b" else 1))
            second.append(k)
        elif isinstance(k, bool):
            second.append(k)
        elif k is None:
            first.append(None)
            second.append(slice(None))
        elif k is Ellipsis:
            first.append(Ellipsis)
            second.append(Ellipsis)
        elif isinstance(k, slice):
            first.append(k)
            second.append(slice(None))
        else:
            first.append(k)
    return tuple(first), tuple(second)


def _needs_split(idx) -> bool:
    return any(isinstance(k, int) and not isinstance(k, bool) for k in idx)


def _getitem_fn(idx):
    return lambda a: a[idx]


def getitem(input, index, name=None):
    shape = input._data.shape
    if type(index) is int and shape and -shape[0] <= index < shape[0]:
        # t[i], the per-sample read of every Dataset: skip the general index conversion
        idx = (index, Ellipsis)
        return as_view(_SELECT.apply(input, idx), input, _getitem_fn(idx))
    xp = backend(input._device).xp
    idx = _convert_index(index, xp, input._device, shape)
    try:
        if _is_basic(idx):
            _check_bounds(idx, shape)
            op = _BASIC_OPS[name or _basic_name(index, idx, shape)]
            # a trailing Ellipsis makes NumPy return a 0-d view, not a scalar copy
            if not any(k is Ellipsis for k in idx):
                idx = idx + (Ellipsis,)
            return as_view(op.apply(input, idx), input, _getitem_fn(idx))
        if _needs_split(idx):
            first, second = _split_int_advanced(idx)
            _check_bounds(first, shape)
            if not any(k is Ellipsis for k in first):
                first = first + (Ellipsis,)
            view = as_view(_SELECT.apply(input, first), input, _getitem_fn(first))
            return Index.apply(view, second)
        return Index.apply(input, idx)
    except IndexError as e:
        raise IndexError(f"{e} (indexing a tensor of shape {tuple(shape)})") from None


class SetItem(Op):
    """out = x with x[idx] = v (out of place; Tensor.__setitem__ writes it back in place).

    ``steps`` is the index as a chain (one step, or torch's ints-then-tensors two steps).
    """

    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, x, steps, v):
        out = x.copy()
        _assign(out, steps, v)
        ctx.steps = steps
        ctx.vshape = getattr(v, "shape", None)
        return out

    @staticmethod
    def backward(ctx, g):
        from ._op import sum_to_shape

        steps = ctx.steps
        gx = None
        if ctx.needs_input_grad[0]:
            gx = g.copy()
            _assign(gx, steps, 0)
        gv = None
        if ctx.needs_input_grad[2]:
            gv = g
            for st in steps:
                gv = gv[st]
            vs = ctx.vshape
            if gv.ndim < len(vs):  # NumPy lets a value carry extra leading 1s
                gv = gv.reshape((1,) * (len(vs) - gv.ndim) + gv.shape)
            gv = sum_to_shape(gv, vs)
        return gx, None, gv


_INDEX_PUT = SetItem.named("IndexPutBackward0")  # an advanced index: torch's index_put_


def _assign(arr, steps, v):
    for st in steps[:-1]:
        arr = arr[st]
    arr[steps[-1]] = v


def setitem(input, index, value):
    from .inplace import run_inplace

    xp = backend(input._device).xp
    shape = input._data.shape
    idx = _convert_index(index, xp, input._device, shape)
    if (isinstance(value, (int, float)) or (isinstance(value, Tensor) and value.numel() == 1)) \
            and _byte_mask(index):
        # torch fills through masked_fill_ here, which refuses the deprecated uint8 mask
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           "unsigned char")
    basic = _is_basic(idx)
    if basic:
        _check_bounds(idx, shape)
        steps = (idx,)
    elif _needs_split(idx):
        first, second = _split_int_advanced(idx)
        _check_bounds(first, shape)
        steps = (first, second)
    else:
        steps = (idx,)
    if isinstance(value, Tensor):
        if value._device != input._device:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                               f"least two devices, {input._device} and {value._device}!")
        if value._data.dtype != input._data.dtype:
            value = value.to(input.dtype)
    elif not isinstance(value, (int, float, bool)):
        from .._creation import tensor

        value = tensor(value, dtype=input.dtype, device=input._device)
    # torch: ints select a view first, so x[1, :, t] = v is a CopySlices too
    op = SetItem if basic or len(steps) == 2 else _INDEX_PUT
    v = value._data if isinstance(value, Tensor) else value
    if basic and input.requires_grad and input.grad_fn is None and STATE.enabled:
        # torch writes x[i] = v as a copy_ into the view x[i]
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")

    def fast():
        try:
            _assign(input._data, steps, v)
        except ValueError as e:
            raise RuntimeError(f"{e} (assigning to an index of a tensor of shape "
                               f"{tuple(shape)})") from None

    run_inplace(input, "__setitem__", (value,), lambda s: op.apply(s, steps, value), fast)


class Clone(Op):
    node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


def clone(input, *, memory_format=None):
    return Clone.apply(input)


class Gather(Op):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape = x.shape
        ctx.dim = dim
        ctx.save_for_backward(index)
        return ctx.xp.take_along_axis(x, index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved
        gx = ctx.xp.zeros(ctx.shape, g.dtype)
        _put_along_add(ctx.xp, gx, index, g, ctx.dim)
        return gx, None, None


# sort and topk: a gather at the indices they found, under their names
_SORT_GATHER = Gather.named("SortBackward0")
_TOPK_GATHER = Gather.named("TopkBackward0")


def _along_index(xp, index, dim):
    """Full index tuple addressing gx[..., index, ...] along dim (for add.at): ``index`` at
    dim, broadcastable aranges elsewhere (no xp.indices(sparse=): not every backend has it)."""
    nd = index.ndim
    idx = []
    for k, n in enumerate(index.shape):
        if k == dim:
            idx.append(index)
        else:
            shape = [1] * nd
            shape[k] = n
            idx.append(xp.arange(n).reshape(shape))
    return tuple(idx)


def _put_along_add(xp, target, index, values, dim):
    xp.add.at(target, _along_index(xp, index, dim), values)


def _same_device(name, input, other):
    if other._device != input._device:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least "
                           f"two devices, {input._device} and {other._device}! (in {name})")


def _check_index(name, input, dim, index):
    if not isinstance(index, Tensor) or index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    _same_device(name, input, index)
    if index._data.ndim != input._data.ndim and input._data.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    return _wrap_dim(dim, input._data.ndim)


def _as_1d(input, index, fn):
    """gather / scatter on a 0-d input: the same op on one-element 1-d views."""
    from .shape import reshape

    out = fn(reshape(input, (1,)), reshape(index, (-1,)))
    return reshape(out, ())


def gather(input, dim, index, *, sparse_grad=False):
    if input._data.ndim == 0 and isinstance(index, Tensor) and index._data.ndim <= 1:
        _wrap_dim(dim, 0)
        from .shape import reshape

        return reshape(gather(reshape(input, (1,)), 0, reshape(index, (-1,))),
                       index._data.shape)
    d = _check_index("gather", input, dim, index)
    n = input._data.shape[d]
    ia = index._data
    if ia.size and (int(ia.max()) >= n or int(ia.min()) < -n):
        raise RuntimeError(f"index {int(ia.max())} is out of bounds for dimension {d} with "
                           f"size {n}")
    for k in range(ia.ndim):
        if k != d and ia.shape[k] > input._data.shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index "
                               f"{list(ia.shape)} to be smaller than self "
                               f"{list(input._data.shape)} apart from dimension {d}")
    if ia.shape != input._data.shape:
        # take_along_axis needs broadcast-compatible shapes: slice input to index's extents
        sl = tuple(slice(None) if k == d else slice(0, ia.shape[k]) for k in range(ia.ndim))
        input = getitem(input, sl)
    return Gather.apply(input, d, ia)


class Scatter(Op):
    @staticmethod
    def forward(ctx, x, dim, index, src, reduce):
        xp = ctx.xp
        out = x.copy()
        full = _along_index(xp, index, dim)
        sv = src if not hasattr(src, "shape") else src[tuple(slice(0, s) for s in index.shape)]
        if reduce == "add":
            xp.add.at(out, full, sv)
        elif reduce == "multiply":
            xp.multiply.at(out, full, sv)
        else:
            out[full] = sv
        ctx.save_for_backward(index)
        ctx.dim = dim
        ctx.reduce = reduce
        ctx.src_shape = getattr(src, "shape", None)
        return out

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved
        xp = ctx.xp
        full = _along_index(xp, index, ctx.dim)
        if ctx.reduce == "multiply":
            raise RuntimeError("lamina: scatter with reduce='multiply' is not differentiable")
        gx = g
        if ctx.reduce != "add":
            gx = g.copy()
            gx[full] = 0
        gs = None
        if ctx.needs_input_grad[3]:
            gs = xp.zeros(ctx.src_shape, g.dtype)
            gs[tuple(slice(0, s) for s in index.shape)] = g[full]
        return gx, None, None, gs, None


_SCATTER_VALUE = Scatter.named("ScatterBackward1")
_SCATTER_ADD = Scatter.named("ScatterAddBackward0")


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    name = "scatter_add" if reduce == "add" else "scatter"
    if input._data.ndim == 0 and isinstance(index, Tensor) and index._data.ndim <= 1:
        _wrap_dim(dim, 0)
        s1 = src.reshape(-1) if isinstance(src, Tensor) else src
        v1 = value
        return _as_1d(input, index, lambda x, i: scatter(x, 0, i, s1 if value is None else None,
                                                         value=v1, reduce=reduce))
    d = _check_index(name, input, dim, index)
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() missing 1 required positional argument: 'src' (or value=)")
    ia = index._data
    if isinstance(src, Tensor):
        if src._data.dtype != input._data.dtype:
            raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
        if src._device != input._device:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                               f"least two devices, {input._device} and {src._device}!")
        if src._data.ndim != ia.ndim:
            raise RuntimeError("Index tensor must have the same number of dimensions as src "
                               "tensor")
        for k in range(ia.ndim):
            if ia.shape[k] > src._data.shape[k]:
                raise RuntimeError(f"Expected index {list(ia.shape)} to be smaller than self "
                                   f"{list(input._data.shape)} apart from dimension {d} and to "
                                   f"be smaller size than src {list(src._data.shape)}")
    elif not isinstance(src, (int, float, bool)):
        src = src.item() if hasattr(src, "item") else src
    shp = input._data.shape
    for k in range(ia.ndim):
        if k != d and ia.shape[k] > shp[k]:
            raise RuntimeError(f"Expected index {list(ia.shape)} to be smaller than self "
                               f"{list(shp)} apart from dimension {d}")
    if ia.size and shp:
        hi, lo = int(ia.max()), int(ia.min())
        if hi >= shp[d] or lo < -shp[d]:
            bad = hi if hi >= shp[d] else lo
            raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size "
                               f"{shp[d]}")
    if reduce == "add":
        op = _SCATTER_ADD
    elif reduce is None and not isinstance(src, Tensor):
        op = _SCATTER_VALUE
    else:
        op = Scatter
    return op.apply(input, d, ia, src, reduce)


def scatter_add(input, dim, index, src):
    return scatter(input, dim, index, src, reduce="add")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    if reduce == "sum":
        return scatter(input, dim, index, src, reduce="add")
    if reduce == "prod":
        return scatter(input, dim, index, src, reduce="multiply")
    raise RuntimeError(f"lamina: scatter_reduce supports 'sum' and 'prod', got {reduce!r}")


def index_select(input, dim, index):
    _same_device("index_select", input, index)
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = _wrap_dim(dim, input._data.ndim)
    if index._data.dtype.kind not in "iu":
        raise RuntimeError("index_select(): Expected dtype int32/int64 for index")
    ia = index._data.reshape(-1)
    if input._data.ndim == 0:
        if ia.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got "
                               f"{ia.size} value(s)")
        if int(ia[0]) != 0:
            raise IndexError("index out of range in self")
        return _INDEX_SELECT.apply(input, ())
    n = input._data.shape[d]
    if n == 0 and ia.size:
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    # torch refuses negative indices here, unlike in __getitem__
    if ia.size and (int(ia.min()) < 0 or int(ia.max()) >= n):
        raise IndexError("index out of range in self")
    idx = (slice(None),) * d + (ia,)
    return _INDEX_SELECT.apply(input, idx)


def take(input, index):
    from .shape import reshape

    return getitem(reshape(input, (-1,)), index)


def take_along_dim(input, indices, dim=None):
    if dim is None:
        from .shape import reshape

        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
    return gather(input, dim, indices)


class MaskedFill(Op):
    """x with ``value`` where mask (a Python scalar or, in ``_MASKED_FILL_TENSOR``, a 0-d
    tensor)."""

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.save_for_backward(mask)
        ctx.shape = x.shape
        ctx.vshape = getattr(value, "shape", None)
        return ctx.xp.where(mask, value, x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        from ._op import sum_to_shape

        (mask,) = ctx.saved
        xp = ctx.xp
        gx = sum_to_shape(xp.where(mask, 0, g), ctx.shape)
        gv = None
        if ctx.needs_input_grad[2]:
            gv = xp.where(mask, g, 0).sum().reshape(ctx.vshape)
        return gx, None, gv


_MASKED_FILL_TENSOR = MaskedFill.named("MaskedFillBackward1")


def masked_fill(input, mask, value):
    if not isinstance(mask, Tensor) or mask._data.dtype.kind != "b":
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{getattr(mask, 'dtype', type(mask).__name__)}")
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value._data.ndim} dimension(s).")
        if value._data.dtype != input._data.dtype:
            value = value.to(input.dtype)
        return _MASKED_FILL_TENSOR.apply(input, mask, value)
    if input._data.dtype.kind in "iub" and isinstance(value, float) and value != int(value):
        raise RuntimeError(f"value cannot be converted to type {input.dtype.name} without "
                           f"overflow")
    return MaskedFill.apply(input, mask, value)


def masked_select(input, mask):
    from .shape import broadcast_tensors

    a, m = broadcast_tensors(input, mask)
    return getitem(a, m)


def nonzero(input, *, as_tuple=False):
    xp = backend(input._device).xp
    a = input._data
    nz = xp.nonzero(a if a.ndim else a.reshape(1))
    if a.ndim == 0:  # torch: one row per hit, zero columns
        n = int(nz[0].size)
        if as_tuple:
            return (_make(xp.zeros(n, xp.int64), input._device),)
        return _make(xp.zeros((n, 0), xp.int64), input._device)
    if as_tuple:
        return tuple(_make(i.astype(xp.int64), input._device) for i in nz)
    return _make(xp.stack(nz, axis=1).astype(xp.int64), input._device)


def argwhere(input):
    return nonzero(input)


def sort(input, dim=-1, descending=False, stable=False):
    from .reduce import return_types

    xp = backend(input._device).xp
    a = input._data
    if a.ndim == 0:
        return return_types.sort(input.clone(), _make(xp.zeros((), xp.int64), input._device))
    d = _wrap_dim(dim, a.ndim)
    if descending:
        # stable descending order: sort the negated keys (ints: reverse rank)
        idx = xp.argsort(-a if a.dtype.kind == "f" else -(a.astype(xp.int64)), axis=d,
                         kind="stable")
    else:
        idx = xp.argsort(a, axis=d, kind="stable")
    idx = idx.astype(xp.int64)
    return return_types.sort(_SORT_GATHER.apply(input, d, idx), _make(idx, input._device))


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending, stable).indices


def topk(input, k, dim=-1, largest=True, sorted=True):
    from .reduce import return_types

    xp = backend(input._device).xp
    a = input._data
    if a.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes on CPU")
    d = _wrap_dim(dim, a.ndim) if a.ndim else 0
    n = a.shape[d] if a.ndim else 1
    if k > n or k < 0:
        raise RuntimeError("selected index k out of range")
    if a.ndim == 0:
        return return_types.topk(input.clone(), _make(xp.zeros((), xp.int64), input._device))
    key = -a if largest else a
    if a.dtype.kind == "b":
        key = -(a.astype(xp.int8)) if largest else a
    idx = xp.argsort(key, axis=d, kind="stable")
    idx = xp.take(idx, xp.arange(k), axis=d).astype(xp.int64)
    return return_types.topk(_TOPK_GATHER.apply(input, d, idx), _make(idx, input._device))


def kthvalue(input, k, dim=-1, keepdim=False):
    from .reduce import return_types

    if input._data.dtype.kind == "b":
        raise NotImplementedError("\"kthvalue_cpu\" not implemented for 'Bool'")
    if input._data.ndim == 0:
        if k != 1:
            raise RuntimeError("kthvalue(): selected number k out of range for dimension 0")
        xp = backend(input._device).xp
        return return_types.kthvalue(input.clone(), _make(xp.zeros((), xp.int64),
                                                          input._device))
    s = sort(input, dim)
    d = _wrap_dim(dim, input._data.ndim)
    v = s.values.narrow(d, k - 1, 1)
    i = s.indices.narrow(d, k - 1, 1)
    if not keepdim:
        v, i = v.squeeze(d), i.squeeze(d)
    return return_types.kthvalue(v, i)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    xp = backend(input._device).xp
    if dim is not None:
        raise RuntimeError("lamina: unique(dim=...) is not supported")
    r = xp.unique(input._data, return_inverse=return_inverse, return_counts=return_counts)
    if not (return_inverse or return_counts):
        return _make(r, input._device)
    out = [_make(r[0], input._device)]
    if return_inverse:
        out.append(_make(r[1].reshape(input._data.shape).astype(xp.int64), input._device))
    if return_counts:
        out.append(_make(r[-1].astype(xp.int64), input._device))
    return tuple(out)


def index_add(input, dim, index, source, *, alpha=1):
    from .shape import movedim

    d = _wrap_dim(dim, input._data.ndim)
    _same_device("index_add", input, index)
    _same_device("index_add", input, source)
    src = source * alpha if alpha != 1 else source
    xp = backend(input._device).xp
    shape = [1] * input._data.ndim
    shape[d] = -1
    idx = index._data.reshape(shape)
    full_idx = xp.broadcast_to(idx, src._data.shape)
    del movedim
    return Scatter.apply(input, d, xp.ascontiguousarray(full_idx), src._data
                         if not src.requires_grad else src, "add")


def tril(input, diagonal=0):
    return _tri(input, diagonal, True)


def triu(input, diagonal=0):
    return _tri(input, diagonal, False)


def _tri(input, diagonal, lower):
    from .select import where

    xp = backend(input._device).xp
    n, m = input._data.shape[-2:]
    mask = xp.tri(n, m, diagonal, dtype=bool) if lower else ~xp.tri(n, m, diagonal - 1,
                                                                      dtype=bool)
    zero = _make(xp.zeros((), input._data.dtype), input._device)
    return where(_make(mask, input._device), input, zero)


def diagonal(input, offset=0, dim1=0, dim2=1):
    xp = backend(input._device).xp
    a = input._data
    n = a.shape[dim1]
    m = a.shape[dim2]
    if offset >= 0:
        k = max(0, min(n, m - offset))
        rows, cols = xp.arange(k), xp.arange(k) + offset
    else:
        k = max(0, min(n + offset, m))
        rows, cols = xp.arange(k) - offset, xp.arange(k)
    from .shape import movedim

    moved = movedim(input, (dim1, dim2), (-2, -1))
    return getitem(moved, (Ellipsis, _make(rows, input._device), _make(cols, input._device)))


def diag(input, diagonal=0):
    xp = backend(input._device).xp
    if input._data.ndim == 1:
        n = input._data.shape[0] + abs(diagonal)
        from .._creation import zeros

        out = zeros(n, n, dtype=input.dtype, device=input._device)
        r = xp.arange(input._data.shape[0])
        rows = r + max(-diagonal, 0)
        cols = r + max(diagonal, 0)
        return _INDEX_PUT.apply(out, ((rows, cols),), input)
    return diagonal_(input, diagonal)


def diagonal_(input, offset):
    return diagonal(input, offset)


def trace(input):
    return diagonal(input).sum()


# the public names of this module's ops (ops/_registry.py): torch.X and Tensor.X
register(getitem, "__getitem__", function=False)
register(setitem, "__setitem__", function=False)
for _fn in (clone, gather, index_select, take, take_along_dim, masked_select, nonzero, argwhere,
            sort, argsort, topk, kthvalue, unique, diagonal, diag, trace):
    register(_fn)
for _fn in (scatter, scatter_add, scatter_reduce, masked_fill, index_add, tril, triu):
    register(_fn, inplace=True)
