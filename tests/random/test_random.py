"""lamina/random/__init__.py: Generator's seeding, state and argument checks, the default
generators (cpu and each GPU's) and torch's seeding functions."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

import lamina
from lamina import random as lrandom
from lamina.random import Generator
from tests.random.parity import gens, install_fake_cupy, same


@pytest.fixture
def fake_cupy(monkeypatch):
    return install_fake_cupy(monkeypatch)


# ------------------------------------------------------------------------------ seeds


def test_default_seeds():
    assert Generator().initial_seed() == 67280421310721
    assert torch.Generator().initial_seed() == 67280421310721
    fresh = torch.Generator()
    same(Generator()._normal((5,), 0.0, 1.0, np.float32), torch.randn(5, generator=fresh))
    assert lrandom.manual_seed(3) is lrandom.default_generator
    assert lrandom.initial_seed() == 3
    assert lamina.initial_seed() == 3


@pytest.mark.parametrize("seed", [0, 1, 2**32 + 1, 2**64 - 1, -1, -2**63])
def test_seed_values_like_torch(seed):
    lg, tg = gens(seed)
    assert lg.initial_seed() == tg.initial_seed()
    same(lg._uniform((4,), 0.0, 1.0, np.float32), torch.rand(4, generator=tg))


def test_manual_seed_returns_self_and_rejects_bad_seeds():
    g = Generator()
    assert g.manual_seed(5) is g
    with pytest.raises(RuntimeError, match="expected a long"):
        g.manual_seed(1.5)
    with pytest.raises(RuntimeError, match="expected a long"):
        g.manual_seed("3")
    with pytest.raises(ValueError):
        g.manual_seed(2**64)
    with pytest.raises(ValueError):
        g.manual_seed(-2**63 - 1)
    assert g.initial_seed() == 5
    lrandom.manual_seed(7.9)  # torch.manual_seed int()s its argument
    assert lrandom.initial_seed() == 7


def test_seed_is_nondeterministic_and_applied():
    g = Generator()
    s = g.seed()
    assert g.initial_seed() == s
    assert Generator().manual_seed(s)._uniform((3,), 0, 1, np.float32).tolist() == \
        Generator().manual_seed(s)._uniform((3,), 0, 1, np.float32).tolist()
    assert Generator().seed() != Generator().seed()


# ------------------------------------------------------------------------------ state


def test_state_roundtrip_fork_clone_pickle():
    g = Generator().manual_seed(31)
    g._normal((1,), 0, 1, np.float32)
    st = g.get_state()
    a = g._normal((5,), 0, 1, np.float32)
    g.set_state(st)
    np.testing.assert_array_equal(g._normal((5,), 0, 1, np.float32), a)
    g.set_state(st)
    c = g.clone_state()
    d = pickle.loads(pickle.dumps(g))
    e = copy.deepcopy(g)
    for other in (c, d, e):
        np.testing.assert_array_equal(other._normal((5,), 0, 1, np.float32), a)

    lrandom.manual_seed(4)
    before = lrandom.get_rng_state().numpy().copy()
    with lrandom.fork_rng():
        lamina.randn(100)
    np.testing.assert_array_equal(lrandom.get_rng_state().numpy(), before)
    with lrandom.fork_rng(enabled=False):
        lamina.randn(100)
    assert not np.array_equal(lrandom.get_rng_state().numpy(), before)
    lrandom.set_rng_state(lamina.tensor(before, dtype=lamina.uint8))
    np.testing.assert_array_equal(lrandom.get_rng_state().numpy(), before)


# ------------------------------------------------------------------------------ errors


def test_invalid_arguments_raise_and_draw_nothing():
    g = Generator().manual_seed(6)
    st = g.get_state().numpy().copy()
    cases = [
        (lambda: g._uniform((3,), 2.0, 1.0, np.float32), "from=2 > to=1"),
        (lambda: g._uniform((3,), 0.0, 1.0, np.int64), "floating point"),
        (lambda: g._normal((3,), 0.0, -1.0, np.float32), "std >= 0.0"),
        (lambda: g._randint(5, 3, (2,), np.int64), "from=5 >= to=3"),
        (lambda: g._randint(0, 300, (2,), np.uint8), "range of uint8"),
        (lambda: g._randperm(-1, np.int64), "negative dimension"),
        (lambda: g._randperm(3000, np.float16), "greater than 2049"),
        (lambda: g._bernoulli_shape((3,), 1.5, np.float32), "p=1.5"),
        (lambda: g._bernoulli(np.array([0.5, 1.2], np.float32), np.float32), "got 1.2"),
        (lambda: g._exponential((3,), 0.0, np.float32), "lambda > 0.0"),
        (lambda: g._multinomial(np.zeros(3, np.float32), 1), "sum of probabilities"),
        (lambda: g._multinomial(np.array([1.0, -1.0], np.float32), 1), "element < 0"),
        (lambda: g._multinomial(np.array([1.0, np.nan], np.float32), 1), "nan"),
        (lambda: g._multinomial(np.ones(2, np.float32), 3), "without replacement"),
        (lambda: g._multinomial(np.ones((2, 2, 2), np.float32), 1), "1 or 2 dim"),
        (lambda: g._multinomial(np.ones(2, np.int64), 1), "floating-point"),
        (lambda: g._multinomial(np.ones(2, np.float32), 0), "n_sample <= 0"),
        (lambda: g._multinomial(np.ones((3, 0), np.float32), 1, True), "sum of probabilities"),
    ]
    for fn, msg in cases:
        with pytest.raises(RuntimeError, match=msg):
            fn()
    np.testing.assert_array_equal(g.get_state().numpy(), st)
    with pytest.raises(RuntimeError, match="'meta'"):
        Generator("meta")


# ------------------------------------------------------------------------------ default generators of the GPUs


def test_cuda_seeding_is_lazy(fake_cupy, monkeypatch):
    monkeypatch.setattr(lrandom, "_cuda_generators", {})
    monkeypatch.setattr(lrandom, "_cuda_pending", {})
    lrandom.manual_seed(99)  # no GPU generator exists yet: remembered for later
    g1 = lrandom._get_default_generator("cuda:1")
    assert g1.initial_seed() == 99
    assert lrandom._get_default_generator("cuda:1") is g1
    lrandom._cuda_manual_seed(5, all_devices=False)  # lamina.cuda.manual_seed: current GPU (0)
    assert g1.initial_seed() == 99
    g0 = lrandom._get_default_generator("cuda:0")
    assert g0.initial_seed() == 5
    lrandom._cuda_manual_seed(6, all_devices=True)
    assert g0.initial_seed() == g1.initial_seed() == 6
    before = g0.get_state().numpy().copy()
    with lrandom.fork_rng():
        g0._uniform((3,), 0.0, 1.0, np.float32)
    np.testing.assert_array_equal(g0.get_state().numpy(), before)


def test_ops_and_seeding_share_the_default_gpu_generators(monkeypatch):
    """lamina.manual_seed, lamina.cuda.manual_seed and fork_rng act on the generators that cuda
    ops draw from (one registry of them; no CuPy is needed until a draw)."""
    monkeypatch.setattr(lrandom, "_cuda_generators", {})
    monkeypatch.setattr(lrandom, "_cuda_pending", {})
    monkeypatch.setattr(lrandom, "_cuda_pending_all", None)
    dev0, dev1 = lamina.device("cuda:0"), lamina.device("cuda:1")
    lamina.manual_seed(11)
    g0 = lrandom.generator_for(dev0, None)
    assert g0 is lrandom._get_default_generator("cuda:0") and g0.initial_seed() == 11
    lamina.cuda.manual_seed(12)  # the current GPU's only
    assert g0.initial_seed() == 12
    g1 = lrandom.generator_for(dev1, None)
    assert g1.initial_seed() == 11 and g1 is not g0
    assert lrandom.generator_for(lamina.device("cpu"), None) is lrandom.default_generator
    mine = Generator("cuda:1")
    assert lrandom.generator_for(dev1, mine) is mine
    with pytest.raises(RuntimeError, match="Expected a 'cuda' device type for generator but "
                                           "found 'cpu'"):
        lrandom.generator_for(dev0, Generator())
