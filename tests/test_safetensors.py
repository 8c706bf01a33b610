"""lamina.safetensors: safetensors.torch's API for lamina (save_model / load_model here).

The format itself (interchange with the safetensors library, aliases, hostile files) is tested
in tests/serialization/test_safetensors.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import lamina as L
import lamina.safetensors as st
from lamina import nn


def _tied():
    m = nn.Sequential(nn.Embedding(5, 3), nn.Linear(3, 5, bias=False))
    m[1].weight = m[0].weight
    return m


def test_save_model_load_model_round_trip_keeps_ties(tmp_path):
    L.manual_seed(0)
    src = _tied()
    path = str(tmp_path / "m.safetensors")
    st.save_model(src, path, metadata={"note": "x"})
    L.manual_seed(1)
    dst = _tied()
    missing, unexpected = st.load_model(dst, path)
    assert missing == [] and unexpected == []
    np.testing.assert_array_equal(dst[1].weight.detach().numpy(),
                                  src[0].weight.detach().numpy())
    assert dst[0].weight is dst[1].weight


def test_bytes_round_trip_and_strict_load(tmp_path):
    data = st.save({"a": L.arange(4.0), "b": L.ones(2, dtype=L.int32)})
    back = st.load(data)
    assert back["a"].tolist() == [0.0, 1.0, 2.0, 3.0] and back["b"].dtype == L.int32
    path = str(tmp_path / "x.safetensors")
    st.save_file({"weight": L.ones(2, 2)}, path)
    with pytest.raises(RuntimeError, match="Missing key"):
        st.load_model(nn.Linear(2, 2), path)
    missing, _ = st.load_model(nn.Linear(2, 2), path, strict=False)
    assert missing == ["bias"]
