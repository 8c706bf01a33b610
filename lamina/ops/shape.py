"""Shape ops: reshape/view, permute/transpose, expand, squeeze, cat/stack, split, flip, roll,
repeat, pad."""

from __future__ import annotations

import builtins
import inspect

from .._device import backend
from .._tensor import Tensor, _make, _wrap_dim
from ._op import Op, as_view
from ._registry import register


def _size_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(s) for s in shape)


def _infer_shape(shape, numel, src_shape):
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = list(shape)
        shape[neg[0]] = numel // known
        return tuple(shape)
    if known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class Reshape(Op):
    node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None


# the same reshape under the name of the view kernel torch runs
_SQUEEZE = Reshape.named("SqueezeBackward0")  # squeeze()
_SQUEEZE_DIM = Reshape.named("SqueezeBackward1")  # squeeze(dim)
_SQUEEZE_DIMS = Reshape.named("SqueezeBackward2")  # squeeze((d0, d1, ...))
_UNSQUEEZE = Reshape.named("UnsqueezeBackward0")
_ALIAS = Reshape.named("AliasBackward0")


class Permute(Op):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        inv = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inv[d] = i
        return g.transpose(inv), None


_TRANSPOSE = Permute.named("TransposeBackward0")
_T = Permute.named("TBackward0")


class Expand(Op):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return ctx.xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        from ._op import sum_to_shape

        return sum_to_shape(g, ctx.shape), None


class Cat(Op):
    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return ctx.xp.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        out = [None]
        start = 0
        d = ctx.dim
        nig = ctx.needs_input_grad
        for i, s in enumerate(ctx.sizes):
            if nig[i + 1]:
                sl = [slice(None)] * g.ndim
                sl[d] = slice(start, start + s)
                out.append(g[tuple(sl)])
            else:
                out.append(None)
            start += s
        return tuple(out)


class Stack(Op):
    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        return ctx.xp.stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        n = g.shape[ctx.dim]
        nig = ctx.needs_input_grad
        return (None,) + tuple(g.take(i, axis=ctx.dim) if nig[i + 1] else None for i in range(n))


class Split(Op):
    """Pieces of x along a dim (views); several outputs of one node, like torch's split."""

    @staticmethod
    def forward(ctx, x, dim, sizes):
        ctx.dim = dim
        pre = (slice(None),) * dim
        out = []
        start = 0
        for n in sizes:
            out.append(x[pre + (slice(start, start + n),)])
            start += n
        return tuple(out)

    @staticmethod
    def backward(ctx, *gs):
        # pieces that got no gradient arrive as zeros (the engine fills them in)
        return ctx.xp.concatenate(gs, axis=ctx.dim), None, None


_SPLIT_WITH_SIZES = Split.named("SplitWithSizesBackward0")


