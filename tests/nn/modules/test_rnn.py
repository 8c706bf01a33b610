"""nn.RNN / LSTM / GRU and the cells against torch: parameter names, shapes and default init
(same seed, same weights), reprs, state_dicts both ways, outputs, final states and the
gradients of the input, the initial states and every weight (float32), in every option
(layers, bias, batch_first, bidirectional, proj_size, initial states, unbatched input,
packed sequences), dropout between layers, and torch's errors for wrong shapes."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
import torch

import lamina
from lamina import nn
from tests.oracle_helpers import assert_close, lt, npy, tt

TOL = dict(rtol=2e-4, atol=2e-5)

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")


def make_pair(kind, *args, seed=0, dtype=None, **kw):
    torch.manual_seed(seed)
    t = getattr(torch.nn, kind)(*args, **kw)
    m = getattr(nn, kind)(*args, **kw)
    m.load_state_dict({k: lt(npy(v)) for k, v in t.state_dict().items()})
    if dtype == "float64":
        t.double()
        m.double()
    return m, t


def _flat(out):
    """The tensors of a recurrent module's output, in a fixed order."""
    if isinstance(out, (nn.utils.rnn.PackedSequence, torch.nn.utils.rnn.PackedSequence)):
        return [out.data]
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res += _flat(o)
        return res
    return [out]


def compare(m, t, x, hx=None, *, tol=TOL, packed=None):
    """Run both modules on copies of ``x`` (and ``hx``), compare outputs, then backprop the
    same random weighting of every output and compare all gradients."""
    xm = lt(x, requires_grad=True)
    xt = tt(x, requires_grad=True)
    hm = ht = None
    if hx is not None:
        if isinstance(hx, tuple):
            hm = tuple(lt(h, requires_grad=True) for h in hx)
            ht = tuple(tt(h, requires_grad=True) for h in hx)
        else:
            hm = lt(hx, requires_grad=True)
            ht = tt(hx, requires_grad=True)
    im, it = xm, xt
    if packed is not None:
        lengths, enforce = packed
        im = nn.utils.rnn.pack_padded_sequence(xm, lengths, batch_first=m.batch_first,
                                               enforce_sorted=enforce)
        it = torch.nn.utils.rnn.pack_padded_sequence(xt, lengths, batch_first=t.batch_first,
                                                     enforce_sorted=enforce)
    om = _flat(m(im, hm))
    ot = _flat(t(it, ht))
    assert len(om) == len(ot)
    rng = np.random.default_rng(5)
    lm = 0
    ltt = 0
    for a, b in zip(om, ot):
        assert_close(a, b, **tol)
        w = rng.standard_normal(tuple(b.shape)).astype(npy(b).dtype)
        lm = lm + (a * lt(w)).sum()
        ltt = ltt + (b * tt(w)).sum()
    lm.backward()
    ltt.backward()
    assert_close(xm.grad, xt.grad, **tol, msg="input grad")
    if hx is not None:
        for a, b in zip(hm if isinstance(hm, tuple) else (hm,),
                        ht if isinstance(ht, tuple) else (ht,)):
            assert_close(a.grad, b.grad, **tol, msg="hx grad")
    tp = dict(t.named_parameters())
    for name, p in m.named_parameters():
        assert_close(p.grad, tp[name].grad, **tol, msg=name)


CONFIGS = [
    {},
    {"num_layers": 2},
    {"bias": False},
    {"batch_first": True},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True, "batch_first": True},
]


