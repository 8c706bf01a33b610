"""lamina.utils.data.dataset against torch.utils.data: the dataset classes and random_split.

The loader that consumes them is tested in tests/utils/data/test_dataloader.py.
"""

from __future__ import annotations

import pytest
import torch
import torch.utils.data as TD

import lamina as L
from lamina.utils.data import ConcatDataset, Subset, TensorDataset, random_split


def _both(seed):
    L.manual_seed(seed)
    torch.manual_seed(seed)


@pytest.mark.parametrize("fracs", [[3, 17], [0.3, 0.7], [0.5, 0.25, 0.25], [0.33, 0.33, 0.34]])
def test_random_split_matches_torch(fracs):
    _both(5)
    a = random_split(range(20), fracs)
    b = TD.random_split(range(20), fracs)
    assert [list(s) for s in a] == [list(s) for s in b]
    a = random_split(range(20), fracs, generator=L.Generator().manual_seed(1))
    b = TD.random_split(range(20), fracs, generator=torch.Generator().manual_seed(1))
    assert [list(s) for s in a] == [list(s) for s in b]


def test_random_split_bad_lengths():
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])


def test_datasets():
    ds = TensorDataset(L.arange(5), L.arange(5) * 2)
    assert len(ds) == 5 and ds[2][1].item() == 4
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(L.arange(5), L.arange(4))
    sub = Subset(ds, [4, 0])
    assert len(sub) == 2 and sub[0][0].item() == 4
    cat = ConcatDataset([ds, ds])
    assert len(cat) == 10 and cat[7][0].item() == 2 and cat[-1][0].item() == 4
    assert len(ds + ds) == 10
