"""The module / parameter snippets of the seed documents, run with ``import lamina as torch``.

Seed 001 (Sequential, custom layers, nn.Parameter, state_dict, parameter tying) and seed 003
(named_parameters, state_dict, ``.grad is None``, ``.data`` tricks, a shared-layer MLP). The
mangled scrape text is rewritten as valid Python; the calls are the documents' own. Printed
structures are compared with the output shown in the documents (values are random).
The save/load, GPU and ``nn.init`` parts of the seeds are tested elsewhere.
"""

from __future__ import annotations

import types

import pytest

import lamina as torch
from lamina import nn


def printed(capsys):
    return capsys.readouterr().out


# ---------------------------------------------------------------------------- seed 001
SEQ_REPR = """Sequential(
  (0): Linear(in_features=20, out_features=10, bias=True)
  (1): ReLU()
  (2): Linear(in_features=10, out_features=5, bias=True)
)
"""


def test_001_sequential_forward_and_print(capsys):
    net = nn.Sequential(
        nn.Linear(20, 10),
        nn.ReLU(),
        nn.Linear(10, 5))
    torch.manual_seed(42)
    X = torch.randn(3, 20)
    out = net(X)
    assert tuple(out.shape) == (3, 5) and out.requires_grad and out.grad_fn is not None
    print(net)
    assert printed(capsys) == SEQ_REPR
    print(net[0])
    print(net[1])
    print(len(net))
    assert printed(capsys) == ("Linear(in_features=20, out_features=10, bias=True)\n"
                               "ReLU()\n3\n")


def test_001_sequential_modify_delete_append(capsys):
    net = nn.Sequential(nn.Linear(20, 10), nn.ReLU(), nn.Linear(10, 5))
    net[1] = nn.Sigmoid()
    print(net)
    assert printed(capsys) == """Sequential(
  (0): Linear(in_features=20, out_features=10, bias=True)
  (1): Sigmoid()
  (2): Linear(in_features=10, out_features=5, bias=True)
)
"""
    del net[2]
    print(net)
    assert printed(capsys) == """Sequential(
  (0): Linear(in_features=20, out_features=10, bias=True)
  (1): Sigmoid()
)
"""
    net.append(nn.Linear(10, 2))  # 均会添加到末尾
    print(net)
    assert printed(capsys) == """Sequential(
  (0): Linear(in_features=20, out_features=10, bias=True)
  (1): Sigmoid()
  (2): Linear(in_features=10, out_features=2, bias=True)
)
"""
    # the document worried that deleting a middle layer breaks appending (torch 1.11);
    # torch 2.x renumbers, and so does lamina
    del net[0]
    net.append(nn.ReLU())
    assert [n for n, _ in net.named_children()] == ["0", "1", "2"]
    assert tuple(net(torch.randn(4, 10)).shape) == (4, 2)


def test_001_iterate_sequential(capsys):
    net = nn.Sequential(
        nn.Linear(20, 10),
        nn.ReLU(),
        nn.Linear(10, 5))
    for sub_module in net:
        print(sub_module)
    assert printed(capsys) == ("Linear(in_features=20, out_features=10, bias=True)\nReLU()\n"
                               "Linear(in_features=10, out_features=5, bias=True)\n")


class MySeq(nn.Module):
    def __init__(self, *args):
        super().__init__()
        for idx, module in enumerate(args):
            self._modules[str(idx)] = module

    def forward(self, inputs):
        for module in self._modules.values():
            inputs = module(inputs)
        return inputs


class MySeq2(nn.Module):
    """The second, fuller MySeq of the document (indexing, assignment, deletion, append)."""

    def __init__(self, *args):
        super().__init__()
        for idx, module in enumerate(args):
            self._modules[str(idx)] = module

    def __getitem__(self, idx):
        return self._modules[str(idx)]

    def __setitem__(self, idx, module):
        assert idx < len(self)
        self._modules[str(idx)] = module

    def __delitem__(self, idx):
        for i in range(idx, len(self) - 1):
            self._modules[str(i)] = self._modules[str(i + 1)]
        del self._modules[str(len(self) - 1)]

    def __len__(self):
        return len(self._modules)

    def append(self, module):
        new_idx = int(list(self._modules.keys())[-1]) + 1
        self._modules[str(new_idx)] = module

    def forward(self, inputs):
        for module in self._modules.values():
            inputs = module(inputs)
        return inputs


