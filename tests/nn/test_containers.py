"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict against torch."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import lamina
from lamina import nn

from .test_module import classes


def both(fn):
    return fn(torch), fn(lamina)


def names(m):
    return [n for n, _ in m.named_modules()], [n for n, _ in m.named_parameters()]


def same(t, m):
    assert repr(m) == repr(t)
    assert names(m) == names(t)
    assert list(m.state_dict()) == list(t.state_dict())


def seq(lib, n=4):
    Lin, Act = classes(lib)[:2]
    mods = []
    for i in range(n):
        mods.append(Lin(i + 2, i + 3))
        mods.append(Act())
    return lib.nn.Sequential(*mods)


# ---------------------------------------------------------------------------- Sequential
def test_sequential_construction_and_forward():
    same(*both(seq))
    same(*both(lambda lib: lib.nn.Sequential(OrderedDict(
        hidden=classes(lib)[0](2, 3), activation=classes(lib)[1]()))))
    m = seq(lamina, 2)
    x = lamina.randn(5, 2)
    manual = x
    for layer in m:
        manual = layer(manual)
    np.testing.assert_array_equal(m(x).detach().numpy(), manual.detach().numpy())
    assert nn.Sequential()(x) is x


def test_sequential_indexing():
    t, m = both(seq)
    assert len(m) == len(t) == 8
    assert m[0] is list(m)[0] and m[-1] is list(m)[-1]
    for sl in (slice(1, 5), slice(None, None, 2), slice(-3, None), slice(5, 1)):
        same(t[sl], m[sl])
        assert type(m[sl]) is nn.Sequential
    for bad in (8, -9):
        with pytest.raises(IndexError) as el:
            m[bad]
        with pytest.raises(IndexError) as et:
            t[bad]
        assert str(el.value) == str(et.value)
    with pytest.raises(TypeError):
        m["0"]


def test_sequential_setitem_delitem_renumbers():
    def run(lib):
        s = seq(lib)
        Act = classes(lib)[1]
        s[1] = Act()
        s[-1] = lib.nn.Sequential()
        del s[2]
        del s[-1]
        del s[0:2]
        del s[::2]
        return s

    same(*both(run))


def test_sequential_append_insert_extend_pop():
    def run(lib):
        s = seq(lib, 2)
        Lin, Act = classes(lib)[:2]
        s.append(Lin(9, 9))
        s.insert(0, Act())
        s.insert(-1, Lin(1, 1))
        s.insert(len(s), Act())
        s.extend([Act(), Lin(7, 7)])
        p = s.pop(2)
        q = s.pop(-1)
        return s, repr(p), repr(q)

    (t, tp, tq), (m, lp, lq) = both(run)
    same(t, m)
    assert (tp, tq) == (lp, lq)
    with pytest.raises(IndexError, match="Index out of range: 99"):
        m.insert(99, nn.Module())
    with pytest.raises(AssertionError):
        m.insert(0, 3)
    assert m.append(nn.Module()) is m and m.extend([]) is m


def test_sequential_add_mul():
    def run(lib):
        a, b = seq(lib, 1), seq(lib, 2)
        c = a + b
        a += b
        d = b * 2
        e = 2 * b
        b *= 3
        return a, c, d, e, b

    for t, m in zip(*both(run)):
        same(t, m)
    s = seq(lamina, 1)
    d = s * 2
    assert d[0] is d[2]  # the same module objects are repeated, as in torch
    assert len(list(d.parameters())) == 2
    for bad in (lambda: s + nn.ModuleList(), lambda: s.__iadd__(3)):
        with pytest.raises(ValueError, match="add operator supports only objects of Sequential"):
            bad()
    with pytest.raises(TypeError, match="unsupported operand"):
        s * 1.5
    with pytest.raises(ValueError, match="Non-positive multiplication factor 0"):
        s * 0
    with pytest.raises(ValueError, match="Non-positive multiplication factor"):
        s *= -1


def test_sequential_nesting_repr_and_indexing():
    def run(lib):
        Lin, Act = classes(lib)[:2]
        s1 = lib.nn.Sequential(Lin(15, 10), Act(), Lin(10, 5))
        s2 = lib.nn.Sequential(Lin(25, 15), Act(), Lin(15, 10))
        return lib.nn.Sequential(s1, s2)

    t, m = both(run)
    same(t, m)
    assert repr(m[1]) == repr(t[1]) and repr(m[0][1]) == repr(t[0][1])
    assert [repr(x) for s in m for x in s] == [repr(x) for s in t for x in s]


def test_sequential_dir_hides_digits():
    m = seq(lamina, 1)
    assert "0" not in dir(m) and "append" in dir(m)