def _x(shape, seed=1, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("kind,extra", [("RNN", {}), ("RNN", {"nonlinearity": "relu"}),
                                        ("LSTM", {}), ("GRU", {})])
@pytest.mark.parametrize("cfg", CONFIGS)
def test_matches_torch(kind, extra, cfg):
    m, t = make_pair(kind, 4, 6, **extra, **cfg)
    shape = (3, 5, 4) if cfg.get("batch_first") else (5, 3, 4)
    compare(m, t, _x(shape))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_initial_states(kind):
    m, t = make_pair(kind, 4, 6, num_layers=2, bidirectional=True)
    x = _x((5, 3, 4))
    h = _x((4, 3, 6), seed=2)
    hx = (h, _x((4, 3, 6), seed=3)) if kind == "LSTM" else h
    compare(m, t, x, hx)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched(kind, batch_first):
    m, t = make_pair(kind, 4, 6, num_layers=2, batch_first=batch_first)
    x = _x((5, 4))
    compare(m, t, x)
    h = _x((2, 6), seed=2)
    compare(m, t, x, (h, _x((2, 6), seed=3)) if kind == "LSTM" else h)


@pytest.mark.parametrize("cfg", [{}, {"num_layers": 2, "bidirectional": True},
                                 {"bias": False, "batch_first": True}])
def test_lstm_proj_size(cfg):
    m, t = make_pair("LSTM", 4, 8, proj_size=3, **cfg)
    assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    shape = (3, 5, 4) if cfg.get("batch_first") else (5, 3, 4)
    compare(m, t, _x(shape))
    nd = 2 if cfg.get("bidirectional") else 1
    L = cfg.get("num_layers", 1) * nd
    compare(m, t, _x(shape), (_x((L, 3, 3), seed=2), _x((L, 3, 8), seed=3)))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("enforce", [True, False])
@pytest.mark.parametrize("cfg", [{}, {"num_layers": 2, "bidirectional": True},
                                 {"batch_first": True, "bidirectional": True}])
def test_packed_sequence_input(kind, enforce, cfg):
    m, t = make_pair(kind, 4, 6, **cfg)
    lengths = [5, 4, 2, 1] if enforce else [2, 5, 1, 4]
    shape = (4, 5, 4) if cfg.get("batch_first") else (5, 4, 4)
    compare(m, t, _x(shape), packed=(lengths, enforce))
    L = cfg.get("num_layers", 1) * (2 if cfg.get("bidirectional") else 1)
    h = _x((L, 4, 6), seed=2)
    compare(m, t, _x(shape), (h, _x((L, 4, 6), seed=3)) if kind == "LSTM" else h,
            packed=(lengths, enforce))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_float64(kind):
    m, t = make_pair(kind, 3, 4, num_layers=2, bidirectional=True, dtype="float64")
    compare(m, t, _x((4, 2, 3), dtype=np.float64), tol=dict(rtol=1e-9, atol=1e-10))


@pytest.mark.parametrize("kind,args", [("RNN", (3, 4)), ("LSTM", (3, 4)), ("GRU", (3, 4)),
                                       ("RNN", (3, 4, 2, "relu", False, True, 0.1, True)),
                                       ("LSTM", (3, 4, 2, True, True, 0.0, True, 2))])
def test_names_shapes_init_repr(kind, args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(3)
        t = getattr(torch.nn, kind)(*args)
        lamina.manual_seed(3)
        m = getattr(nn, kind)(*args)
    assert repr(m) == repr(t)
    tp = list(t.named_parameters())
    mp = list(m.named_parameters())
    assert [n for n, _ in mp] == [n for n, _ in tp]
    for (_, a), (_, b) in zip(mp, tp):
        np.testing.assert_array_equal(npy(a), npy(b))
    assert m._flat_weights_names == t._flat_weights_names
    assert [[n for n in w] for w in m._all_weights] == t._all_weights
    assert [[tuple(p.shape) for p in w] for w in m.all_weights] == \
        [[tuple(p.shape) for p in w] for w in t.all_weights]
    m.flatten_parameters()


@pytest.mark.parametrize("kind,kw", [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}),
                                     ("RNNCell", {"bias": False}), ("LSTMCell", {}),
                                     ("LSTMCell", {"bias": False}), ("GRUCell", {}),
                                     ("GRUCell", {"bias": False})])
