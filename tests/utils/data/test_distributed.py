"""DistributedSampler: the same partition as torch's (indices compared exactly, no processes)."""

import pytest
import torch
import torch.utils.data.distributed as tud

from lamina.utils.data.distributed import DistributedSampler


@pytest.mark.parametrize("n", [1, 7, 10, 16, 33])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_partition_matches_torch(n, replicas, shuffle, drop_last):
    data = list(range(n))
    for seed in (0, 5):
        for rank in range(replicas):
            ours = DistributedSampler(data, replicas, rank, shuffle, seed, drop_last)
            ref = tud.DistributedSampler(data, replicas, rank, shuffle, seed, drop_last)
            for epoch in (0, 3):
                ours.set_epoch(epoch)
                ref.set_epoch(epoch)
                assert list(ours) == list(ref)
                assert len(ours) == len(ref) and ours.total_size == ref.total_size


def test_padding_covers_everything_and_epochs_differ():
    s = [DistributedSampler(range(10), 4, r, shuffle=True) for r in range(4)]
    got = sorted(i for x in s for i in x)
    assert len(got) == 12 and set(got) == set(range(10))
    a = list(s[0])
    s[0].set_epoch(1)
    assert list(s[0]) != a


def test_bad_rank():
    with pytest.raises(ValueError, match="Invalid rank 2"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        DistributedSampler(range(4), num_replicas=2, rank=-1)


def test_in_a_dataloader():
    from lamina.utils.data import DataLoader, TensorDataset
    import lamina

    ds = TensorDataset(lamina.arange(10))
    s = DistributedSampler(ds, 2, 1, shuffle=False)
    out = [b[0].tolist() for b in DataLoader(ds, batch_size=3, sampler=s)]
    assert out == [[1, 3, 5], [7, 9]]
