"""lamina/random/_cpu_kernels.py against torch's CPU generator: the same seed must give the same
bits, distribution by distribution and across sequences of calls."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import lamina
from lamina.random import Generator
from lamina.random import _cpu_kernels as kernels
from lamina.random._mt19937 import MT19937
from tests.random.parity import FLOATS, INTEL_MKL, SEEDS, SHAPES, gens, in_sync, same


# ------------------------------------------------------------------------------ uniform


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("npd,td", FLOATS)
def test_rand_matches_torch(seed, npd, td):
    lg, tg = gens(seed)
    for shape in SHAPES:
        same(lg._uniform(shape, 0.0, 1.0, npd), torch.rand(shape, generator=tg, dtype=td))
    in_sync(lg, tg)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("npd,td", FLOATS)
@pytest.mark.parametrize("bounds", [(-0.3, 0.7), (2.0, 5.5), (-1 / 3, 1 / 3), (-1e-3, 7.0),
                                    (1e-8, 1e4), (-2.0, 3.0), (5.0, 5.0)])
def test_uniform_bounds_match_torch(seed, npd, td, bounds):
    lg, tg = gens(seed)
    for shape in [(3,), (17,), (64, 33)]:
        t = torch.empty(shape, dtype=td).uniform_(*bounds, generator=tg)
        same(lg._uniform(shape, *bounds, npd), t)
    in_sync(lg, tg)


def test_uniform_stays_below_upper_bound():
    # float16 rounds many values up to `to`; ATen maps them to `from`, and so must we.
    lg, tg = gens(3)
    t = torch.empty(20000, dtype=torch.float16).uniform_(-2.0, 3.0, generator=tg)
    m = lg._uniform((20000,), -2.0, 3.0, np.float16)
    same(m, t)
    assert m.max() < 3.0 and (m == -2.0).any()


def test_linear_layer_default_init_sequence():
    """Layers built one after another draw their uniform_ inits from one stream."""
    torch.manual_seed(1234)
    net = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(),
                              torch.nn.Linear(128, 10))
    lg = Generator().manual_seed(1234)
    for layer in (net[0], net[2]):
        fan_in = layer.in_features
        # kaiming_uniform_(a=sqrt(5)): bound = gain * sqrt(3 / fan_in), gain = sqrt(2 / 6)
        bound = math.sqrt(3.0) * (math.sqrt(2.0 / (1 + 5)) / math.sqrt(fan_in))
        w = lg._uniform(tuple(layer.weight.shape), -bound, bound, np.float32)
        b_bound = 1 / math.sqrt(fan_in)
        b = lg._uniform(tuple(layer.bias.shape), -b_bound, b_bound, np.float32)
        same(w, layer.weight.detach())
        same(b, layer.bias.detach())


# ------------------------------------------------------------------------------ normal


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("npd,td", FLOATS)
def test_randn_matches_torch(seed, npd, td):
    lg, tg = gens(seed)
    for shape in SHAPES:
        same(lg._normal(shape, 0.0, 1.0, npd), torch.randn(shape, generator=tg, dtype=td))
    in_sync(lg, tg)


@pytest.mark.parametrize("seed", [1, 99])
@pytest.mark.parametrize("npd,td", FLOATS)
@pytest.mark.parametrize("mean,std", [(0.5, 3.3), (-1.1, 0.013), (0.0, 2.0), (1.0, 1.0),
                                      (0.0, 0.0), (3.0, 1e-3)])
def test_normal_mean_std_match_torch(seed, npd, td, mean, std):
    lg, tg = gens(seed)
    for shape in [(1,), (5,), (16,), (31,), (40, 41)]:
        t = torch.empty(shape, dtype=td).normal_(mean, std, generator=tg)
        same(lg._normal(shape, mean, std, npd), t)
    in_sync(lg, tg)


def test_normal_pair_cache_carries_across_calls():
    # The scalar path (< 16 elements) keeps the second Box-Muller sample for the next call;
    # the 16-wide path neither uses nor clears it; float32 and float64 share it.
    lg, tg = gens(5)
    calls = [((3,), np.float32), ((20,), np.float32), ((1,), np.float32), ((5,), np.float64),
             ((2,), np.float32), ((16,), np.float64), ((1,), np.float64), ((7,), np.float32)]
    tdt = {np.float32: torch.float32, np.float64: torch.float64}
    for shape, npd in calls:
        same(lg._normal(shape, 0.0, 1.0, npd), torch.randn(shape, generator=tg, dtype=tdt[npd]))
    in_sync(lg, tg)


def test_normal_large_float32():
    lg, tg = gens(2024)
    same(lg._normal((512, 257), 0.1, 0.02, np.float32),
          torch.empty(512, 257).normal_(0.1, 0.02, generator=tg))
    in_sync(lg, tg)


def test_global_seed_randn_end_to_end():
    lamina.manual_seed(42)
    torch.manual_seed(42)
    same(lamina.randn(3, 20).numpy(), torch.randn(3, 20))
    same(lamina.rand(5).numpy(), torch.rand(5))
    same(lamina.randn(20).numpy(), torch.randn(20))


def test_mixed_sequence_matches_torch():
    lg, tg = gens(77)
    same(lg._normal((2, 3), 0.0, 1.0, np.float32), torch.randn(2, 3, generator=tg))
    same(lg._uniform((5,), 0.0, 1.0, np.float32), torch.rand(5, generator=tg))
    same(lg._normal((20,), 0.0, 1.0, np.float32), torch.randn(20, generator=tg))
    same(lg._randint(0, 10, (7,), np.int64), torch.randint(0, 10, (7,), generator=tg))
    same(lg._randperm(12, np.int64), torch.randperm(12, generator=tg))
    same(lg._normal((1,), 0.0, 1.0, np.float32), torch.randn(1, generator=tg))
    same(lg._bernoulli_shape((9,), 0.3, np.float32),
          torch.empty(9).bernoulli_(0.3, generator=tg))
    same(lg._uniform((64, 33), -0.1, 0.1, np.float64),
          torch.empty(64, 33, dtype=torch.float64).uniform_(-0.1, 0.1, generator=tg))
    same(lg._exponential((4,), 2.0, np.float32),
          torch.empty(4).exponential_(2.0, generator=tg))
    same(lg._normal((3,), 0.0, 1.0, np.float64),
          torch.randn(3, generator=tg, dtype=torch.float64))
    in_sync(lg, tg)


# ------------------------------------------------------------------------------ integers


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("low,high", [(0, 10), (-5, 5), (3, 4), (0, 2**31), (-2**40, 2**40),
                                      (0, 2**32), (-2**63, 2**63 - 1), (-2**63, 2**63)])
def test_randint_int64_matches_torch(seed, low, high):
    lg, tg = gens(seed)
    for shape in [(), (7,), (3, 5)]:
        if high == 2**63:  # random_() over the whole int64 range
            t = torch.empty(shape, dtype=torch.int64).random_(-2**63, None, generator=tg)
        else:
            t = torch.randint(low, high, shape, generator=tg)
        same(lg._randint(low, high, shape, np.int64), t)
    in_sync(lg, tg)


@pytest.mark.filterwarnings("ignore:to - 1 is out of bounds")
@pytest.mark.parametrize("npd,td,low,high", [
    (np.int32, torch.int32, -100, 100), (np.int16, torch.int16, 0, 300),
    (np.uint8, torch.uint8, 0, 256), (np.int8, torch.int8, -128, 128),
    (np.float32, torch.float32, 0, 1000), (np.float64, torch.float64, -2**40, 2**40),
    (np.float32, torch.float32, 0, 2**33), (np.bool_, torch.bool, 0, 2)])
def test_randint_dtypes_match_torch(npd, td, low, high):
    lg, tg = gens(11)
    if high - 1 > 2**24 and npd == np.float32:
        with pytest.warns(UserWarning, match="out of bounds"):
            lg._randint(low, high, (1,), npd)
        lg.manual_seed(11)
    same(lg._randint(low, high, (50,), npd), torch.randint(low, high, (50,), generator=tg,
                                                             dtype=td))
    in_sync(lg, tg)


@pytest.mark.parametrize("npd,td", [(np.int64, torch.int64), (np.int32, torch.int32),
                                    (np.int16, torch.int16), (np.uint8, torch.uint8),
                                    (np.float32, torch.float32), (np.float64, torch.float64),
                                    (np.float16, torch.float16), (np.bool_, torch.bool)])
def test_random_without_bounds_matches_torch(npd, td):
    lg, tg = gens(8)
    same(lg._random((40,), npd), torch.empty(40, dtype=td).random_(generator=tg))
    in_sync(lg, tg)


@pytest.mark.parametrize("seed", SEEDS)
def test_randperm_matches_torch(seed):
    lg, tg = gens(seed)
    for n in [0, 1, 2, 3, 10, 100, 511, 512, 513, 1000, 4099, 60000]:
        same(lg._randperm(n, np.int64), torch.randperm(n, generator=tg))
    in_sync(lg, tg)


@pytest.mark.parametrize("npd,td", [(np.int32, torch.int32), (np.float32, torch.float32),
                                    (np.float64, torch.float64), (np.int16, torch.int16)])
def test_randperm_dtypes(npd, td):
    lg, tg = gens(4)
    for n in [5, 700]:
        same(lg._randperm(n, npd), torch.randperm(n, generator=tg, dtype=td))
    in_sync(lg, tg)


def test_randperm_huge_n_algorithm(monkeypatch):
    # ATen switches to an inside-out shuffle on random64() for n >= 2**32 / 20; too big to
    # compare with torch here, so check it against ATen's loop on a lowered threshold.
    monkeypatch.setattr(kernels, "RANDPERM_SMALL", 0)
    got = Generator().manual_seed(12)._randperm(300, np.int64)
    ref = MT19937(12)
    r = list(range(300))
    for i in range(300):
        z = int(ref.raw64(1)[0]) % (i + 1)
        r[i] = r[z]
        r[z] = i
    np.testing.assert_array_equal(got, r)


def test_apply_swaps_matches_sequential_fisher_yates():
    rng = np.random.default_rng(0)
    for n in [2, 3, 4, 7, 50, 600, 3000]:
        for _ in range(10):
            z = (rng.integers(0, 2**32, n - 1) % np.arange(n, 1, -1)).astype(np.int64)
            perm = list(range(n))
            for i, zi in enumerate(z.tolist()):
                perm[i], perm[i + zi] = perm[i + zi], perm[i]
            np.testing.assert_array_equal(kernels.apply_swaps(z), perm)


# ------------------------------------------------------------------------------ bernoulli


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("npd,td", [(np.float32, torch.float32), (np.float64, torch.float64)])
def test_bernoulli_tensor_p_matches_torch(seed, npd, td):
    lg, tg = gens(seed)
    rng = np.random.default_rng(seed % 1000)
    for shape in [(), (7,), (3, 40)]:
        p = rng.random(shape).astype(npd)
        if p.size > 2:
            p.reshape(-1)[:2] = (0.0, 1.0)
        same(lg._bernoulli(p, npd), torch.bernoulli(torch.from_numpy(p), generator=tg))
    # the probabilities' dtype picks the draw (24-bit float or 53-bit double), not self's
    p = rng.random(30).astype(npd)
    t = torch.empty(30, dtype=torch.float32).bernoulli_(torch.from_numpy(p), generator=tg)
    same(lg._bernoulli(p, np.float32), t)
    in_sync(lg, tg)


@pytest.mark.skipif(INTEL_MKL, reason="torch's bernoulli_(float) uses MKL's VSL stream on "
                                      "Intel CPUs (documented as not bit-identical)")
@pytest.mark.parametrize("seed", SEEDS)
def test_bernoulli_scalar_and_dropout_match_torch(seed):
    lg, tg = gens(seed)
    for shape, p in [((), 0.5), ((10,), 0.3), ((33, 17), 0.9), ((5,), 0.0), ((5,), 1.0)]:
        for npd, td in [(np.float32, torch.float32), (np.int64, torch.int64),
                        (np.bool_, torch.bool)]:
            same(lg._bernoulli_shape(shape, p, npd),
                  torch.empty(shape, dtype=td).bernoulli_(p, generator=tg))
    in_sync(lg, tg)
    # F.dropout draws its keep-mask with bernoulli_(1 - p) from the default generator
    torch.manual_seed(seed)
    lg.manual_seed(seed)
    out = torch.nn.functional.dropout(torch.ones(8, 50), p=0.25, training=True)
    keep = lg._bernoulli_shape((8, 50), 0.75, np.float32)
    same(keep * np.float32(1 / 0.75), out)


def test_bernoulli_float_p_gives_0d():
    lg, tg = gens(3)
    same(lg._bernoulli(0.4, np.float32),
          torch.empty((), dtype=torch.float32).bernoulli_(0.4, generator=tg))


# ------------------------------------------------------------------------------ others


@pytest.mark.parametrize("npd,td", FLOATS)
@pytest.mark.parametrize("lambd", [1.0, 2.5, 0.01])
def test_exponential_matches_torch(npd, td, lambd):
    lg, tg = gens(9)
    for shape in [(1,), (100,), (7, 9)]:
        same(lg._exponential(shape, lambd, npd),
              torch.empty(shape, dtype=td).exponential_(lambd, generator=tg))
    in_sync(lg, tg)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("npd,td", [(np.float32, torch.float32), (np.float64, torch.float64)])
def test_multinomial_matches_torch(seed, npd, td):
    lg, tg = gens(seed)
    rng = np.random.default_rng(abs(seed) % 1000)
    p1 = rng.random(10).astype(npd)
    p2 = rng.random((4, 25)).astype(npd)
    p2[1, :20] = 0  # zero-probability categories, and ties among them
    for probs in (p1, p2):
        tp = torch.from_numpy(probs)
        for n, repl in [(1, False), (1, True), (3, False), (5, False), (7, True), (40, True)]:
            same(lg._multinomial(probs, n, repl),
                  torch.multinomial(tp, n, repl, generator=tg))
        in_sync(lg, tg)
    uneven = np.array([1e-3, 0.5, 0.2, 0, 3.0], dtype=npd)
    same(lg._multinomial(uneven, 1000, True),
          torch.multinomial(torch.from_numpy(uneven), 1000, True, generator=tg))
    in_sync(lg, tg)
