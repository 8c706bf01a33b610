"""Lazy machinery: UninitializedParameter / UninitializedBuffer, LazyModuleMixin's one
materialization step, and what lamina does beyond torch (deferred init replay, optimizers and
load_state_dict before the first call, introspection, errors naming the path, copy/pickle).
The layer classes themselves are tested in tests/nn/modules/test_lazy.py."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch as real_torch

import lamina
from lamina import nn
from lamina.nn import UninitializedBuffer, UninitializedParameter
from lamina.nn._errors import ModuleInputError
from lamina.nn.parameter import UninitializedTensorError


def mlp():
    return nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(3))


def tmlp():
    return real_torch.nn.Sequential(real_torch.nn.LazyLinear(8), real_torch.nn.ReLU(),
                                    real_torch.nn.LazyLinear(3))


def npy(t):
    return t.detach().numpy()


# ---------------------------------------------------------------------------- the tensors
def test_uninitialized_parameter_basics():
    p = UninitializedParameter()
    assert repr(p) == str(p) == "<UninitializedParameter>" and f"{p}" == repr(p)
    assert isinstance(p, nn.Parameter) and isinstance(p, lamina.Tensor)
    assert p.dtype is lamina.float32 and p.device == lamina.device("cpu")
    assert p.requires_grad and p.grad is None and p.is_leaf and p.is_floating_point()
    assert p.numel() == 0 and p.nelement() == 0  # lamina: counting works (torch raises)
    assert nn.parameter.is_lazy(p)
    q = UninitializedParameter(requires_grad=False, dtype=lamina.float64)
    assert not q.requires_grad and q.dtype is lamina.float64
    with pytest.raises(RuntimeError, match="floating point"):
        UninitializedParameter(dtype=lamina.int64)


@pytest.mark.parametrize("use", [
    lambda p: p + 1, lambda p: p.shape, lambda p: p.size(), lambda p: p.data + 1, lambda p: p.sum(),
    lambda p: p.item(), lambda p: p.tolist(), lambda p: p @ p, lambda p: len(p),
    lambda p: p.detach(), lambda p: p.clone(), lambda p: p.ndim, lambda p: p.copy_(p),
])
def test_using_a_pending_tensor_raises_one_clear_error(use):
    p = UninitializedParameter()
    with pytest.raises(UninitializedTensorError, match="not materialized yet") as e:
        use(p)
    # torch raises ValueError for this mistake; lamina's state errors are RuntimeErrors
    assert isinstance(e.value, ValueError) and isinstance(e.value, RuntimeError)


def test_materialize_keeps_identity_and_becomes_parameter():
    p = UninitializedParameter()
    ref = p
    p.materialize((2, 3))
    assert p is ref and type(p) is nn.Parameter and tuple(p.shape) == (2, 3)
    assert p.requires_grad and (npy(p) == 0).all()
    (p * 2).sum().backward()
    assert tuple(p.grad.shape) == (2, 3)
    q = UninitializedParameter()
    q.materialize(4, dtype=lamina.float64)
    assert q.dtype is lamina.float64 and tuple(q.shape) == (4,)


def test_standalone_parameter_replays_its_init_at_materialize():
    p = UninitializedParameter()
    assert nn.init.constant_(p, 3.0) is p  # recorded
    p.fill_(1.0)  # in-place initializers are recorded too, in order
    nn.init.constant_(p, 2.0)
    p.materialize((3,))
    assert (npy(p) == 2.0).all()


def test_uninitialized_buffer():
    b = UninitializedBuffer()
    assert repr(b) == "<UninitializedBuffer>" and not b.requires_grad
    b.materialize((3,))
    assert type(b) is lamina.Tensor and tuple(b.shape) == (3,)

    class Stats(nn.LazyModuleMixin, nn.Module):
        def __init__(self):
            super().__init__()
            self.mean = UninitializedBuffer()  # a new name: registered as a buffer
            self.tmp = UninitializedBuffer(persistent=False)

        def initialize_parameters(self, x):
            self.mean.materialize(x.shape[-1:])
            self.tmp.materialize(x.shape[-1:])

        def forward(self, x):
            return x - self.mean

    s = Stats()
    assert [n for n, _ in s.named_buffers()] == ["mean", "tmp"]
    assert list(s.state_dict()) == ["mean"]
    s(lamina.ones(2, 4))
    assert tuple(s.mean.shape) == (4,) and type(s) is Stats


# ---------------------------------------------------------------------------- introspection
def test_introspection_before_the_first_call():
    net, tnet = mlp(), tmlp()
    assert repr(net) == repr(tnet)
    assert [(n, repr(p)) for n, p in net.named_parameters()] == \
        [(n, repr(p)) for n, p in tnet.named_parameters()]
    assert sum(p.numel() for p in net.parameters()) == 0  # pending parameters count 0
    assert [n for n, p in net.named_parameters() if nn.parameter.is_lazy(p)] == \
        ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert net[0].has_uninitialized_params() and not net[1].__dict__.get("_parameters")
    net(lamina.randn(2, 5))
    assert sum(p.numel() for p in net.parameters()) == 5 * 8 + 8 + 8 * 3 + 3


def test_error_names_the_path_inside_a_call_and_the_attribute_outside():
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.LazyLinear(256))

        def forward(self, x):
            return x @ self.body[0].weight.T  # touches the weight before body ever ran

    model = nn.Sequential(Head())
    with pytest.raises(UninitializedTensorError) as e:
        model(lamina.randn(2, 20))
    assert str(e.value) == (
        "'0.body.0.weight' of LazyLinear(out_features=256) is not materialized yet (its shape "
        "waits for in_features: the size of the input's last dimension): run a forward pass "
        "or lamina.nn.utils.materialize(model, ...) first")
    with pytest.raises(UninitializedTensorError, match=r"^'weight' of LazyLinear\(out_features"
                       r"=256\) is not materialized yet"):
        model[0].body[0].weight.tolist()
    with pytest.raises(UninitializedTensorError, match=r"'bias' of LazyConv2d\(out_channels=4, "
                       r"kernel_size=\(3, 3\)\) .* in_channels"):
        conv = nn.LazyConv2d(4, 3)  # (a module that no longer exists cannot be named)
        conv.bias + 1
    with pytest.raises(UninitializedTensorError, match=r"'running_mean' of LazyBatchNorm1d\(\)"):
        bn = nn.LazyBatchNorm1d()
        bn.running_mean.sum()


# ---------------------------------------------------------------------------- the call
def test_first_call_becomes_plain_class_keeping_parameter_objects():
    net = mlp()
    w, b = net[0].weight, net[0].bias
    y = net(lamina.randn(2, 5))
    assert tuple(y.shape) == (2, 3)
    assert type(net[0]) is nn.Linear and type(net[2]) is nn.Linear
    assert net[0].weight is w and net[0].bias is b and type(w) is nn.Parameter
    assert repr(net[0]) == "Linear(in_features=5, out_features=8, bias=True)"
    assert net[0].in_features == 5 and net[2].in_features == 8


def test_seeded_values_match_torch():
    net, tnet = mlp(), tmlp()
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    lamina.manual_seed(3)
    real_torch.manual_seed(3)
    y = net(lamina.from_numpy(x))
    ty = tnet(real_torch.from_numpy(x))
    for (n, p), (_, tp) in zip(net.named_parameters(), tnet.named_parameters()):
        np.testing.assert_array_equal(npy(p), npy(tp), err_msg=n)
    np.testing.assert_allclose(npy(y), npy(ty), rtol=1e-5, atol=1e-6)


def test_shared_lazy_module_used_twice():
    lin = nn.LazyLinear(4)
    net = nn.Sequential(lin, nn.ReLU(), lin)
    y = net(lamina.randn(3, 4))
    assert tuple(y.shape) == (3, 4) and type(lin) is nn.Linear
    assert len(list(net.parameters())) == 2


def test_shared_lazy_module_with_incompatible_second_use():
    lin = nn.LazyLinear(4)
    net = nn.Sequential(lin, nn.ReLU(), lin)
    with pytest.raises(ModuleInputError, match=r"Linear\(in_features=5, out_features=4, "
                       r"bias=True\) at '0' got input of shape \(3, 4\); expected \(\*, 5\)"):
        net(lamina.randn(3, 5))


def test_nested_custom_modules():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.LazyLinear(6)
            self.bn = nn.LazyBatchNorm1d()

        def forward(self, x):
            return self.bn(self.fc(x)).relu()

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([Block(), Block()])
            self.out = nn.LazyLinear(2)

        def forward(self, x):
            for b in self.blocks:
                x = b(x)
            return self.out(x)

    net = Net()
    assert tuple(net(lamina.randn(4, 9)).shape) == (4, 2)
    assert [type(m).__name__ for m in net.modules()] == [
        "Net", "ModuleList", "Block", "Linear", "BatchNorm1d", "Block", "Linear", "BatchNorm1d",
        "Linear"]
    assert net.blocks[0].fc.in_features == 9 and net.blocks[1].fc.in_features == 6


def test_mismatched_width_after_materialization_names_the_layer():
    # the seed's exercise 2: the first call fixes the shape; a different width is an error
    net = mlp()
    net(lamina.randn(2, 20))
    with pytest.raises(ModuleInputError) as e:
        net(lamina.randn(2, 21))
    assert str(e.value) == ("Linear(in_features=20, out_features=8, bias=True) at '0' got "
                            "input of shape (2, 21); expected (*, 20)")


def test_partial_dims_and_varying_leading_dims():
    # the seed's exercises 1 and 3: only the last dim matters; other dims may vary per call
    net = mlp()
    assert tuple(net(lamina.randn(20)).shape) == (3,)
    assert tuple(net(lamina.randn(2, 7, 20)).shape) == (2, 7, 3)
    assert tuple(net(lamina.randn(5, 20)).shape) == (5, 3)


def test_bad_first_input_leaves_the_module_pending():
    m = nn.LazyLinear(3)
    with pytest.raises(ModuleInputError, match=r"got input of shape \(\); expected "
                       r"\(\*, in_features\)"):
        m(lamina.tensor(1.0))
    with pytest.raises(TypeError, match="must be Tensor"):
        m([1.0, 2.0])
    assert type(m) is nn.LazyLinear and m.has_uninitialized_params()


def test_direct_forward_call_materializes():
    m = nn.LazyLinear(3)
    assert tuple(m.forward(lamina.randn(2, 6)).shape) == (2, 3)
    assert type(m) is nn.Linear


def test_initialize_parameters_then_call():
    m, tm = nn.LazyLinear(3), real_torch.nn.LazyLinear(3)
    m.initialize_parameters(lamina.randn(2, 6))
    tm.initialize_parameters(real_torch.randn(2, 6))
    assert not m.has_uninitialized_params() and tuple(m.weight.shape) == (3, 6)
    assert type(m).__name__ == type(tm).__name__ == "LazyLinear"  # until the next call
    m(lamina.randn(2, 6))
    assert type(m) is nn.Linear


def test_hooks_on_a_lazy_module_survive_materialization():
    m = nn.LazyLinear(2)
    seen = []
    m.register_forward_pre_hook(lambda mod, args: seen.append(("pre", type(mod).__name__)))
    m.register_forward_hook(lambda mod, args, out: seen.append(("post", tuple(out.shape))))
    m(lamina.randn(3, 4))
    m(lamina.randn(3, 4))
    assert seen == [("pre", "Linear"), ("post", (3, 2))] * 2


def test_module_to_and_requires_grad_before_the_first_call():
    net = mlp().double()
    assert net[0].weight.dtype is lamina.float64
    y = net(lamina.randn(2, 4, dtype=lamina.float64))
    assert y.dtype is lamina.float64 and net[2].bias.dtype is lamina.float64
    net = mlp()
    net.requires_grad_(False)
    net(lamina.randn(2, 4))
    assert not any(p.requires_grad for p in net.parameters())
    bn = nn.LazyBatchNorm1d().to(lamina.float64)
    assert isinstance(bn.running_mean, UninitializedBuffer)
    assert bn.running_mean.dtype is lamina.float64
    with pytest.raises(UninitializedTensorError, match="'running_mean' of LazyBatchNorm1d"):
        bn.running_mean + 1  # still owned after .to() replaced the buffer object
    bn(lamina.randn(3, 2, dtype=lamina.float64))
    assert bn.running_var.dtype is lamina.float64


def test_train_eval_zero_grad_apply_on_a_pending_model():
    net = mlp()
    net.eval().train().zero_grad()
    names = []
    net.apply(lambda m: names.append(type(m).__name__))
    assert names == ["LazyLinear", "ReLU", "LazyLinear", "Sequential"]


# ---------------------------------------------------------------------------- deferred init
def init_weights(m):
    if isinstance(m, nn.Linear):  # LazyLinear is a Linear, as in torch
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)


def test_apply_init_before_the_first_call_is_replayed():
    net = mlp()
    net.apply(init_weights)
    assert sum(p.numel() for p in net.parameters()) == 0
    lamina.manual_seed(0)
    net(lamina.randn(2, 5))
    assert (npy(net[0].bias) == 0).all() and (npy(net[2].bias) == 0).all()
    w = np.abs(npy(net[0].weight))
    # xavier's bound sqrt(6 / (5 + 8)) = 0.68, above the default init's 1 / sqrt(5) = 0.45
    assert w.max() <= (6 / (5 + 8)) ** 0.5 and w.max() > 1 / 5 ** 0.5


def test_replay_order_and_values_equal_eager_torch():
    """Recorded calls run in the order they were made, after the default init: the values
    are torch's for the same calls on an eager model (bias drawn before weight here)."""
    def init(m):
        if isinstance(m, (nn.Linear, real_torch.nn.Linear)):
            lib = real_torch if isinstance(m, real_torch.nn.Linear) else lamina
            lib.nn.init.normal_(m.bias, 0.0, 0.5)
            lib.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

    net = mlp()
    net.apply(init)
    lamina.manual_seed(7)
    net(lamina.zeros(2, 5))
    real_torch.manual_seed(7)
    tnet = real_torch.nn.Sequential(real_torch.nn.Linear(5, 8), real_torch.nn.ReLU())
    # torch: module 0 built (default init) then module 2 ... but lamina's lazy layers draw their
    # default init at the first call, layer by layer; build torch's in the same order
    t0 = tnet[0]
    init(t0)
    t2 = real_torch.nn.Linear(8, 3)
    init(t2)
    np.testing.assert_array_equal(npy(net[0].weight), npy(t0.weight))
    np.testing.assert_array_equal(npy(net[0].bias), npy(t0.bias))
    np.testing.assert_array_equal(npy(net[2].weight), npy(t2.weight))
    np.testing.assert_array_equal(npy(net[2].bias), npy(t2.bias))


