"""DataParallel / data_parallel without GPUs: run the module, as torch's do."""

import numpy as np
import torch

import lamina
from lamina import nn


def test_data_parallel_runs_the_module_and_keeps_the_prefix():
    lin = nn.Linear(3, 2)
    dp = nn.DataParallel(lin)
    tdp = torch.nn.DataParallel(torch.nn.Linear(3, 2))
    assert list(dp.state_dict()) == list(tdp.state_dict()) == ["module.weight", "module.bias"]
    assert repr(dp) == repr(tdp)
    assert dp.module is lin and dp.device_ids == tdp.device_ids == []
    x = lamina.randn(4, 3)
    assert np.array_equal(dp(x).detach().numpy(), lin(x).detach().numpy())
    dp(x).sum().backward()
    assert lin.weight.grad is not None
    assert nn.parallel.DataParallel is nn.DataParallel


def test_functional_data_parallel():
    lin = nn.Linear(3, 2)
    x = lamina.randn(4, 3)
    want = lin(x).detach().numpy()
    assert np.array_equal(nn.parallel.data_parallel(lin, x).detach().numpy(), want)
    assert np.array_equal(nn.parallel.data_parallel(lin, (x,)).detach().numpy(), want)
