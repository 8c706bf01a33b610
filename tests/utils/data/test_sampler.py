"""lamina.utils.data.sampler against torch.utils.data: seeded orders and batching.

The loader's own shuffled order (which draws through these samplers) is tested in
tests/utils/data/test_dataloader.py.
"""

from __future__ import annotations

import pytest
import torch
import torch.utils.data as TD

import lamina as L
from lamina.utils.data import (BatchSampler, RandomSampler, SequentialSampler,
                               SubsetRandomSampler, WeightedRandomSampler)


def test_samplers_match_torch():
    data = list(range(13))
    for replacement, n in [(False, None), (True, 40), (False, 30)]:
        a = list(RandomSampler(data, replacement, n, generator=L.Generator().manual_seed(3)))
        b = list(TD.RandomSampler(data, replacement, n,
                                  generator=torch.Generator().manual_seed(3)))
        assert a == b
    a = list(SubsetRandomSampler([5, 6, 7, 8], generator=L.Generator().manual_seed(2)))
    b = list(TD.SubsetRandomSampler([5, 6, 7, 8], generator=torch.Generator().manual_seed(2)))
    assert a == b
    assert list(SequentialSampler(data)) == data
    assert list(BatchSampler(SequentialSampler(data), 5, False)) == \
        list(TD.BatchSampler(TD.SequentialSampler(data), 5, False))
    assert list(BatchSampler(SequentialSampler(data), 5, True)) == \
        list(TD.BatchSampler(TD.SequentialSampler(data), 5, True))
    assert len(BatchSampler(SequentialSampler(data), 5, True)) == 2


def test_weighted_sampler():
    w = [0.0, 0.0, 1.0, 3.0]
    idx = list(WeightedRandomSampler(w, 200, generator=L.Generator().manual_seed(0)))
    assert set(idx) <= {2, 3}
    frac3 = idx.count(3) / len(idx)
    assert 0.6 < frac3 < 0.9
    no_rep = list(WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False))
    assert sorted(no_rep) == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        WeightedRandomSampler(w, 0)
