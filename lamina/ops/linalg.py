"""Matrix products: matmul (@), mm, bmm, mv, dot, outer, einsum, and the fused linear."""

from __future__ import annotations

from .._tensor import Tensor
from ._op import Op, sum_to_shape


def _swap(a):
    return a.swapaxes(-1, -2)


class MatMul(Op):
    """torch.matmul with its 1-D promotion and batch broadcasting."""

    node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved
        n = ctx.needs_input_grad
        xp = ctx.xp
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
                gb = sum_to_shape((_swap(a) @ g[..., None])[..., 0], b.shape)
            return ga, gb
        if n[0]:
            ga = g @ _swap(b)
            if ga.shape != a.shape:
                ga = sum_to_shape(ga, a.shape)
        if n[1]:
            if a.ndim > 2 and b.ndim == 2:
                # fold the batch into rows: one big GEMM instead of a batched one
                k = a.shape[-1]
                gb = a.reshape(-1, k).T @ g.reshape(-1, g.shape[-1])
            else:
                gb = _swap(a) @ g
                if gb.shape != b.shape:
                    gb = sum_to_shape(gb, b.shape)
        del xp
        return ga, gb


class Linear(Op):
    """y = x @ W^T + b, one node (torch's addmm)."""

    node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        out = x @ w.T
        if b is not None:
            out += b
        ctx.has_b = b is not None
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved
        n = ctx.needs_input_grad
        gx = gw = gb = None
        if n[0]:
            gx = g @ w
        if x.ndim > 2:
            g2 = g.reshape(-1, g.shape[-1])
            x2 = x.reshape(-1, x.shape[-1])
        else:
            g2, x2 = g, x
        if n[1]:
            gw = g2.T @ x2 if x.ndim > 1 else ctx.xp.outer(g2, x2)
        if n[2]:
            gb = g2.sum(axis=0) if g2.ndim > 1 else g2
        return gx, gw, gb


def _check_mm(name, a, b, need_a, need_b):
    if a._data.ndim != need_a:
        raise RuntimeError(f"{name}: expected {need_a}-D tensor for argument 'input', "
                           f"got a {a._data.ndim}-D tensor of shape {tuple(a.shape)}")
    if b._data.ndim != need_b:
        raise RuntimeError(f"{name}: expected {need_b}-D tensor for argument 'mat2', "
                           f"got a {b._data.ndim}-D tensor of shape {tuple(b.shape)}")


def _dtype_check(a, b, name):
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{a.dtype.name} != {b.dtype.name} (in {name})")


def matmul(input, other):
    """Matrix product with torch.matmul's rules for 1-D and batched operands."""
    if not isinstance(other, Tensor) or not isinstance(input, Tensor):
        raise TypeError(f"matmul(): argument 'other' must be Tensor, not "
                        f"{type(other).__name__ if isinstance(input, Tensor) else type(input).__name__}")
    a, b = input._data, other._data
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        sa = "x".join(map(str, a.shape if a.ndim > 1 else (1,) + a.shape))
        sb = "x".join(map(str, b.shape if b.ndim > 1 else b.shape + (1,)))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa} and {sb})")
    _dtype_check(input, other, "matmul")
    return MatMul.apply(input, other)


def mm(input, mat2):
    _check_mm("mm", input, mat2, 2, 2)
    return matmul(input, mat2)


def bmm(input, mat2):
    _check_mm("bmm", input, mat2, 3, 3)
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: {input.shape[0]} and {mat2.shape[0]}")
    return matmul(input, mat2)


def mv(input, vec):
    _check_mm("mv", input, vec, 2, 1)
    return matmul(input, vec)


def dot(input, other):
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and "
                           f"{other._data.ndim}D tensors")
    return matmul(input, other)


inner = dot
vdot = dot


def outer(input, vec2):
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
    return Linear.apply(input, weight, bias)


class Einsum(Op):
    @staticmethod
    def forward(ctx, eq, *ops):
        ctx.eq = eq
        ctx.save_for_backward(*ops)
        return ctx.xp.einsum(eq, *ops, optimize=len(ops) > 2)

    @staticmethod
    def backward(ctx, g):
        ops = ctx.saved
        ins, out = ctx.eq.split("->")
        subs = ins.split(",")
        xp = ctx.xp
        grads = [None]
        for i, s in enumerate(subs):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            others = [o for j, o in enumerate(ops) if j != i]
            osubs = [t for j, t in enumerate(subs) if j != i]
            # letters of s that appear nowhere else were summed away: restore by broadcasting
            present = set(out).union(*osubs) if osubs else set(out)
            keep = "".join(c for c in s if c in present)
            uniq = "".join(dict.fromkeys(keep))
            gi = xp.einsum(",".join([out] + osubs) + "->" + uniq, g, *others)
            # map to the full subscript of input i (repeated letters = diagonal)
            shape = ops[i].shape
            full = xp.zeros(shape, g.dtype)
            if len(set(s)) == len(s):
                src = uniq
                idx = [src.index(c) if c in src else None for c in s]
                view = gi
                exp = [slice(None) if c in src else None for c in s]
                order = [src.index(c) for c in s if c in src]
                view = xp.transpose(gi, order)[tuple(exp)]
                full = full + xp.broadcast_to(view, shape)
                del idx
            else:
                raise RuntimeError("einsum backward with repeated indices in one operand is not "
                                   "supported by lamina")
            grads.append(full)
        return tuple(grads)


def _normalize_eq(eq, ops):
    eq = eq.replace(" ", "")
    if "->" in eq:
        return eq
    ins = eq.split(",")
    counts = {}
    for s in ins:
        for c in s:
            counts[c] = counts.get(c, 0) + 1
    out = "".join(sorted(c for c, k in counts.items() if k == 1 and c != "."))
    return eq + "->" + out


def einsum(equation, *operands):
    """torch.einsum (explicit or implicit output; no ellipsis in backward)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = _normalize_eq(equation, operands)
    if "..." in eq:
        raise RuntimeError("lamina's einsum does not support '...' yet; spell out the dims")
    return Einsum.apply(eq, *operands)


TENSOR_METHODS = {
    "matmul": matmul, "mm": mm, "bmm": bmm, "mv": mv, "dot": dot, "inner": inner,
    "outer": outer, "ger": ger, "addmm": addmm, "baddbmm": baddbmm, "vdot": vdot,
}

FUNCTIONS = list(TENSOR_METHODS) + ["einsum", "linear"]
__all__ = list(FUNCTIONS)
