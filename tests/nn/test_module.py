"""nn.Module against torch: registration, traversal order and names, state_dict, loading,
to(), copies, hooks, repr and error messages. Each architecture is built the same way in both
libraries by a factory that takes the library module."""

from __future__ import annotations

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import lamina
from lamina import nn
from lamina.nn._errors import shape_error

LIBS = [torch, lamina]


def classes(lib):
    """Small layers written only with Parameters, identical for torch and lamina."""
    N = lib.nn

    class Lin(N.Module):
        def __init__(self, i, o, bias=True):
            super().__init__()
            self.i, self.o = i, o
            self.weight = N.Parameter(lib.randn(o, i))
            if bias:
                self.bias = N.Parameter(lib.zeros(o))
            else:
                self.register_parameter("bias", None)

        def forward(self, x):
            y = x @ self.weight.T
            return y if self.bias is None else y + self.bias

        def extra_repr(self):
            return f"in_features={self.i}, out_features={self.o}, bias={self.bias is not None}"

    class Act(N.Module):
        def forward(self, x):
            return x * (x > 0)

    class Norm(N.Module):
        def __init__(self, n):
            super().__init__()
            self.scale = N.Parameter(lib.ones(n))
            self.register_buffer("running", lib.zeros(n))
            self.register_buffer("count", lib.tensor(0))
            self.register_buffer("scratch", lib.zeros(n), persistent=False)

        def forward(self, x):
            return x * self.scale

        def extra_repr(self):
            return "n=" + str(self.scale.shape[0]) + "\nsecond line"

    class Net(N.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = Lin(4, 8)
            self.act = Act()
            self.block = N.Sequential(Lin(8, 8, bias=False), Norm(8), Act())
            self.shared = Lin(8, 8)
            self.tail = N.Sequential(self.shared, Act(), self.shared)
            self.empty = None
            self.fc2 = Lin(8, 2)
            self.fc2.weight = self.fc1.weight if False else self.fc2.weight

        def forward(self, x):
            return self.fc2(self.tail(self.block(self.act(self.fc1(x)))))

    return Lin, Act, Norm, Net


def both(fn):
    """Run fn(lib) for torch and lamina; return (torch_result, lamina_result)."""
    return fn(torch), fn(lamina)


def net_of(lib):
    return classes(lib)[3]()


def copy_weights(src_torch, dst_lamina):
    """Copy every parameter and buffer of a torch module into the same lamina architecture."""
    sd = {k: lamina.from_numpy(v.detach().numpy().copy())
          for k, v in src_torch.state_dict().items()}
    dst_lamina.load_state_dict(sd)


def err(lib, fn):
    with pytest.raises(Exception) as e:
        fn(lib)
    return type(e.value), str(e.value).replace("lamina", "torch")


# ---------------------------------------------------------------------------- traversal
def test_named_parameters_buffers_modules_match_torch():
    t, m = both(net_of)
    for meth in ("named_parameters", "named_buffers", "named_modules", "named_children"):
        tn = [n for n, _ in getattr(t, meth)()]
        ln = [n for n, _ in getattr(m, meth)()]
        assert tn == ln, meth
    assert len(list(m.parameters())) == len(list(t.parameters()))
    assert len(list(m.modules())) == len(list(t.modules()))
    assert len(list(m.children())) == len(list(t.children()))
    assert len(list(m.buffers())) == len(list(t.buffers()))
    assert [type(c).__name__ for c in m.children()] == [type(c).__name__ for c in t.children()]


def test_traversal_options_match_torch():
    t, m = both(net_of)
    for kw in ({"prefix": "model"}, {"recurse": False}, {"remove_duplicate": False},
               {"prefix": "p", "remove_duplicate": False}):
        assert [n for n, _ in t.named_parameters(**kw)] == \
            [n for n, _ in m.named_parameters(**kw)], kw
        assert [n for n, _ in t.named_buffers(**kw)] == [n for n, _ in m.named_buffers(**kw)], kw
    for kw in ({"prefix": "root"}, {"remove_duplicate": False}):
        assert [n for n, _ in t.named_modules(**kw)] == [n for n, _ in m.named_modules(**kw)]
    assert [n for n, _ in t.block.named_parameters()] == \
        [n for n, _ in m.block.named_parameters()]
    # a memo shared between calls skips what was already seen
    memo_t, memo_l = set(), set()
    list(t.tail.named_modules(memo_t))
    list(m.tail.named_modules(memo_l))
    assert [n for n, _ in t.named_modules(memo_t)] == [n for n, _ in m.named_modules(memo_l)]
    assert len(list(m.modules(remove_duplicate=False))) == \
        len(list(t.modules(remove_duplicate=False)))


def test_tied_parameter_once_in_parameters_every_path_in_state_dict():
    def build(lib):
        Lin = classes(lib)[0]
        a, b = Lin(3, 3), Lin(3, 3)
        b.weight = a.weight
        return lib.nn.Sequential(a, b)

    t, m = both(build)
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert list(m.state_dict()) == list(t.state_dict())
    sd = m.state_dict()
    assert np.shares_memory(sd["0.weight"]._data, sd["1.weight"]._data)


def test_tied_gradients_are_summed():
    Lin = classes(lamina)[0]
    shared = Lin(3, 3)
    net = nn.Sequential(shared, shared)
    tshared = classes(torch)[0](3, 3)
    tnet = torch.nn.Sequential(tshared, tshared)
    copy_weights(tnet, net)
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    net(lamina.from_numpy(x)).sum().backward()
    tnet(torch.from_numpy(x)).sum().backward()
    np.testing.assert_allclose(shared.weight.grad.numpy(), tshared.weight.grad.numpy(),
                               rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------- state_dict
def test_state_dict_keys_metadata_and_values():
    t, m = both(net_of)
    tsd, lsd = t.state_dict(), m.state_dict()
    assert isinstance(lsd, OrderedDict)
    assert list(tsd) == list(lsd)
    assert dict(tsd._metadata) == dict(lsd._metadata)
    for k, v in lsd.items():
        assert type(v) is lamina.Tensor and not v.requires_grad
        assert tuple(v.shape) == tuple(tsd[k].shape)
    # values share memory with the module
    lsd["fc1.weight"].zero_()
    assert float(m.fc1.weight.abs().sum()) == 0.0
    kv = m.state_dict(keep_vars=True)
    assert kv["fc1.weight"] is m.fc1.weight
    assert list(m.state_dict(prefix="x.")) == list(t.state_dict(prefix="x."))
    dest = OrderedDict()
    assert m.state_dict(destination=dest) is dest and list(dest) == list(tsd)


def test_state_dict_version_of_subclass():
    def build(lib):
        class V(lib.nn.Module):
            _version = 3

            def __init__(self):
                super().__init__()
                self.p = lib.nn.Parameter(lib.zeros(1))

        return lib.nn.Sequential(V())

    t, m = both(build)
    assert dict(t.state_dict()._metadata) == dict(m.state_dict()._metadata)


def test_state_dict_hooks():
    m = net_of(lamina)
    seen = []
    h1 = m.fc1.register_state_dict_pre_hook(lambda mod, prefix, kv: seen.append(prefix))
    h2 = m.register_state_dict_post_hook(
        lambda mod, sd, prefix, meta: seen.append(("post", len(sd))))
    sd = m.state_dict()
    assert seen == ["fc1.", ("post", len(sd))]
    h1.remove()
    h2.remove()
    m.state_dict()
    assert len(seen) == 2


def test_extra_state_round_trip():
    class E(nn.Module):
        def __init__(self):
            super().__init__()
            self.p = nn.Parameter(lamina.zeros(1))
            self.s = {"step": 1}

        def get_extra_state(self):
            return dict(self.s)

        def set_extra_state(self, state):
            self.s = state

    a, b = E(), E()
    a.s = {"step": 7}
    sd = a.state_dict()
    assert list(sd) == ["p", "_extra_state"]
    b.load_state_dict(sd)
    assert b.s == {"step": 7}


# ---------------------------------------------------------------------------- loading
def test_load_state_dict_copies_in_place_and_keeps_identity():
    t, m = both(net_of)
    params = {n: p for n, p in m.named_parameters()}
    copy_weights(t, m)
    for n, p in m.named_parameters():
        assert p is params[n]
    for k, v in t.state_dict().items():
        np.testing.assert_array_equal(m.state_dict()[k].numpy(), v.numpy())
    r = m.load_state_dict(m.state_dict())
    assert repr(r) == repr(t.load_state_dict(t.state_dict())) == "<All keys matched successfully>"
    assert r.missing_keys == [] and r.unexpected_keys == []


def _snapshot(m):
    return {k: v.detach().numpy().copy() for k, v in m.state_dict(keep_vars=True).items()
            if isinstance(v, lamina.Tensor)} | {
        "__ids__": [id(p) for p in m.parameters()],
        "__grads__": [None if p.grad is None else p.grad.numpy().copy() for p in m.parameters()]}


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        if k == "__grads__":
            for x, y in zip(a[k], b[k]):
                assert (x is None and y is None) or np.array_equal(x, y)
        elif k == "__ids__":
            assert a[k] == b[k]
        else:
            np.testing.assert_array_equal(a[k], b[k])


def test_failed_load_is_atomic_and_lists_everything_like_torch():
    t, m = both(net_of)
    tsd = t.state_dict()
    good = {k: lamina.from_numpy(np.asarray(v.numpy() + 1)) for k, v in tsd.items()}
    bad_t = OrderedDict((k, v + 1) for k, v in tsd.items())
    bad_l = OrderedDict(good)
    # a size mismatch late in the order, a missing key and an unexpected key
    for bad, lib in ((bad_t, torch), (bad_l, lamina)):
        bad["fc2.weight"] = lib.zeros(3, 8)
        del bad["block.1.running"]
        bad["block.9.weight"] = lib.zeros(1)
    before = _snapshot(m)
    with pytest.raises(RuntimeError) as el:
        m.load_state_dict(bad_l)
    with pytest.raises(RuntimeError) as et:
        t.load_state_dict(bad_t)
    _assert_same(before, _snapshot(m))  # nothing changed, not even the early keys
    torch_lines = str(et.value).split("\n")
    ours = str(el.value).split("\n")
    assert ours[:len(torch_lines)] == torch_lines
    assert "size mismatch for fc2.weight: copying a param with shape torch.Size([3, 8]) from " \
           "checkpoint, the shape in current model is torch.Size([2, 8])." in str(el.value)


def test_failed_load_non_strict_still_atomic():
    t, m = both(net_of)
    sd = {k: lamina.from_numpy(np.asarray(v.numpy() + 1)) for k, v in t.state_dict().items()}
    sd["fc1.bias"] = lamina.zeros(99)
    before = _snapshot(m)
    with pytest.raises(RuntimeError, match="size mismatch for fc1.bias"):
        m.load_state_dict(sd, strict=False)
    _assert_same(before, _snapshot(m))


def test_non_strict_returns_keys_like_torch():
    t, m = both(net_of)
    tsd = OrderedDict(t.state_dict())
    lsd = OrderedDict(m.state_dict())
    for sd, lib in ((tsd, torch), (lsd, lamina)):
        del sd["fc1.bias"]
        del sd["block.1.count"]
        sd["extra"] = lib.zeros(1)
        sd["fc1.nope"] = lib.zeros(1)
    rt = t.load_state_dict(tsd, strict=False)
    rl = m.load_state_dict(lsd, strict=False)
    assert rl.missing_keys == rt.missing_keys and rl.unexpected_keys == rt.unexpected_keys
    assert repr(rl) == repr(rt)
    assert rl == rt  # a NamedTuple of two lists


def test_load_error_messages_match_torch_for_each_kind():
    def run(lib, mutate):
        m = net_of(lib)
        sd = OrderedDict(m.state_dict())
        mutate(lib, sd)
        with pytest.raises(RuntimeError) as e:
            m.load_state_dict(sd)
        return str(e.value)

    cases = [
        lambda lib, sd: sd.pop("fc1.weight"),
        lambda lib, sd: sd.__setitem__("zzz", lib.zeros(1)),
        lambda lib, sd: sd.__setitem__("fc1.weight", lib.zeros(2, 2)),
        lambda lib, sd: sd.__setitem__("fc1.weight", [1.0]),
    ]
    for mutate in cases:
        tmsg = run(torch, mutate)
        lmsg = run(lamina, mutate)
        assert lmsg.startswith(tmsg), (lmsg, tmsg)


def test_load_hint_module_prefix():
    m = net_of(lamina)
    sd = {"module." + k: v for k, v in m.state_dict().items()}
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(sd)
    msg = str(e.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:\n\tMissing key(s) in "
                          'state_dict: "fc1.weight"')
    assert 'start with "module."' in msg and "removing it" in msg
    wrapped = nn.Sequential(OrderedDict(module=net_of(lamina)))
    with pytest.raises(RuntimeError) as e:
        wrapped.load_state_dict(m.state_dict())
    assert 'model\'s keys start with "module."' in str(e.value)


def test_load_hint_close_key():
    m = net_of(lamina)
    sd = OrderedDict(m.state_dict())
    sd["fc1.wieght"] = sd.pop("fc1.weight")
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(sd)
    assert 'for missing key "fc1.weight", did you mean "fc1.wieght"?' in str(e.value)


def test_load_scalar_backward_compat_and_dtype_cast():
    class S(nn.Module):
        def __init__(self):
            super().__init__()
            self.s = nn.Parameter(lamina.tensor(1.0))

    m = S()
    m.load_state_dict({"s": lamina.tensor([5.0])})  # torch accepts shape (1,) for a scalar
    assert m.s.item() == 5.0
    m.load_state_dict({"s": lamina.tensor(2.0, dtype=lamina.float64)})
    assert m.s.dtype == lamina.float32 and m.s.item() == 2.0


def test_load_assign_keeps_parameter_object_takes_memory():
    t, m = both(net_of)
    sd = {k: lamina.from_numpy(v.numpy().copy()) for k, v in t.state_dict().items()}
    w = m.fc1.weight
    m.load_state_dict(sd, assign=True)
    assert m.fc1.weight is w and w.requires_grad
    assert np.shares_memory(w._data, sd["fc1.weight"]._data)
    assert m.block[1].running is sd["block.1.running"]  # buffers are replaced, like torch


def test_load_state_dict_type_error():
    m = net_of(lamina)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        m.load_state_dict([1, 2])


def test_load_hooks_and_validation_flag():
    m = net_of(lamina)
    calls = []

    def pre(module, sd, prefix, local_metadata, *rest):
        calls.append((prefix, local_metadata.get("lamina_validate_only", False)))

    m.fc1.register_load_state_dict_pre_hook(pre)
    post = []
    m.register_load_state_dict_post_hook(lambda mod, keys: post.append(list(keys.missing_keys)))
    m.load_state_dict(m.state_dict())
    assert calls == [("fc1.", True), ("fc1.", False)]
    assert post == [[], []]  # the validation pass and the copying pass
    bad = OrderedDict(m.state_dict())
    bad.pop("fc2.bias")
    calls.clear()
    post.clear()
    with pytest.raises(RuntimeError):
        m.load_state_dict(bad)
    assert calls == [("fc1.", True)] and post == [["fc2.bias"]]


def test_load_post_hook_can_excuse_missing_keys_like_torch():
    def run(lib):
        m = net_of(lib)
        sd = OrderedDict(m.state_dict())
        sd.pop("fc2.bias")
        m.register_load_state_dict_post_hook(
            lambda mod, keys: keys.missing_keys.remove("fc2.bias")
            if "fc2.bias" in keys.missing_keys else None)
        return repr(m.load_state_dict(sd))

    t, m = both(run)
    assert m == t == "<All keys matched successfully>"


def test_load_from_state_dict_override_point():
    class Renamed(nn.Module):
        """Accepts the legacy key 'w' for 'weight' (the classic backward-compat override)."""

        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(lamina.zeros(2))

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing,
                                  unexpected, errors):
            if prefix + "w" in state_dict:
                state_dict[prefix + "weight"] = state_dict.pop(prefix + "w")
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing,
                                          unexpected, errors)

    net = nn.Sequential(Renamed())
    net.load_state_dict({"0.w": lamina.ones(2)})
    assert net[0].weight.tolist() == [1.0, 1.0]


