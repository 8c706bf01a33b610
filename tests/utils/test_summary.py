"""lamina.utils.summary: rows, output shapes, parameter totals (against torch), shared and lazy
parameters, and a dry run that leaves the model as it was."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

import lamina
from lamina import nn
from lamina.utils import ModelSummary, summary


def _unique_numel(model) -> int:
    seen = {}
    for p in model.parameters():
        seen[id(p)] = p.numel()
    return sum(seen.values())


def _torch_shapes(model, x) -> dict:
    """Output shape of every module of a torch model, by path (first call)."""
    shapes = {}

    def hook(name):
        def record(mod, args, out):
            shapes.setdefault(name, list(out.shape))  # returns None: output unchanged
        return record

    handles = [m.register_forward_hook(hook(name)) for name, m in model.named_modules()]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return shapes


def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(20, 64), lib.nn.ReLU(), lib.nn.Linear(64, 10))


def _cnn(lib):
    nn_ = lib.nn
    return nn_.Sequential(OrderedDict([
        ("features", nn_.Sequential(nn_.Conv2d(1, 8, 3, padding=1), nn_.BatchNorm2d(8),
                                    nn_.ReLU(), nn_.MaxPool2d(2))),
        ("classifier", nn_.Sequential(nn_.Flatten(), nn_.Linear(8 * 4 * 4, 10))),
    ]))


# ---------------------------------------------------------------------------- plain / nested
def test_plain_mlp_rows_and_totals_match_torch():
    lamina.manual_seed(0)
    model = _mlp(lamina)
    s = summary(model, (2, 20), verbose=0)
    tmodel = _mlp(torch)
    assert isinstance(s, ModelSummary)
    assert s.total_params == sum(p.numel() for p in tmodel.parameters()) == 1994
    assert s.trainable_params == 1994 and s.non_trainable_params == 0
    assert [r["path"] for r in s.rows] == ["", "0", "1", "2"]
    assert [r["type"] for r in s.rows] == ["Sequential", "Linear", "ReLU", "Linear"]
    shapes = _torch_shapes(tmodel, torch.zeros(2, 20))
    assert {r["path"]: r["output_shape"] for r in s.rows} == shapes
    assert [r["params"] for r in s.rows] == [0, 20 * 64 + 64, 0, 64 * 10 + 10]
    assert [r["trainable"] for r in s.rows] == [None, True, None, True]
    assert s.param_bytes == 4 * 1994
    assert s.input_bytes == 2 * 20 * 4
    assert s.activation_bytes == 4 * (2 * 64 + 2 * 64 + 2 * 10)  # leaf outputs only
    assert "Total params: 1,994" in s.text and "Trainable params: 1,994" in s.text
    assert str(s) == s.text == repr(s)


def test_nested_cnn_shapes_paths_and_counts_match_torch():
    model = _cnn(lamina)
    tmodel = _cnn(torch)
    s = summary(model, (4, 1, 8, 8), verbose=0)
    assert [r["path"] for r in s.rows] == [n for n, _ in tmodel.named_modules()]
    assert [r["depth"] for r in s.rows] == [0, 1, 2, 2, 2, 2, 1, 2, 2]
    shapes = _torch_shapes(tmodel, torch.zeros(4, 1, 8, 8))
    assert {r["path"]: r["output_shape"] for r in s.rows} == shapes
    assert s.total_params == sum(p.numel() for p in tmodel.parameters())
    assert sum(r["params"] for r in s.rows) == s.total_params == _unique_numel(model)
    # BatchNorm's running_mean/var (8 floats each) + num_batches_tracked (int64)
    assert s.buffer_bytes == 8 * 4 * 2 + 8
    assert s.param_bytes == 4 * s.total_params


def test_custom_module_own_parameter_and_frozen_params():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(lamina.ones(3))
            self.body = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
            self.body[0].weight.requires_grad_(False)

        def forward(self, x):
            return self.body(x * self.scale)

    s = summary(Net(), (5, 3), verbose=0)
    root, body, l0, _ = s.rows
    assert root["params"] == 3 and root["trainable"] is True
    assert body["params"] == 0 and body["trainable"] is None
    assert l0["params"] == 16 and l0["trainable"] == "partial"
    assert s.total_params == 3 + 16 + 10
    assert s.trainable_params == 3 + 4 + 10 and s.non_trainable_params == 12
    assert "Non-trainable params: 12" in s.text and "Partial" in s.text


# ---------------------------------------------------------------------------- shared
def test_shared_module_counted_once_and_marked():
    tied = nn.Linear(8, 8)
    model = nn.Sequential(tied, nn.ReLU(), tied)
    ttied = torch.nn.Linear(8, 8)
    tmodel = torch.nn.Sequential(ttied, torch.nn.ReLU(), ttied)
    s = summary(model, (3, 8), verbose=0)
    assert [r["path"] for r in s.rows] == ["", "0", "1", "2"]
    assert s.rows[1]["params"] == 72 and s.rows[3]["params"] == 0
    assert s.rows[3]["shared_params"] == 72 and s.rows[3]["shared_with"] == "0"
    assert "same module as 0" in s.rows[3]["note"]
    assert s.total_params == sum(p.numel() for p in tmodel.parameters()) == 72
    assert s.shared_params == 72
    assert "Shared params (counted once): 72" in s.text
    # called twice, once per path: each path shows its own call
    assert s.rows[1]["calls"] == 2 and s.rows[3]["output_shape"] == [3, 8]


def test_tied_weight_between_modules():
    class AE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Linear(6, 6)
            self.dec = nn.Linear(6, 6, bias=False)
            self.dec.weight = self.enc.weight

        def forward(self, x):
            return self.dec(self.enc(x))

    model = AE()
    s = summary(model, (2, 6), verbose=0)
    enc, dec = s.rows[1], s.rows[2]
    assert enc["params"] == 42 and dec["params"] == 0
    assert dec["own_params"] == 36 and dec["shared_with"] == "enc"
    assert "shares 36 params with enc" in dec["note"]
    assert s.total_params == _unique_numel(model) == 42
    assert s.shared_params == 36
    assert sum(r["params"] for r in s.rows) == s.total_params


def test_module_called_repeatedly_at_one_path():
    class Loop(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = nn.Linear(4, 4)

        def forward(self, x):
            for _ in range(3):
                x = self.block(x)
            return x

    s = summary(Loop(), (2, 4), verbose=0)
    assert s.rows[1]["calls"] == 3 and "called 3x" in s.rows[1]["note"]
    assert s.activation_bytes == 3 * 2 * 4 * 4


# ---------------------------------------------------------------------------- lazy
def test_lazy_model_materialized_by_dry_run_matches_torch():
    lamina.manual_seed(0)
    model = nn.Sequential(nn.LazyLinear(16), nn.ReLU(), nn.LazyLinear(4))
    tmodel = torch.nn.Sequential(torch.nn.LazyLinear(16), torch.nn.ReLU(),
                                 torch.nn.LazyLinear(4))
    tmodel(torch.zeros(3, 10))
    s = summary(model, (3, 10), verbose=0)
    assert s.total_params == sum(p.numel() for p in tmodel.parameters()) == 10 * 16 + 16 + 68
    assert [r["type"] for r in s.rows] == ["Sequential", "Linear", "ReLU", "Linear"]
    assert s.rows[1]["lazy"] and s.rows[3]["lazy"] and not s.rows[2]["lazy"]
    assert "lazy, materialized" in s.rows[1]["note"]
    assert tuple(model[0].weight.shape) == (16, 10)  # really materialized
    assert s.rows[3]["output_shape"] == [3, 4]


def test_lazy_cnn_with_batchnorm_and_tied_conv():
    tied = nn.LazyConv2d(4, 3, padding=1)
    model = nn.Sequential(nn.LazyConv2d(4, 3, padding=1), nn.LazyBatchNorm2d(), nn.ReLU(),
                          tied, tied, nn.Flatten(), nn.LazyLinear(10))
    ttied = torch.nn.Conv2d(4, 4, 3, padding=1)
    tmodel = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4),
                                 torch.nn.ReLU(), ttied, ttied, torch.nn.Flatten(),
                                 torch.nn.Linear(4 * 8 * 8, 10))
    s = summary(model, (2, 1, 8, 8), verbose=0)
    assert s.total_params == sum(p.numel() for p in tmodel.parameters())
    assert s.total_params == _unique_numel(model)
    assert s.rows[5]["params"] == 0 and s.rows[5]["shared_with"] == "3"
    assert [r["output_shape"] for r in s.rows[1:]] == [
        [2, 4, 8, 8], [2, 4, 8, 8], [2, 4, 8, 8], [2, 4, 8, 8], [2, 4, 8, 8], [2, 256], [2, 10]]
    # eval-mode dry run: the freshly materialized statistics are untouched
    bn = model[1]
    np.testing.assert_array_equal(bn.running_mean.numpy(), np.zeros(4, np.float32))
    np.testing.assert_array_equal(bn.running_var.numpy(), np.ones(4, np.float32))
    assert int(bn.num_batches_tracked.item()) == 0


def test_lazy_model_without_input_is_an_error():
    model = nn.Sequential(nn.LazyLinear(4))
    with pytest.raises(ValueError, match="lazy parameters"):
        summary(model, verbose=0)


# ---------------------------------------------------------------------------- dry run hygiene
def test_dry_run_restores_modes_and_buffers():
    model = _cnn(lamina)
    model.train()
    model.features.eval()  # mixed modes must come back exactly
    model.features[1].train()
    bn = model.features[1]
    with lamina.no_grad():
        bn.running_mean.fill_(0.5)
    before = {n: m.training for n, m in model.named_modules()}
    summary(model, (4, 1, 8, 8), verbose=0)
    assert {n: m.training for n, m in model.named_modules()} == before
    np.testing.assert_array_equal(bn.running_mean.numpy(), np.full(8, 0.5, np.float32))
    assert int(bn.num_batches_tracked.item()) == 0


def test_buffers_restored_for_modules_that_update_them_in_eval():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("count", lamina.zeros(()))

        def forward(self, x):
            self.count.add_(1)  # even in eval mode
            return x

    model = Counter()
    summary(model, (1, 2), verbose=0)
    assert model.count.item() == 0.0


def test_dry_run_restores_modes_after_an_error():
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5))
    model.train()
    with pytest.raises(RuntimeError):
        summary(model, (2, 5), verbose=0)  # wrong in_features
    assert all(m.training for m in model.modules())
    assert not model[0]._forward_hooks  # hooks removed


def test_no_grad_during_dry_run_and_no_graph_left():
    model = _mlp(lamina)
    summary(model, (2, 20), verbose=0)
    assert all(p.grad is None for p in model.parameters())


# ---------------------------------------------------------------------------- inputs / output
def test_example_inputs_in_every_spelling():
    model = _mlp(lamina)
    x = lamina.randn(5, 20)
    shapes = [summary(model, x, verbose=0).rows[0]["output_shape"],
              summary(model, None, x, verbose=0).rows[0]["output_shape"],
              summary(model, input_data=x, verbose=0).rows[0]["output_shape"],
              summary(model, input_data=[x], verbose=0).rows[0]["output_shape"]]
    assert shapes == [[5, 10]] * 4


def test_several_inputs_dtypes_and_structured_outputs():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Linear(3, 2)

        def forward(self, a, idx):
            return {"y": self.emb(a), "pair": (idx, idx + 1)}

    s = summary(Two(), [(4, 3), (4,)], dtypes=[lamina.float32, lamina.long], verbose=0)
    assert s.rows[0]["output_shape"] == {"y": [4, 2], "pair": [[4], [4]]}
    assert "{y: [4, 2], pair: [[4], [4]]}" in s.text
    assert s.input_bytes == 4 * 3 * 4 + 4 * 8


def test_without_input_lists_parameters_only():
    s = summary(_mlp(lamina), verbose=0)
    assert s.total_params == 1994
    assert all(r["output_shape"] is None for r in s.rows)
    assert s.activation_bytes == 0 and s.input_bytes == 0


def test_depth_limits_rows_not_totals():
    s_all = summary(_cnn(lamina), (1, 1, 8, 8), verbose=0)
    s1 = summary(_cnn(lamina), (1, 1, 8, 8), depth=1, verbose=0)
    assert s1.total_params == s_all.total_params
    assert "Conv2d" in s_all.text and "Conv2d" not in s1.text
    assert len(s1.rows) == len(s_all.rows)  # the structured form always has every row


def test_verbose_prints_the_text(capsys):
    s = summary(_mlp(lamina), (2, 20))
    assert capsys.readouterr().out == s.text + "\n"
    summary(_mlp(lamina), (2, 20), verbose=0)
    assert capsys.readouterr().out == ""


def test_table_layout():
    s = summary(_mlp(lamina), (2, 20), verbose=0)
    lines = s.text.splitlines()
    assert lines[0] == "Model summary: Sequential"
    assert lines[2].split() == ["Layer", "(path)", "Type", "Output", "shape", "Param", "#",
                                "Trainable"]
    assert lines[4].split() == ["(model)", "Sequential", "[2,", "10]", "--", "--"]
    assert lines[5].split() == ["0", "Linear", "[2,", "64]", "1,344", "True"]
    assert any(ln.startswith("Params size (MB): ") for ln in lines)
    assert any(ln.startswith("Estimated total size (MB): ") for ln in lines)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"model": "not a module"}, TypeError, "nn.Module"),
    ({"input_size": "3x4"}, TypeError, "input_size"),
    ({"input_size": (2, 0)}, ValueError, "positive"),
    ({"input_size": (2, 20), "input_data": "x"}, ValueError, "not both"),
    ({"input_size": [(2, 20)], "dtypes": [lamina.float32] * 2}, ValueError, "one dtype"),
    ({"input_size": (2, 20), "depth": -1}, ValueError, "depth"),
])
def test_bad_arguments(kwargs, exc, match):
    kwargs = dict(kwargs)
    model = kwargs.pop("model", None) or _mlp(lamina)
    with pytest.raises(exc, match=match):
        summary(model, verbose=0, **kwargs)


def test_lamina_utils_summary_is_the_function():
    import lamina.utils

    assert lamina.utils.summary is summary and callable(lamina.utils.summary)
