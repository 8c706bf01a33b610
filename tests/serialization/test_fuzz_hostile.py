"""Hostile-input fuzzing with bounded memory and time (issue 13).

Each target (pickle opcode streams through ``lamina.load``, mutated zip central directories,
generated safetensors headers) runs its hypothesis loop in a child process under a 1.5 GiB
address-space limit (``RLIMIT_AS``) and a wall-clock limit: an input that makes the loader
allocate without bound, hang, or raise anything but a value or the library's own exception
(CheckpointError, pickle.UnpicklingError) fails the test. See ``_fuzz_child.py``.
"""

from __future__ import annotations

import pytest

from .helpers import run_limited

_EXAMPLES = {"pickle": 300, "zip": 200, "safetensors": 300}


@pytest.mark.parametrize("target", sorted(_EXAMPLES))
def test_hostile_inputs_give_a_value_or_the_librarys_error(target):
    code = ("import runpy, sys\n"
            f"sys.argv = ['x', {target!r}, '{_EXAMPLES[target]}']\n"
            "runpy.run_module('tests.serialization._fuzz_child', run_name='__main__')\n")
    out = run_limited(code, mem_bytes=3 << 29, timeout=120)
    assert out.returncode == 0 and "FUZZ-OK" in out.stdout, (out.stdout[-3000:]
                                                             + out.stderr[-3000:])
