"""nn.Parameter and nn.Buffer against torch: construction, memory sharing, repr, copies."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

import lamina
from lamina import nn


def test_parameter_is_a_leaf_tensor_sharing_memory():
    t = lamina.zeros(3)
    p = nn.Parameter(t)
    assert isinstance(p, lamina.Tensor) and isinstance(p, nn.Parameter)
    assert type(p).__name__ == "Parameter"
    assert p.requires_grad and p.is_leaf and p.grad is None and p.grad_fn is None
    t.add_(1)  # same memory and the same version counter, like torch's alias
    assert p.tolist() == [1.0, 1.0, 1.0]
    assert p._version == t._version == 1


def test_parameter_requires_grad_false_and_default_data():
    p = nn.Parameter(lamina.ones(2), requires_grad=False)
    assert not p.requires_grad
    e = nn.Parameter()
    assert tuple(e.shape) == (0,) and e.dtype == lamina.float32 and e.requires_grad


def test_parameter_repr_matches_torch():
    a = np.array([[1.5, -2.0], [0.25, 3.0]], dtype=np.float32)
    for rg in (True, False):
        lp = nn.Parameter(lamina.from_numpy(a.copy()), requires_grad=rg)
        tp = torch.nn.Parameter(torch.from_numpy(a.copy()), requires_grad=rg)
        assert repr(lp) == repr(tp)
        assert str(lp) == str(tp)
    assert repr(nn.Parameter()) == repr(torch.nn.Parameter())
    d = np.array([1.0, 2.0])
    assert repr(nn.Parameter(lamina.from_numpy(d))).replace("lamina", "torch") == \
        repr(torch.nn.Parameter(torch.from_numpy(d)))


def test_parameter_from_int_tensor():
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        nn.Parameter(lamina.tensor([1, 2]))
    p = nn.Parameter(lamina.tensor([1, 2]), requires_grad=False)
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1, 2]), requires_grad=False))


def test_parameter_rejects_non_tensor():
    with pytest.raises(TypeError, match="Parameter: data must be a Tensor"):
        nn.Parameter([1.0, 2.0])


def test_parameter_data_is_detached_view():
    p = nn.Parameter(lamina.tensor([1.0, 2.0, 3.0]))
    d = p.data
    assert type(d) is lamina.Tensor and not d.requires_grad
    d.mul_(2)  # in-place through .data changes the parameter (the seed's masking idiom)
    assert p.tolist() == [2.0, 4.0, 6.0]
    p.data = p.data + 1  # rebinding .data keeps the Parameter object
    assert isinstance(p, nn.Parameter) and p.tolist() == [3.0, 5.0, 7.0]


def test_parameter_deepcopy_like_torch():
    p = nn.Parameter(lamina.tensor([1.0, 2.0]))
    p.grad = lamina.ones(2)
    p.note = "x"
    q = copy.deepcopy(p)
    tp = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    tp.grad = torch.ones(2)
    tp.note = "x"
    tq = copy.deepcopy(tp)
    assert type(q) is nn.Parameter and q is not p
    assert q.requires_grad == tq.requires_grad
    assert (q.grad is None) == (tq.grad is None)
    assert hasattr(q, "note") == hasattr(tq, "note")
    q.data.add_(1)
    assert p.tolist() == [1.0, 2.0]  # a copy, not a view
    memo = {}
    assert copy.deepcopy([p, p], memo)[0] is memo[id(p)]


def test_parameter_pickle_keeps_type_flag_and_attributes():
    p = nn.Parameter(lamina.tensor([1.0, 2.0]), requires_grad=False)
    p.note = "kept"
    q = pickle.loads(pickle.dumps(p))
    assert type(q) is nn.Parameter and not q.requires_grad and q.note == "kept"
    assert q.tolist() == [1.0, 2.0]
    a, b = pickle.loads(pickle.dumps([p, p]))
    assert a is b  # one object stays one object


def test_parameter_grad_accumulates_as_leaf():
    p = nn.Parameter(lamina.tensor([1.0, 2.0]))
    (p * p).sum().backward()
    assert p.grad.tolist() == [2.0, 4.0]
    assert type(p.grad) is lamina.Tensor


def test_buffer_marker():
    b = nn.Buffer(lamina.ones(2), persistent=False)
    tb = torch.nn.Buffer(torch.ones(2), persistent=False)
    assert isinstance(b, lamina.Tensor) and isinstance(b, nn.Buffer)
    assert b.persistent is False and tb.persistent is False
    assert repr(b) == repr(tb)
    assert nn.Buffer(lamina.ones(1)).persistent is True
    assert tuple(nn.Buffer().shape) == (0,)
    c = copy.deepcopy(b)
    assert isinstance(c, nn.Buffer) and c.persistent is False
    d = pickle.loads(pickle.dumps(b))
    assert isinstance(d, nn.Buffer) and d.persistent is False and d.tolist() == [1.0, 1.0]


def test_buffer_rejects_non_tensor():
    with pytest.raises(TypeError, match="Buffer: data must be a Tensor"):
        nn.Buffer(3.0)