def test_in_place_initializers_are_recorded():
    m = nn.LazyLinear(4)
    with lamina.no_grad():
        m.weight.fill_(0.25)
        m.bias.zero_()
    m.weight.normal_(0.0, 0.0)  # mean 0, std 0: zeros, replayed after fill_
    m(lamina.randn(2, 3))
    assert (npy(m.weight) == 0).all() and (npy(m.bias) == 0).all()


def test_init_through_dot_data_is_recorded():
    # the classic idiom (DCGAN's weights_init): m.weight.data.normal_(...) before any forward
    def weights_init(m):
        if isinstance(m, nn.Linear):
            m.weight.data.normal_(1.0, 0.0)
            m.bias.data.fill_(0.5)
            nn.init.constant_(m.bias.data, 0.25)

    net = mlp()
    net.apply(weights_init)
    assert repr(net[0].weight.data) == "<UninitializedTensor>"
    with pytest.raises(UninitializedTensorError, match="'weight' of LazyLinear"):
        net[0].weight.data.sum()
    net(lamina.randn(2, 3))
    assert (npy(net[0].weight) == 1).all() and (npy(net[2].bias) == 0.25).all()


def test_a_failing_replay_says_what_was_recorded():
    m = nn.LazyLinear(4)
    nn.init.xavier_uniform_(m.bias)  # fine to record; fails once the bias is 1-D
    with pytest.raises(ValueError, match="fewer than 2 dimensions") as e:
        m(lamina.randn(2, 3))
    assert any("replaying xavier_uniform_" in n for n in e.value.__notes__)