def test_sequential_deepcopy_pickle():
    m = nn.Sequential(nn.Sequential(), nn.Module())
    shared = nn.Sequential()
    m.append(shared).append(shared)
    for c in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert repr(c) == repr(m) and c[2] is c[3]
        del c[0]
        assert [n for n, _ in c.named_children()] == ["0", "1"]


# ---------------------------------------------------------------------------- ModuleList
def mlist(lib, n=3, same_blocks=True):
    Lin = classes(lib)[0]
    return lib.nn.ModuleList([Lin(4, 4) if same_blocks else Lin(4, i + 1) for i in range(n)])


def test_modulelist_repr_compresses_repeats_like_torch():
    same(*both(mlist))
    same(*both(lambda lib: mlist(lib, same_blocks=False)))
    same(*both(lambda lib: lib.nn.ModuleList()))

    def mixed(lib):
        Lin, Act = classes(lib)[:2]
        inner = lib.nn.ModuleList([Lin(2, 2), Lin(2, 2), Act(), Lin(2, 2), Lin(2, 2), Lin(2, 2)])
        return lib.nn.Sequential(inner, lib.nn.ModuleList([inner, Act(), Act()]))

    same(*both(mixed))
    t, m = both(mixed)
    assert "(0-1): 2 x Lin(in_features=2, out_features=2, bias=True)" in repr(m)
    assert "(3-5): 3 x Lin(" in repr(m)


def test_modulelist_operations():
    def run(lib):
        Lin, Act = classes(lib)[:2]
        ml = mlist(lib, same_blocks=False)
        ml.append(Act())
        ml.extend([Lin(1, 1), Act()])
        ml += [Lin(2, 2)]
        ml.insert(1, Lin(5, 5))
        ml[0] = Act()
        ml[-1] = Lin(3, 3)
        del ml[2]
        del ml[1:3]
        popped = ml.pop(0)
        both_ = ml + lib.nn.ModuleList([Act()])
        sl = ml[1:3]
        return ml, both_, sl, repr(popped), repr(ml[-2])

    (t, tb, ts, tp, tr), (m, lb, ls, lp, lr) = both(run)
    same(t, m)
    same(tb, lb)
    same(ts, ls)
    assert (tp, tr) == (lp, lr)
    assert type(ls) is nn.ModuleList and len(m) == len(t)
    for bad in (10, -11):
        with pytest.raises(IndexError) as el:
            m[bad]
        with pytest.raises(IndexError) as et:
            t[bad]
        assert str(el.value) == str(et.value)
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
        m.extend(3)
    with pytest.raises(NotImplementedError, match='Module \\[ModuleList\\] is missing'):
        m(1)


def test_modulelist_parameters_and_iteration():
    ml = mlist(lamina, 3)
    assert len(list(ml.parameters())) == 6
    assert [type(x).__name__ for x in ml] == ["Lin"] * 3
    assert [n for n, _ in ml.named_parameters()][:2] == ["0.weight", "0.bias"]


# ---------------------------------------------------------------------------- ModuleDict
def test_moduledict_api_like_torch():
    def run(lib):
        Lin, Act = classes(lib)[:2]
        md = lib.nn.ModuleDict({"b": Lin(2, 2), "a": Act()})
        md["c"] = Lin(3, 3)
        md.update([("d", Act()), ("b", Lin(4, 4))])
        md.update(lib.nn.ModuleDict({"e": Act()}))
        del md["a"]
        popped = md.pop("d")
        info = (list(md.keys()), [type(v).__name__ for v in md.values()],
                [k for k, _ in md.items()], list(md), "c" in md, "zz" in md, len(md),
                repr(popped))
        return md, info

    (t, ti), (m, li) = both(run)
    same(t, m)
    assert ti == li
    m.clear()
    assert len(m) == 0 and repr(m) == "ModuleDict()" and not hasattr(m, "c")
    with pytest.raises(TypeError, match="ModuleDict.update should be called with an iterable"):
        m.update(3)
    with pytest.raises(ValueError, match="has length 3; 2 is required"):
        m.update([("a", nn.Module(), 1)])
    with pytest.raises(TypeError, match="should be Iterable; is"):
        m.update([3])
    with pytest.raises(KeyError):
        m["nope"]


# ---------------------------------------------------------------------------- ParameterList
def _t(s):
    return s.replace("lamina.", "torch.")