class Unbind(Op):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        pre = (slice(None),) * dim
        return tuple(x[pre + (i,)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *gs):
        return ctx.xp.stack(gs, axis=ctx.dim), None


class Flip(Op):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        if x.ndim == 0:
            return x.copy()
        return ctx.xp.flip(x, dims)

    @staticmethod
    def backward(ctx, g):
        if g.ndim == 0:
            return g, None
        return ctx.xp.flip(g, ctx.dims), None


class Roll(Op):
    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts = shifts
        ctx.dims = dims
        return ctx.xp.roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        s = ctx.shifts
        neg = -s if isinstance(s, int) else tuple(-v for v in s)
        return ctx.xp.roll(g, neg, ctx.dims), None, None


class Tile(Op):
    node_name = "RepeatBackward0"

    @staticmethod
    def forward(ctx, x, reps):
        ctx.shape = x.shape
        ctx.reps = reps
        return ctx.xp.tile(x, reps)

    @staticmethod
    def backward(ctx, g):
        shape = (1,) * (len(ctx.reps) - len(ctx.shape)) + tuple(ctx.shape)
        inter = []
        for r, s in zip(ctx.reps, shape):
            inter += [r, s]
        g = g.reshape(inter).sum(axis=tuple(range(0, len(inter), 2)))
        return g.reshape(ctx.shape), None


class ConstantPad(Op):
    node_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, x, widths, value):
        """widths: per-dim (before, after); negative values crop."""
        xp = ctx.xp
        crop = tuple(slice(-b if b < 0 else None, a if a < 0 else None) for b, a in widths)
        x2 = x[crop]
        pos = [(builtins.max(b, 0), builtins.max(a, 0)) for b, a in widths]
        ctx.widths = widths
        ctx.shape = x.shape
        return xp.pad(x2, pos, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        sl = tuple(slice(builtins.max(b, 0), g.shape[i] - builtins.max(a, 0))
                   for i, (b, a) in enumerate(ctx.widths))
        gi = g[sl]
        neg = [(builtins.max(-b, 0), builtins.max(-a, 0)) for b, a in ctx.widths]
        if builtins.any(b or a for b, a in neg):
            gi = xp.pad(gi, neg)
        return gi, None, None


# ---------------------------------------------------------------------- functions
def _reshape_fn(shape):
    return lambda a: a.reshape(shape)


def _reshape_op(input, shape, op):
    """Apply a reshape-like op; the result is a view of input when NumPy made one."""
    a = input._data
    out = op.apply(input, shape)
    # NumPy reshapes without copying when the strides allow it: then the result is a view
    if a.flags.c_contiguous or backend(input._device).xp.may_share_memory(out._data, a):
        as_view(out, input, _reshape_fn(shape))
    return out


def reshape(input, shape):
    shape = _infer_shape(_size_arg((shape,)), input._data.size, input._data.shape)
    return _reshape_op(input, shape, Reshape)


def view(input, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)) and \
            not hasattr(shape[0], "__index__"):
        from .. import _dtype as D

        dt = D.to_dtype(shape[0])
        if dt.itemsize != input._data.itemsize:
            raise RuntimeError("lamina: view(dtype) needs the same element size")
        return _make(input._data.view(dt.np), input._device)
    shape = _infer_shape(_size_arg(shape), input._data.size, input._data.shape)
    a = input._data
    if not a.flags.c_contiguous and a.size > 1:
        try:
            v = a.view()
            v.shape = shape
        except AttributeError:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) "
                "instead.") from None
    out = Reshape.apply(input, shape)
    return as_view(out, input, _reshape_fn(shape))


def view_as(input, other):
    return view(input, tuple(other.shape))


def reshape_as(input, other):
    return reshape(input, tuple(other.shape))


def flatten(input, start_dim=0, end_dim=-1):
    nd = input._data.ndim
    if nd == 0:
        return reshape(input, (1,))
    s = _wrap_dim(start_dim, nd)
    e = _wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shp = input._data.shape
    n = 1
    for v in shp[s:e + 1]:
        n *= v
    return reshape(input, shp[:s] + (n,) + shp[e + 1:])


def unflatten(input, dim, sizes):
    nd = input._data.ndim
    d = _wrap_dim(dim, nd)
    shp = input._data.shape
    sizes = tuple(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    try:
        sizes = _infer_shape(sizes, shp[d], (shp[d],))
    except RuntimeError:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shp[d]}) in the input tensor") from None
    return reshape(input, shp[:d] + tuple(sizes) + shp[d + 1:])


def squeeze(input, dim=None):
    shp = input._data.shape
    if dim is None:
        new = tuple(s for s in shp if s != 1)
        op = _SQUEEZE
    else:
        multi = isinstance(dim, (tuple, list))
        dims = dim if multi else (dim,)
        ds = {_wrap_dim(d, len(shp)) for d in dims}
        new = tuple(s for i, s in enumerate(shp) if not (i in ds and s == 1))
        op = _SQUEEZE_DIMS if multi else _SQUEEZE_DIM
    return _reshape_op(input, new, op)


def unsqueeze(input, dim):
    shp = input._data.shape
    d = _wrap_dim(dim, len(shp) + 1)
    return _reshape_op(input, shp[:d] + (1,) + shp[d:], _UNSQUEEZE)


def _alias(input):
    return _reshape_op(input, input._data.shape, _ALIAS)


def _permute_fn(dims):
    return lambda a: a.transpose(dims)


def _permute_op(input, dims, op):
    return as_view(op.apply(input, dims), input, _permute_fn(dims))