# ---------------------------------------------------------------------------- errors
def test_registration_errors_match_torch():
    def plain_tensor_to_param(lib):
        m = classes(lib)[0](2, 2)
        m.weight = lib.zeros(2, 2)

    def module_before_init(lib):
        class Bad(lib.nn.Module):
            def __init__(self):
                self.sub = lib.nn.Module()

        Bad()

    def param_before_init(lib):
        class Bad(lib.nn.Module):
            def __init__(self):
                self.p = lib.nn.Parameter(lib.zeros(1))

        Bad()

    def missing_attr(lib):
        return net_of(lib).fc3

    def non_leaf(lib):
        m = lib.nn.Module()
        p = lib.nn.Parameter(lib.zeros(1))
        m.register_parameter("p", p * 2)

    def non_leaf_param(lib):
        m = lib.nn.Module()
        m.register_parameter("p", lib.zeros(1))

    def dotted(lib):
        lib.nn.Module().register_parameter("a.b", None)

    def empty(lib):
        lib.nn.Module().register_buffer("", None)

    def exists(lib):
        m = lib.nn.Module()
        m.x = 1
        m.register_buffer("x", lib.zeros(1))

    def bad_buffer(lib):
        lib.nn.Module().register_buffer("b", [1])

    def bad_module(lib):
        lib.nn.Module().add_module("m", 3)

    def module_slot_non_module(lib):
        m = net_of(lib)
        m.fc1 = 3

    def buffer_slot_non_tensor(lib):
        m = classes(lib)[2](2)
        m.running = [0.0]

    def no_forward(lib):
        class Net(lib.nn.Module):
            pass

        Net()(lib.zeros(1))

    def name_type(lib):
        lib.nn.Module().register_parameter(1, None)

    def init_kwargs(lib):
        lib.nn.Module(foo=1)

    def train_mode(lib):
        lib.nn.Module().train("yes")

    for fn in (plain_tensor_to_param, module_before_init, param_before_init, missing_attr,
               non_leaf, non_leaf_param, dotted, empty, exists, bad_buffer, bad_module,
               module_slot_non_module, buffer_slot_non_tensor, no_forward, name_type,
               init_kwargs, train_mode):
        te, le = err(torch, fn), err(lamina, fn)
        assert te == le, fn.__name__


