"""load_state_dict is all-or-nothing, even when the copy itself fails (issue 13, findings 4, 10).

Every case: a first layer that would be written before the failure, then something that fails
while copying; afterwards the whole model must hold exactly its old values (and a lazy layer
must still be pending).
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import lamina
from lamina import nn


def _values(model):
    return {k: np.array(v._data, copy=True) for k, v in model.state_dict().items()
            if isinstance(v, lamina.Tensor)}


def _assert_unchanged(model, before):
    after = _values(model)
    assert after.keys() == before.keys()
    for k in before:
        np.testing.assert_array_equal(after[k], before[k], err_msg=k)


def _ckpt(model, scale=5.0):
    return OrderedDict((k, lamina.full(tuple(v.shape), scale, dtype=v.dtype)
                        if isinstance(v, lamina.Tensor) else v)
                       for k, v in model.state_dict().items())


class _WithBuffer(nn.Module):
    def __init__(self, buf):
        super().__init__()
        self.register_buffer("b", buf)


def test_expanded_destination_buffer():
    model = nn.Sequential(nn.Linear(2, 2), _WithBuffer(lamina.zeros(1).expand(3)))
    before = _values(model)
    with pytest.raises(RuntimeError, match="1.b"):
        model.load_state_dict(_ckpt(model))
    _assert_unchanged(model, before)


def test_read_only_destination_array():
    buf = lamina.zeros(3)
    buf._data.flags.writeable = False
    model = nn.Sequential(nn.Linear(2, 2), _WithBuffer(buf))
    before = _values(model)
    with pytest.raises(RuntimeError, match="read-only"):
        model.load_state_dict(_ckpt(model))
    _assert_unchanged(model, before)


def test_overflowing_cast_under_warnings_as_errors():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    before = _values(model)
    sd = _ckpt(model)
    sd["1.weight"] = lamina.full((2, 2), 1e300, dtype=lamina.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeError, match="1.weight"):
            model.load_state_dict(sd)
    _assert_unchanged(model, before)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.load_state_dict(sd)  # without -W error: torch's cast (inf), as before
    assert np.isinf(model[1].weight._data).all()


class _Extra(nn.Module):
    def __init__(self, fail):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.fail = fail
        self.state = "old"

    def get_extra_state(self):
        return self.state

    def set_extra_state(self, state):
        if self.fail:
            raise ValueError("bad extra state")
        self.state = state


def test_raising_set_extra_state_rolls_back_everything():
    model = nn.Sequential(nn.Linear(2, 2), _Extra(fail=False), _Extra(fail=True))
    before = _values(model)
    sd = _ckpt(model)
    sd["1._extra_state"] = "new"
    sd["2._extra_state"] = "new"
    with pytest.raises(ValueError, match="bad extra state"):
        model.load_state_dict(sd)
    assert model[1].state == "old"  # set back with what get_extra_state gave before
    _assert_unchanged(model, before)


def test_assign_is_rolled_back_too():
    model = nn.Sequential(nn.Linear(2, 2), _Extra(fail=True))
    w = model[0].weight
    before = _values(model)
    with pytest.raises(ValueError):
        model.load_state_dict(_ckpt(model), assign=True)
    assert model[0].weight is w
    _assert_unchanged(model, before)


def test_lazy_layer_materialized_by_a_failed_load_is_pending_again():
    buf = lamina.zeros(3)
    buf._data.flags.writeable = False
    model = nn.Sequential(nn.Linear(2, 2), nn.LazyLinear(4), _WithBuffer(buf))
    opt_param = model[1].weight
    sd = OrderedDict([("0.weight", lamina.ones(2, 2)), ("0.bias", lamina.ones(2)),
                      ("1.weight", lamina.ones(4, 3)), ("1.bias", lamina.ones(4)),
                      ("2.b", lamina.ones(3))])
    w0 = model[0].weight._data.copy()
    with pytest.raises(RuntimeError, match="read-only"):
        model.load_state_dict(sd)
    np.testing.assert_array_equal(model[0].weight._data, w0)
    assert isinstance(model[1], nn.LazyLinear) and model[1].has_uninitialized_params()
    assert model[1].weight is opt_param
    # and the model still works: a good load materializes it
    buf2 = lamina.zeros(3)
    model[2] = _WithBuffer(buf2)
    model.load_state_dict(sd)
    assert type(model[1]) is nn.Linear and model[1].in_features == 3
    assert model[1].weight is opt_param
    np.testing.assert_array_equal(model[1].weight._data, np.ones((4, 3)))


def test_lazy_materialization_out_of_memory_changes_nothing():
    # the case: a tiny checkpoint holding a stride-0 (4, 2**28) tensor makes the lazy
    # layer allocate 4 GiB; under a 1 GiB address-space limit that fails with MemoryError
    code = """
import resource
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
import numpy as np, lamina
from lamina import nn
from collections import OrderedDict
model = nn.Sequential(nn.Linear(2, 2), nn.LazyLinear(4))
w0 = model[0].weight._data.copy()
sd = OrderedDict([("0.weight", lamina.ones(2, 2)), ("0.bias", lamina.ones(2)),
                  ("1.weight", lamina.zeros(1).expand(4, 2 ** 28)), ("1.bias", lamina.ones(4))])
try:
    model.load_state_dict(sd)
except MemoryError:
    print("MEMORYERROR")
assert (model[0].weight._data == w0).all(), "layer 0 was overwritten"
assert isinstance(model[1], nn.LazyLinear) and model[1].has_uninitialized_params()
print("UNCHANGED")
"""
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(lamina.__file__)),
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert "MEMORYERROR" in out.stdout and "UNCHANGED" in out.stdout, out.stderr[-3000:]


# ---------------------------------------------------------------- finding 10: _metadata
@pytest.mark.parametrize("meta, match", [
    (5, "must be a dict"),
    ({"": "x"}, "expected a module path"),
    ({"": {"version": "x"}}, "version 'x'"),
])
def test_malformed_metadata_is_a_clear_error(meta, match):
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    before = _values(model)
    sd = _ckpt(model, 1.0)
    sd._metadata = meta
    with pytest.raises(RuntimeError, match=match):
        model.load_state_dict(sd)
    _assert_unchanged(model, before)


def test_batchnorm_version_x_from_a_crafted_metadata():
    bn = nn.BatchNorm1d(2)
    sd = bn.state_dict()
    sd._metadata = OrderedDict([("", {"version": "x"})])
    with pytest.raises(RuntimeError, match="Error\\(s\\) in loading state_dict for BatchNorm1d"):
        bn.load_state_dict(sd)
    sd._metadata = OrderedDict([("", {"version": 1})])
    bn.load_state_dict(sd)  # a genuine old version still loads
