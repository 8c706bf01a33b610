"""lamina._rng: which Generator a random op draws from.

The draws themselves (torch's streams, seeds, states) are tested in tests/test_random.py.
"""

from __future__ import annotations

import pytest

import lamina as L
from lamina import _rng


def test_cpu_default_and_explicit_generator():
    cpu = L.device("cpu")
    assert _rng.generator_for(cpu, None) is L.default_generator
    g = L.Generator()
    assert _rng.generator_for(cpu, g) is g


def test_generator_of_another_device_type_is_refused():
    with pytest.raises(RuntimeError, match="Expected a 'cuda' device type for generator but "
                                           "found 'cpu'"):
        _rng.generator_for(L.device("cuda", 0), L.Generator())


def test_cuda_seed_is_remembered_for_later_generators(fake_cupy):
    _rng.cuda_manual_seed(7, all_devices=True)
    try:
        g0 = _rng.generator_for(L.device("cuda", 0), None)
        assert _rng.generator_for(L.device("cuda", 0), None) is g0  # one per device
        assert g0.initial_seed() == 7
        g1 = _rng.generator_for(L.device("cuda", 1), None)
        assert g1 is not g0 and g1.initial_seed() == 7
    finally:
        _rng._pending_cuda_seed = None