def test_error_text_examples():
    m = classes(lamina)[0](2, 2)
    with pytest.raises(TypeError, match=r"cannot assign 'torch.FloatTensor' as parameter "
                                        r"'weight' \(torch.nn.Parameter or None expected\)"):
        m.weight = lamina.zeros(2, 2)
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'fc3'"):
        net_of(lamina).fc3
    with pytest.raises(NotImplementedError,
                       match='Module \\[Module\\] is missing the required "forward" function'):
        nn.Module()(1)


def test_submodule_parameter_buffer_getters_match_torch():
    t, m = both(net_of)
    assert m.get_submodule("block.1") is m.block[1]
    assert m.get_submodule("") is m
    assert m.get_parameter("block.1.scale") is m.block[1].scale
    assert m.get_buffer("block.1.running") is m.block[1].running

    for target, meth in (("block.7", "get_submodule"), ("fc1.weight", "get_submodule"),
                         ("block.1.nope", "get_parameter"), ("block.1.running", "get_parameter"),
                         ("block.1.scale", "get_buffer"), ("nope.x", "get_buffer")):
        te = err(torch, lambda lib, meth=meth, target=target: getattr(t, meth)(target))
        le = err(lamina, lambda lib, meth=meth, target=target: getattr(m, meth)(target))
        assert te == le, (meth, target)


