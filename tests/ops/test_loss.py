"""lamina/ops/loss.py: every loss against torch for each reduction and option (forward, every
input's gradient, grad_fn names of the fused nodes), float64 gradchecks of the fused ops, torch's
error types and messages, and the fused ops on a (fake) cuda device."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import lamina
import lamina.ops.loss as L
from tests.oracle_helpers import assert_close, lt, npy, tt

RNG = np.random.RandomState(0)
X = RNG.standard_normal((6, 5)).astype(np.float32)
Y = RNG.standard_normal((6, 5)).astype(np.float32)
T = np.array([0, 1, 4, 1, 3, 2], np.int64)
W = RNG.uniform(0.2, 1.5, 5).astype(np.float32)
P = RNG.uniform(0.05, 1, (6, 5)).astype(np.float32)
P /= P.sum(1, keepdims=True)
X4 = RNG.standard_normal((2, 5, 3, 2)).astype(np.float32)
T4 = RNG.randint(0, 5, (2, 3, 2)).astype(np.int64)
T4[0, 0, 0] = 1
P4 = RNG.uniform(0.05, 1, (2, 5, 3, 2)).astype(np.float32)
X3 = RNG.standard_normal((2, 5, 4)).astype(np.float32)
T3 = RNG.randint(0, 5, (2, 4)).astype(np.int64)
REDS = ["mean", "sum", "none"]


def _run(lf, tf, arrays, grads):
    ls = [lt(a, g) for a, g in zip(arrays, grads)]
    ts = [tt(a, g) for a, g in zip(arrays, grads)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lo, to = lf(*ls), tf(*ts)
    assert_close(lo, to, atol=2e-5, rtol=2e-5)
    w = np.asarray(np.random.RandomState(5).standard_normal(tuple(to.shape)), np.float32)
    (lo * lt(w)).sum().backward()
    (to * tt(w)).sum().backward()
    for k, (a, b) in enumerate(zip(ls, ts)):
        if b.grad is None:
            assert a.grad is None, f"input {k}"
        else:
            assert_close(a.grad, b.grad, atol=2e-5, rtol=2e-5, msg=f"grad {k}")
    return lo, to


def _ce_kwargs(weight, extra):
    return dict(extra, weight=weight)


CE_OPTIONS = [{}, {"ignore_index": 1}, {"label_smoothing": 0.2},
              {"label_smoothing": 0.2, "ignore_index": 1}]


@pytest.mark.parametrize("reduction", REDS)
@pytest.mark.parametrize("opts", CE_OPTIONS, ids=str)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("data", ["2d", "3d", "4d", "1d"])
def test_cross_entropy_class_indices(reduction, opts, weighted, data):
    x, t = {"2d": (X, T), "3d": (X3, T3), "4d": (X4, T4), "1d": (X[0], np.array(1))}[data]

    def lf(a, b):
        return L.cross_entropy(a, b, weight=lt(W) if weighted else None, reduction=reduction,
                               **opts)

    def tf(a, b):
        return TF.cross_entropy(a, b, weight=tt(W) if weighted else None, reduction=reduction,
                                **opts)

    lo, to = _run(lf, tf, [x, t], [True, False])
    assert lo.grad_fn.name() == to.grad_fn.name()


@pytest.mark.parametrize("reduction", REDS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("data", ["2d", "4d"])
def test_cross_entropy_class_probabilities(reduction, smoothing, weighted, data):
    x, p = (X, P) if data == "2d" else (X4, P4)

    def lf(a, b):
        return L.cross_entropy(a, b, weight=lt(W) if weighted else None, reduction=reduction,
                               label_smoothing=smoothing)

    def tf(a, b):
        return TF.cross_entropy(a, b, weight=tt(W) if weighted else None, reduction=reduction,
                                label_smoothing=smoothing)

    lo, to = _run(lf, tf, [x, p], [True, True])
    assert lo.grad_fn.name() == to.grad_fn.name()


def test_cross_entropy_is_one_node():
    x = lt(X, True)
    loss = L.cross_entropy(x, lt(T))
    assert loss.grad_fn.name() == "NllLossBackward0"
    assert loss.grad_fn.next_functions[0][0].variable is x


def test_cross_entropy_all_ignored_and_empty():
    t = np.full(6, -100, np.int64)
    assert np.isnan(L.cross_entropy(lt(X), lt(t)).item())
    assert L.cross_entropy(lt(X), lt(t), reduction="sum").item() == 0.0
    assert np.isnan(L.cross_entropy(lamina.zeros(0, 5), lamina.zeros(0, dtype=lamina.int64))
                    .item())
    x = lt(X, True)
    L.cross_entropy(x, lt(t)).backward()
    np.testing.assert_array_equal(x.grad.numpy(),
                                  _torch_grad(lambda a: TF.cross_entropy(a, tt(t)), X))


def _torch_grad(fn, x):
    tx = tt(x, True)
    fn(tx).backward()
    return tx.grad.numpy()


def test_cross_entropy_uint8_targets_and_large_logits():
    x = X * 1000
    _run(lambda a, b: L.cross_entropy(a, b), lambda a, b: TF.cross_entropy(a, b),
         [x, T.astype(np.uint8)], [True, False])


@pytest.mark.parametrize("reduction", REDS)
@pytest.mark.parametrize("opts", [{}, {"ignore_index": 1}], ids=str)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("data", ["2d", "3d", "4d"])
def test_nll_loss(reduction, opts, weighted, data):
    x, t = {"2d": (X, T), "3d": (X3, T3), "4d": (X4, T4)}[data]
    logp = torch.log_softmax(torch.from_numpy(x), 1).numpy()

    def lf(a, b):
        return L.nll_loss(a, b, weight=lt(W) if weighted else None, reduction=reduction, **opts)

    def tf(a, b):
        return TF.nll_loss(a, b, weight=tt(W) if weighted else None, reduction=reduction,
                           **opts)

    lo, to = _run(lf, tf, [logp, t], [True, False])
    assert lo.grad_fn.name() == to.grad_fn.name()


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDS)
@pytest.mark.parametrize("shape", ["same", "broadcast"])
def test_regression_losses(name, reduction, shape):
    y = Y if shape == "same" else Y[:1]
    lo, to = _run(lambda a, b: getattr(L, name)(a, b, reduction=reduction),
                  lambda a, b: getattr(TF, name)(a, b, reduction=reduction), [X, y],
                  [True, True])
    assert lo.grad_fn.name() == to.grad_fn.name()


@pytest.mark.parametrize("reduction", REDS)
def test_smooth_l1_beta_and_huber_delta(reduction):
    for beta in (0.5, 0.0):
        _run(lambda a, b: L.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
             lambda a, b: TF.smooth_l1_loss(a, b, reduction=reduction, beta=beta), [X, Y],
             [True, True])
    _run(lambda a, b: L.huber_loss(a, b, reduction=reduction, delta=0.4),
         lambda a, b: TF.huber_loss(a, b, reduction=reduction, delta=0.4), [X, Y],
         [True, True])


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDS)
def test_elementwise_weight_argument(name, reduction):
    wt = np.abs(Y) + 0.1
    _run(lambda a, b, c: getattr(L, name)(a, b, reduction=reduction, weight=c),
         lambda a, b, c: getattr(TF, name)(a, b, reduction=reduction, weight=c), [X, Y, wt],
         [True, True, False])


@pytest.mark.parametrize("reduction", REDS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(reduction, weighted):
    x = RNG.uniform(0.01, 0.99, (6, 5)).astype(np.float32)
    x[0, :2] = [0.0, 1.0]  # the -100 clamp of torch
    t = RNG.uniform(0, 1, (6, 5)).astype(np.float32)
    t[0, :2] = [0.0, 1.0]
    args = [x, t, W] if weighted else [x, t]

    def lf(a, b, *c):
        return L.binary_cross_entropy(a, b, *c, reduction=reduction)

    def tf(a, b, *c):
        return TF.binary_cross_entropy(a, b, *c, reduction=reduction)

    lo, to = _run(lf, tf, args, [False, True, False][:len(args)])
    assert lo.grad_fn.name() == to.grad_fn.name()
    _run(lf, tf, [x[1:], t[1:]] + ([W] if weighted else []), [True, True, False][:len(args)])


@pytest.mark.parametrize("reduction", REDS)
@pytest.mark.parametrize("extras", ["none", "weight", "pos_weight", "both"])
def test_binary_cross_entropy_with_logits(reduction, extras):
    t = RNG.uniform(0, 1, (6, 5)).astype(np.float32)
    w = W if extras in ("weight", "both") else None
    pw = W * 3 if extras in ("pos_weight", "both") else None

    def lf(a, b):
        return L.binary_cross_entropy_with_logits(
            a, b, None if w is None else lt(w), reduction=reduction,
            pos_weight=None if pw is None else lt(pw))

    def tf(a, b):
        return TF.binary_cross_entropy_with_logits(
            a, b, None if w is None else tt(w), reduction=reduction,
            pos_weight=None if pw is None else tt(pw))

    lo, to = _run(lf, tf, [X * 30, t], [True, True])
    assert lo.grad_fn.name() == to.grad_fn.name()


@pytest.mark.parametrize("reduction", REDS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    target = np.log(P[::-1]) if log_target else P[::-1].copy()
    lo, to = _run(lambda a, b: L.kl_div(a, b, reduction=reduction, log_target=log_target),
                  lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target),
                  [np.log(P), target], [True, True])
    assert lo.grad_fn.name() == to.grad_fn.name()


def test_kl_div_zero_target_contributes_zero():
    q = P[::-1].copy()
    q[0, 0] = 0.0
    x = lt(np.log(P), True)
    out = L.kl_div(x, lt(q), reduction="none")
    assert_close(out, TF.kl_div(tt(np.log(P)), tt(q), reduction="none"))
    assert out[0, 0].item() == 0.0
    out.sum().backward()
    assert x.grad[0, 0].item() == 0.0


def test_kl_div_mean_warns_like_torch():
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        L.kl_div(lt(np.log(P)), lt(P))


SIGNS = np.array([1, -1, 1, -1, 1, 1], np.float32)


@pytest.mark.parametrize("reduction", REDS)
def test_margin_and_embedding_losses(reduction):
    _run(lambda a, b, c: L.cosine_embedding_loss(a, b, c, margin=0.1, reduction=reduction),
         lambda a, b, c: TF.cosine_embedding_loss(a, b, c, margin=0.1, reduction=reduction),
         [X, Y, SIGNS], [True, True, False])
    _run(lambda a, b, c: L.cosine_embedding_loss(a, b, c, reduction=reduction),
         lambda a, b, c: TF.cosine_embedding_loss(a, b, c, reduction=reduction),
         [X[0], Y[0], np.array(-1.0, np.float32)], [True, True, False])
    _run(lambda a, b, c: L.margin_ranking_loss(a, b, c, margin=0.2, reduction=reduction),
         lambda a, b, c: TF.margin_ranking_loss(a, b, c, margin=0.2, reduction=reduction),
         [X[:, 0].copy(), Y[:, 0].copy(), SIGNS], [True, True, False])
    _run(lambda a, b: L.hinge_embedding_loss(a, b, margin=0.5, reduction=reduction),
         lambda a, b: TF.hinge_embedding_loss(a, b, margin=0.5, reduction=reduction),
         [X, np.sign(Y)], [True, False])
    _run(lambda a, b: L.soft_margin_loss(a, b, reduction=reduction),
         lambda a, b: TF.soft_margin_loss(a, b, reduction=reduction), [X * 5, np.sign(Y)],
         [True, False])
    _run(lambda a, b, c: L.multilabel_soft_margin_loss(a, b, c, reduction=reduction),
         lambda a, b, c: TF.multilabel_soft_margin_loss(a, b, c, reduction=reduction),
         [X, (Y > 0).astype(np.float32), W], [True, False, False])
    _run(lambda a, b, c: L.triplet_margin_loss(a, b, c, reduction=reduction, swap=True),
         lambda a, b, c: TF.triplet_margin_loss(a, b, c, reduction=reduction, swap=True),
         [X, Y, Y[::-1].copy()], [True, True, True])
    for p in (1, 2):
        _run(lambda a, b, c: L.multi_margin_loss(a, b, p=p, weight=c, reduction=reduction),
             lambda a, b, c: TF.multi_margin_loss(a, b, p=p, weight=c, reduction=reduction),
             [X, T, W], [True, False, False])


@pytest.mark.parametrize("reduction", REDS)
def test_likelihood_losses(reduction):
    pos = np.abs(X) + 0.1
    counts = np.round(np.abs(Y) * 3).astype(np.float32)
    for log_input, full in ((True, False), (False, True), (True, True)):
        _run(lambda a, b: L.poisson_nll_loss(a, b, log_input, full, reduction=reduction),
             lambda a, b: TF.poisson_nll_loss(a, b, log_input, full, reduction=reduction),
             [pos, counts], [True, False])
    var = np.abs(Y) + 0.1
    _run(lambda a, b, c: L.gaussian_nll_loss(a, b, c, full=True, reduction=reduction),
         lambda a, b, c: TF.gaussian_nll_loss(a, b, c, full=True, reduction=reduction),
         [X, Y, var], [True, True, True])
    _run(lambda a, b, c: L.gaussian_nll_loss(a, b, c, reduction=reduction),
         lambda a, b, c: TF.gaussian_nll_loss(a, b, c, reduction=reduction),
         [X, Y, var[:, 0].copy()], [True, True, True])


@pytest.mark.parametrize("p", [1, 2, 3, float("inf")])
def test_pairwise_distance(p):
    lo, to = _run(lambda a, b: L.pairwise_distance(a, b, p=p),
                  lambda a, b: TF.pairwise_distance(a, b, p=p), [X, Y], [True, True])
    assert lo.grad_fn.name() == to.grad_fn.name()
    _run(lambda a, b: L.pairwise_distance(a, b, p=p, keepdim=True),
         lambda a, b: TF.pairwise_distance(a, b, p=p, keepdim=True), [X, Y[:1]], [True, True])


def test_cosine_similarity_and_normalize_with_zero_rows():
    z = X.copy()
    z[1] = 0.0
    for dim in (1, 0, -1):
        _run(lambda a, b: L.cosine_similarity(a, b, dim=dim),
             lambda a, b: TF.cosine_similarity(a, b, dim=dim), [z, Y], [True, True])
    _run(lambda a, b: L.cosine_similarity(a, b), lambda a, b: TF.cosine_similarity(a, b),
         [z, Y[:1]], [True, True])
    for p, dim in ((2, 1), (1, 0), (3, 1)):
        _run(lambda a: L.normalize(a, p=p, dim=dim), lambda a: TF.normalize(a, p=p, dim=dim),
             [z], [True])


# ------------------------------------------------------------------ float64 gradchecks
def _f64(a):
    return a.astype(np.float64)


GRADCHECKS = {
    "cross_entropy": lambda x: L.cross_entropy(x, lt(T[:4])),
    "cross_entropy_weighted_ignore": lambda x: L.cross_entropy(
        x, lt(T[:4]), weight=lt(_f64(W)), ignore_index=1),
    "cross_entropy_smooth": lambda x: L.cross_entropy(
        x, lt(T[:4]), weight=lt(_f64(W)), label_smoothing=0.3, reduction="sum"),
    "cross_entropy_none_4d": lambda x: L.cross_entropy(
        x.reshape(2, 5, 2, 1), lt(T[:4].reshape(2, 2, 1)), reduction="none"),
    "cross_entropy_probs": lambda x: L.cross_entropy(x, lt(_f64(P[:4])), label_smoothing=0.1),
    "nll_loss": lambda x: L.nll_loss(x, lt(T[:4]), weight=lt(_f64(W))),
    "mse_loss": lambda x: L.mse_loss(x, lt(_f64(Y[:4]))),
    "smooth_l1_loss": lambda x: L.smooth_l1_loss(x, lt(_f64(Y[:4])), beta=0.7),
    "huber_loss": lambda x: L.huber_loss(x, lt(_f64(Y[:4])), delta=0.7, reduction="sum"),
    "binary_cross_entropy": lambda x: L.binary_cross_entropy(
        x.sigmoid(), lt(_f64(np.abs(Y[:4]) / 3)), weight=lt(_f64(W))),
    "bce_with_logits": lambda x: L.binary_cross_entropy_with_logits(
        x, lt(_f64(np.abs(Y[:4]) / 3)), lt(_f64(W)), pos_weight=lt(_f64(W[::-1].copy()))),
    "kl_div": lambda x: L.kl_div(x, lt(_f64(P[:4])), reduction="batchmean"),
    "pairwise_distance_3": lambda x: L.pairwise_distance(x, lt(_f64(Y[:4])), p=3),
    "cosine_similarity": lambda x: L.cosine_similarity(x, lt(_f64(Y[:4]))),
    "normalize": lambda x: L.normalize(x),
}


@pytest.mark.parametrize("name", sorted(GRADCHECKS))
def test_gradcheck_float64(name):
    x = lt(_f64(X[:4]), True)
    assert lamina.autograd.gradcheck(GRADCHECKS[name], (x,))


def test_gradcheck_float64_target_and_weight_inputs():
    x = lt(_f64(X[:4]))
    t = lt(_f64(np.abs(Y[:4]) / 3), True)
    w = lt(_f64(W), True)
    pw = lt(_f64(W[::-1].copy()), True)
    assert lamina.autograd.gradcheck(
        lambda a, b, c: L.binary_cross_entropy_with_logits(x, a, b, pos_weight=c), (t, w, pw))
    probs = lt(_f64(P[:4]), True)
    assert lamina.autograd.gradcheck(lambda a: L.cross_entropy(x, a, label_smoothing=0.2),
                                     (probs,))
    with pytest.warns(UserWarning, match="different to the input size"):
        assert lamina.autograd.gradcheck(lambda a: L.mse_loss(x, a), (lt(_f64(Y[:1]), True),))


# ------------------------------------------------------------------ error paths
def _both(fn_l, fn_t, exc, match):
    with pytest.raises(exc, match=match):
        fn_t()
    with pytest.raises(exc, match=match):
        fn_l()


ERRORS = [
    ("ce batch", lambda m: m.cross_entropy(X, T[:3]), ValueError,
     r"Expected input batch_size \(6\) to match target batch_size \(3\)\."),
    ("ce int32", lambda m: m.cross_entropy(X, T.astype(np.int32)), RuntimeError,
     "expected target dtype to be Long or Byte, but got Int"),
    ("ce float N", lambda m: m.cross_entropy(X, T.astype(np.float32)), RuntimeError,
     "expected target dtype to be Long or Byte, but got Float"),
    ("ce oob", lambda m: m.cross_entropy(X, np.array([0, 1, 5, 1, 3, 2])), IndexError,
     "Target 5 is out of bounds."),
    ("ce neg", lambda m: m.cross_entropy(X, np.array([0, -1, 2, 1, 3, 2])), IndexError,
     "Target -1 is out of bounds."),
    ("ce 3d target", lambda m: m.cross_entropy(X3, T3[:, :3]), RuntimeError,
     r"Expected target size \[2, 4\], got \[2, 3\]"),
    ("ce weight", lambda m: m.cross_entropy(X, T, weight=W[:3]), RuntimeError,
     r"weight tensor should be defined either for all 5 classes or no classes but got weight "
     r"tensor of shape: \[3\]"),
    ("ce smoothing", lambda m: m.cross_entropy(X, T, label_smoothing=1.5), RuntimeError,
     "label_smoothing must be between 0.0 and 1.0. Got: 1.5"),
    ("ce reduction", lambda m: m.cross_entropy(X, T, reduction="avg"), ValueError,
     "avg is not a valid value for reduction"),
    ("ce multi-target", lambda m: m.cross_entropy(X, T.reshape(6, 1)), RuntimeError,
     "0D or 1D target tensor expected, multi-target not supported"),
    ("ce prob ignore", lambda m: m.cross_entropy(X, P, ignore_index=1), RuntimeError,
     "ignore_index is not supported for floating point target"),
    ("ce prob long", lambda m: m.cross_entropy(np.array(X[0, 0]), np.array(0)),
     RuntimeError,
     "Expected floating point type for target with class probabilities, got Long"),
    ("nll batch", lambda m: m.nll_loss(X, T[:3]), ValueError,
     r"Expected input batch_size \(6\) to match target batch_size \(3\)\."),
    ("mse shapes", lambda m: m.mse_loss(X, Y[:3, :1]), RuntimeError,
     r"The size of tensor a \(6\) must match the size of tensor b \(3\) at non-singleton "
     r"dimension 0"),
    ("mse reduction", lambda m: m.mse_loss(X, Y, reduction="bad"), ValueError,
     "bad is not a valid value for reduction"),
    ("l1 reduction", lambda m: m.l1_loss(X, Y, reduction="bad"), ValueError,
     "bad is not a valid value for reduction"),
    ("bce range", lambda m: m.binary_cross_entropy(X, np.abs(Y) / 9), RuntimeError,
     "all elements of input should be between 0 and 1"),
    ("bce size", lambda m: m.binary_cross_entropy(P, P[:, :1]), ValueError,
     "is different to the input size"),
    ("bcel size", lambda m: m.binary_cross_entropy_with_logits(X, P[:, :1]), ValueError,
     "must be the same as input size"),
    ("smooth_l1 beta", lambda m: m.smooth_l1_loss(X, Y, beta=-1.0), RuntimeError,
     "smooth_l1_loss does not support negative values for beta."),
    ("huber delta", lambda m: m.huber_loss(X, Y, delta=0.0), RuntimeError,
     "huber_loss does not support non-positive values for delta."),
    ("weight size", lambda m: m.mse_loss(X, Y, weight=W), ValueError,
     "Weights and input must have the same size."),
    ("cos target", lambda m: m.cosine_embedding_loss(X, Y, SIGNS.reshape(6, 1)), RuntimeError,
     "0D or 1D target tensor expected, multi-target not supported"),
    ("cos dims", lambda m: m.cosine_embedding_loss(X, Y, np.array(1.0, np.float32)),
     RuntimeError, r"0D target tensor expects 1D input tensors, but found inputs with sizes "
                   r"\[6, 5\] and \[6, 5\]\."),
    ("ranking dims", lambda m: m.margin_ranking_loss(X, Y, SIGNS), RuntimeError,
     "margin_ranking_loss : All input tensors should have same dimension"),
    ("triplet margin", lambda m: m.triplet_margin_loss(X, Y, Y, margin=0.0), ValueError,
     "margin must be greater than 0, got 0.0"),
    ("multi margin p", lambda m: m.multi_margin_loss(X, T, p=3), ValueError,
     "only p == 1 and p == 2 supported"),
    ("gaussian var", lambda m: m.gaussian_nll_loss(X, Y, np.abs(Y[:, :2])), ValueError,
     "var is of incorrect size"),
]


class _Api:
    """fn(m) with m = lamina's or torch's functional namespace; arrays become tensors."""

    def __init__(self, mod, conv):
        self.mod, self.conv = mod, conv

    def __getattr__(self, name):
        f = getattr(self.mod, name)

        def call(*args, **kw):
            args = [self.conv(a) if isinstance(a, np.ndarray) else a for a in args]
            kw = {k: self.conv(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
            return f(*args, **kw)

        return call


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_match_torch(case):
    _, fn, exc, match = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _both(lambda: fn(_Api(L, lt)), lambda: fn(_Api(TF, tt)), exc, match)


def test_broadcasting_target_warns_like_torch():
    with pytest.warns(UserWarning, match="Using a target size .* that is different to the "
                                         "input size"):
        L.mse_loss(lt(X), lt(Y[:1]))


def test_legacy_size_average_and_reduce():
    with pytest.warns(UserWarning, match="reduction='sum' instead"):
        out = L.mse_loss(lt(X), lt(Y), size_average=False)
    assert_close(out, TF.mse_loss(tt(X), tt(Y), reduction="sum"))
    with pytest.warns(UserWarning, match="reduction='none' instead"):
        out = L.cross_entropy(lt(X), lt(T), reduce=False)
    assert tuple(out.shape) == (6,)


def test_losses_keep_float32_and_promote_integer_targets():
    out = L.mse_loss(lt(X), lamina.ones(6, 5, dtype=lamina.int64))
    assert out.dtype == lamina.float32
    assert_close(out, TF.mse_loss(tt(X), torch.ones(6, 5, dtype=torch.int64)))
    assert L.cross_entropy(lt(X), lt(T)).dtype == lamina.float32
    assert L.cross_entropy(lt(X.astype(np.float64)), lt(T)).dtype == lamina.float64


# ------------------------------------------------------------------ devices
def _host(t):
    a = t.detach()._data
    return a.get() if hasattr(a, "get") else np.asarray(a)


DEVICE_CASES = [
    lambda x, d: L.cross_entropy(x, lt(T).to(d)),
    lambda x, d: L.cross_entropy(x, lt(T).to(d), weight=lt(W).to(d), ignore_index=2,
                                 label_smoothing=0.1),
    lambda x, d: L.cross_entropy(x, lt(P).to(d)),
    lambda x, d: L.nll_loss(x.log_softmax(1) if hasattr(x, "log_softmax") else x, lt(T).to(d)),
    lambda x, d: L.mse_loss(x, lt(Y).to(d)),
    lambda x, d: L.smooth_l1_loss(x, lt(Y).to(d), reduction="none"),
    lambda x, d: L.huber_loss(x, lt(Y).to(d), reduction="sum"),
    lambda x, d: L.binary_cross_entropy(x.sigmoid(), lt(P).to(d)),
    lambda x, d: L.binary_cross_entropy_with_logits(x, lt(P).to(d), pos_weight=lt(W).to(d)),
    lambda x, d: L.kl_div(x, lt(P).to(d), reduction="batchmean"),
    lambda x, d: L.cosine_similarity(x, lt(Y).to(d)),
    lambda x, d: L.pairwise_distance(x, lt(Y).to(d), p=3),
]


@pytest.mark.parametrize("backend", ["device", "fake_cupy"])
def test_losses_run_on_the_device(backend, request):
    if backend == "fake_cupy":
        request.getfixturevalue("fake_cupy")
        dev = lamina.device("cuda:0")
    else:
        dev = request.getfixturevalue("device")
    for k, fn in enumerate(DEVICE_CASES):
        outs = []
        for d in (lamina.device("cpu"), dev):
            x = lt(X).to(d).requires_grad_()
            o = fn(x, d)
            o.sum().backward()
            assert o.device == d and x.grad.device == d
            outs.append((_host(o), _host(x.grad)))
        np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-5, atol=1e-6,
                                   err_msg=f"case {k}")
        np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=1e-5, atol=1e-6,
                                   err_msg=f"case {k}")


@pytest.mark.parametrize("x", [X, X[0], X[:, :1], X4], ids=["2d", "1d", "one-class", "4d"])
def test_losses_never_modify_their_inputs(x):
    t = {2: T, 1: np.array(0), 4: T4}[x.ndim] if x.shape[-1] != 1 else np.zeros(6, np.int64)
    lx = lt(x)
    L.cross_entropy(lx, lt(t), label_smoothing=0.1)
    if x.ndim > 1:
        L.nll_loss(lx, lt(t))
    np.testing.assert_array_equal(npy(lx), x)
