"""lamina/examples/_digits_common.py: the digits network and split, the same with lamina and
with torch, and loaded by path (without lamina) by the digits_epoch benchmark workload."""

import os
import sys

import pytest
import torch

import lamina
from lamina.examples import _digits_common

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _shapes(net):
    return [(name, tuple(p.shape)) for name, p in net.named_parameters()]


def test_same_network_in_lamina_and_torch():
    ours = _digits_common.build_model(lamina.nn)
    theirs = _digits_common.build_model(torch.nn)
    assert ours.features.conv2 is ours.features.conv3  # tied
    ours(lamina.zeros(2, 1, 8, 8))
    theirs(torch.zeros(2, 1, 8, 8))
    assert _shapes(ours) == _shapes(theirs)
    assert _shapes(ours)[0] == ("features.conv1.weight", (16, 1, 3, 3))


def test_split_is_seeded_and_80_20():
    sklearn = pytest.importorskip("sklearn.datasets")
    digits = sklearn.load_digits()
    a_train, a_test = _digits_common.split_digits(lamina, digits,
                                                  lamina.Generator().manual_seed(1))
    b_train, _ = _digits_common.split_digits(lamina, digits, lamina.Generator().manual_seed(1))
    assert (len(a_train), len(a_test)) == (1438, 359)
    assert list(a_train.indices) == list(b_train.indices)
    x, y = a_train[0]
    assert x.shape == (1, 8, 8) and x.dtype == lamina.float32 and 0 <= float(x.max()) <= 1
    assert y.dtype == lamina.int64


def test_benchmark_workload_loads_it_without_lamina():
    sys.path.insert(0, ROOT)
    try:
        from benchmarks.workloads import digits_epoch
    finally:
        sys.path.remove(ROOT)
    assert os.path.samefile(digits_epoch._DEMO.build_model.__code__.co_filename,
                            _digits_common.__file__)
    net = digits_epoch.build_model(torch)
    net(torch.zeros(2, 1, 8, 8))
    ours = _digits_common.build_model(lamina.nn)
    ours(lamina.zeros(2, 1, 8, 8))
    assert _shapes(net) == _shapes(ours)