def test_001_myseq():
    torch.manual_seed(42)
    myseq = MySeq(nn.Linear(20, 10), nn.ReLU(), nn.Linear(10, 5))
    X = torch.rand(3, 20)
    out = myseq(X)
    assert tuple(out.shape) == (3, 5) and out.grad_fn is not None
    # modules put straight into _modules are registered like add_module's
    assert [n for n, _ in myseq.named_parameters()] == ["0.weight", "0.bias", "2.weight",
                                                        "2.bias"]
    assert myseq._modules["1"] is getattr(myseq, "1")


def test_001_myseq_full(capsys):
    s = MySeq2(nn.Linear(20, 10), nn.ReLU(), nn.Linear(10, 5))
    assert len(s) == 3 and isinstance(s[1], nn.ReLU)
    s[1] = nn.Sigmoid()
    del s[0]
    assert len(s) == 2 and isinstance(s[0], nn.Sigmoid)
    s.append(nn.Linear(5, 2))
    print(s)
    assert printed(capsys) == """MySeq2(
  (0): Sigmoid()
  (1): Linear(in_features=10, out_features=5, bias=True)
  (2): Linear(in_features=5, out_features=2, bias=True)
)
"""
    assert tuple(s(torch.rand(3, 10)).shape) == (3, 2)


NESTED = """Sequential(
  (0): Sequential(
    (0): Linear(in_features=15, out_features=10, bias=True)
    (1): ReLU()
    (2): Linear(in_features=10, out_features=5, bias=True)
  )
  (1): Sequential(
    (0): Linear(in_features=25, out_features=15, bias=True)
    (1): Sigmoid()
    (2): Linear(in_features=15, out_features=10, bias=True)
  )
)
"""


def test_001_nested_sequential(capsys):
    seq_1 = nn.Sequential(nn.Linear(15, 10), nn.ReLU(), nn.Linear(10, 5))
    seq_2 = nn.Sequential(nn.Linear(25, 15), nn.Sigmoid(), nn.Linear(15, 10))
    seq_3 = nn.Sequential(seq_1, seq_2)
    print(seq_3)
    assert printed(capsys) == NESTED
    print(seq_3[1])
    assert printed(capsys) == """Sequential(
  (0): Linear(in_features=25, out_features=15, bias=True)
  (1): Sigmoid()
  (2): Linear(in_features=15, out_features=10, bias=True)
)
"""
    print(seq_3[0][1])
    assert printed(capsys) == "ReLU()\n"
    for seq in seq_3:
        for module in seq:
            print(module)
    assert printed(capsys) == """Linear(in_features=15, out_features=10, bias=True)
ReLU()
Linear(in_features=10, out_features=5, bias=True)
Linear(in_features=25, out_features=15, bias=True)
Sigmoid()
Linear(in_features=15, out_features=10, bias=True)
"""
    # the shapes do not chain, as the document says: the error names the layer and its path
    with pytest.raises(RuntimeError, match=r"at '1.0' got input of shape \(3, 5\)"):
        seq_3(torch.randn(3, 15))


def test_001_nested_sequential_that_runs():
    seq_1 = nn.Sequential(nn.Linear(30, 25), nn.ReLU(), nn.Linear(25, 20))
    seq_2 = nn.Sequential(nn.Linear(20, 15), nn.Sigmoid(), nn.Linear(15, 10))
    seq_3 = nn.Sequential(seq_1, seq_2)
    assert tuple(seq_3(torch.randn(4, 30)).shape) == (4, 10)


class CenteredLayer(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, X):
        return X - X.mean()


def test_001_centered_layer(capsys):
    torch.manual_seed(42)
    net = nn.Sequential(nn.Linear(64, 30), CenteredLayer())
    X = torch.randn(3, 64)
    print(net(X).mean())
    out = printed(capsys)
    assert out.startswith("tensor(") and "grad_fn=<MeanBackward0>" in out
    assert abs(float(net(X).mean())) < 1e-6


class Net001(nn.Module):
    def __init__(self, input_nodes, hidden_nodes, output_nodes):
        super().__init__()
        self.inodes = input_nodes
        self.hnodes = hidden_nodes
        self.onodes = output_nodes
        self.model = nn.Sequential(
            nn.Linear(self.inodes, self.hnodes),
            nn.ReLU(),
            nn.Linear(self.hnodes, self.onodes))

    def forward(self, inputs):
        return self.model(inputs)


def test_001_custom_net_with_parameters(capsys):
    torch.manual_seed(42)
    net = Net001(784, 256, 8)
    X = torch.randn(5, 784)
    print(net(X))
    out = printed(capsys)
    assert out.startswith("tensor([[") and out.count("\n") == 6 and "grad_fn=<" in out
    assert [n for n, _ in net.named_parameters()] == ["model.0.weight", "model.0.bias",
                                                      "model.2.weight", "model.2.bias"]


