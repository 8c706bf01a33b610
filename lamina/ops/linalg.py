"""Matrix products: matmul (@), mm, bmm, mv, dot, outer, einsum, and the fused linear."""

from __future__ import annotations

import math

import numpy as _np

from .. import _dtype as D
from .._backends import _workspace as _ws
from .._tensor import Tensor, _make
from ..autograd.grad_mode import STATE
from ._op import Op, sum_to_shape
from ._registry import register


def _swap(a):
    return a.swapaxes(-1, -2)


class MatMul(Op):
    """torch.matmul with its 1-D promotion and batch broadcasting.

    The subclasses below only rename the node after the kernel torch dispatches to
    (``mm``, ``dot``, ``mv``, ...), so ``grad_fn`` prints as in torch.
    """

    node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.saved = (a, b)  # save_for_backward(a, b) without the call (2x2 @ is ~1.5 us)
        if a.ndim == 2 and b.ndim == 2:
            return a.dot(b)  # the same GEMM as @, with less dispatch overhead
        return a @ b

    @staticmethod
    def unrecorded(a, b):  # forward without a node (Op.unrecorded)
        if a.ndim == 2 and b.ndim == 2:
            return a.dot(b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        n = ctx.needs_input_grad
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:
            return (g * b if n[0] else None), (g * a if n[1] else None)
        if a.ndim == 1:  # (k) @ (..., k, m) -> (..., m)
            if n[0]:
                ga = sum_to_shape((b @ g[..., None])[..., 0], a.shape)
            if n[1]:
                gb = sum_to_shape(a[:, None] * g[..., None, :], b.shape)
            return ga, gb
        if b.ndim == 1:  # (..., n, k) @ (k) -> (..., n)
            if n[0]:
                ga = g[..., None] * b
            if n[1]:
                if a.ndim == 2:
                    gb = g @ a
                else:
                    k = a.shape[-1]
                    gb = g.reshape(-1) @ a.reshape(-1, k)
            return ga, gb
        if a.ndim == 2 and b.ndim == 2:  # mm: plain GEMMs (.dot dispatches faster than @)
            return (g.dot(b.T) if n[0] else None), (a.T.dot(g) if n[1] else None)
        if n[0]:
            if b.ndim == 2 and g.ndim > 2:
                # fold the batch into rows: one big GEMM instead of a batched one
                ga = (g.reshape(-1, g.shape[-1]) @ b.T).reshape(g.shape[:-1] + (b.shape[0],))
            else:
                ga = g @ _swap(b)
            if ga.shape != a.shape:
                ga = sum_to_shape(ga, a.shape)
        if n[1]:
            if a.ndim > 2 and b.ndim == 2:
                k = a.shape[-1]
                gb = a.reshape(-1, k).T @ g.reshape(-1, g.shape[-1])
            else:
                gb = _swap(a) @ g
                if gb.shape != b.shape:
                    gb = sum_to_shape(gb, b.shape)
        return ga, gb


class Dot(MatMul):
    node_name = "DotBackward0"


class Mv(MatMul):
    node_name = "MvBackward0"


class VecMat(MatMul):
    node_name = "SqueezeBackward4"


class Bmm(MatMul):
    node_name = "BmmBackward0"


class BatchedMatMul(MatMul):
    node_name = "UnsafeViewBackward0"


def dot_arrays(a, b):
    """``a.dot(b)`` for a matrix product; a large result of one dtype is written into a
    recycled array (``_backends._workspace.result``: no fresh pages to fault in)."""
    if a.ndim == 2 and b.ndim == 2 and a.dtype is b.dtype:
        m, n = a.shape[0], b.shape[1]
        if m * n * a.itemsize >= _ws.RESULT_MIN_BYTES and a.__class__ is _np.ndarray:
            return a.dot(b, out=_ws.result(_np, (m, n), a.dtype))
    return a.dot(b)


def matmul_arrays(a, b, temporary=False):
    """``a @ b`` for arrays of at least 2-D; a large result goes to a recycled array
    (``_ws.result``) or, with ``temporary``, to a work buffer (``_ws.empty``, never returned)."""
    if a.dtype is b.dtype and a.__class__ is _np.ndarray and b.__class__ is _np.ndarray:
        shape = _np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1])
        if math.prod(shape) * a.itemsize >= _ws.RESULT_MIN_BYTES:
            return _np.matmul(a, b, out=(_ws.empty if temporary else _ws.result)(
                _np, shape, a.dtype))
    return a @ b


