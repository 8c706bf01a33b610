"""Indexing: __getitem__/__setitem__, clone, gather/scatter, index_select, masked_fill,
nonzero, topk, sort."""

from __future__ import annotations

from .._device import backend
from .._tensor import Tensor, _make, _wrap_dim
from ._op import Op


def _is_basic(idx) -> bool:
    for k in idx:
        if not (k is None or k is Ellipsis or isinstance(k, (int, slice))):
            return False
    return True


def _convert_index(index, xp, dev, shape):
    """torch index -> numpy/cupy index tuple (tensors and lists become arrays)."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for k in index:
        if isinstance(k, Tensor):
            if k._device != dev:
                raise RuntimeError(f"indices should be either on cpu or on the same device as "
                                   f"the indexed tensor ({dev}), got {k._device}")
            a = k._data
            if a.dtype.kind not in "biu":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            out.append(a)
        elif isinstance(k, (list, tuple)):
            a = xp.asarray(_unwrap_list(k))
            if a.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            out.append(a)
        elif isinstance(k, bool):
            out.append(k)
        elif isinstance(k, (int, slice)) or k is None or k is Ellipsis:
            out.append(k)
        elif hasattr(k, "__index__"):
            out.append(k.__index__())
        elif hasattr(k, "dtype") and hasattr(k, "shape"):
            out.append(xp.asarray(k))
        else:
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or "
                             f"byte Variables are valid indices (got {type(k).__name__})")
    return tuple(out)


def _unwrap_list(k):
    return [(_unwrap_list(v) if isinstance(v, (list, tuple)) else
             (v.item() if isinstance(v, Tensor) else v)) for v in k]


def _check_bounds(idx, shape):
    # numpy raises IndexError too, but with its own words; torch's is clearer about the dim
    d = 0
    for k in idx:
        if k is None:
            continue
        if k is Ellipsis:
            d = len(shape) - sum(1 for j in idx if j is not None and j is not Ellipsis
                                 and not (hasattr(j, "dtype") and j.dtype.kind == "b"))
            continue
        if isinstance(k, int) and not isinstance(k, bool):
            if d >= len(shape):
                raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
            if not -shape[d] <= k < shape[d]:
                raise IndexError(f"index {k} is out of bounds for dimension {d} with size "
                                 f"{shape[d]}")
        d += 1


class GetItem(Op):
    node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, x, idx, basic):
        ctx.shape = x.shape
        ctx.dtype = x.dtype
        ctx.idx = idx
        ctx.basic = basic
        return x[idx]

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        gx = xp.zeros(ctx.shape, g.dtype)
        if ctx.basic:
            gx[ctx.idx] = g
        else:
            _scatter_add_index(xp, gx, ctx.idx, g)
        return gx, None, None


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


def getitem(input, index):
    xp = backend(input._device).xp
    idx = _convert_index(index, xp, input._device, input._data.shape)
    basic = _is_basic(idx)
    if basic:
        _check_bounds(idx, input._data.shape)
    try:
        if basic:
            out = GetItem.apply(input, idx, True)
            out._vc = input._vc
            if input.requires_grad:
                out._base = input
            return out
        return GetItem.apply(input, idx, False)
    except IndexError as e:
        raise IndexError(f"{e} (indexing a tensor of shape {tuple(input._data.shape)})") from None


class SetItem(Op):
    """out = x with x[idx] = v (out of place; Tensor.__setitem__ writes it back in place)."""

    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, x, idx, v):
        out = x.copy()
        out[idx] = v
        ctx.idx = idx
        ctx.vshape = getattr(v, "shape", None)
        return out

    @staticmethod
    def backward(ctx, g):
        from ._op import sum_to_shape

        gx = g.copy()
        gx[ctx.idx] = 0
        gv = None
        if ctx.needs_input_grad[2]:
            gv = sum_to_shape(g[ctx.idx], ctx.vshape)
        return gx, None, gv


def setitem(input, index, value):
    from .inplace import apply_inplace

    xp = backend(input._device).xp
    idx = _convert_index(index, xp, input._device, input._data.shape)
    if isinstance(value, Tensor):
        if value._data.dtype != input._data.dtype:
            value = value.to(input.dtype)
    elif not isinstance(value, (int, float, bool)):
        from .._creation import tensor

        value = tensor(value, dtype=input.dtype, device=input._device)
    apply_inplace(input, SetItem, idx, value, fast=_setitem_fast)


def _setitem_fast(x, idx, v):
    x[idx] = v


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


def _along_index(xp, index, dim):
    """Full index tuple addressing gx[..., index, ...] along dim (for add.at)."""
    idx = list(xp.indices(index.shape, sparse=True))
    idx[dim] = index
    return tuple(idx)


def _put_along_add(xp, target, index, values, dim):
    xp.add.at(target, _along_index(xp, index, dim), values)


def _check_index(name, input, dim, index):
    if not isinstance(index, Tensor) or index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    if index._data.ndim != input._data.ndim and input._data.ndim:
        raise RuntimeError(f"Index tensor must have the same number of dimensions as input "
                           f"tensor")
    return _wrap_dim(dim, input._data.ndim)


def gather(input, dim, index, *, sparse_grad=False):
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


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    d = _check_index("scatter", input, dim, index)
    if src is None:
        src = value
    if isinstance(src, Tensor) and src._data.dtype != input._data.dtype:
        raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype")
    return Scatter.apply(input, d, index._data, src, reduce)


def scatter_add(input, dim, index, src):
    return scatter(input, dim, index, src, reduce="add")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    if reduce == "sum":
        return scatter(input, dim, index, src, reduce="add")
    if reduce == "prod":
        return scatter(input, dim, index, src, reduce="multiply")
    raise RuntimeError(f"lamina: scatter_reduce supports 'sum' and 'prod', got {reduce!r}")


def index_select(input, dim, index):
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = _wrap_dim(dim, input._data.ndim)
    idx = (slice(None),) * d + (index._data.reshape(-1),)
    return GetItem.apply(input, idx, False)


def take(input, index):
    from .shape import reshape

    return getitem(reshape(input, (-1,)), index)


def take_along_dim(input, indices, dim=None):
    if dim is None:
        from .shape import reshape

        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
    return gather(input, dim, indices)


class MaskedFill(Op):
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


def masked_fill(input, mask, value):
    if mask._data.dtype.kind != "b":
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype.name}")
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value._data.ndim} dimension(s).")
    return MaskedFill.apply(input, mask, value)


def masked_select(input, mask):
    from .shape import broadcast_tensors

    a, m = broadcast_tensors(input, mask)
    return getitem(a, m)


def nonzero(input, *, as_tuple=False):
    xp = backend(input._device).xp
    nz = xp.nonzero(input._data if input._data.ndim else input._data.reshape(1))
    if as_tuple:
        return tuple(_make(a.astype(xp.int64), input._device) for a in nz)
    return _make(xp.stack(nz, axis=1).astype(xp.int64) if nz else xp.zeros((0, 0), xp.int64),
                 input._device)


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
    return return_types.sort(Gather.apply(input, d, idx), _make(idx, input._device))


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending, stable).indices


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - torch's name
    from .reduce import return_types

    xp = backend(input._device).xp
    a = input._data
    d = _wrap_dim(dim, a.ndim) if a.ndim else 0
    n = a.shape[d] if a.ndim else 1
    if k > n or k < 0:
        raise RuntimeError(f"selected index k out of range")
    if a.ndim == 0:
        return return_types.topk(input.clone(), _make(xp.zeros((), xp.int64), input._device))
    key = -a if largest else a
    if a.dtype.kind == "b":
        key = -(a.astype(xp.int8)) if largest else a
    idx = xp.argsort(key, axis=d, kind="stable")
    idx = xp.take(idx, xp.arange(k), axis=d).astype(xp.int64)
    return return_types.topk(Gather.apply(input, d, idx), _make(idx, input._device))


def kthvalue(input, k, dim=-1, keepdim=False):
    from .reduce import return_types

    s = sort(input, dim)
    d = _wrap_dim(dim, input._data.ndim)
    v = s.values.narrow(d, k - 1, 1)
    i = s.indices.narrow(d, k - 1, 1)
    if not keepdim:
        v, i = v.squeeze(d), i.squeeze(d)
    return return_types.kthvalue(v, i)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
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
    from .elementwise import where

    xp = backend(input._device).xp
    n, m = input._data.shape[-2:]
    mask = xp.tri(n, m, diagonal, dtype=bool) if lower else ~xp.tri(n, m, diagonal - 1,
                                                                      dtype=bool)
    return where(_make(mask, input._device), input, 0)


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
        return SetItem.apply(out, (rows, cols), input)
    return diagonal_(input, diagonal)


def diagonal_(input, offset):
    return diagonal(input, offset)


def trace(input):
    return diagonal(input).sum()


TENSOR_METHODS = {
    "__getitem__": getitem, "__setitem__": setitem, "clone": clone, "gather": gather,
    "scatter": scatter, "scatter_add": scatter_add, "scatter_reduce": scatter_reduce,
    "index_select": index_select, "take": take, "take_along_dim": take_along_dim,
    "masked_fill": masked_fill, "masked_select": masked_select, "nonzero": nonzero,
    "argwhere": argwhere, "sort": sort, "argsort": argsort, "topk": topk,
    "kthvalue": kthvalue, "unique": unique, "index_add": index_add, "tril": tril,
    "triu": triu, "diagonal": diagonal, "diag": diag, "trace": trace,
}

FUNCTIONS = [k for k in TENSOR_METHODS if not k.startswith("__")]
__all__ = list(FUNCTIONS)