def test_001_linear_parameters_are_parameters():
    module = nn.Linear(3, 3)
    assert type(module.weight) is nn.Parameter
    assert type(module.bias) is nn.Parameter
    assert type(module.weight).__name__ == "Parameter"


def test_001_plain_tensors_are_not_parameters(capsys):
    """ 代码片段一 """

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.randn(3, 3)
            self.bias = torch.randn(3)

        def forward(self, inputs):
            pass

    net = Net()
    print(list(net.parameters()))
    assert printed(capsys) == "[]\n"

    """ 代码片段二 """

    class Net(nn.Module):  # the document redefines it
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(3, 3))
            self.bias = nn.Parameter(torch.randn(3))

        def forward(self, inputs):
            pass

    net = Net()
    print(list(net.parameters()))
    out = printed(capsys)
    assert out.startswith("[Parameter containing:\ntensor([[")
    assert out.count("Parameter containing:") == 2 and out.count("requires_grad=True") == 2


def test_001_parameter_and_data(capsys):
    a = torch.tensor([1, 2, 3]).to(torch.float32)
    param = nn.Parameter(a)
    print(param)
    print(param.data)
    assert printed(capsys) == ("Parameter containing:\ntensor([1., 2., 3.], requires_grad=True)\n"
                               "tensor([1., 2., 3.])\n")


def test_001_state_dict(capsys):
    linear_layer = nn.Linear(2, 2)
    print(linear_layer.state_dict())
    out = printed(capsys)
    assert out.startswith("OrderedDict([('weight', tensor([[") and "('bias', tensor([" in out
    print(linear_layer.state_dict().keys())
    assert printed(capsys) == "odict_keys(['weight', 'bias'])\n"


def test_001_weight_and_bias_attributes(capsys):
    linear_layer = nn.Linear(2, 1)
    print(linear_layer.weight)
    print(linear_layer.bias)
    out = printed(capsys)
    assert out.startswith("Parameter containing:\ntensor([[")
    assert out.count("Parameter containing:") == 2 and out.count("requires_grad=True") == 2
    assert tuple(linear_layer.weight.data.shape) == (1, 2)


def test_001_parameter_tying():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(),
                        nn.Linear(8, 8), nn.ReLU(),
                        nn.Linear(8, 8), nn.ReLU(),
                        nn.Linear(8, 1))
    assert len(list(net.parameters())) == 8
    shared = nn.Linear(8, 8)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(),
                        shared, nn.ReLU(),
                        shared, nn.ReLU(),
                        nn.Linear(8, 1))
    assert net[2].weight is net[4].weight
    assert len(list(net.parameters())) == 6  # the shared layer's parameters once
    assert list(net.state_dict()) == [f"{i}.{k}" for i in (0, 2, 4, 6)
                                      for k in ("weight", "bias")]
    with torch.no_grad():
        net[2].weight[0, 0] = 100
    assert net[2].weight[0, 0] == net[4].weight[0, 0]
    net(torch.rand(2, 4)).sum().backward()
    assert net[2].weight.grad is net[4].weight.grad  # one tensor, the sum of both uses


# ---------------------------------------------------------------------------- seed 003
def d2l_net():
    net = nn.Sequential()
    net.add_module("hidden", nn.Linear(20, 256))
    net.add_module("activation", nn.ReLU())
    net.add_module("output", nn.Linear(256, 10))
    return net


def test_003_add_module_and_forward():
    net = d2l_net()
    X = torch.rand(2, 20)
    Y = net(X)  # 前向计算
    assert tuple(Y.shape) == (2, 10)


def test_003_named_parameters(capsys):
    net = d2l_net()
    for name, param in net.named_parameters():
        print(name, param)
    out = printed(capsys)
    assert [line.split(" ")[0] for line in out.split("\n") if line.endswith("containing:")] == \
        ["hidden.weight", "hidden.bias", "output.weight", "output.bias"]
    assert "..." in out  # the 256x20 weight is summarized like torch's printout
    g = net.named_parameters()
    assert isinstance(g, types.GeneratorType) and type(g).__name__ == "generator"
    assert [n for n, _ in net[0].named_parameters()] == ["weight", "bias"]


def test_003_state_dict_entry_and_attribute():
    net = d2l_net()
    w_sd, w = net[0].state_dict()["weight"], net[0].weight
    assert type(w_sd) is torch.Tensor and not w_sd.requires_grad
    assert type(w) is nn.Parameter and w.requires_grad
    assert bool((w_sd == w).all())
    assert repr(w).startswith("Parameter containing:\ntensor([[")