def permute(input, dims):
    dims = _size_arg((dims,))
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(dims)}")
    dims = tuple(_wrap_dim(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _permute_op(input, dims, Permute)


def transpose(input, dim0, dim1):
    nd = input._data.ndim
    d0, d1 = _wrap_dim(dim0, nd), _wrap_dim(dim1, nd)
    if nd == 0:
        return _permute_op(input, (), _TRANSPOSE)
    dims = list(range(nd))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return _permute_op(input, tuple(dims), _TRANSPOSE)


def swapaxes(input, axis0, axis1):
    """NumPy's name for transpose (torch spells its arguments axis0, axis1)."""
    return transpose(input, axis0, axis1)

swapdims = transpose


def t(input):
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    return _permute_op(input, (1, 0) if nd == 2 else tuple(range(nd)), _T)


def movedim(input, source, destination):
    nd = input._data.ndim
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src = [_wrap_dim(s, nd) for s in src]
    dst = [_wrap_dim(s, nd) for s in dst]
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, tuple(order))


moveaxis = movedim


def expand(input, *sizes):
    sizes = _size_arg(sizes)
    shp = input._data.shape
    if len(sizes) < len(shp):
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(shp)}}}, size=[{len(sizes)}]): the "
                           f"number of sizes provided ({len(sizes)}) must be greater or equal to "
                           f"the number of dimensions in the tensor ({len(shp)})")
    pad = (1,) * (len(sizes) - len(shp)) + tuple(shp)
    new = []
    for i, (s, o) in enumerate(zip(sizes, pad)):
        if s == -1:
            if i < len(sizes) - len(shp):
                raise RuntimeError("The expanded size of the tensor (-1) isn't allowed in a "
                                   "leading, non-existing dimension")
            new.append(o)
        elif o != 1 and s != o:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({o}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(shp)}")
        else:
            new.append(s)
    # an expanded tensor shares memory but cannot be written (fn None)
    return as_view(Expand.apply(input, tuple(new)), input, None)


def expand_as(input, other):
    return expand(input, tuple(other.shape))


def broadcast_to(input, size):
    return expand(input, tuple(size))


def broadcast_tensors(*tensors):
    xp = backend(tensors[0]._device).xp
    shape = xp.broadcast_shapes(*[t._data.shape for t in tensors]) if hasattr(
        xp, "broadcast_shapes") else None
    return tuple(expand(t, shape) for t in tensors)


def broadcast_shapes(*shapes):
    import numpy

    from .._tensor import Size

    return Size(numpy.broadcast_shapes(*[tuple(s) if not isinstance(s, int) else (s,)
                                         for s in shapes]))


def _check_same(tensors, name):
    dev = tensors[0]._device
    for t in tensors[1:]:
        if t._device != dev:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                               f"least two devices, {dev} and {t._device}! (in {name})")


def _with_out(fn, name):
    """``name(..., out=None)``: ``fn``'s result, written into ``out`` when one is given."""

    def f(tensors, dim=0, *, out=None):
        if out is None:
            return fn(tensors, dim)
        from .inplace import write_out

        return write_out(out, fn(tensors, dim), name)

    f.__name__ = f.__qualname__ = name
    return f


def _promote_all(tensors):
    """cat / stack's inputs converted to their common dtype (torch's promotion, pairwise from
    the first); the list itself where the dtypes already agree."""
    if len({t._data.dtype for t in tensors}) == 1:
        return tensors
    from .promotion import _prep

    base = tensors[0]
    for t in tensors[1:]:
        base, _ = _prep(base, t)
    return [t.to(base.dtype) for t in tensors]


def _cat(tensors, dim=0):
    tensors = [t for t in tensors]
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    # torch skips legacy empty 1-D tensors of shape (0,)
    nonempty = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)]
    if not nonempty:
        return tensors[0].clone()
    tensors = nonempty
    _check_same(tensors, "cat")
    tensors = _promote_all(tensors)
    nd = tensors[0]._data.ndim
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _wrap_dim(dim, nd)
    ref = tensors[0]._data.shape
    for i, t in enumerate(tensors[1:], 1):
        s = t._data.shape
        if len(s) != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and "
                               f"{len(s)}")
        for k in range(nd):
            if k != d and s[k] != ref[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref[k]} but got size {s[k]} for tensor "
                                   f"number {i} in the list.")
    return Cat.apply(d, *tensors)


cat = _with_out(_cat, "cat")
concat = _with_out(_cat, "concat")
concatenate = _with_out(_cat, "concatenate")


def _stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    _check_same(tensors, "stack")
    ref = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != ref:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(ref)} at entry 0 and {list(t._data.shape)} at entry {i}")
    tensors = _promote_all(tensors)
    d = _wrap_dim(dim, len(ref) + 1)
    return Stack.apply(d, *tensors)


