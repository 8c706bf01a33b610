"""lamina.utils.data: datasets, samplers and the DataLoader (torch.utils.data's API)."""

from __future__ import annotations

from .dataloader import DataLoader, default_collate, default_convert, get_worker_info
from .dataset import (ConcatDataset, Dataset, IterableDataset, StackDataset, Subset,
                      TensorDataset, random_split)
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info",
           "ConcatDataset", "Dataset", "IterableDataset", "StackDataset", "Subset",
           "TensorDataset", "random_split", "BatchSampler", "RandomSampler", "Sampler",
           "SequentialSampler", "SubsetRandomSampler", "WeightedRandomSampler"]