def test_set_submodule():
    t, m = both(net_of)
    m.set_submodule("block.2", nn.Sequential())
    t.set_submodule("block.2", torch.nn.Sequential())
    assert repr(m) == repr(t)
    m.set_submodule("block.new", nn.Module())
    assert isinstance(m.block.new, nn.Module)
    for args in (("", nn.Module()), ("block.x", 3)):
        with pytest.raises(ValueError):
            m.set_submodule(*args)
    with pytest.raises(AttributeError, match="has no attribute `zz`"):
        m.set_submodule("block.zz", nn.Module(), strict=True)
    with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
        m.set_submodule("fc1.weight", nn.Module())


# ---------------------------------------------------------------------------- attributes
def test_setattr_moves_between_kinds_and_delattr():
    m = nn.Module()
    m.x = lamina.zeros(1)  # a plain tensor attribute is not registered
    assert list(m.named_buffers()) == [] and list(m.named_parameters()) == []
    m.x = nn.Parameter(lamina.zeros(1))
    assert [n for n, _ in m.named_parameters()] == ["x"]
    with pytest.raises(TypeError, match="as parameter 'x'"):
        m.x = nn.Module()  # torch refuses too: a parameter slot takes a Parameter or None
    del m.x
    m.x = nn.Module()
    assert list(m.named_parameters()) == [] and [n for n, _ in m.named_children()] == ["x"]
    with pytest.raises(TypeError, match="as child module 'x'"):
        m.x = nn.Buffer(lamina.ones(1))
    m.x = None  # a module slot takes None
    assert m.x is None and "x" in m._modules
    del m.x
    m.x = nn.Buffer(lamina.ones(1), persistent=False)
    assert [n for n, _ in m.named_buffers()] == ["x"] and list(m.state_dict()) == []
    assert list(m.named_children()) == []
    m.x = lamina.zeros(2)  # assigning a tensor to a buffer name re-registers, keeps persistence
    assert m._buffers["x"] is m.x and "x" in m._non_persistent_buffers_set
    m.x = None
    assert m.x is None and "x" in m._buffers
    del m.x
    assert not hasattr(m, "x") and "x" not in m._buffers
    m.p = nn.Parameter(lamina.zeros(1))
    m.p = None
    assert m.p is None and list(m.state_dict()) == []
    del m.p
    with pytest.raises(AttributeError):
        m.p
    m.plain = 5
    del m.plain
    with pytest.raises(AttributeError):
        del m.plain


