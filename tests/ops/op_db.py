"""The op catalogue: every differentiable op with sample shapes and its torch counterpart.

Each entry's ``fn(m, *tensors)`` is written once against the torch API and runs with
``m = lamina`` and with ``m = torch`` (``torch_fn`` overrides the torch side where the APIs
differ). ``samples`` lists the shapes of the tensor inputs, always including ``()`` where the
op accepts it and a broadcasting pair for binary ops. Non-tensor arguments (dims, index
tensors, scalars) are literals inside ``fn`` so both libraries see the same values.

Two parametrized tests iterate the catalogue (tests/ops/test_op_db.py): a float64
finite-difference gradient check and a float32 parity check against torch (forward and every
input's gradient).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class OpInfo:
    """One op of the catalogue.

    Attributes:
        name: test id (op name plus variant).
        fn: ``fn(m, *tensors)`` with ``m`` the lamina or torch module.
        samples: shapes of the tensor inputs, one tuple of shapes per sample.
        domain: value range of the inputs: ``real`` (|x| in [0.25, 2], random sign),
            ``positive`` ([0.25, 2]), ``zeros`` (real with some exact zeros), ``small``
            ([-0.9, 0.9]).
        torch_fn: the torch side when it cannot be spelled like lamina's.
        grad: which inputs require grad (default: all).
        gradcheck: run the finite-difference check.
        atol, rtol: parity tolerances (float32).
    """

    name: str
    fn: Callable
    samples: list
    domain: str = "real"
    torch_fn: Callable | None = None
    grad: tuple | None = None
    gradcheck: bool = True
    atol: float = 1e-5
    rtol: float = 1.3e-5
    extra: dict = field(default_factory=dict)


def make_inputs(shapes, domain, dtype, seed):
    """NumPy inputs for one sample (deterministic in ``seed``)."""
    rng = np.random.RandomState(seed)
    out = []
    for s in shapes:
        n = int(np.prod(s)) if len(s) else 1
        if domain == "positive":
            v = rng.uniform(0.25, 2.0, n)
        elif domain == "small":
            v = rng.uniform(-0.9, 0.9, n)
        else:
            v = rng.uniform(0.25, 2.0, n) * rng.choice([-1.0, 1.0], n)
            if domain == "zeros" and n > 1:
                v[rng.choice(n, max(1, n // 4), replace=False)] = 0.0
        out.append(v.reshape(s).astype(dtype))
    return out


BINARY = [((), ()), ((3, 4), (3, 4)), ((2, 1, 3), (4, 1)), ((3,), ()), ((), (2, 3))]
UNARY = [((),), ((5,),), ((2, 3),)]
SQUARE = [((),), ((3, 4),), ((2, 3, 4),)]


def _setitem_basic(m, x, v):
    y = x * 1.0
    y[1] = v
    return y


def _setitem_mask(m, x):
    y = x * 2.0
    y[y > 0] = 0.5
    return y


def _setitem_adv(m, x, v):
    y = x + 0.0
    y[m.tensor([0, 2]), 1:] = v
    return y


def _inplace_chain(m, x):
    y = x * 2
    y.add_(1)
    y.mul_(x)
    y[0] = 5
    return y


def _gt0(m, a):
    return a > 0


def _pad(m):
    """torch's F.pad (constant mode); lamina's op behind it is ops.shape.constant_pad."""
    if m.__name__ == "torch":
        return m.nn.functional.pad
    from lamina.ops.shape import constant_pad

    return lambda a, pad, value=0.0: constant_pad(a, pad, value)


def _linear(m):
    """lamina.linear is the fused op nn.functional.linear calls; torch spells it F.linear."""
    return m.nn.functional.linear if m.__name__ == "torch" else m.linear


OPS = [
    # ------------------------------------------------------------ arithmetic
    OpInfo("add", lambda m, a, b: a + b, BINARY),
    OpInfo("add_fn_alpha", lambda m, a, b: m.add(a, b, alpha=2.5), BINARY[:3]),
    OpInfo("add_scalar", lambda m, a: a + 2.5, UNARY),
    OpInfo("add_int_scalar", lambda m, a: a + 2, UNARY),
    OpInfo("radd_scalar", lambda m, a: 2.5 + a, UNARY),
    OpInfo("sub", lambda m, a, b: a - b, BINARY),
    OpInfo("sub_fn_alpha", lambda m, a, b: m.sub(a, b, alpha=-1.5), BINARY[:3]),
    OpInfo("sub_scalar", lambda m, a: a - 1.5, UNARY),
    OpInfo("rsub_scalar", lambda m, a: 1.5 - a, UNARY),
    OpInfo("rsub_fn", lambda m, a, b: m.rsub(a, b), BINARY[:3]),
    OpInfo("mul", lambda m, a, b: a * b, BINARY),
    OpInfo("mul_scalar", lambda m, a: a * 3.0, UNARY),
    OpInfo("rmul_scalar", lambda m, a: -2 * a, UNARY),
    OpInfo("mul_self", lambda m, a: a * a, UNARY),
    OpInfo("div", lambda m, a, b: a / b, BINARY),
    OpInfo("div_scalar", lambda m, a: a / 4.0, UNARY),
    OpInfo("rdiv_scalar", lambda m, a: 2.0 / a, UNARY),
    OpInfo("div_fn", lambda m, a, b: m.div(a, b), BINARY[:3]),
    OpInfo("neg", lambda m, a: -a, UNARY),
    OpInfo("neg_fn", lambda m, a: m.neg(a), UNARY),
    OpInfo("abs", lambda m, a: a.abs(), UNARY),
    OpInfo("abs_dunder", lambda m, a: abs(a), UNARY),
    OpInfo("exp", lambda m, a: a.exp(), UNARY),
    OpInfo("log", lambda m, a: m.log(a), UNARY, "positive"),
    OpInfo("log1p", lambda m, a: m.log1p(a), UNARY, "positive"),
    OpInfo("expm1", lambda m, a: m.expm1(a), UNARY),
    OpInfo("sqrt", lambda m, a: a.sqrt(), UNARY, "positive"),
    OpInfo("rsqrt", lambda m, a: m.rsqrt(a), UNARY, "positive"),
    OpInfo("pow_scalar2", lambda m, a: a ** 2, UNARY),
    OpInfo("pow_scalar3_int", lambda m, a: m.pow(a, 3), UNARY),
    OpInfo("pow_scalar_half", lambda m, a: a ** 0.5, UNARY, "positive"),
    OpInfo("pow_scalar_neg", lambda m, a: a.pow(-1.5), UNARY, "positive"),
    OpInfo("pow_scalar_zero", lambda m, a: a ** 0, UNARY),
    OpInfo("pow_tensor", lambda m, a, b: a ** b, BINARY, "positive"),
    OpInfo("rpow_scalar", lambda m, a: 2.0 ** a, UNARY),
    OpInfo("rpow_int", lambda m, a: 3 ** a, UNARY),
    OpInfo("sin", lambda m, a: m.sin(a), UNARY),
    OpInfo("cos", lambda m, a: a.cos(), UNARY),
    OpInfo("asin", lambda m, a: m.asin(a), UNARY, "small"),
    OpInfo("arccos", lambda m, a: m.arccos(a), UNARY, "small"),
    OpInfo("atan", lambda m, a: a.atan(), UNARY),
    OpInfo("sinh", lambda m, a: m.sinh(a), UNARY),
    OpInfo("cosh", lambda m, a: a.cosh(), UNARY),
    OpInfo("arcsinh", lambda m, a: a.arcsinh(), UNARY),
    OpInfo("acosh", lambda m, a: m.acosh(a + 1.5), UNARY, "positive"),
    OpInfo("atanh", lambda m, a: m.atanh(a), UNARY, "small"),
    OpInfo("tanh", lambda m, a: m.tanh(a), UNARY),
    OpInfo("sigmoid", lambda m, a: a.sigmoid(), UNARY),
    OpInfo("relu", lambda m, a: m.relu(a), UNARY),
    OpInfo("clamp", lambda m, a: m.clamp(a, -0.5, 1.0), UNARY),
    OpInfo("clamp_min", lambda m, a: a.clamp(min=0.5), UNARY),
    OpInfo("clamp_max", lambda m, a: a.clamp(max=-0.5), UNARY),
    OpInfo("clip", lambda m, a: m.clip(a, -1.0, 1.0), UNARY),
    OpInfo("clamp_tensor", lambda m, a, lo, hi: m.clamp(a, lo, hi),
           [((), (), ()), ((3, 4), (4,), (3, 1))]),
    OpInfo("clamp_tensor_min", lambda m, a, lo: m.clamp(a, min=lo), [((3, 4), (4,))]),
    OpInfo("clamp_tensor_max", lambda m, a, hi: a.clamp(max=hi), [((2, 3), ())]),
    OpInfo("where", lambda m, a, b: m.where(_gt0(m, a), a, b), BINARY),
    OpInfo("where_scalar", lambda m, a: m.where(a > 0, a, 0.5), UNARY),
    OpInfo("where_method", lambda m, a, b: a.where(b > 0, b), BINARY[:3]),
    OpInfo("maximum", lambda m, a, b: m.maximum(a, b), BINARY),
    OpInfo("minimum", lambda m, a, b: m.minimum(a, b), BINARY),
    OpInfo("max_binary", lambda m, a, b: m.max(a, b), BINARY[:3]),
    OpInfo("sign", lambda m, a: m.sign(a), UNARY),
    OpInfo("floor", lambda m, a: m.floor(a), UNARY),
    OpInfo("ceil", lambda m, a: a.ceil(), UNARY),
    OpInfo("round", lambda m, a: m.round(a), UNARY),
    OpInfo("round_decimals", lambda m, a: m.round(a, decimals=1), UNARY),
    OpInfo("lerp_scalar", lambda m, a, b: m.lerp(a, b, 0.3), BINARY),
    OpInfo("lerp_tensor", lambda m, a, b, w: a.lerp(b, w),
           [((), (), ()), ((3, 4), (4,), (3, 1))]),
    OpInfo("square", lambda m, a: m.square(a), UNARY),
    # ------------------------------------------------------------ reductions
    OpInfo("sum", lambda m, a: a.sum(), SQUARE),
    OpInfo("sum_dim", lambda m, a: m.sum(a, 1), [((3, 4),), ((2, 3, 4),)]),
    OpInfo("sum_negdim_keepdim", lambda m, a: a.sum(-1, keepdim=True), [((3, 4),), ((5,),)]),
    OpInfo("sum_dims", lambda m, a: a.sum((0, 2)), [((2, 3, 4),)]),
    OpInfo("sum_dim_0d", lambda m, a: a.sum(0), [((),)]),
    OpInfo("mean", lambda m, a: a.mean(), SQUARE),
    OpInfo("mean_dim", lambda m, a: m.mean(a, 0), [((3, 4),), ((2, 3, 4),)]),
    OpInfo("mean_dims_keepdim", lambda m, a: a.mean((-1, 0), keepdim=True), [((2, 3, 4),)]),
    OpInfo("prod", lambda m, a: a.prod(), SQUARE),
    OpInfo("prod_zeros", lambda m, a: a.prod(), [((3, 4),)], "zeros"),
    OpInfo("prod_dim", lambda m, a: m.prod(a, 1), [((3, 4),), ((2, 3, 4),)]),
    OpInfo("prod_dim_zeros", lambda m, a: a.prod(0, keepdim=True), [((4, 3),)], "zeros"),
    OpInfo("max_all", lambda m, a: a.max(), SQUARE),
    OpInfo("min_all", lambda m, a: m.min(a), SQUARE),
    OpInfo("max_dim", lambda m, a: m.max(a, 1), [((3, 4),), ((2, 3, 4),)]),
    OpInfo("max_dim_keepdim", lambda m, a: a.max(-1, keepdim=True), [((3, 4),)]),
    OpInfo("min_dim", lambda m, a: a.min(dim=0), [((3, 4),), ((5,),)]),
    OpInfo("max_dim_0d", lambda m, a: m.max(a, 0), [((),)]),
    OpInfo("amax", lambda m, a: m.amax(a, 1), [((3, 4),), ((2, 3, 4),)]),
    OpInfo("amax_dims", lambda m, a: a.amax((0, -1), keepdim=True), [((2, 3, 4),)]),
    OpInfo("amin", lambda m, a: a.amin(0), [((3, 4),)]),
    OpInfo("amax_all", lambda m, a: m.amax(a), SQUARE),
    OpInfo("var", lambda m, a: a.var(), [((5,),), ((3, 4),)]),
    OpInfo("var_dim", lambda m, a: m.var(a, 1, keepdim=True), [((3, 4),), ((2, 3, 4),)]),
    OpInfo("var_correction0", lambda m, a: m.var(a, dim=0, correction=0), [((3, 4),)]),
    OpInfo("var_unbiased_false", lambda m, a: a.var(unbiased=False), [((3, 4),)]),
    OpInfo("std", lambda m, a: a.std(), [((5,),), ((3, 4),)]),
    OpInfo("std_dim", lambda m, a: m.std(a, (0, 1)), [((2, 3, 4),)]),
    OpInfo("std_correction2", lambda m, a: a.std(-1, correction=2), [((3, 5),)]),
    OpInfo("norm", lambda m, a: a.norm(), SQUARE),
    OpInfo("norm_p1", lambda m, a: m.norm(a, p=1), [((3, 4),)]),
    OpInfo("norm_p3_dim", lambda m, a: a.norm(p=3, dim=1), [((3, 4),)]),
    OpInfo("norm_inf", lambda m, a: a.norm(p=float("inf")), [((3, 4),)]),
    OpInfo("norm_neginf_dim", lambda m, a: m.norm(a, float("-inf"), 0), [((3, 4),)]),
    OpInfo("norm_fro_keepdim", lambda m, a: m.norm(a, "fro", dim=(0, 1), keepdim=True),
           [((3, 4),)]),
    OpInfo("norm_2_dim", lambda m, a: a.norm(2, -1), [((2, 3, 4),)]),
    OpInfo("norm_0", lambda m, a: a.norm(0), [((3, 4),)]),
    OpInfo("logsumexp", lambda m, a: m.logsumexp(a, 1), [((3, 4),), ((2, 3, 4),)]),
    OpInfo("logsumexp_dims_keepdim", lambda m, a: a.logsumexp((0, 1), keepdim=True),
           [((2, 3, 4),)]),
    OpInfo("logsumexp_0d", lambda m, a: m.logsumexp(a, 0), [((),)]),
    OpInfo("cumsum", lambda m, a: m.cumsum(a, 0), [((5,),), ((3, 4),)]),
    OpInfo("cumsum_neg", lambda m, a: a.cumsum(-1), [((2, 3, 4),)]),
    OpInfo("cumsum_0d", lambda m, a: a.cumsum(0), [((),)]),
    # ------------------------------------------------------------ linear algebra
    OpInfo("matmul", lambda m, a, b: a @ b, [
        ((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((2, 2, 3), (3, 4)),
        ((2, 3), (2, 3, 4)), ((2, 2, 3), (2, 3, 4)), ((2, 1, 2, 3), (3, 3, 4)),
        ((3,), (2, 3, 4)), ((2, 2, 3), (3,)), ((1, 2, 3), (2, 3, 2))]),
    OpInfo("matmul_fn", lambda m, a, b: m.matmul(a, b), [((2, 3), (3, 4)), ((4, 2, 3), (3,))]),
    OpInfo("mm", lambda m, a, b: m.mm(a, b), [((2, 3), (3, 4))]),
    OpInfo("bmm", lambda m, a, b: a.bmm(b), [((2, 2, 3), (2, 3, 4))]),
    OpInfo("mv", lambda m, a, b: m.mv(a, b), [((2, 3), (3,))]),
    OpInfo("dot", lambda m, a, b: m.dot(a, b), [((3,), (3,))]),
    OpInfo("outer", lambda m, a, b: m.outer(a, b), [((3,), (4,))]),
    OpInfo("einsum_mm", lambda m, a, b: m.einsum("ij,jk->ik", a, b), [((2, 3), (3, 4))]),
    OpInfo("einsum_bmm", lambda m, a, b: m.einsum("bij,bjk->bik", a, b),
           [((2, 2, 3), (2, 3, 4))]),
    OpInfo("einsum_implicit", lambda m, a, b: m.einsum("ij,jk", a, b), [((2, 3), (3, 4))]),
    OpInfo("einsum_sum", lambda m, a: m.einsum("ij->", a), [((2, 3),)]),
    OpInfo("einsum_transpose", lambda m, a: m.einsum("ij->ji", a), [((2, 3),)]),
    OpInfo("einsum_outer", lambda m, a, b: m.einsum("i,j->ij", a, b), [((3,), (4,))]),
    OpInfo("einsum_diag", lambda m, a: m.einsum("ii->i", a), [((3, 3),)]),
    OpInfo("einsum_trace", lambda m, a: m.einsum("ii", a), [((3, 3),)]),
    OpInfo("einsum_ellipsis", lambda m, a, b: m.einsum("...ij,...jk->...ik", a, b),
           [((2, 2, 3), (2, 3, 4)), ((2, 3), (3, 4))]),
    OpInfo("einsum_three", lambda m, a, b, c: m.einsum("ij,jk,kl->il", a, b, c),
           [((2, 3), (3, 4), (4, 2))]),
    OpInfo("einsum_list", lambda m, a, b: m.einsum("bi,bi->b", [a, b]), [((2, 3), (2, 3))]),
    OpInfo("einsum_broadcast_dim", lambda m, a, b: m.einsum("ij,ij->i", a, b),
           [((2, 3), (1, 3))]),
    OpInfo("linear", lambda m, x, w, b: _linear(m)(x, w, b),
           [((2, 3), (4, 3), (4,)), ((3,), (4, 3), (4,)), ((2, 2, 3), (4, 3), (4,))]),
    OpInfo("linear_nobias", lambda m, x, w: _linear(m)(x, w),
           [((2, 3), (4, 3)), ((5, 2, 3), (4, 3)), ((3,), (2, 3))]),
    # ------------------------------------------------------------ shape ops
    OpInfo("reshape", lambda m, a: a.reshape(4, 3), [((3, 4),), ((2, 6),)]),
    OpInfo("reshape_infer", lambda m, a: m.reshape(a, (-1,)), [((3, 4),), ((),)]),
    OpInfo("reshape_0d", lambda m, a: a.reshape(1, 1), [((),)]),
    OpInfo("view", lambda m, a: a.view(2, -1), [((3, 4),)]),
    OpInfo("view_tuple", lambda m, a: a.view((4, 3)), [((3, 4),)]),
    OpInfo("view_0d", lambda m, a: a.view(()), [((1,),), ((),)]),
    OpInfo("flatten", lambda m, a: a.flatten(), [((2, 3, 4),), ((),)]),
    OpInfo("flatten_range", lambda m, a: m.flatten(a, 1, -1), [((2, 3, 4),)]),
    OpInfo("unflatten", lambda m, a: a.unflatten(1, (2, -1)), [((3, 4),)]),
    OpInfo("squeeze", lambda m, a: a.squeeze(), [((1, 3, 1),), ((),)]),
    OpInfo("squeeze_dim", lambda m, a: m.squeeze(a, -1), [((3, 1),), ((3, 2),)]),
    OpInfo("unsqueeze", lambda m, a: a.unsqueeze(-1), [((3, 4),), ((),)]),
    OpInfo("unsqueeze_0", lambda m, a: m.unsqueeze(a, 0), [((3,),)]),
    OpInfo("transpose", lambda m, a: a.transpose(0, -1), [((2, 3, 4),)]),
    OpInfo("t", lambda m, a: a.t(), [((2, 3),), ((3,),)]),
    OpInfo("T", lambda m, a: a.T, [((2, 3),)]),
    OpInfo("mT", lambda m, a: a.mT, [((2, 3, 4),)]),
    OpInfo("permute", lambda m, a: a.permute(2, 0, 1), [((2, 3, 4),)]),
    OpInfo("permute_fn", lambda m, a: m.permute(a, (1, -1, 0)), [((2, 3, 4),)]),
    OpInfo("expand", lambda m, a: a.expand(2, 3, 4), [((3, 1),), ((),), ((4,),)]),
    OpInfo("expand_keep", lambda m, a: a.expand(-1, 4), [((3, 1),)]),
    OpInfo("expand_as", lambda m, a, b: a.expand_as(b), [((3, 1), (2, 3, 4))], grad=(0,)),
    OpInfo("repeat", lambda m, a: a.repeat(2, 3), [((2, 3),), ((3,),), ((),)]),
    OpInfo("repeat_more_dims", lambda m, a: a.repeat(2, 1, 2), [((2, 3),)]),
    OpInfo("cat", lambda m, a, b: m.cat([a, b]), [((2, 3), (4, 3))]),
    OpInfo("cat_dim", lambda m, a, b, c: m.cat((a, b, c), dim=-1),
           [((2, 3), (2, 1), (2, 2))]),
    OpInfo("stack", lambda m, a, b: m.stack([a, b]), [((2, 3), (2, 3)), ((), ())]),
    OpInfo("stack_dim", lambda m, a, b: m.stack([a, b], dim=-1), [((2, 3), (2, 3))]),
    OpInfo("split", lambda m, a: a.split(2), [((5, 3),)]),
    OpInfo("split_sizes", lambda m, a: m.split(a, [1, 3], dim=1), [((2, 4),)]),
    OpInfo("chunk", lambda m, a: a.chunk(3, -1), [((2, 7),)]),
    OpInfo("unbind", lambda m, a: a.unbind(1), [((2, 3),)]),
    OpInfo("unbind_fn", lambda m, a: m.unbind(a), [((3,),)]),
    OpInfo("flip", lambda m, a: a.flip(0), [((3, 4),)]),
    OpInfo("flip_dims", lambda m, a: m.flip(a, (0, -1)), [((2, 3, 4),)]),
    OpInfo("roll", lambda m, a: a.roll(1, 0), [((3, 4),)]),
    OpInfo("roll_dims", lambda m, a: m.roll(a, (1, -2), (0, 1)), [((3, 4),)]),
    OpInfo("roll_flat", lambda m, a: a.roll(5), [((3, 4),)]),
    OpInfo("narrow", lambda m, a: a.narrow(1, 1, 2), [((3, 4),)]),
    OpInfo("narrow_neg", lambda m, a: m.narrow(a, -1, -3, 2), [((3, 4),)]),
    # ------------------------------------------------------------ indexing
    OpInfo("getitem_int", lambda m, a: a[1], [((3, 4),), ((3,),)]),
    OpInfo("getitem_negint", lambda m, a: a[-1, -2], [((3, 4),)]),
    OpInfo("getitem_slice", lambda m, a: a[1:, ::2], [((3, 4),)]),
    OpInfo("getitem_slice_neg", lambda m, a: a[-2:, :-1], [((3, 4),)]),
    OpInfo("getitem_none", lambda m, a: a[None, :, None], [((3, 4),)]),
    OpInfo("getitem_0d_none", lambda m, a: a[None], [((),)]),
    OpInfo("getitem_0d_ellipsis", lambda m, a: a[...], [((),)]),
    OpInfo("getitem_ellipsis", lambda m, a: a[..., 1], [((2, 3, 4),)]),
    OpInfo("getitem_ellipsis_mid", lambda m, a: a[0, ..., None, 1:], [((2, 3, 4),)]),
    OpInfo("getitem_long", lambda m, a: a[m.tensor([2, 0, 2])], [((3, 4),)]),
    OpInfo("getitem_long_2d", lambda m, a: a[m.tensor([[0, 1], [2, 2]])], [((3, 4),)]),
    OpInfo("getitem_long_dim1", lambda m, a: a[:, m.tensor([3, 0])], [((3, 4),)]),
    OpInfo("getitem_long_pair", lambda m, a: a[m.tensor([0, 2]), m.tensor([1, 1])],
           [((3, 4),)]),
    OpInfo("getitem_long_0d", lambda m, a: a[m.tensor(1)], [((3, 4),)]),
    OpInfo("getitem_bool", lambda m, a: a[m.tensor([True, False, True])], [((3, 4),)]),
    OpInfo("getitem_bool_full", lambda m, a: a[a > 0], [((3, 4),)]),
    OpInfo("getitem_list", lambda m, a: a[[0, 2, 0]], [((3, 4),)]),
    OpInfo("getitem_list_pair", lambda m, a: a[[0, 1], [2, 3]], [((3, 4),)]),
    OpInfo("getitem_mixed", lambda m, a: a[[1, 0], :, 1:], [((2, 3, 4),)]),
    OpInfo("getitem_mixed_split", lambda m, a: a[m.tensor([1, 0]), 1:, m.tensor([0, 2])],
           [((2, 3, 4),)]),
    OpInfo("getitem_mixed_int", lambda m, a: a[1, :, m.tensor([0, 3])], [((2, 3, 4),)]),
    OpInfo("getitem_int_tensor_none", lambda m, a: a[None, m.tensor([1, 0])], [((3, 4),)]),
    OpInfo("setitem", _setitem_basic, [((3, 4), (4,)), ((3, 4), ())]),
    OpInfo("setitem_mask_scalar", _setitem_mask, [((3, 4),)]),
    OpInfo("setitem_advanced", _setitem_adv, [((3, 4), (2, 3)), ((3, 4), (3,))]),
    OpInfo("inplace_chain", _inplace_chain, [((3, 4),), ((2,),)]),
    OpInfo("gather", lambda m, a: m.gather(a, 1, m.tensor([[0, 1, 1], [3, 0, 2], [1, 1, 1]])),
           [((3, 4),)]),
    OpInfo("gather_dim0", lambda m, a: a.gather(0, m.tensor([[2, 0, 1, 1]])), [((3, 4),)]),
    OpInfo("gather_small_index", lambda m, a: a.gather(1, m.tensor([[0], [2]])), [((3, 4),)]),
    OpInfo("scatter", lambda m, a, s: a.scatter(1, m.tensor([[0, 3], [2, 1], [1, 0]]), s),
           [((3, 4), (3, 2))]),
    OpInfo("scatter_value", lambda m, a: m.scatter(a, 0, m.tensor([[2, 0, 1, 1]]), 1.5),
           [((3, 4),)]),
    OpInfo("scatter_add", lambda m, a, s: a.scatter_add(0, m.tensor([[2, 0, 2, 1],
                                                                     [2, 2, 0, 0]]), s),
           [((3, 4), (2, 4))]),
    OpInfo("index_select", lambda m, a: m.index_select(a, 0, m.tensor([2, 0, 2])),
           [((3, 4),), ((3,),)]),
    OpInfo("index_select_dim1", lambda m, a: a.index_select(-1, m.tensor([1, 3])),
           [((2, 3, 4),)]),
    OpInfo("masked_fill", lambda m, a: a.masked_fill(a > 0, 0.25), [((3, 4),), ((),)]),
    OpInfo("masked_fill_bcast", lambda m, a: m.masked_fill(a, m.tensor([True, False, True,
                                                                        False]), -1.0),
           [((3, 4),)]),
    OpInfo("masked_fill_tensor_value", lambda m, a, v: a.masked_fill(a < 0, v),
           [((3, 4), ())]),
    OpInfo("topk", lambda m, a: a.topk(2), [((3, 4),), ((5,),)]),
    OpInfo("topk_smallest", lambda m, a: m.topk(a, 2, dim=0, largest=False), [((3, 4),)]),
    OpInfo("sort", lambda m, a: a.sort(), [((3, 4),), ((5,),), ((),)]),
    OpInfo("sort_desc", lambda m, a: m.sort(a, 0, descending=True), [((3, 4),)]),
    OpInfo("clone", lambda m, a: a.clone(), UNARY),
    OpInfo("clone_fn", lambda m, a: m.clone(a), UNARY),
    OpInfo("contiguous_t", lambda m, a: a.t().contiguous(), [((2, 3),)]),
    # ------------------------------------------------------------ more ops
    OpInfo("constant_pad", lambda m, a: _pad(m)(a, (1, 2)), [((3, 4),), ((2, 3, 4),)]),
    OpInfo("constant_pad_2d_value", lambda m, a: _pad(m)(a, (1, 0, 0, 2), value=1.5),
           [((2, 3, 4),)]),
    OpInfo("constant_pad_negative", lambda m, a: _pad(m)(a, (-1, 1, 1, -1)), [((3, 4),)]),
    OpInfo("addcmul", lambda m, a, b, c: m.addcmul(a, b, c, value=0.5),
           [((3, 4), (4,), (3, 1)), ((), (), ())]),
    OpInfo("addcdiv", lambda m, a, b, c: a.addcdiv(b, c, value=-2), [((3, 4), (4,), (3, 1))]),
    OpInfo("log2", lambda m, a: m.log2(a), UNARY, "positive"),
    OpInfo("log10", lambda m, a: a.log10(), UNARY, "positive"),
    OpInfo("tan", lambda m, a: m.tan(a), UNARY, "small"),
    OpInfo("reciprocal", lambda m, a: a.reciprocal(), UNARY),
    OpInfo("trunc", lambda m, a: m.trunc(a), UNARY),
    OpInfo("frac", lambda m, a: a.frac(), UNARY),
    OpInfo("remainder", lambda m, a: a % 0.75, UNARY),
    OpInfo("cumprod", lambda m, a: m.cumprod(a, 1), [((3, 4),)], "positive"),
    OpInfo("nansum", lambda m, a: a.nansum(1), [((3, 4),)]),
    OpInfo("var_mean", lambda m, a: m.var_mean(a, 1), [((3, 4),)]),
    OpInfo("std_mean", lambda m, a: m.std_mean(a, 0, keepdim=True), [((3, 4),)]),
    OpInfo("dist", lambda m, a, b: m.dist(a, b), [((3, 4), (4,))]),
    OpInfo("aminmax", lambda m, a: m.aminmax(a, dim=1), [((3, 4),)]),
    OpInfo("kthvalue", lambda m, a: a.kthvalue(2, 1), [((3, 4),)]),
    OpInfo("tril", lambda m, a: m.tril(a), [((3, 4),)]),
    OpInfo("triu", lambda m, a: a.triu(1), [((4, 3),)]),
    OpInfo("diagonal", lambda m, a: m.diagonal(a), [((3, 4),)]),
    OpInfo("diagonal_offset", lambda m, a: a.diagonal(-1), [((3, 4),)]),
    OpInfo("diag_embed_vector", lambda m, a: m.diag(a), [((3,),)]),
    OpInfo("diag_of_matrix", lambda m, a: m.diag(a, 1), [((3, 4),)]),
    OpInfo("trace", lambda m, a: m.trace(a), [((3, 3),)]),
    OpInfo("take", lambda m, a: m.take(a, m.tensor([[0, 5], [11, 5]])), [((3, 4),)]),
    OpInfo("take_along_dim", lambda m, a: m.take_along_dim(a, m.tensor([[0], [3], [1]]), 1),
           [((3, 4),)]),
    OpInfo("masked_select", lambda m, a: m.masked_select(a, a > 0), [((3, 4),)]),
    OpInfo("index_add", lambda m, a, s: a.index_add(0, m.tensor([2, 0, 2]), s, alpha=2),
           [((3, 4), (3, 4))]),
    OpInfo("repeat_interleave", lambda m, a: a.repeat_interleave(2, dim=0), [((3, 4),)]),
    OpInfo("repeat_interleave_flat", lambda m, a: m.repeat_interleave(a, 3), [((2, 2),)]),
    OpInfo("tile", lambda m, a: m.tile(a, (2,)), [((3, 4),)]),
    OpInfo("movedim", lambda m, a: m.movedim(a, 0, -1), [((2, 3, 4),)]),
    OpInfo("hstack", lambda m, a, b: m.hstack([a, b]), [((3,), (2,)), ((2, 3), (2, 1))]),
    OpInfo("vstack", lambda m, a, b: m.vstack([a, b]), [((3,), (3,)), ((2, 3), (1, 3))]),
    OpInfo("tensor_split", lambda m, a: m.tensor_split(a, 3, dim=1), [((2, 7),)]),
    OpInfo("broadcast_to", lambda m, a: m.broadcast_to(a, (2, 3, 4)), [((3, 1),)]),
    OpInfo("view_as", lambda m, a, b: a.view_as(b), [((3, 4), (2, 6))], grad=(0,)),
    OpInfo("flip_lr", lambda m, a: m.fliplr(a), [((3, 4),)]),
    OpInfo("swapaxes", lambda m, a: a.swapaxes(0, 1), [((2, 3),)]),
    OpInfo("logsumexp_neg", lambda m, a: a.logsumexp(-1), [((2, 3),)]),
    # ------------------------------------------------------------ casts
    OpInfo("to_double", lambda m, a: a.to(m.float64) * 2, UNARY, gradcheck=False),
    OpInfo("double_back", lambda m, a: a.double().float(), UNARY, gradcheck=False),
]

OPS_BY_NAME = {op.name: op for op in OPS}
assert len(OPS_BY_NAME) == len(OPS), "duplicate op names in the catalogue"
