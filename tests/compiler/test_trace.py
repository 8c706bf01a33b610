"""lamina/compiler/_trace.py: recorded programs replay bit for bit what eager computes, forward,
gradients and optimizer steps; what cannot be captured falls back to eager with a reason."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import compiler
from lamina.compiler import _Fallback

nn = lamina.nn


def _programs(c):
    return [e for e in c._cache.values() if not isinstance(e, _Fallback)]


def _fallbacks(c):
    return [e.reason for e in c._cache.values() if isinstance(e, _Fallback)]


def _mlp(seed=0):
    lamina.manual_seed(seed)
    return nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 10))


def _eq(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)


@pytest.fixture(autouse=True)
def _fresh():
    compiler.reset()
    yield
    compiler.reset()


def test_inference_replay_equals_eager_and_uses_the_program():
    net = _mlp()
    cnet = lamina.compile(net)
    for seed in range(4):
        lamina.manual_seed(100 + seed)
        x = lamina.randn(3, 20)
        with lamina.no_grad():
            want = net(x)
            got = cnet(x)
        assert _eq(got.numpy(), want.numpy())
        assert not got.requires_grad
    assert len(_programs(cnet._compiled)) == 1  # one trace, then replays
    assert compiler.fallback_reasons() == []


def test_grad_mode_forward_then_backward_outside_matches_eager():
    x = lamina.randn(4, 20)
    y = lamina.randn(4, 10)
    grads = []
    for compiled in (False, True):
        net = _mlp()
        f = lamina.compile(net) if compiled else net
        for _ in range(3):  # first call traces, the others replay
            net.zero_grad()
            out = f(x)
            assert out.grad_fn is not None
            ((out - y) ** 2).mean().backward()
        grads.append([p.grad.numpy().copy() for p in net.parameters()])
    assert all(_eq(a, b) for a, b in zip(*grads))


def _train(compiled, opt_cls, steps=5, **kw):
    net = _mlp()
    opt = opt_cls(net.parameters(), **kw)
    lossf = nn.MSELoss()
    lamina.manual_seed(7)
    xs = [lamina.randn(2, 20) for _ in range(steps)]
    ys = [lamina.randn(2, 10) for _ in range(steps)]

    def step(x, y):
        opt.zero_grad()
        loss = lossf(net(x), y)
        loss.backward()
        opt.step()
        return loss

    f = lamina.compile(step) if compiled else step
    losses = [f(x, y).detach().numpy().copy() for x, y in zip(xs, ys)]
    return (losses, [p.detach().numpy().copy() for p in net.parameters()],
            [p.grad.numpy().copy() for p in net.parameters()], f)


@pytest.mark.parametrize("opt_cls,kw", [
    (lamina.optim.SGD, {"lr": 0.1}),
    (lamina.optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    (lamina.optim.Adam, {"lr": 1e-2}),
    (lamina.optim.AdamW, {"lr": 1e-2, "weight_decay": 0.1}),
], ids=["sgd", "sgd-nesterov", "adam", "adamw"])
def test_training_step_replay_is_bit_identical(opt_cls, kw):
    le, pe, ge, _ = _train(False, opt_cls, **kw)
    lc, pc, gc, f = _train(True, opt_cls, **kw)
    assert all(_eq(a, b) for a, b in zip(le, lc))
    assert all(_eq(a, b) for a, b in zip(pe, pc))
    assert all(_eq(a, b) for a, b in zip(ge, gc))
    assert len(_programs(f)) == 1
    src = _programs(f)[0].source
    assert "zero_grad" in src and "step" in src


def test_training_step_with_shared_weights_multi_output_ops_and_layernorm():
    """A small transformer-like block: split (3 outputs), a weight used twice, LayerNorm, GELU,
    softmax, cross entropy; AdamW. Parameters after the steps equal eager's exactly."""

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(11, 12)
            self.ln = nn.LayerNorm(12)
            self.qkv = nn.Linear(12, 36)
            self.mlp = nn.Sequential(nn.Linear(12, 24), nn.GELU(), nn.Linear(24, 12))
            self.head = nn.Linear(12, 11, bias=False)
            self.head.weight = self.emb.weight

        def forward(self, idx):
            x = self.emb(idx)
            q, k, v = self.qkv(self.ln(x)).split(12, dim=-1)
            att = (q @ k.transpose(-2, -1)) * 0.25
            x = x + att.softmax(dim=-1) @ v
            x = x + self.mlp(x)
            return self.head(x)

    def run(compiled):
        lamina.manual_seed(3)
        net = Net()
        opt = lamina.optim.AdamW(net.parameters(), lr=1e-2)
        lamina.manual_seed(4)
        idx = lamina.randint(0, 11, (2, 5))
        tgt = lamina.randint(0, 11, (2, 5))

        def step(idx, tgt):
            logits = net(idx)
            loss = nn.functional.cross_entropy(logits.view(-1, 11), tgt.view(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss

        f = lamina.compile(step) if compiled else step
        ls = [f(idx, tgt).item() for _ in range(4)]
        return ls, [p.detach().numpy().copy() for p in net.parameters()], f

    le, pe, _ = run(False)
    lc, pc, f = run(True)
    assert le == lc
    assert all(_eq(a, b) for a, b in zip(pe, pc))
    assert len(_programs(f)) == 1, compiler.fallback_reasons()


def test_backward_with_a_leaf_hook_and_an_input_requiring_grad_goes_through_the_engine():
    def run(compiled):
        net = _mlp()
        seen = []
        net[0].weight.register_hook(lambda g: seen.append(g.numpy().sum()) or g * 2)
        x = lamina.randn(2, 20, requires_grad=True)

        def step(x):
            net.zero_grad()
            loss = net(x).sum()
            loss.backward()
            return loss

        f = lamina.compile(step) if compiled else step
        for _ in range(3):
            x.grad = None
            f(x)
        return seen, x.grad.numpy().copy(), net[0].weight.grad.numpy().copy(), f

    se, xe, we, _ = run(False)
    sc, xc, wc, f = run(True)
    assert se == sc and _eq(xe, xc) and _eq(we, wc)
    assert len(_programs(f)) == 1


def test_item_falls_back_with_the_reason_and_fullgraph_raises():
    net = _mlp()

    def fn(x):
        y = net(x)
        if y.sum().item() > 0:  # data-dependent Python control flow
            return y * 2
        return y

    x = lamina.randn(2, 20)
    c = lamina.compile(fn)
    for _ in range(2):
        assert _eq(c(x).detach().numpy(), fn(x).detach().numpy())
    reasons = _fallbacks(c)
    assert len(reasons) == 1 and "item" in reasons[0]
    assert any("item" in r for _, r in compiler.fallback_reasons())
    with pytest.raises(compiler.Unsupported, match="item"):
        lamina.compile(fn, fullgraph=True)(x)


@pytest.mark.parametrize("case", ["inplace_input", "inplace_mid", "random", "compare",
                                  "function", "dropout_train"])
def test_what_cannot_be_captured_falls_back_and_stays_correct(case):
    lamina.manual_seed(0)
    w = lamina.randn(4, 4)

    class Double(lamina.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    drop = nn.Dropout(0.5)

    def fn(x):
        if case == "inplace_input":
            x.add_(1)
            return x @ w
        if case == "inplace_mid":
            y = x @ w
            y.mul_(3)
            return y + 1
        if case == "random":
            return x @ w + lamina.randn(4, 4)
        if case == "compare":
            return (x > 0) * x
        if case == "function":
            return Double.apply(x @ w)
        return drop(x @ w)

    c = lamina.compile(fn)
    for seed in range(3):
        lamina.manual_seed(seed)
        x1 = lamina.randn(4, 4)
        x2 = x1.clone()
        lamina.manual_seed(50 + seed)
        want = fn(x1)
        lamina.manual_seed(50 + seed)
        got = c(x2)
        assert _eq(got.numpy(), want.numpy())
        assert _eq(x1.numpy(), x2.numpy())
    assert len(_fallbacks(c)) == 1 and not _programs(c)


def test_compiled_forward_in_gpt_generation_matches_eager():
    from benchmarks.workloads._gpt import make_gpt

    _, model = make_gpt(lamina, block_size=8, vocab_size=16, n_layer=1, n_head=2, n_embd=8,
                        dropout=0.0)
    model.eval()
    idx = lamina.zeros((1, 1), dtype=lamina.long)
    lamina.manual_seed(0)
    want = model.generate(idx, 12, temperature=1.0, top_k=5)
    model.forward = lamina.compile(model.forward, recompile_limit=8)
    for _ in range(2):  # tracing round, then replaying round
        lamina.manual_seed(0)
        got = model.generate(idx, 12, temperature=1.0, top_k=5)
        assert _eq(got.numpy(), want.numpy())
    assert len(_programs(model.forward)) == 8 and compiler.fallback_reasons() == []


def test_tracing_swaps_the_hooks_back():
    from lamina.ops._op import Op

    before = (Op.__dict__["apply"], lamina.Tensor.__dict__["backward"],
              lamina.Tensor.__dict__["item"], lamina.__dict__["zeros"])
    c = lamina.compile(lambda x: x.sum().item())
    c(lamina.ones(2))
    with pytest.raises(compiler.Unsupported):
        lamina.compile(lambda x: x.sum().item(), fullgraph=True)(lamina.ones(2))
    after = (Op.__dict__["apply"], lamina.Tensor.__dict__["backward"],
             lamina.Tensor.__dict__["item"], lamina.__dict__["zeros"])
    assert before == after


def test_aliased_arguments_run_eagerly():
    w = lamina.randn(3, 3)

    def fn(a, b):
        a = a * 2
        return a @ b + w

    c = lamina.compile(fn)
    x = lamina.randn(3, 3)
    assert _eq(c(x, x).numpy(), fn(x, x).numpy())
    y = lamina.randn(3, 3)
    assert _eq(c(x, y).numpy(), fn(x, y).numpy())  # same guards, not aliased
    assert _eq(c(w, y).numpy(), fn(w, y).numpy())
    assert "shares its array" in _fallbacks(c)[0] and not _programs(c)


def test_matmul_of_parameters_under_no_grad_is_recorded():
    """``a @ b`` without a node is a shortcut in ops.linalg.matmul; while tracing, the
    operator goes through the recorded path (Tensor.__matmul__'s _fallback) instead."""
    lamina.manual_seed(0)
    w = nn.Parameter(lamina.randn(20, 8))

    def f(x):
        return (x @ w).tanh() @ w.T

    cf = lamina.compile(f)
    for seed in range(3):
        lamina.manual_seed(10 + seed)
        x = lamina.randn(5, 20)
        with lamina.no_grad():
            want = f(x)
            got = cf(x)
        assert _eq(got.numpy(), want.numpy())
    assert len(_programs(cf)) == 1 and _fallbacks(cf) == []
    assert lamina.Tensor.__matmul__ is lamina.ops.linalg.matmul  # swapped back after tracing