def test_003_grad_is_none_before_backward():
    net = d2l_net()
    assert (net[0].weight.grad == None) is True  # noqa: E711 - the notebook's own test
    net(torch.rand(2, 20)).sum().backward()
    assert net[0].weight.grad is not None
    assert net[0].weight.grad.shape == net[0].weight.shape


def test_003_output_bias(capsys):
    net = d2l_net()
    print(repr(net[2].bias))
    out = printed(capsys)
    assert out.startswith("Parameter containing:\ntensor([") and "requires_grad=True" in out


def test_003_custom_weight_init_through_data(capsys):
    net = d2l_net()

    # PyTorch不允许对requires_gead=True的tensor做inplace操作。
    # 所以需要取出weight的 data 属性,对它进行相应的处理
    def weight_init(m):
        if isinstance(m, nn.Linear):
            print('Init', m.weight.shape)
            m.weight.data.uniform_(-10, to=10)
            m.weight.data *= (m.weight.data.abs() >= 5).float()

    net.apply(weight_init)
    row = net[0].weight.data[0]
    out = printed(capsys)
    assert out.replace("lamina.", "torch.") == ("Init torch.Size([256, 20])\n"
                                                "Init torch.Size([10, 256])\n")
    w = net[0].weight.data
    assert bool(((w == 0) | ((w.abs() >= 5) & (w.abs() <= 10))).all())
    assert tuple(row.shape) == (20,)


def test_003_params_init_helper():
    def params_init(model, init, **kwargs):  # 本方法已保存在d2ltorch包中方便以后使用

        def initializer(m):
            if isinstance(m, nn.Conv2d):
                init(m.weight.data, **kwargs)
                m.bias.data.fill_(0)

            elif isinstance(m, nn.Linear):
                init(m.weight.data, **kwargs)
                m.bias.data.fill_(0)

            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1.0)
                m.bias.data.fill_(0)

            elif isinstance(m, nn.BatchNorm1d):
                m.weight.data.fill_(1.0)
                m.bias.data.fill_(0)

        model.apply(initializer)

    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(),
                        nn.Linear(2 * 6 * 6, 4), nn.BatchNorm1d(4))
    params_init(net, lambda w, value: w.fill_(value), value=0.5)
    assert bool((net[0].weight == 0.5).all()) and bool((net[0].bias == 0).all())
    assert bool((net[3].weight == 0.5).all()) and bool((net[1].weight == 1).all())
    assert bool((net[4].bias == 0).all())
    assert tuple(net(torch.rand(3, 1, 8, 8)).shape) == (3, 4)


def test_003_rebind_data_plus_one():
    net = d2l_net()
    before = net[0].weight.data.clone()
    w = net[0].weight
    net[0].weight.data = net[0].weight.data + 1
    assert net[0].weight is w
    assert bool((net[0].weight.data[0] == before[0] + 1).all())


def test_003_exercise_train_mlp_with_shared_layer():
    """练习: 构造一个含共享参数层的多层感知机并训练, 观察每一层的模型参数和梯度."""
    torch.manual_seed(0)
    shared = nn.Linear(8, 8)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(),
                        nn.Linear(8, 1))
    X = torch.randn(32, 4)
    y = X.sum(dim=1, keepdim=True)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
    losses = []
    for epoch in range(60):
        optimizer.zero_grad()
        loss = loss_fn(net(X), y)
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
        if epoch == 0:
            # watch the shared layer: one parameter, one gradient, used at indices 2 and 4
            assert net[2].weight.grad is net[4].weight.grad
            assert net[2].weight.grad.shape == (8, 8)
    assert losses[-1] < 0.5 * losses[0]
    assert net[2].weight is net[4].weight
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias", "2.weight",
                                                      "2.bias", "6.weight", "6.bias"]

    # the summed gradient equals the two uses' gradients computed separately
    net.zero_grad()
    x = torch.randn(3, 4)
    net(x).sum().backward()
    total = net[2].weight.grad.clone()
    h = net[1](net[0](x))
    a = net[3](shared(h)).detach().requires_grad_()
    w1 = shared.weight.detach().clone().requires_grad_()
    w2 = shared.weight.detach().clone().requires_grad_()
    out = net[6](net[5](torch.nn.functional.linear(
        net[3](torch.nn.functional.linear(h, w1, shared.bias)), w2, shared.bias)))
    out.sum().backward()
    assert torch.allclose(total, w1.grad + w2.grad, atol=1e-5)
    del a