def test_parameterlist_like_torch():
    def run(lib):
        pl = lib.nn.ParameterList([lib.nn.Parameter(lib.zeros(2, 3)), lib.ones(4)])
        pl.append(lib.zeros(1, dtype=lib.float64))
        pl.extend([lib.nn.Parameter(lib.zeros(2), requires_grad=False)])
        pl += [lib.zeros(5)]
        pl.append("not a tensor")
        pl[1] = lib.zeros(7)
        return pl

    t, m = both(run)
    assert _t(repr(m)) == repr(t)
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert len(m) == len(t) == 6
    assert isinstance(m[0], nn.Parameter) and m[5] == "not a tensor"
    assert isinstance(m[1], nn.Parameter) and tuple(m[1].shape) == (7,)
    assert m[1].requires_grad and not m[3].requires_grad
    assert type(m[1:3]) is nn.ParameterList and len(m[1:3]) == 2 and m[1:3][0] is m[1]
    assert list(m)[2] is m[2] and m[-1] == m[5]
    assert _t(repr(nn.ParameterList())) == repr(torch.nn.ParameterList())
    with pytest.raises(TypeError, match="ParameterList.extend should be called with an iterable"):
        m.extend(lamina.zeros(2))
    with pytest.raises(RuntimeError, match="ParameterList should not be called."):
        m()
    with pytest.raises(IndexError, match="index 6 is out of range"):
        m[6]


def test_parameterlist_in_module_trains():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.ps = nn.ParameterList([nn.Parameter(lamina.ones(2)) for _ in range(3)])

        def forward(self, x):
            for p in self.ps:
                x = x * p
            return x

    m = M()
    m(lamina.full((2,), 2.0)).sum().backward()
    assert [n for n, _ in m.named_parameters()] == ["ps.0", "ps.1", "ps.2"]
    assert all(p.grad.tolist() == [2.0, 2.0] for p in m.parameters())
    assert list(m.state_dict()) == ["ps.0", "ps.1", "ps.2"]


# ---------------------------------------------------------------------------- ParameterDict
def test_parameterdict_like_torch():
    def run(lib):
        pd = lib.nn.ParameterDict({"b": lib.zeros(2), "a": lib.nn.Parameter(lib.ones(3, 1))})
        pd["c"] = lib.zeros(1, dtype=lib.float64)
        pd.update(OrderedDict(z=lib.zeros(2), y=lib.zeros(1)))
        pd.update([("x", lib.zeros(1)), ("obj", 5)])
        pd.setdefault("w", lib.ones(1))
        pd.setdefault("c", lib.ones(9))
        del pd["y"]
        popped = pd.pop("z")
        last = pd.popitem()
        info = (list(pd.keys()), list(pd), len(pd), "a" in pd, pd.get("nope", 3),
                tuple(popped.shape), last[0], list(reversed(pd)),
                [k for k, _ in pd.items()], len(list(pd.values())))
        return pd, info

    (t, ti), (m, li) = both(run)
    assert _t(repr(m)) == repr(t)
    assert ti == li
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    c = m.copy()
    assert c["a"] is m["a"] and list(c) == list(m)
    u = m | nn.ParameterDict({"new": lamina.zeros(1)})
    assert list(u)[-1] == "new" and "new" not in m
    m |= {"k": lamina.zeros(1)}
    assert "k" in m
    f = m.fromkeys(["p", "q"], lamina.zeros(1))
    assert list(f) == ["p", "q"]
    m.clear()
    assert len(m) == 0 and list(m.named_parameters()) == []
    with pytest.raises(TypeError, match="cannot be used as a key as it is not a string"):
        m[1] = lamina.zeros(1)
    with pytest.raises(RuntimeError, match="ParameterDict should not be called."):
        m(1)
    with pytest.raises(ValueError, match="2 is required"):
        m.update([("a", 1, 2)])


# ---------------------------------------------------------------------------- with real layers
def real_mlp(lib):
    N = lib.nn
    blocks = N.ModuleList([N.Linear(16, 16) for _ in range(3)] + [N.ReLU(), N.ReLU()])
    return N.Sequential(OrderedDict(
        inp=N.Linear(8, 16, bias=False), act=N.ReLU(), blocks=blocks,
        head=N.Sequential(N.Dropout(0.1), N.Linear(16, 4)),
        heads=N.ModuleDict({"a": N.Linear(4, 2), "b": N.Identity()})))


def test_real_layers_names_state_dict_and_repr_match_torch():
    t, m = both(real_mlp)
    same(t, m)
    assert "(0-2): 3 x Linear(in_features=16, out_features=16, bias=True)" in repr(m)
    assert "(3-4): 2 x ReLU()" in repr(m)
    assert dict(m.state_dict()._metadata) == dict(t.state_dict()._metadata)
    assert [tuple(p.shape) for p in m.parameters()] == [tuple(p.shape) for p in t.parameters()]


def test_real_layers_forward_parity_with_copied_weights():
    t, m = both(lambda lib: lib.nn.Sequential(lib.nn.Linear(5, 7), lib.nn.ReLU(),
                                             lib.nn.Linear(7, 3)))
    m.load_state_dict({k: lamina.from_numpy(v.numpy().copy()) for k, v in
                       t.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_allclose(m(lamina.from_numpy(x)).detach().numpy(),
                               t(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    m.eval()
    t.eval()
    assert [x.training for x in m.modules()] == [x.training for x in t.modules()]