def test_init_arguments_are_checked_when_recorded():
    with pytest.raises(TypeError):
        nn.init.normal_(nn.LazyLinear(2).weight, 0.0, 1.0, 5, 6)


# ---------------------------------------------------------------------------- optimizers
@pytest.mark.parametrize("opt", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_optimizer_built_before_the_first_call(opt):
    net, tnet = mlp(), tmlp()
    kw = {"lr": 0.05}
    if opt == "SGD":
        kw["momentum"] = 0.9
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    lamina.manual_seed(1)
    real_torch.manual_seed(1)
    o = getattr(lamina.optim, opt)(net.parameters(), **kw)
    if opt == "Adagrad":  # torch's Adagrad cannot take pending parameters (lamina's can)
        tnet(real_torch.from_numpy(x))
    to = getattr(real_torch.optim, opt)(tnet.parameters(), **kw)
    for _ in range(3):
        for model, optim, inp in ((net, o, lamina.from_numpy(x)),
                                  (tnet, to, real_torch.from_numpy(x))):
            optim.zero_grad()
            (model(inp) ** 2).sum().backward()
            optim.step()
    assert o.param_groups[0]["params"][0] is net[0].weight
    for (n, p), (_, tp) in zip(net.named_parameters(), tnet.named_parameters()):
        np.testing.assert_allclose(npy(p), npy(tp), rtol=1e-4, atol=1e-5, err_msg=n)


def test_optimizer_step_before_the_first_call_does_nothing():
    net = mlp()
    opt = lamina.optim.Adam(net.parameters())
    opt.step()
    assert not opt.state
    net(lamina.randn(2, 3)).sum().backward()
    opt.step()
    assert tuple(opt.state[net[0].weight]["exp_avg"].shape) == (8, 3)


# ---------------------------------------------------------------------------- state_dict
def test_state_dict_of_a_pending_model():
    net, tnet = mlp(), tmlp()
    sd, tsd = net.state_dict(), tnet.state_dict()
    assert list(sd) == list(tsd)
    assert all(isinstance(v, UninitializedParameter) for v in sd.values())
    assert sd["0.weight"] is net[0].weight  # torch puts the pending parameter itself
    assert list(net.state_dict(keep_vars=True)) == list(sd)
    bn_sd = nn.LazyBatchNorm1d().state_dict()
    assert list(bn_sd) == list(real_torch.nn.LazyBatchNorm1d().state_dict())
    assert int(bn_sd["num_batches_tracked"]) == 0


def trained():
    src = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3), nn.BatchNorm1d(3))
    src(lamina.randn(6, 5))
    return src


