"""The benchmark workloads, one module each.

A workload module defines:

- ``TARGET`` (float): the goal for the lamina/torch time ratio (``<= TARGET``); for a
  ``"throughput"`` workload the goal is the lamina/torch throughput ratio (``>= TARGET``).
- ``ISSUE`` (int): the issue whose goal this workload measures.
- ``DESCRIPTION`` (str): one line, shown by ``run.py --list`` and in the README.
- ``KIND`` (optional str): ``"time"`` (default), ``"throughput"`` (also defines
  ``nbytes(state)``; MB/s are reported) or ``"import"`` (the worker times fresh
  ``python -c "import LIB"`` processes; no setup/step).
- ``setup(torch)`` -> state, and ``step(state)``, the timed call. ``torch`` is the library
  under test (``lamina`` or ``torch``): workloads never import either themselves, so the same
  code runs on both.
- ``teardown(state)`` (optional): release files or other resources.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# Run order of `python benchmarks/run.py` with no names: grouped by issue.
ALL: tuple[str, ...] = (
    "import",
    "tiny_add_backward",
    "tiny_matmul_backward",
    "add_2x2_grad",
    "matmul_2x2_grad",
    "add_2x2_nograd",
    "matmul_2x2_nograd",
    "matmul_1024",
    "sum_1m",
    "mean0_1m",
    "exp_1m",
    "mlp_seed_step",
    "mlp_784_step",
    "mlp_784_infer",
    "state_dict_10",
    "init_big",
    "lazy_first_call",
    "lenet_step",
    "cnn_bn_step",
    "conv64_fwd",
    "state_dict_save",
    "state_dict_load",
    "digits_epoch",
    "randn_1m_f64",
    "randn_1m_f32",
    "lstm_train",
    "gpt_train",
    "gpt_generate",
    "compiled_mlp_seed_step",
    "compiled_mlp_784_infer",
    "compiled_gpt_generate",
)


def load_workload(name: str) -> ModuleType:
    """Import the module of workload ``name``.

    Raises:
        KeyError: ``name`` is not a known workload.
    """
    if name not in ALL:
        raise KeyError(f"unknown workload {name!r}; expected one of {', '.join(ALL)}")
    # `import` is a keyword, so importlib is the only way to reach that module.
    return importlib.import_module(f"{__name__}.{name}")