def linear_arrays(x, w, b):
    """x @ w^T + b on backend arrays: the math of the fused linear, shared by its op and by
    nn.Linear's no-grad shortcut (which skips building a node)."""
    if x.ndim > 2:
        # one GEMM over all rows (NumPy would loop over the batch)
        out = dot_arrays(x.reshape(-1, x.shape[-1]), w.T).reshape(x.shape[:-1] + (w.shape[0],))
    else:
        # .dot: the same BLAS call as @ for 1-D / 2-D operands, with less dispatch overhead
        out = dot_arrays(x, w.T)
    if b is not None:
        out += b
    return out


class Linear(Op):
    """y = x @ W^T + b, one node (torch's addmm for 2-D input)."""

    node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        ctx.has_b = b is not None
        return linear_arrays(x, w, b)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved
        n = ctx.needs_input_grad
        gx = gw = gb = None
        if x.ndim > 2:
            g2 = g.reshape(-1, g.shape[-1])
            x2 = x.reshape(-1, x.shape[-1])
        else:
            g2, x2 = g, x
        if n[0]:
            gx = dot_arrays(g2, w)
            if x.ndim > 2:
                gx = gx.reshape(x.shape)
        if n[1]:
            gw = dot_arrays(g2.T, x2) if x.ndim > 1 else ctx.xp.outer(g2, x2)
        if n[2]:
            gb = g2.sum(axis=0) if g2.ndim > 1 else g2
        return gx, gw, gb


# the same node under the name of the last node torch's linear makes: without a bias, mm for
# 2-D input, else matmul's squeeze (1-D) or unsafe view (N-D); with one, addmm for 2-D input,
# else a contiguous input is flattened to 2-D and viewed back, and another gets matmul + add
_LINEAR_MM = Linear.named("MmBackward0")
_LINEAR_SQUEEZE = Linear.named("SqueezeBackward4")
_LINEAR_UNSAFE_VIEW = Linear.named("UnsafeViewBackward0")
_LINEAR_VIEW = Linear.named("ViewBackward0")
_LINEAR_ADD = Linear.named("AddBackward0")


def _dims_str(shape):
    return "x".join(map(str, shape))


def _check_tensors(name, *ts):
    for t in ts:
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): argument 'other' must be Tensor, not {type(t).__name__}")


def matmul(input, other):
    """Matrix product with torch.matmul's rules for 1-D and batched operands."""
    if input.__class__ is not Tensor or other.__class__ is not Tensor:
        _check_tensors("matmul", input, other)
    a, b = input._data, other._data
    na, nb = a.ndim, b.ndim
    if na == 2 and nb == 2 and a.dtype is b.dtype and a.shape[1] == b.shape[0]:
        # the common case, checked first; without a node (no input requires grad, or grad mode
        # is off) the product is the whole op: Op.apply2's unrecorded path, inline
        dev = input._device
        if other._device is dev and not (
                (input._requires_grad or other._requires_grad) and STATE.enabled):
            return _make(a.dot(b), dev)
        return MatMul.apply2(input, other)
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{na}D and {nb}D")
    da, db = a.dtype, b.dtype
    if na == 1 and nb == 1:
        if a.shape[0] != b.shape[0]:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                               f"[{b.shape[0]}] to have the same number of elements, but got "
                               f"{a.shape[0]} and {b.shape[0]} elements respectively")
        if da != db:
            raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                               f"{D.scalar_name(da)} and {D.scalar_name(db)}")
        return Dot.apply(input, other)
    if nb == 1:
        if a.shape[-1] != b.shape[0]:
            if na == 2:
                raise RuntimeError(f"size mismatch, got input ({a.shape[0]}), mat "
                                   f"({_dims_str(a.shape)}), vec ({b.shape[0]})")
            rows = a.size // a.shape[-1] if a.shape[-1] else 0
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                               f"({rows}x{a.shape[-1]} and {b.shape[0]}x1)")
        if da != db:
            raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                               f"{D.scalar_name(db)}, {D.scalar_name(da)}, and "
                               f"{D.scalar_name(db)}")
        return (Mv if na == 2 else BatchedMatMul).apply(input, other)
    k = b.shape[-2]
    if a.shape[-1] != k:
        rows = 1 if na == 1 else (a.size // a.shape[-1] if a.shape[-1] else a.shape[-2])
        if na > 2 and nb > 2:
            rows = a.shape[-2]
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{a.shape[-1]} and "
                           f"{k}x{b.shape[-1]})")
    if da != db:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{D._FROM_NP[da].c_name} != {D._FROM_NP[db].c_name}")
    if na > 2 or nb > 2:
        _check_batch(a.shape[:-2], b.shape[:-2])
        return BatchedMatMul.apply(input, other)
    if na == 1:
        return VecMat.apply(input, other)
    return MatMul.apply(input, other)