def test_load_state_dict_materializes_without_a_forward():
    src = trained()
    net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(3), nn.LazyBatchNorm1d())
    params = list(net.parameters())
    opt = lamina.optim.SGD(net.parameters(), lr=0.1)
    assert repr(net.load_state_dict(src.state_dict())) == "<All keys matched successfully>"
    assert repr(net) == repr(src)
    assert [type(m) for m in net] == [type(m) for m in src]
    assert net[0].in_features == 5 and net[3].num_features == 3
    assert all(a is b for a, b in zip(net.parameters(), params))
    for (k, a), (_, b) in zip(net.state_dict().items(), src.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    x = lamina.randn(4, 5)
    net.eval()
    src.eval()
    np.testing.assert_array_equal(npy(net(x)), npy(src(x)))
    net(x).sum().backward()
    opt.step()  # the optimizer built before the load holds the loaded parameters


def test_load_state_dict_replays_nothing_it_overwrites():
    src = trained()
    net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(3), nn.LazyBatchNorm1d())
    net.apply(init_weights)
    net.load_state_dict(src.state_dict())
    np.testing.assert_array_equal(npy(net[0].weight), npy(src[0].weight))


def test_failed_load_leaves_the_model_pending_and_unchanged():
    src = trained()
    net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(4), nn.LazyBatchNorm1d())
    before = repr(net)
    with pytest.raises(RuntimeError) as e:
        net.load_state_dict(src.state_dict())
    msg = str(e.value)
    assert msg.startswith("Error(s) in loading state_dict for Sequential:")
    assert ("size mismatch for 2.weight: copying a param with shape torch.Size([3, 8]) from "
            "checkpoint, the shape in current model is (4, in_features) (LazyLinear("
            "out_features=4), not materialized yet).") in msg
    assert "size mismatch for 2.bias" in msg and "0.weight" not in msg
    assert repr(net) == before
    assert all(nn.parameter.is_lazy(p) for p in net.parameters())  # 0 was not materialized
    # a bad rank on the first layer, a missing key: also nothing changes
    sd = src.state_dict()
    sd["0.weight"] = lamina.zeros(8, 5, 1)
    del sd["3.running_var"]
    net2 = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(3), nn.LazyBatchNorm1d())
    with pytest.raises(RuntimeError, match=r'(?s)Missing key\(s\) in state_dict: '
                       r'"3.running_var".*size mismatch for 0.weight'):
        net2.load_state_dict(sd)
    assert all(nn.parameter.is_lazy(p) for p in net2.parameters())


