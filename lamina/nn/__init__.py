"""lamina.nn: modules, parameters, initializers and functional ops (torch.nn's layout).

The layer classes are listed once, in ``nn/modules/__init__.py`` (its ``__all__``); this
namespace adds what torch.nn has beyond them.
"""

from __future__ import annotations

from .modules import *  # noqa: F401,F403 - the layers, listed once in modules.__all__
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter
from .lazy import LazyModuleMixin
from . import functional, init, modules, parallel, utils
from .parallel import DataParallel

__all__ = [*modules.__all__, "Buffer", "Parameter", "UninitializedBuffer",
           "UninitializedParameter", "LazyModuleMixin", "functional", "init", "modules",
           "parallel", "utils", "DataParallel"]