def test_registry_mirror_stays_in_sync_with_direct_dict_edits():
    m = nn.Module()
    p = nn.Parameter(lamina.zeros(1))
    m._parameters["w"] = p
    assert m.w is p
    m._parameters.pop("w")
    with pytest.raises(AttributeError):
        m.w
    m._modules["sub"] = nn.Module()
    m._modules.update({"sub2": nn.Module()})
    assert isinstance(m.sub2, nn.Module)
    m._modules.clear()
    assert not hasattr(m, "sub") and not hasattr(m, "sub2")
    m._buffers.setdefault("b", lamina.ones(1))
    assert m.b.tolist() == [1.0]
    m._modules = OrderedDict(a=nn.Module())  # torch's old containers did this
    assert isinstance(m.a, nn.Module) and [n for n, _ in m.named_children()] == ["a"]
    del m._buffers["b"]
    assert not hasattr(m, "b")


def test_dir_lists_registered_names():
    t, m = both(net_of)
    d = dir(m)
    for name in ("fc1", "block", "forward", "training", "state_dict"):
        assert name in d
    assert len(d) == len(set(d))
    td = dir(t)
    for name in list(t._parameters) + list(t._modules) + list(t._buffers) + ["i", "o"]:
        assert (name in td) == (name in d)
    b = classes(lamina)[2](2)
    assert {"running", "count", "scratch", "scale"} <= set(dir(b))