def test_load_partial_checkpoint_with_strict_false():
    net = nn.Sequential(nn.LazyLinear(8), nn.LazyLinear(3))
    res = net.load_state_dict({"0.weight": lamina.ones(8, 5), "0.bias": lamina.zeros(8)},
                              strict=False)
    assert res.missing_keys == ["1.weight", "1.bias"]
    assert type(net[0]) is nn.Linear and type(net[1]) is nn.LazyLinear
    with pytest.raises(RuntimeError, match="'0.weight' is needed to infer in_features"):
        nn.Sequential(nn.LazyLinear(8)).load_state_dict({"0.bias": lamina.zeros(8)},
                                                        strict=False)


def test_load_pending_checkpoint():
    # pending into pending: nothing to copy, the model stays pending (torch's rule)
    net = mlp()
    assert repr(net.load_state_dict(mlp().state_dict())) == "<All keys matched successfully>"
    assert type(net[0]) is nn.LazyLinear
    # pending into a materialized model: an error, not a silent no-op
    eager = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
    with pytest.raises(RuntimeError, match=r'While copying the parameter named "0.weight": the '
                       r"checkpoint holds an uninitialized \(lazy\) tensor"):
        eager.load_state_dict(mlp().state_dict())


def test_load_with_assign_keeps_parameter_objects():
    src = trained()
    net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(3), nn.LazyBatchNorm1d())
    w = net[0].weight
    net.load_state_dict(src.state_dict(), assign=True)
    assert net[0].weight is w and type(net[0]) is nn.Linear
    np.testing.assert_array_equal(npy(w), npy(src[0].weight))


