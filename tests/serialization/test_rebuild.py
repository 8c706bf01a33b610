"""lamina.serialization._rebuild: the safe table of torch globals a checkpoint may name.

Loading whole files (including hostile ones) is tested in tests/serialization/test_unpickler.py,
test_fuzz.py and test_fuzz_hostile.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import lamina as L
from lamina.serialization import CheckpointError
from lamina.serialization import _rebuild as R


def test_torch_names_map_to_lamina_rebuilders():
    names = R.torch_names()
    assert names[("torch._utils", "_rebuild_tensor_v2")] is R._rebuild_tensor_v2
    assert names[("torch._utils", "_rebuild_parameter")] is R._rebuild_parameter
    assert ("torch", "FloatStorage") in names
    assert ("os", "system") not in names and ("builtins", "eval") not in names


def test_rebuild_tensor_v2_makes_a_view_of_the_storage():
    raw = np.frombuffer(np.arange(6, dtype=np.float32).tobytes(), np.uint8)
    st = R.LoadedStorage(raw, L.device("cpu"), np.float32, "Float")
    t = R._rebuild_tensor_v2(st, 1, (2, 2), (2, 1), True, {})
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]] and t.requires_grad
    with pytest.raises(CheckpointError):
        R._rebuild_tensor_v2(st, 4, (2, 2), (2, 1), False, {})  # past the storage's end


@pytest.mark.parametrize("module,name,msg", [
    ("torch._utils", "_rebuild_sparse_tensor", "does not support sparse tensors"),
    ("torch.nn.modules.linear", "Linear", "Save model.state_dict() with torch instead"),
    ("torch", "frobnicate", "has no lamina equivalent"),
])
def test_unsupported_globals_say_why(module, name, msg):
    assert msg in R.unsupported_torch_global(module, name)