def test_cells(kind, kw):
    torch.manual_seed(4)
    t = getattr(torch.nn, kind)(5, 7, **kw)
    lamina.manual_seed(4)
    m = getattr(nn, kind)(5, 7, **kw)
    assert repr(m) == repr(t)
    for (a, pa), (b, pb) in zip(m.named_parameters(), t.named_parameters()):
        assert a == b
        np.testing.assert_array_equal(npy(pa), npy(pb))
    x = _x((3, 5))
    h = _x((3, 7), seed=2)
    hx = (h, _x((3, 7), seed=3)) if kind == "LSTMCell" else h
    compare(m, t, x)
    compare(m, t, x, hx)
    # unbatched
    compare(m, t, x[0], tuple(a[0] for a in hx) if kind == "LSTMCell" else h[0])


def test_state_dict_round_trip_both_ways():
    torch.manual_seed(0)
    t = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)
    buf = io.BytesIO()
    torch.save(t.state_dict(), buf)
    buf.seek(0)
    m = nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)
    m.load_state_dict(lamina.load(buf))
    for (a, pa), (b, pb) in zip(m.state_dict().items(), t.state_dict().items()):
        assert a == b
        np.testing.assert_array_equal(npy(pa), npy(pb))
    m2 = nn.GRU(3, 4, 2)
    buf = io.BytesIO()
    lamina.save(m2.state_dict(), buf)
    buf.seek(0)
    t2 = torch.nn.GRU(3, 4, 2)
    t2.load_state_dict(torch.load(buf, weights_only=True))
    x = _x((4, 2, 3))
    assert_close(m2(lt(x))[0], t2(tt(x))[0], **TOL)


def test_whole_model_save_load(tmp_path):
    m = nn.LSTM(3, 4, 2)
    p = tmp_path / "m.pt"
    lamina.save(m, p)
    m2 = lamina.load(p, weights_only=False)
    assert type(m2) is lamina.nn.modules.rnn.LSTM
    x = lamina.randn(2, 1, 3)
    assert_close(m2(x)[0], m(x)[0])


def test_dropout_between_layers_train_and_eval():
    lamina.manual_seed(0)
    m = nn.LSTM(20, 200, num_layers=2, dropout=0.5)
    x = lamina.randn(3, 4, 20)
    m.eval()
    a = m(x)[0]
    b = m(x)[0]
    assert_close(a, b)
    m.train()
    c = m(x)[0]
    d = m(x)[0]
    assert not np.allclose(npy(c), npy(d))
    # statistically right: with p=1 the second layer sees only zeros (its output then
    # depends on the biases alone, the same for every batch element and step input)
    m1 = nn.RNN(4, 6, num_layers=2, dropout=1.0)
    m1.train()
    y = npy(m1(lamina.randn(1, 3, 4))[0])
    np.testing.assert_allclose(y[0, 0], y[0, 1], rtol=1e-6)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)


def _err(fn):
    with pytest.raises(Exception) as e:
        fn()
    return type(e.value), str(e.value)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_errors_match_torch(kind):
    m, t = make_pair(kind, 4, 6, num_layers=2)
    lstm = kind == "LSTM"
    cases = [
        (_x((5, 3, 5)), None),  # wrong input size
        (_x((2, 5, 3, 4)), None),  # 4-D input
        (_x((5, 3, 4)), (_x((1, 3, 6)), _x((2, 3, 6))) if lstm else _x((1, 3, 6))),
        (_x((5, 3, 4)), (_x((2, 3, 6)), _x((2, 2, 6))) if lstm else _x((2, 2, 6))),
        (_x((5, 3, 4)), (_x((3, 6)), _x((3, 6))) if lstm else _x((3, 6))),
        (_x((5, 4)), (_x((2, 1, 6)), _x((2, 1, 6))) if lstm else _x((2, 1, 6))),
    ]
    for x, h in cases:
        hm = None if h is None else (tuple(lt(a) for a in h) if lstm else lt(h))
        ht = None if h is None else (tuple(tt(a) for a in h) if lstm else tt(h))
        em = _err(lambda: m(lt(x), hm))
        et = _err(lambda: t(tt(x), ht))
        assert em == et
    assert _err(lambda: m(lt(_x((5, 3, 4), dtype=np.float64))))[0] is ValueError


