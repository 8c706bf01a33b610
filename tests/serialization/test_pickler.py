"""lamina.serialization._pickler: torch.save's pickle stream and storage table.

Whole checkpoints (torch loads lamina's files and vice versa) are tested in
tests/serialization/test_serialization.py.
"""

from __future__ import annotations

import pickletools

import torch

import lamina as L
from lamina.serialization._pickler import pickle_with_storages


def _globals(data):
    return {arg for op, arg, _ in pickletools.genops(data) if op.name == "GLOBAL"}


def test_views_of_one_tensor_share_one_storage_sized_to_their_span():
    x = L.arange(8.0)
    data, refs = pickle_with_storages({"a": x[2:5], "b": x[3:6]})
    assert len(refs) == 1
    assert (refs[0].start, refs[0].nbytes) == (8, 16)  # elements 2..5 of float32
    assert "torch._utils _rebuild_tensor_v2" in _globals(data)
    assert "torch FloatStorage" in _globals(data)


def test_separate_tensors_get_separate_storages_and_torch_dtype_names():
    data, refs = pickle_with_storages([L.ones(2), L.zeros(3, dtype=L.int64), L.float16])
    assert len(refs) == 2
    g = _globals(data)
    assert "torch LongStorage" in g and "torch float16" in g
    # the storage class names the dtypes carry are torch's real classes
    assert all(hasattr(torch, d.storage_type) for d in (L.float32, L.float64, L.float16, L.int64, L.int32, L.uint8, L.bool))