def _matmul_recorded(input, other):
    """``matmul`` without its inline unrecorded shortcut: every product goes through
    ``MatMul.apply2``/``apply``, which ``lamina.compile`` records (it swaps this in for
    ``Tensor.__matmul__`` while tracing)."""
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        a, b = input._data, other._data
        if a.ndim == 2 and b.ndim == 2 and a.dtype is b.dtype and a.shape[1] == b.shape[0]:
            return MatMul.apply2(input, other)
    return matmul(input, other)


matmul._fallback = _matmul_recorded


def _check_batch(sa, sb):
    la, lb = len(sa), len(sb)
    n = max(la, lb)
    pa = (1,) * (n - la) + tuple(sa)
    pb = (1,) * (n - lb) + tuple(sb)
    for i, (x, y) in enumerate(zip(pa, pb)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) "
                               f"at non-singleton dimension {i}")


def mm(input, mat2):
    _check_tensors("mm", input, mat2)
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    return matmul(input, mat2)


def bmm(input, mat2):
    _check_tensors("bmm", input, mat2)
    if input._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    sa, sb = input._data.shape, mat2._data.shape
    if sa[0] != sb[0] or sa[2] != sb[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{sa[0]}, {sa[2]}] but got: [{sb[0]}, {sb[1]}].")
    if input._data.dtype != mat2._data.dtype:
        raise RuntimeError(f"expected scalar type {D.scalar_name(input._data.dtype)} but found "
                           f"{D.scalar_name(mat2._data.dtype)}")
    return Bmm.apply(input, mat2)


def mv(input, vec):
    _check_tensors("mv", input, vec)
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input._data.ndim}, "
                           f"{vec._data.ndim}")
    return matmul(input, vec)


def dot(input, tensor):
    _check_tensors("dot", input, tensor)
    if input._data.ndim != 1 or tensor._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and "
                           f"{tensor._data.ndim}D tensors")
    return matmul(input, tensor)


def inner(input, other):
    return dot(input, other)


def vdot(input, other):
    return dot(input, other)


def outer(input, vec2):
    if input._data.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input._data.ndim}-D")
    if vec2._data.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument vec2, but got {vec2._data.ndim}-D")
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    out = mm(mat1, mat2)
    if alpha != 1:
        out = out * alpha
    return out + (input if beta == 1 else input * beta)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    out = bmm(batch1, batch2)
    if alpha != 1:
        out = out * alpha
    return out + (input if beta == 1 else input * beta)


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias (one autograd node)."""
    try:
        x = input._data
    except AttributeError:
        raise input_type_error(input) from None
    w = weight._data
    if w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[1]:
        if w.ndim == 2 and x.ndim:
            rows = x.size // x.shape[-1] if x.shape[-1] else 0
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                               f"({rows if x.ndim > 1 else 1}x{x.shape[-1]} and "
                               f"{w.shape[1]}x{w.shape[0]})")
        raise RuntimeError(f"linear(): expected a 2-D weight and an input of at least 1 dim, "
                           f"got weight {tuple(w.shape)} and input {tuple(x.shape)}")
    return linear_checked(input, x, weight, w, bias)


def input_type_error(input):
    """torch's error for a linear input that is not a Tensor."""
    return TypeError(f"linear(): argument 'input' (position 1) must be Tensor, not "
                     f"{type(input).__name__}")


