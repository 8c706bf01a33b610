"""lamina/random/_mt19937.py: torch's CPU engine, its raw stream and its state bytes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from lamina.random import Generator
from lamina.random._mt19937 import MT19937
from tests.random.parity import gens, in_sync, same


def test_raw_stream_is_torchs():
    """random() and random64() draw for draw: torch's random_(0, 2**32) keeps the low word of
    each random64() (its second draw), random_ over the whole int64 range keeps all of it."""
    for seed in (5, 2**40 + 3):  # torch seeds MT19937 with the low 32 bits
        mt, tg = MT19937(seed), torch.Generator().manual_seed(seed)
        t = torch.empty(100, dtype=torch.int64).random_(0, 2**32, generator=tg)
        np.testing.assert_array_equal(mt.raw(200)[1::2].astype(np.int64), t.numpy())
        t = torch.empty(50, dtype=torch.int64).random_(-2**63, None, generator=tg)
        np.testing.assert_array_equal(mt.raw64(50).view(np.int64), t.numpy())


def test_blocked_draws_are_the_plain_stream():
    blocks = list(MT19937(1).raw_blocks((1 << 17) + 5, 1 << 16))
    assert [b.size for b in blocks] == [1 << 16, 1 << 16, 5]
    np.testing.assert_array_equal(np.concatenate(blocks), MT19937(1).raw((1 << 17) + 5))


def test_manual_seed_restarts_the_stream_and_clears_the_cached_normal():
    mt = MT19937(3)
    first = mt.raw(700)  # past one block of 624 words: the engine twisted
    mt.next_double = 0.5
    mt.manual_seed(3)
    assert mt.next_double is None and mt.seed == 3
    np.testing.assert_array_equal(mt.raw(700), first)
    np.testing.assert_array_equal(MT19937(3).state_bytes(), torch.Generator().manual_seed(3)
                                  .get_state().numpy())


def _torch_state(tg):
    return tg.get_state().numpy()


def test_state_bytes_are_torchs_layout():
    lg, tg = gens(123)
    same(lg.get_state().numpy(), _torch_state(tg))  # fresh: next = 0
    steps = [lambda g, t: (g._normal((3,), 0, 1, np.float32), torch.randn(3, generator=t)),
             lambda g, t: (g._uniform((700,), 0, 1, np.float32), torch.rand(700, generator=t)),
             lambda g, t: (g._uniform((548,), 0, 1, np.float32), torch.rand(548, generator=t))]
    for step in steps:  # a cached normal, a twist, exactly the end of a block
        step(lg, tg)
        same(lg.get_state().numpy(), _torch_state(tg))
    assert lg.get_state().numpy().size == 5056


def test_state_moves_between_lamina_and_torch():
    lg, tg = gens(9)
    lg._normal((5,), 0, 1, np.float64)  # leaves a cached sample
    tg.set_state(torch.from_numpy(lg.get_state().numpy().copy()))
    same(lg._normal((3,), 0, 1, np.float32), torch.randn(3, generator=tg))
    torch.randn(11, generator=tg)
    lg2 = Generator().set_state(lamina.tensor(_torch_state(tg), dtype=lamina.uint8))
    same(lg2._normal((7,), 0, 1, np.float32), torch.randn(7, generator=tg))
    in_sync(lg2, tg)


def test_set_state_rejects_bad_states_and_keeps_old():
    g = Generator().manual_seed(2)
    st = g.get_state().numpy().copy()
    with pytest.raises(RuntimeError, match="size"):
        g.set_state(np.zeros(10, np.uint8))
    with pytest.raises(TypeError, match="ByteTensor"):
        g.set_state(np.zeros(5056, np.float32))
    with pytest.raises(RuntimeError, match="Invalid mt19937 state"):
        g.set_state(np.zeros(5056, np.uint8))
    np.testing.assert_array_equal(g.get_state().numpy(), st)