def test_constructor_errors_match_torch():
    for args, kw in [((4, 0), {}), ((4, 5), {"num_layers": 0}), ((4, 5), {"dropout": 1.5}),
                     ((4, 5), {"bias": 1}), ((4, 5), {"proj_size": 5}),
                     ((4.0, 5), {})]:
        assert _err(lambda: nn.LSTM(*args, **kw)) == _err(lambda: torch.nn.LSTM(*args, **kw))
    assert _err(lambda: nn.GRU(4, 5, proj_size=2)) == _err(lambda: torch.nn.GRU(4, 5,
                                                                                 proj_size=2))
    assert _err(lambda: nn.RNN(4, 5, nonlinearity="gelu")) == \
        _err(lambda: torch.nn.RNN(4, 5, nonlinearity="gelu"))


def test_module_paths():
    from lamina.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # noqa: F401

    assert nn.LSTM is LSTM and nn.modules.LSTM is LSTM
    assert LSTM.__module__ == "lamina.nn.modules.rnn"


@pytest.mark.parametrize("kind,args", [("RNN", (6, 2, "relu")), ("LSTM", (6,)),
                                       ("GRU", (6, 2, True, False, 0.0, True))])
def test_lazy_recurrent_layers(kind, args):
    x = lamina.randn(5, 3, 4)
    m = getattr(nn, "Lazy" + kind)(*args)
    assert m.input_size == 0 and m.has_uninitialized_params()
    opt = lamina.optim.SGD(m.parameters(), lr=0.1)
    params = list(m.parameters())
    lamina.manual_seed(7)
    out = m(x)
    assert type(m) is getattr(nn, kind) and m.input_size == 4
    assert list(m.parameters()) == params  # same objects: the optimizer keeps working
    lamina.manual_seed(7)
    ref = getattr(nn, kind)(4, *args)
    assert repr(m) == repr(ref)
    for (a, pa), (b, pb) in zip(m.named_parameters(), ref.named_parameters()):
        assert a == b
        np.testing.assert_array_equal(npy(pa), npy(pb))
    assert_close(_flat(out)[0], _flat(ref(x))[0])
    _flat(out)[0].sum().backward()
    opt.step()


def test_lazy_lstm_from_checkpoint_and_packed_input():
    src = nn.LSTM(3, 5, 2, proj_size=2)
    m = nn.LazyLSTM(5, 2, proj_size=2)
    m.load_state_dict(src.state_dict())
    assert type(m) is nn.LSTM and m.input_size == 3
    x = lamina.randn(4, 2, 3)
    assert_close(m(x)[0], src(x)[0])
    bad = nn.LazyLSTM(6, 2, proj_size=2)
    with pytest.raises(RuntimeError, match="size mismatch for weight_hh_l0"):
        bad.load_state_dict(src.state_dict())
    assert bad.has_uninitialized_params()
    g = nn.LazyGRU(4)
    p = nn.utils.rnn.pack_sequence([lamina.randn(3, 2), lamina.randn(1, 2)])
    out, h = g(p)
    assert g.input_size == 2 and tuple(out.data.shape) == (4, 4)


def _run_on(dev, kind, packed):
    lamina.manual_seed(0)
    m = getattr(nn, kind)(3, 5, 2, bidirectional=True).to(dev)
    x = lamina.from_numpy(_x((4, 3, 3))).to(dev).requires_grad_()
    inp = nn.utils.rnn.pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False) if packed \
        else x
    out, h = m(inp)
    outs = _flat((out, h))
    sum(o.sum() * (k + 1) for k, o in enumerate(outs)).backward()
    res = [npy(o) for o in outs] + [npy(x.grad)] + [npy(p.grad) for p in m.parameters()]
    assert all(o.device == lamina.device(dev) for o in outs)
    return res


def _same_as_cpu(dev):
    for kind in ("RNN", "LSTM", "GRU"):
        for packed in (False, True):
            for a, b in zip(_run_on(dev, kind, packed), _run_on("cpu", kind, packed)):
                np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_on_fake_cupy(fake_cupy):
    _same_as_cpu("cuda:0")


def test_on_device_under_test(device):
    _same_as_cpu(str(device))