stack = _with_out(_stack, "stack")


def hstack(tensors):
    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    return cat([atleast_2d(t) for t in tensors], 0)


def _each(fn, tensors):
    """torch's atleast_Nd(*tensors): one tensor in, one out; several (or a sequence), a tuple."""
    if len(tensors) == 1:
        if isinstance(tensors[0], Tensor):
            return fn(tensors[0])
        tensors = tuple(tensors[0])
    return tuple(fn(t) for t in tensors)


def atleast_1d(*tensors):
    return _each(_atleast_1d, tensors)


def atleast_2d(*tensors):
    return _each(_atleast_2d, tensors)


def _atleast_1d(t):
    return reshape(t, (1,)) if t._data.ndim == 0 else t


def _atleast_2d(t):
    nd = t._data.ndim
    if nd == 0:
        return reshape(t, (1, 1))
    if nd == 1:
        return unsqueeze(t, 0)
    return t


def _slice_dim(input, d, start, stop):
    from .index import getitem

    idx = (slice(None),) * d + (slice(start, stop),)
    return getitem(input, idx, "SliceBackward0")


def narrow(input, dim, start, length):
    if input._data.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if isinstance(start, Tensor):
        start = int(start.item())
    if start < 0:
        start += size
    if start < 0 or start + length > size or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return _slice_dim(input, d, start, start + length)