def test_custom_lazy_module_torch_protocol_and_load():
    class LazyScale(nn.LazyModuleMixin, nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = UninitializedParameter()

        def initialize_parameters(self, x):
            if self.has_uninitialized_params():
                self.scale.materialize(x.shape[-1:])
                with lamina.no_grad():
                    self.scale.fill_(1.0)

        def forward(self, x):
            return x * self.scale

    m = LazyScale()
    with pytest.raises(UninitializedTensorError, match=r"'scale' of LazyScale\(\) is not "
                       r"materialized yet \(its shape waits for the input of the module's "
                       r"first call\)"):
        m.scale * 2
    assert (npy(m(lamina.full((2, 3), 2.0))) == 2.0).all()
    assert type(m) is LazyScale  # cls_to_become is None
    m2 = LazyScale()
    m2.load_state_dict({"scale": lamina.full((3,), 4.0)})
    assert (npy(m2.scale) == 4.0).all()
    assert (npy(m2(lamina.ones(3))) == 4.0).all()

    class Broken(nn.LazyModuleMixin, nn.Module):
        def __init__(self):
            super().__init__()
            self.w = UninitializedParameter()

        def initialize_parameters(self, x):
            pass

    with pytest.raises(RuntimeError, match="module Broken has not been fully initialized"):
        Broken()(lamina.ones(1))


# ---------------------------------------------------------------------------- copy, pickle
def test_deepcopy_of_a_pending_model():
    net = mlp()
    net.apply(init_weights)
    c = copy.deepcopy(net)
    assert repr(c) == repr(net) and c[0].weight is not net[0].weight
    with pytest.raises(UninitializedTensorError, match="'weight' of LazyLinear"):
        c[0].weight + 1  # the copy's parameter knows its (copied) owner
    c(lamina.randn(2, 6))
    assert type(c[0]) is nn.Linear and type(net[0]) is nn.LazyLinear  # independent
    assert (npy(c[0].bias) == 0).all()  # the recorded inits were copied too
    net(lamina.randn(2, 4))
    assert net[0].in_features == 4 and c[0].in_features == 6


def test_pickle_of_a_pending_model():
    net = nn.Sequential(nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d(), nn.Flatten(),
                        nn.LazyLinear(2))
    net.apply(init_weights)
    c = pickle.loads(pickle.dumps(net))
    assert repr(c) == repr(net)
    assert isinstance(c[1].running_mean, UninitializedBuffer)
    with pytest.raises(UninitializedTensorError, match="'running_var' of LazyBatchNorm2d"):
        c[1].running_var + 1
    y = c(lamina.randn(2, 3, 6, 6))
    assert tuple(y.shape) == (2, 2) and type(c[3]) is nn.Linear
    assert (npy(c[3].bias) == 0).all()
    assert c[3].in_features == 4 * 4 * 4


# ---------------------------------------------------------------------------- devices
def test_pending_model_moved_to_cuda_materializes_there(fake_cupy):
    net = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyBatchNorm1d()).cuda()
    assert net[0].weight.device.type == "cuda" and net[2].running_mean.device.type == "cuda"
    y = net(lamina.randn(3, 5, device="cuda"))
    assert y.device.type == "cuda" and net[0].weight.device.type == "cuda"
    assert net[2].running_var.device.type == "cuda" and type(net[0]) is nn.Linear
    net2 = nn.Sequential(nn.LazyLinear(2)).to("cuda")
    nn.utils.materialize(net2, input_shape=(1, 3))  # the zeros go to the model's device
    assert net2[0].weight.device.type == "cuda" and net2[0].in_features == 3
    net3 = nn.Sequential(nn.LazyLinear(2, device="cuda"))
    net3.load_state_dict({"0.weight": lamina.ones(2, 3), "0.bias": lamina.zeros(2)})
    assert net3[0].weight.device.type == "cuda"
