"""The NumPy floor: a pseudo-library for ``run.py --libs benchmarks.floor,torch``.

A workload that defines ``floor_setup()`` and ``floor_step(state)`` says there what its step
costs NumPy when NumPy does nothing but the arithmetic (the same products and elementwise
passes, on arrays of the same shapes and dtypes, no tensors, no graph, no modules). The
worker runs those instead of ``setup(torch)`` / ``step(state)`` when this module is the
library under test, so the table's ratio column is then floor/torch: the best lamina/torch
ratio that any NumPy-based engine can reach on this machine. Each ``floor_step`` docstring
says what it counts; where it counts only the BLAS products, the floor is a lower bound.

A workload without a floor is reported as an error in the floor column.
"""

from __future__ import annotations

import numpy

__version__ = numpy.__version__
IS_FLOOR = True
