"""What the digits demo (``lamina.examples.digits``) shares with its benchmark workload.

The functions take the library (``torch``) or its ``nn`` namespace as an argument and this file
imports nothing from lamina, so ``benchmarks/workloads/digits_epoch.py`` loads it by path and
builds the same network and split with real torch (workloads never import the library under
test themselves).
"""

from __future__ import annotations

from collections import OrderedDict


def build_model(nn):
    """The demo's CNN from ``nn`` (``torch.nn``'s layers), all shapes inferred at the first call.

    ``features.conv2`` and ``features.conv3`` are the same ``LazyConv2d`` object: two layers,
    one set of weights (16 -> 16 channels, so its input and output shapes agree).
    """
    tied = nn.LazyConv2d(16, 3, padding=1)
    features = nn.Sequential(OrderedDict([
        ("conv1", nn.LazyConv2d(16, 3, padding=1)),
        ("bn1", nn.LazyBatchNorm2d()),
        ("relu1", nn.ReLU()),
        ("conv2", tied),
        ("bn2", nn.LazyBatchNorm2d()),
        ("relu2", nn.ReLU()),
        ("conv3", tied),
        ("bn3", nn.LazyBatchNorm2d()),
        ("relu3", nn.ReLU()),
        ("pool", nn.MaxPool2d(2)),
    ]))
    classifier = nn.Sequential(OrderedDict([
        ("flatten", nn.Flatten()),
        ("fc1", nn.LazyLinear(64)),
        ("relu", nn.ReLU()),
        ("fc2", nn.Linear(64, 10)),
    ]))
    return nn.Sequential(OrderedDict([("features", features), ("classifier", classifier)]))


def split_digits(torch, digits, generator):
    """(train, test) Subsets of a TensorDataset of (1x8x8 float32 image in [0, 1], label)
    pairs from scikit-learn's ``load_digits()`` bunch ``digits``, split 80/20 by the
    ``torch.Generator`` ``generator`` (which the caller may go on using)."""
    data = torch.utils.data
    # pixel values are 0..16; float64 from scikit-learn becomes float32 here, once
    images = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
    labels = torch.tensor(digits.target, dtype=torch.long)
    return data.random_split(data.TensorDataset(images, labels), [0.8, 0.2],
                             generator=generator)
