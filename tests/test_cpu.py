"""lamina.cpu: torch.cpu's queries."""

import torch

import lamina


def test_queries_match_torch():
    assert lamina.cpu.is_available() is torch.cpu.is_available() is True
    assert lamina.cpu.device_count() == torch.cpu.device_count() == 1
    assert lamina.cpu.current_device() == torch.cpu.current_device() == "cpu"
    assert lamina.cpu.synchronize() is None and torch.cpu.synchronize() is None