def linear_checked(input, x, weight, w, bias):
    """linear once the shapes are known to fit (x is input's array, w weight's): the one path
    of F.linear and nn.Linear, which checks shapes itself to name the layer in its error."""
    dt = x.dtype
    if dt is not w.dtype and dt != w.dtype:
        raise _dtype_error(x, w)
    if bias is None:
        if STATE.enabled and (input._requires_grad or weight._requires_grad):
            nd = x.ndim
            op = _LINEAR_MM if nd == 2 else _LINEAR_SQUEEZE if nd == 1 else _LINEAR_UNSAFE_VIEW
            return op.apply(input, weight, None)
        b = None
    else:
        b = bias._data
        if b.dtype is not dt and b.dtype != dt:
            raise _dtype_error(x, w)
        if STATE.enabled and (input._requires_grad or weight._requires_grad or bias._requires_grad):
            if x.ndim == 2:
                return Linear.apply(input, weight, bias)
            op = _LINEAR_VIEW if x.flags.c_contiguous else _LINEAR_ADD
            return op.apply(input, weight, bias)
    # nothing to record (no_grad, inference, frozen layers): the math without a node
    dev = input._device
    if weight._device is not dev or (bias is not None and bias._device is not dev):
        return Linear.apply(input, weight, bias)  # raises the op's mixed-devices error
    return _make(linear_arrays(x, w, b), dev)


def _dtype_error(x, w):
    return RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                        f"{D.scalar_name(x.dtype)} and {D.scalar_name(w.dtype)}")


# ---------------------------------------------------------------------- einsum
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class Einsum(Op):
    """einsum on an explicit equation (no '...', every operand broadcast to full sizes)."""

    @staticmethod
    def forward(ctx, eq, *ops):
        ctx.eq = eq
        ctx.save_for_backward(*ops)
        return ctx.xp.einsum(eq, *ops, optimize=len(ops) > 1)

    @staticmethod
    def backward(ctx, g):
        ops = ctx.saved
        ins, out = ctx.eq.split("->")
        subs = ins.split(",")
        xp = ctx.xp
        sizes = {}
        for s, o in zip(subs, ops):
            for c, n in zip(s, o.shape):
                sizes[c] = max(sizes.get(c, 1), n)
        grads = [None]
        for i, s in enumerate(subs):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            grads.append(_einsum_grad(xp, g, out, subs, ops, i, sizes))
        return tuple(grads)


def _einsum_grad(xp, g, out, subs, ops, i, sizes):
    """d(sum(g * einsum(...)))/d(operand i), repeated letters (diagonals) included."""
    s = subs[i]
    used = set("".join(subs) + out)
    fresh = iter(c for c in _LETTERS if c not in used)
    # rename repeated letters of operand i; an identity matrix ties each copy to the first
    target = []
    eyes = []
    seen = set()
    for c in s:
        if c in seen:
            d = next(fresh)
            target.append(d)
            eyes.append((c + d, xp.eye(sizes[c], dtype=g.dtype)))
        else:
            seen.add(c)
            target.append(c)
    terms = [out] + [t for j, t in enumerate(subs) if j != i] + [e for e, _ in eyes]
    arrays = [g] + [o for j, o in enumerate(ops) if j != i] + [a for _, a in eyes]
    avail = set("".join(terms))
    # letters only operand i has were summed away: their gradient is a broadcast
    present = "".join(c for c in target if c in avail)
    r = xp.einsum(",".join(terms) + "->" + present, *arrays, optimize=len(arrays) > 2)
    if len(present) != len(target):
        shape = [sizes[c] if c in avail else 1 for c in target]
        r = xp.broadcast_to(r.reshape(shape), tuple(sizes[c] if c in avail else
                                                    ops[i].shape[k]
                                                    for k, c in enumerate(target)))
    # dims of size 1 that were broadcast against a larger size sum back
    shp = ops[i].shape
    if r.shape != shp:
        axes = tuple(k for k, (a, b) in enumerate(zip(r.shape, shp)) if a != b)
        r = r.sum(axis=axes, keepdims=True)
    return xp.ascontiguousarray(r)