# ---------------------------------------------------------------------------- modes, apply
def test_train_eval_apply_order_zero_grad_requires_grad():
    t, m = both(net_of)
    m.eval()
    t.eval()
    assert [x.training for x in m.modules()] == [x.training for x in t.modules()]
    assert m.train() is m and all(x.training for x in m.modules())
    m.block.eval()
    assert [x.training for x in m.modules()] == [not n.startswith("block")
                                                 for n, _ in m.named_modules()]
    order_t, order_l = [], []
    t.apply(lambda mod: order_t.append(type(mod).__name__))
    assert m.apply(lambda mod: order_l.append(type(mod).__name__)) is m
    assert order_l == order_t
    x = lamina.randn(2, 4)
    m(x).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    assert m.requires_grad_() is m and all(p.requires_grad for p in m.parameters())


# ---------------------------------------------------------------------------- to()
def test_to_dtype_in_place_keeps_identity_and_ties():
    m = net_of(lamina)
    x = lamina.randn(2, 4)
    m(x).sum().backward()
    ids = [id(p) for p in m.parameters()]
    assert m.double() is m
    assert [id(p) for p in m.parameters()] == ids
    assert m.tail[0].weight is m.tail[2].weight
    assert all(p.dtype == lamina.float64 and p.grad.dtype == lamina.float64
               for p in m.parameters())
    assert m.block[1].count.dtype == lamina.int64  # integers keep their dtype
    assert m.block[1].running.dtype == lamina.float64
    assert m.block[1].scratch.dtype == lamina.float64
    m.to(lamina.float32)
    assert all(p.dtype == lamina.float32 for p in m.parameters())
    m.half()
    assert m.fc1.weight.dtype == lamina.float16
    m.float()
    m.to("cpu")
    m.to(lamina.zeros(1, dtype=lamina.float64))
    assert m.fc1.weight.dtype == lamina.float64
    m.to(device="cpu", dtype=lamina.float32)
    assert m.fc1.weight.dtype == lamina.float32 and m.cpu() is m
    assert m(x).dtype == lamina.float32


def test_to_integer_dtype_error_matches_torch():
    te = err(torch, lambda lib: net_of(lib).to(lib.int64))
    le = err(lamina, lambda lib: net_of(lib).to(lib.int64))
    assert te == le


def test_type_casts_everything_and_buffers_are_replaced():
    m = classes(lamina)[2](3)
    t = classes(torch)[2](3)
    old = m.running
    m.type(lamina.float64)
    t.type(torch.float64)
    assert m.running is not old
    assert [str(b.dtype).split(".")[1] for b in m.buffers()] == \
        [str(b.dtype).split(".")[1] for b in t.buffers()]


def test_private_apply_visits_like_torch():
    def run(lib):
        seen = []
        net_of(lib)._apply(lambda tt: seen.append(tuple(tt.shape)) or tt)
        return seen

    t, m = both(run)
    assert m == t


def test_optimizer_reference_survives_to():
    m = net_of(lamina)
    held = list(m.parameters())
    m.double()
    with lamina.no_grad():
        for p in held:
            p.zero_()
    assert all(float(p.abs().sum()) == 0 for p in m.parameters())


# ---------------------------------------------------------------------------- copies
def test_deepcopy_keeps_ties_and_is_independent():
    m = net_of(lamina)
    m.fc2.weight.grad = lamina.ones(2, 8)
    c = copy.deepcopy(m)
    assert c.tail[0] is c.tail[2] and c.shared is c.tail[0]
    assert c.tail[0].weight is c.shared.weight
    assert c.fc1.weight is not m.fc1.weight
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in m.named_parameters()]
    with lamina.no_grad():
        c.fc1.weight.zero_()
    assert float(m.fc1.weight.abs().sum()) > 0
    x = lamina.randn(2, 4)
    np.testing.assert_allclose(copy.deepcopy(m)(x).detach().numpy(), m(x).detach().numpy())
    # the attribute mirror follows the copy
    c.fc1 = nn.Module()
    assert isinstance(c._modules["fc1"], nn.Module) and type(m.fc1).__name__ == "Lin"


# module-level names so that pickle can find the classes
PLin, PAct, PNorm, PNet = classes(lamina)
for _c, _n in ((PLin, "PLin"), (PAct, "PAct"), (PNorm, "PNorm"), (PNet, "PNet")):
    _c.__qualname__ = _n


def test_pickle_keeps_ties_and_structure():
    m = PNet()
    m2 = pickle.loads(pickle.dumps(m))
    assert m2.tail[0] is m2.tail[2] and m2.tail[0].weight is m2.shared.weight
    assert list(m2.state_dict()) == list(m.state_dict())
    assert repr(m2) == repr(m)
    x = lamina.randn(2, 4)
    np.testing.assert_allclose(m2(x).detach().numpy(), m(x).detach().numpy())
    m2.extra = nn.Parameter(lamina.zeros(1))
    assert "extra" in m2._parameters and "extra" not in m._parameters