def split(tensor, split_size_or_sections, dim=0):
    if tensor._data.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = _wrap_dim(dim, tensor._data.ndim)
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s < 0 or (s == 0 and n > 0):
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        bounds = list(range(0, n, s)) if s and n else [0]
        sizes = [builtins.min(s, n - b) for b in bounds]
        op = Split
    else:
        sizes = [int(v) for v in split_size_or_sections]
        if builtins.sum(sizes) != n or builtins.any(v < 0 for v in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
        op = _SPLIT_WITH_SIZES
    outs = op.apply(tensor, d, tuple(sizes))
    pre = (slice(None),) * d
    start = 0
    for o, k in zip(outs, sizes):
        as_view(o, tensor, _getitem_fn(pre + (slice(start, start + k),)))
        start += k
    return outs


def _getitem_fn(idx):
    return lambda a: a[idx]


def tensor_split(input, indices_or_sections, dim=0):
    d = _wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
        return split(input, sizes, d)
    idx = [0] + list(indices_or_sections) + [n]
    return tuple(_slice_dim(input, d, builtins.min(a, n), builtins.min(b, n))
                 for a, b in zip(idx[:-1], idx[1:]))


def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = _wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if n == 0:  # torch gives `chunks` empty pieces
        return split(input, [0] * chunks, d)
    return split(input, -(-n // chunks), d)


def unbind(input, dim=0):
    nd = input._data.ndim
    if nd == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = _wrap_dim(dim, nd)
    outs = Unbind.apply(input, d)
    pre = (slice(None),) * d
    for i, o in enumerate(outs):
        as_view(o, input, _getitem_fn(pre + (i,)))
    return outs


def flip(input, dims):
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    nd = input._data.ndim
    return Flip.apply(input, tuple(_wrap_dim(d, nd) for d in dims))


def fliplr(input):
    return flip(input, (1,))


def flipud(input):
    return flip(input, (0,))


def roll(input, shifts, dims=None):
    if dims is not None and input._data.ndim == 0:
        d = dims if isinstance(dims, int) else dims[0]
        raise IndexError(f"Dimension specified as {d} but tensor has no dimensions")
    if dims is None:
        if not isinstance(shifts, int):
            if len(shifts) != 1:
                raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                                   f"dims:0")
            shifts = shifts[0]
        return Roll.apply(input, int(shifts), None)  # NumPy rolls the flattened array
    return Roll.apply(input, shifts if isinstance(shifts, int) else tuple(shifts),
                      dims if isinstance(dims, int) else tuple(dims))


def repeat(input, *sizes):
    sizes = _size_arg(sizes)
    if len(sizes) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    return Tile.apply(input, sizes)


def tile(input, dims):
    dims = (int(dims),) if hasattr(dims, "__index__") else tuple(dims)
    if len(dims) < input._data.ndim:
        dims = (1,) * (input._data.ndim - len(dims)) + dims
    return Tile.apply(input, dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """``output_size`` (the result's length along dim) is only a hint in torch: unused here.
    With ``repeats`` omitted, ``input`` holds the repeats of 0, 1, 2, ... (torch's overload)."""
    from .index import index_select

    xp = backend(input._device).xp
    if repeats is None:
        ar = _make(xp.arange(input._data.shape[0], dtype=xp.int64), input._device)
        return repeat_interleave(ar, input, 0)
    if dim is None:
        input = flatten(input)
        dim = 0
    d = _wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    reps = repeats._data if isinstance(repeats, Tensor) else repeats
    idx = xp.repeat(xp.arange(n), reps)
    return index_select(input, d, _make(idx.astype(xp.int64), input._device))


def pad_widths(ndim, pad):
    """torch's pad tuple (last dim first, (before, after) pairs) -> per-dim widths."""
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{ndim}")
    widths = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        widths[ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return widths


def constant_pad(input, pad, value=0.0):
    widths = pad_widths(input._data.ndim, pad)
    shape = input._data.shape
    for axis, (lo, hi) in enumerate(widths):
        # torch crops first (narrow), so the cropped length itself must not go negative
        if shape[axis] + builtins.min(lo, 0) + builtins.min(hi, 0) < 0:
            raise RuntimeError(f"narrow(): length must be non-negative. (constant padding "
                               f"({lo}, {hi}) crops more than the {shape[axis]} elements of "
                               f"dimension {axis} of input {list(shape)})")
    return ConstantPad.apply(input, tuple(widths), value)


def contiguous(input, memory_format=None):
    if input._data.flags.c_contiguous:
        return input
    from .index import Clone

    return Clone.apply(input)


_P = inspect.Parameter


def _intlist_method(fn, kw, name, dropped=None):
    """``Tensor.<name>`` for an op whose one int-list argument torch also takes as varargs
    (``x.view(2, 3)``, ``x.view((2, 3))``, ``x.view(size=(2, 3))``); ``fn(input, value)`` is
    the op. ``dropped``: keyword-only arguments torch has that do not change the result here
    (``expand``'s tracing flag ``implicit``), accepted and ignored."""
    dropped = dropped or {}

    def method(self, *args, **kwargs):
        if kw in kwargs:
            if args:
                raise TypeError(f"{name}() got multiple values for argument '{kw}'")
            args = (kwargs.pop(kw),)
        for k in dropped:
            kwargs.pop(k, None)
        if kwargs:
            raise TypeError(f"{name}() got an unexpected keyword argument "
                            f"'{next(iter(kwargs))}'")
        return fn(self, args[0] if len(args) == 1 else args)

    method.__name__ = name
    method.__signature__ = inspect.Signature(
        [_P("self", _P.POSITIONAL_OR_KEYWORD), _P("args", _P.VAR_POSITIONAL),
         _P(kw, _P.KEYWORD_ONLY, default=None)] +
        [_P(k, _P.KEYWORD_ONLY, default=v) for k, v in dropped.items()])
    return method


def _split_method(self, split_size, dim=0):
    """Tensor.split: torch names the argument split_size (torch.split: split_size_or_sections)."""
    return split(self, split_size, dim)


# the public names of this module's ops (ops/_registry.py): torch.X and Tensor.X unless marked
for _fn in (flatten, unflatten, squeeze, unsqueeze, transpose, swapaxes, t, movedim, narrow,
            tensor_split, chunk, unbind, fliplr, flipud, roll, repeat_interleave):
    register(_fn)
register(transpose, "swapdims")
register(movedim, "moveaxis")
register(split, method=_split_method)
# Tensor methods that also take the sizes unpacked (x.reshape(2, 3))
for _fn, _kw in ((reshape, "shape"), (permute, "dims"), (broadcast_to, "size"), (flip, "dims"),
                 (tile, "dims")):
    register(_fn, method=_intlist_method(_fn, _kw, _fn.__name__))
register(view, function=False, method=_intlist_method(view, "size", "view"))
register(expand, function=False,
         method=_intlist_method(expand, "size", "expand", {"implicit": False}))
register(repeat, function=False, method=_intlist_method(repeat, "repeats", "repeat"))
for _fn in (view_as, reshape_as, expand_as, contiguous):  # methods only, as in torch
    register(_fn, function=False)
for _fn in (cat, concat, concatenate, stack, hstack, vstack, atleast_1d, atleast_2d,
            broadcast_tensors, broadcast_shapes):  # functions only
    register(_fn, method=False)