def _parse_einsum(equation, shapes):
    """Expand '...' and the implicit output; returns (explicit equation, per-letter size)."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->")
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation" if len(shapes) > len(terms) else
                           "einsum(): fewer operands were provided than specified in the "
                           "equation")
    for t in terms + ([rhs] if rhs is not None else []):
        bad = [c for c in t.replace("...", "") if c not in _LETTERS]
        if bad:
            raise RuntimeError(f"einsum(): invalid subscript given at index "
                               f"{eq.index(bad[0])} in the equation string, subscripts must "
                               f"be in [a-zA-Z]")
    used = set(lhs + (rhs or ""))
    fresh = [c for c in _LETTERS if c not in used]
    n_ell = 0
    for t, shp in zip(terms, shapes):
        if "..." in t:
            n_ell = max(n_ell, len(shp) - (len(t) - 3))
    ell = "".join(fresh[:n_ell])
    out_terms = []
    for k, (t, shp) in enumerate(zip(terms, shapes)):
        if "..." in t:
            m = len(shp) - (len(t) - 3)
            if m < 0:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({len(t) - 3}) is more than the number of dimensions "
                                   f"({len(shp)}) for operand {k}")
            t = t.replace("...", ell[n_ell - m:] if m else "")
        elif len(t) != len(shp):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(t)}) "
                               f"does not match the number of dimensions ({len(shp)}) for "
                               f"operand {k} and no ellipsis was given")
        out_terms.append(t)
    sizes: dict = {}
    for k, (t, shp) in enumerate(zip(out_terms, shapes)):
        for c, n in zip(t, shp):
            prev = sizes.get(c)
            if prev is None or prev == 1:
                sizes[c] = n
            elif n != 1 and n != prev:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which "
                                   f"does not broadcast with previously seen size {prev}")
    if rhs is None:
        counts: dict = {}
        for t in terms:
            for c in t.replace("...", ""):
                counts[c] = counts.get(c, 0) + 1
        rhs = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    else:
        rhs = rhs.replace("...", ell)
        for c in rhs:
            if rhs.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in "
                                   f"the output")
            if c not in sizes:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   f"equation for any input operand")
    return ",".join(out_terms) + "->" + rhs, out_terms, sizes


def einsum(equation, *operands):
    """torch.einsum: explicit or implicit output, '...', broadcasting of size-1 dims."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    _check_tensors("einsum", *operands)
    eq, terms, sizes = _parse_einsum(equation, [t._data.shape for t in operands])
    from .promotion import _prep
    from .shape import expand

    ops = list(operands)
    if len({t._data.dtype for t in ops}) > 1:
        base = ops[0]
        for t in ops[1:]:
            base, _ = _prep(base, t)
        ops = [t.to(base.dtype) for t in ops]
    for k, (t, term) in enumerate(zip(ops, terms)):
        full = tuple(sizes[c] for c in term)
        if full != t._data.shape:
            # NumPy's einsum broadcasts only '...': expand size-1 dims of named labels
            ops[k] = expand(t, full)
    return Einsum.apply(eq, *ops)


# the public names of this module's ops (ops/_registry.py): torch.X and Tensor.X unless marked
for _fn in (matmul, mm, bmm, mv, dot, inner, outer, vdot):
    register(_fn)
register(outer, "ger")
register(addmm, inplace=True)
register(baddbmm, inplace=True)
register(einsum, method=False)
register(linear, method=False, functional=True)