# ---------------------------------------------------------------------------- repr
def test_repr_matches_torch():
    t, m = both(net_of)
    assert repr(m) == repr(t)
    assert repr(lamina.nn.Module()) == repr(torch.nn.Module()) == "Module()"
    assert repr(lamina.nn.Sequential()) == repr(torch.nn.Sequential())
    nested = both(lambda lib: lib.nn.Sequential(lib.nn.Sequential(lib.nn.Sequential()),
                                                classes(lib)[2](4)))
    assert repr(nested[1]) == repr(nested[0])
    assert m._get_name() == "Net" and m.extra_repr() == ""


def test_module_input_error_gets_path():
    class Checked(nn.Module):
        def forward(self, x):
            if x.shape[-1] != 3:
                raise shape_error(self, x.shape, "(*, 3)")
            return x

    net = nn.Sequential(nn.Sequential(nn.Module(), Checked()))
    net[0][0].forward = lambda x: x
    with pytest.raises(RuntimeError) as e:
        net(lamina.zeros(2, 4))
    assert str(e.value) == "Checked() at '0.1' got input of shape (2, 4); expected (*, 3)"
    # the path is filled in with hooks registered too
    net.register_forward_hook(lambda *a: None)
    with pytest.raises(RuntimeError, match="at '0.1'"):
        net(lamina.zeros(2, 4))


# ---------------------------------------------------------------------------- hooks
def test_forward_hooks_match_torch():
    def run(lib):
        m = classes(lib)[0](3, 2)
        log = []
        h1 = m.register_forward_pre_hook(lambda mod, args: log.append("pre1"))
        m.register_forward_pre_hook(lambda mod, args: log.append("pre0"), prepend=True)
        m.register_forward_pre_hook(
            lambda mod, args, kwargs: (log.append(("kw", sorted(kwargs))), (args, kwargs))[1],
            with_kwargs=True)
        m.register_forward_hook(lambda mod, args, out: log.append("post"))
        m.register_forward_hook(lambda mod, args, out: out * 2)
        m.register_forward_hook(lambda mod, args, kwargs, out: log.append("postkw"),
                                with_kwargs=True)
        m.register_forward_hook(lambda mod, args, out: log.append("first"), prepend=True)
        x = lib.ones(1, 3)
        out = m(x)
        h1.remove()
        h1.remove()  # twice is harmless
        m(x)
        return log, out

    (tl, tout), (ll, lout) = both(run)
    assert tl == ll
    assert tuple(lout.shape) == tuple(tout.shape)


def test_forward_pre_hook_replaces_input_and_context_manager():
    m = nn.Sequential()
    with m.register_forward_pre_hook(lambda mod, args: args[0] + 1):
        assert m(lamina.zeros(1)).item() == 1.0
    assert m(lamina.zeros(1)).item() == 0.0
    m.register_forward_pre_hook(lambda mod, args, kwargs: ((args[0] * 3,), kwargs),
                                with_kwargs=True)
    assert m(lamina.ones(1)).item() == 3.0
    bad = nn.Sequential()
    bad.register_forward_pre_hook(lambda mod, args, kwargs: 5, with_kwargs=True)
    with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
        bad(lamina.ones(1))


def test_always_call_forward_hook_runs_on_error():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    m = Boom()
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
    m.register_forward_hook(lambda mod, args, out: seen.append("never"))
    with pytest.raises(ValueError, match="boom"):
        m(lamina.zeros(1))
    assert seen == [None]


def test_global_forward_hooks():
    from lamina.nn.module import register_module_forward_hook, register_module_forward_pre_hook

    seen = []
    h1 = register_module_forward_pre_hook(lambda mod, args: seen.append("pre"))
    h2 = register_module_forward_hook(lambda mod, args, out: seen.append("post"))
    try:
        nn.Sequential(nn.Sequential())(lamina.zeros(1))
    finally:
        h1.remove()
        h2.remove()
    assert seen == ["pre", "pre", "post", "post"]
    nn.Sequential()(lamina.zeros(1))
    assert len(seen) == 4


def test_full_backward_hook_matches_torch():
    def run(lib):
        Lin = classes(lib)[0]
        lib.manual_seed(0)
        m = Lin(3, 2)
        with lib.no_grad():
            m.weight.copy_(lib.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, 3.0]]))
        got = []
        m.register_full_backward_pre_hook(
            lambda mod, gout: got.append(("pre", [g.tolist() for g in gout])))

        def hook(mod, gin, gout):
            got.append(("full", [None if g is None else g.tolist() for g in gin],
                        [g.tolist() for g in gout]))
            return (gin[0] * 10,)

        m.register_full_backward_hook(hook)
        x = lib.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        y = m(x)
        (y * lib.tensor([[1.0, 2.0]])).sum().backward()
        return got, x.grad.tolist(), m.weight.grad.tolist()

    t, m = both(run)
    assert m == t


