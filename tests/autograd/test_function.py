"""Custom autograd.Function with torch's ctx API, against torch."""

from __future__ import annotations

import pytest
from scenario import assert_same

import lamina

SQ = """
class Sq(m.autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_backward(x)
        ctx.k = k
        return x * x * k

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 2 * x * g * ctx.k, None
"""

SCENARIOS = {
    "save_for_backward_and_name": SQ + """
x = m.tensor([1., 2.], requires_grad=True)
y = Sq.apply(x, 3); y.sum().backward()
out = (y, x.grad, type(y.grad_fn).__name__, y.grad_fn.name())""",
    "composes_with_ops": SQ + """
x = m.tensor([1., 2.], requires_grad=True)
y = Sq.apply(x * 1.5 + 1, 2).sum() * 3; y.backward(); out = x.grad""",
    "needs_input_grad": """
class F(m.autograd.Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y
    @staticmethod
    def backward(ctx, g):
        nig = ctx.needs_input_grad
        x, y = ctx.saved_tensors
        return (g * y if nig[0] else None), (g * x if nig[1] else None)
x = m.tensor([1., 2.], requires_grad=True); y = m.tensor([3., 4.])
z = F.apply(x, y); z.sum().backward()
out = (x.grad, y.grad, z.grad_fn.needs_input_grad)""",
    "mark_non_differentiable": """
class F(m.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        i = x.argmax(); v = x.max()
        ctx.mark_non_differentiable(i)
        return v, i
    @staticmethod
    def backward(ctx, g, gi):
        return g * m.ones(2)
x = m.tensor([1., 2.], requires_grad=True)
v, i = F.apply(x); v.backward(); out = (i.requires_grad, v.requires_grad, x.grad)""",
    "float_mask_output_marked": """
class F(m.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        mask = (x > 1.5).float()
        ctx.mark_non_differentiable(mask)
        return x * 2, mask
    @staticmethod
    def backward(ctx, g, gm):
        return g * 2
x = m.tensor([1., 2.], requires_grad=True)
a, b = F.apply(x); (a + b).sum().backward(); out = (b.requires_grad, x.grad)""",
    "no_grad_inside_forward": """
class F(m.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x * 2
        ctx.inner = (y.requires_grad, m.is_grad_enabled())
        return y
    @staticmethod
    def backward(ctx, g):
        return g * 2
x = m.tensor([1., 2.], requires_grad=True)
y = F.apply(x); out = (y.grad_fn.inner, y.requires_grad)""",
    "second_backward_reading_saved_raises": SQ + """
x = m.tensor([1., 2.], requires_grad=True)
y = Sq.apply(x, 1).sum(); y.backward(); y.backward()""",
    "second_backward_without_saved_ok": """
class F(m.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * 2
    @staticmethod
    def backward(ctx, g):
        return g * 2
x = m.tensor([1., 2.], requires_grad=True)
z = F.apply(x).sum(); z.backward(); z.backward(); out = x.grad""",
    "setup_context_style": """
class F(m.autograd.Function):
    @staticmethod
    def forward(x):
        return x * 2
    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 2 * x
x = m.tensor([1., 2.], requires_grad=True)
F.apply(x).sum().backward(); out = x.grad""",
    "too_many_grads": """
class F(m.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2
    @staticmethod
    def backward(ctx, g):
        return g * 2, g
x = m.tensor([1., 2.], requires_grad=True)
F.apply(x).sum().backward()""",
    "extra_none_grads_ok": """
class F(m.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2
    @staticmethod
    def backward(ctx, g):
        return g * 2, None
x = m.tensor([1., 2.], requires_grad=True)
F.apply(x).sum().backward(); out = x.grad""",
    "too_few_grads": """
class F(m.autograd.Function):
    @staticmethod
    def forward(ctx, x, y):
        return x * y
    @staticmethod
    def backward(ctx, g):
        return g
x = m.tensor([1., 2.], requires_grad=True)
F.apply(x, x).sum().backward()""",
    "saved_tensor_modified": """
class F(m.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clone()
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * x
x = m.tensor([1., 2.], requires_grad=True)
y = x * 1; z = F.apply(y); y.add_(1); z.sum().backward()""",
    "broadcast_grad_is_reduced": """
class F(m.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2
    @staticmethod
    def backward(ctx, g):
        return g.expand(3, 2)
x = m.tensor([1., 2.], requires_grad=True)
F.apply(x).sum().backward(); out = x.grad""",
    "no_requires_grad_input": SQ + """
x = m.tensor([1., 2.])
y = Sq.apply(x, 2); out = (y, y.requires_grad, y.grad_fn)""",
    "under_no_grad": SQ + """
x = m.tensor([1., 2.], requires_grad=True)
with m.no_grad():
    y = Sq.apply(x, 2)
out = (y.requires_grad, y.grad_fn)""",
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_function_matches_torch(name):
    assert_same(SCENARIOS[name])


def test_once_differentiable_passes_through():
    class F(lamina.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        @lamina.autograd.function.once_differentiable
        def backward(ctx, g):
            return g * 3

    x = lamina.tensor([1.0], requires_grad=True)
    F.apply(x).sum().backward()
    assert x.grad.item() == 3.0
