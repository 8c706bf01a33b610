"""DataParallel and data_parallel: with no GPUs (lamina's case on the CPU) torch runs the module
as it is, on the one device; so do these, so that programs that wrap their model run unchanged."""

from __future__ import annotations

from ..module import Module

__all__ = ["DataParallel", "data_parallel"]


class DataParallel(Module):
    """Wraps ``module``; ``forward`` calls it (no replication without GPUs, as torch does).
    The state_dict keys carry the ``module.`` prefix, as torch's."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0) -> None:
        super().__init__()
        self.module = module
        self.device_ids = []

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module: Module, inputs, device_ids=None, output_device=None, dim: int = 0,
                  module_kwargs=None):
    """Evaluate ``module(*inputs)`` (one device: no scatter, no gather)."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))