def test_full_backward_hook_input_without_grad_and_pre_hook_replacement():
    def run(lib):
        Lin = classes(lib)[0]
        m = Lin(2, 2)
        with lib.no_grad():
            m.weight.copy_(lib.eye(2))
        got = []
        m.register_full_backward_pre_hook(lambda mod, gout: (gout[0] * 2,))
        m.register_full_backward_hook(
            lambda mod, gin, gout: got.append((gin, [g.tolist() for g in gout])))
        with pytest.warns(UserWarning, match="Full backward hook is firing"):
            m(lib.ones(1, 2)).sum().backward()
        return got, m.weight.grad.tolist()

    t, m = both(run)
    assert m == t


def test_backward_hook_handle_removes():
    m = classes(lamina)[0](2, 2)
    got = []
    h = m.register_full_backward_hook(lambda mod, gin, gout: got.append(1))
    m(lamina.ones(1, 2, requires_grad=True)).sum().backward()
    h.remove()
    m(lamina.ones(1, 2, requires_grad=True)).sum().backward()
    assert got == [1]


def test_call_passes_kwargs_and_int_inputs_with_backward_hook():
    class K(nn.Module):
        def forward(self, x, *, scale=1.0, idx=None):
            return x * scale + (0 if idx is None else idx.sum())

    m = K()
    m.register_full_backward_hook(lambda *a: None)
    x = lamina.ones(2, requires_grad=True)
    out = m(x, scale=3.0, idx=lamina.tensor([1, 2]))
    out.sum().backward()
    assert out.tolist() == [6.0, 6.0] and x.grad.tolist() == [3.0, 3.0]


def test_call_super_init_and_positional_errors():
    class Mixin:
        def __init__(self, *args, **kwargs):
            self.mixed = kwargs.get("flag", False)

    class M(nn.Module, Mixin):
        call_super_init = True

    assert M(flag=True).mixed is True
    with pytest.raises(TypeError, match="takes 1 positional argument but 2 were given"):
        nn.Module(1)


def test_load_torch_tensor_gets_a_hint():
    m = classes(lamina)[0](2, 2)
    sd = {"weight": torch.zeros(2, 2), "bias": lamina.zeros(2)}
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(sd)
    assert "received <class 'torch.Tensor'> (a PyTorch tensor: load the checkpoint" in \
        str(e.value)


def test_hook_flag_resets_after_removal():
    m = classes(lamina)[0](2, 2)
    assert m._has_call_hooks is False
    h = m.register_forward_hook(lambda *a: None)
    assert m._has_call_hooks is True
    h.remove()
    m(lamina.ones(1, 2))
    assert m._has_call_hooks is False
    # a hook put straight into the dict after registration-time is still honoured
    m.register_forward_pre_hook(lambda *a: None)
    seen = []
    m._forward_hooks[10**9] = lambda mod, args, out: seen.append(1)
    m(lamina.ones(1, 2))
    assert seen == [1]


@pytest.mark.skipif(not lamina.cuda.is_available(), reason="needs CuPy and a CUDA device")
def test_to_cuda_keeps_parameter_objects():
    m = net_of(lamina)
    m(lamina.randn(2, 4)).sum().backward()
    held = list(m.parameters())
    m.to("cuda")
    assert list(m.parameters()) == held
    assert all(p.device.type == "cuda" and p.grad.device.type == "cuda" for p in held)
    assert m.block[1].running.device.type == "cuda"
    out = m(lamina.randn(2, 4, device="cuda"))
    assert out.device.type == "cuda"
    m.cpu()
    assert all(p.device.type == "cpu" for p in held)
    sd = m.state_dict()
    m.cuda()
    m.load_state_dict(sd)  # copies across devices
    assert m.fc1.weight.device.type == "cuda"


def test_shallow_copy_shares_registries_like_torch():
    def run(lib):
        m = classes(lib)[0](2, 2)
        c = copy.copy(m)
        new = lib.nn.Parameter(lib.zeros(2, 2))
        c.register_parameter("weight", new)
        c.sub = lib.nn.Module()
        del c.bias
        return (m.weight is new, c.weight is new, hasattr(m, "sub"), hasattr(m, "bias"),
                hasattr(c, "bias"))

    t, m = both(run)
    assert m == t


def test_modules_are_freed_by_reference_counting():
    # no module -> registry -> module cycles: a dropped model is freed at once (not at the
    # next cyclic collection), and building models does not feed the cyclic GC
    import gc
    import weakref

    net = lamina.nn.Sequential(lamina.nn.Linear(3, 4), lamina.nn.ReLU(),
                               lamina.nn.LazyLinear(2))
    net(lamina.rand(2, 3))
    refs = [weakref.ref(m) for m in net.modules()] + [weakref.ref(p) for p in net.parameters()]
    gc.disable()
    try:
        del net
        assert all(r() is None for r in refs)
    finally:
        gc.enable()
