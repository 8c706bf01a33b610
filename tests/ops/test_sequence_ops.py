"""The ops that sequence-model code leans on, through their public spellings, against torch:
sampling (multinomial after softmax/top-k), masks (tril/triu/masked_fill), cumsum,
gather/scatter, one_hot, clip_grad_norm_ over many parameters."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from tests.oracle_helpers import npy


def _both(fn):
    return fn(torch), fn(lamina)


@pytest.mark.parametrize("replacement", [False, True])
@pytest.mark.parametrize("shape", [(12,), (4, 30)])
@pytest.mark.parametrize("n", [1, 6])
def test_multinomial_default_generator_and_method(replacement, shape, n):
    def f(lib):
        lib.manual_seed(21)
        p = lib.softmax(lib.randn(*shape), dim=-1)
        a = lib.multinomial(p, n, replacement=replacement)
        b = p.multinomial(n, replacement)  # Tensor.multinomial, continuing the stream
        return a, b

    (ta, tb), (la, lb) = _both(f)
    assert la.dtype == lamina.int64
    np.testing.assert_array_equal(npy(la), npy(ta))
    np.testing.assert_array_equal(npy(lb), npy(tb))


def test_top_k_sampling_path_matches_torch():
    def f(lib):
        lib.manual_seed(4)
        logits = lib.randn(3, 50) / 0.8
        v, _ = lib.topk(logits, 5)
        logits[logits < v[:, [-1]]] = -float("Inf")
        probs = lib.nn.functional.softmax(logits, dim=-1)
        return lib.cat([lib.multinomial(probs, num_samples=1) for _ in range(20)], dim=1)

    t, m = _both(f)
    np.testing.assert_array_equal(npy(m), npy(t))


def test_softmax_spellings():
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    lx = lamina.tensor(x)
    for got in (lamina.softmax(lx, 1), lx.softmax(-1), lx.softmax(dim=1)):
        np.testing.assert_allclose(npy(got), npy(torch.softmax(torch.tensor(x), 1)), rtol=1e-6)
    np.testing.assert_allclose(npy(lx.log_softmax(1)),
                               npy(torch.tensor(x).log_softmax(1)), rtol=1e-5, atol=1e-6)


def test_masks_and_cumsum():
    for d in (-1, 0, 1, 2):
        t, m = _both(lambda lib: lib.tril(lib.ones(4, 6), diagonal=d))
        np.testing.assert_array_equal(npy(m), npy(t))
        t, m = _both(lambda lib: lib.ones(5, 3).triu(d))
        np.testing.assert_array_equal(npy(m), npy(t))
    t, m = _both(lambda lib: lib.arange(12.0).view(3, 4).masked_fill(
        lib.tril(lib.ones(3, 4)) == 0, float("-inf")))
    np.testing.assert_array_equal(npy(m), npy(t))
    t, m = _both(lambda lib: lib.arange(12).view(3, 4).cumsum(dim=1))
    np.testing.assert_array_equal(npy(m), npy(t))
    assert m.dtype == lamina.int64


def test_gather_scatter_one_hot():
    idx = np.array([[0, 2], [1, 1], [3, 0]])

    def f(lib):
        x = lib.arange(12.0).view(3, 4)
        i = lib.tensor(idx)
        return (x.gather(1, i), lib.zeros(3, 4).scatter(1, i, 1.0),
                lib.nn.functional.one_hot(lib.tensor([0, 3, 1]), 5),
                lib.nn.functional.one_hot(lib.tensor([[0, 2]])))

    for a, b in zip(*_both(f)):
        np.testing.assert_array_equal(npy(b), npy(a))
        assert str(b.dtype).split(".")[1] == str(a.dtype).split(".")[1]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_many_params(norm_type):
    rng = np.random.default_rng(5)
    shapes = [(rng.integers(1, 9), rng.integers(1, 9)) for _ in range(40)] + [(7,), ()]
    grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]

    def f(lib):
        ps = [lib.nn.Parameter(lib.zeros(tuple(int(d) for d in s))) for s in shapes]
        for p, g in zip(ps, grads):
            p.grad = lib.tensor(g)
        n = lib.nn.utils.clip_grad_norm_(ps, 0.5, norm_type=norm_type)
        return n, [p.grad for p in ps]

    (tn, tg), (ln, lg) = _both(f)
    np.testing.assert_allclose(float(ln), float(tn), rtol=1e-5)
    for a, b in zip(lg, tg):
        np.testing.assert_allclose(npy(a), npy(b), rtol=1e-5, atol=1e-7)


def test_dropout_of_transposed_tensor_draws_like_torch():
    # torch draws the mask into empty_like(x), which keeps x's (transposed) memory layout;
    # batch_first attention layers hand such tensors to their dropouts
    for make in (lambda lib: lib.ones(3, 5).t(), lambda lib: lib.ones(2, 3, 4).permute(2, 0, 1),
                 lambda lib: lib.ones(4, 6)[:, :3], lambda lib: lib.ones(2, 3, 4)[::2]):
        def f(lib):
            lib.manual_seed(8)
            return lib.nn.functional.dropout(make(lib), 0.4)

        t, m = _both(f)
        np.testing.assert_array_equal(npy(m), npy(t))
