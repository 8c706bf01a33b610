"""grad_fn nodes: torch's names (repr, name(), type name), next_functions, hooks on nodes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina

# expressions over x (2x2, requires grad) and their torch grad_fn names; the same text runs on
# both libraries (F is nn.functional on torch and lamina's fused op module on lamina)
EXPRS = """x+1|x+x|1+x|x-1|1-x|x*2|2*x|x*x|x/2|2/x|x/x|-x|x.abs()|x.exp()|x.log()|x.log1p()|
x.expm1()|x.sqrt()|x.rsqrt()|x**2|x**x|2**x|x.pow(2.5)|x.sin()|x.cos()|x.tanh()|x.sigmoid()|
x.relu()|m.relu(x)|x.clamp(0,1)|x.clamp(min=0)|x.clamp(max=1)|x.clamp(x,x)|m.where(x>1,x,x)|
m.where(x>1,x,0.)|m.maximum(x,x)|m.minimum(x,x)|x.sign()|x.floor()|x.ceil()|x.round()|
x.round(decimals=1)|x.lerp(x,0.5)|x.lerp(x,x)|x.square()|x.reshape(4)|x.view(4)|x.flatten()|
x.unflatten(0,(2,1))|x.squeeze()|x.squeeze(0)|x.squeeze((0,1))|x.unsqueeze(0)|
x.transpose(0,1)|x.t()|x.T|x.mT|x.permute(1,0)|x.expand(3,2,2)|x.repeat(2,1)|m.cat([x,x])|
m.stack([x,x])|x.split(1)[0]|m.split(x,[1,1])[1]|x.chunk(2)[0]|x.unbind()[0]|x.flip(0)|
x.roll(1,0)|x.roll(1)|x.narrow(0,0,1)|x[0]|x[:,0]|x[None]|x[...]|x[:]|x[1:]|x[0,1:]|x[1:,0]|
x[:, None, :]|x[m.tensor([0])]|x[x>1]|x[[0,1]]|x[0,0]|x.gather(0,m.tensor([[0,1]]))|
x.scatter(0,m.tensor([[0,1]]),x)|x.scatter(0,m.tensor([[0,1]]),1.)|
x.scatter_add(0,m.tensor([[0,1]]),x)|x.index_select(0,m.tensor([0]))|x.masked_fill(x>1,0.)|
x.masked_fill(x>1,m.tensor(0.))|x.topk(1)[0]|x.sort()[0]|x.clone()|x.t().contiguous()|
x@x|x[0]@x[0]|x@x[0]|x[0]@x|m.mm(x,x)|m.bmm(x[None],x[None])|x[None]@x|m.mv(x,x[0])|
m.dot(x[0],x[0])|m.outer(x[0],x[0])|F(m)(x,x,x[0])|F(m)(x,x)|F(m)(x[0],x,x[0])|
F(m)(x[None],x,x[0])|x.double()|x.to(m.float64)|x.expand_as(x)|x.cumsum(0)|x.view(2,2)|
m.add(x,x,alpha=2)|m.sub(x,x,alpha=2)|m.rsub(x,x)|m.rsub(x,1)|x.max(x)|x.amax()|x.amin(0)|
x.max()|x.min()|x.max(0)[0]|x.min(1)[0]|x.sum()|x.sum(0)|x.sum((0,1))|x.mean()|x.mean(0)|
x.prod()|x.prod(0)|x.var()|x.std()|x.std(0)|x.logsumexp(0)|x.norm()|x.norm(1)|
x.norm(dim=1)|m.norm(x, float('inf'))""".replace("\n", "").split("|")


def F(m):
    return m.nn.functional.linear if m is torch else m.linear


def _graph_name(expr, m):
    x = m.tensor([[1.0, 2.0], [3.0, 0.5]], requires_grad=True)
    r = eval(expr, {"m": m, "x": x, "F": F})
    return None if r.grad_fn is None else type(r.grad_fn).__name__


@pytest.mark.parametrize("expr", EXPRS)
def test_grad_fn_names_match_torch(expr):
    assert _graph_name(expr, lamina) == _graph_name(expr, torch)


def test_name_method_and_repr():
    x = lamina.ones(2, requires_grad=True)
    y = x * 2
    assert y.grad_fn.name() == "MulBackward0"
    assert repr(y.grad_fn).startswith("<MulBackward0 object at 0x")
    assert "grad_fn=<MulBackward0>" in repr(y)
    z = y * 1
    z[0] = 3.0
    assert z.grad_fn.name() == "torch::autograd::CopySlices"
    assert "grad_fn=<CopySlices>" in repr(z)


@pytest.mark.parametrize("stmt", ["y[0] = 1.", "y.add_(1)", "y.mul_(2)", "y[y > 0] = 1.",
                                  "y.zero_()", "y.fill_(2.)", "y.copy_(x)", "y.clamp_(0, 1)",
                                  "y.masked_fill_(y > 1, 0.)", "y.exp_()", "y.normal_()",
                                  "y.uniform_()", "y[0].mul_(2)", "y.view(4).add_(1)"])
def test_inplace_node_names_match_torch(stmt):
    names = []
    for m in (lamina, torch):
        x = m.tensor([[1.0, 2.0], [3.0, 0.5]], requires_grad=True)
        y = x * 1
        exec(stmt, {"x": x, "y": y})  # noqa: S102 - test statements above
        names.append(type(y.grad_fn).__name__)
    assert names[0] == names[1]


def test_next_functions_and_accumulate_grad():
    x = lamina.ones(2, requires_grad=True)
    w = lamina.ones(2)
    y = x * w + x.exp()
    (add, _), = [(y.grad_fn, 0)]
    nf = add.next_functions
    assert [type(n).__name__ for n, _ in nf] == ["MulBackward0", "ExpBackward0"]
    mul_next = nf[0][0].next_functions
    assert mul_next[0][0].name() == "torch::autograd::AccumulateGrad"
    assert mul_next[0][0].variable is x
    assert mul_next[1] == (None, 0)


def test_node_hooks_see_grads():
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    seen = {}

    def post(grad_inputs, grad_outputs):
        seen["in"] = grad_inputs[0].tolist()
        seen["out"] = grad_outputs[0].tolist()

    def pre(grad_outputs):
        return (grad_outputs[0] * 10,)

    y.grad_fn.register_hook(post)
    h = y.grad_fn.register_prehook(pre)
    y.sum().backward()
    assert seen == {"in": [30.0, 30.0], "out": [10.0, 10.0]}
    np.testing.assert_allclose(x.grad.numpy(), [30.0, 30.0])
    h.remove()
    x.grad = None
    y = x * 3
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
