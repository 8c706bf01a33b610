"""Time one workload on one library, in this (fresh) process, and print one JSON line.

Usage::

    python -m benchmarks._worker NAME LIB [--quick]
    python -m benchmarks._worker --machine LIB [LIB ...]

``LIB`` is the module imported as ``torch`` (``lamina`` or ``torch``). The last line written to
stdout is a JSON object: on success ``{"ok": true, "median_s": ..., "samples_s": [...], ...}``,
on failure ``{"ok": false, "error": "<phase>: <Type>: <first line of the message>"}``. The worker
itself never exits with a traceback for a workload failure: the runner reads the JSON line.

``--machine`` prints instead one JSON object describing the machine and the math libraries
behind each ``LIB`` (CPU model, BLAS and its kernel, SIMD level, thread counts): kernel choices
differ between CPUs, so every benchmark table names them (``machine_info``).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from benchmarks.workloads import load_workload

# The repository root: `python -c "import lamina"` must find the in-tree package.
_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class Budget:
    """How long to spend measuring one workload.

    Attributes:
        warmup_s: minimum warm-up time (at least two calls are always made).
        sample_s: wanted duration of one sample (n calls timed together).
        repeats: number of samples when a sample costs ``sample_s`` or less.
        min_repeats: number of samples when one call alone costs more than ``sample_s``.
        total_s: soft cap for all samples together; heavy workloads get fewer repeats.
        import_runs: fresh `python -c "import LIB"` processes timed for the import workload.
    """

    warmup_s: float
    sample_s: float
    repeats: int
    min_repeats: int
    total_s: float
    import_runs: int


FULL = Budget(warmup_s=0.2, sample_s=0.3, repeats=5, min_repeats=3, total_s=2.0, import_runs=5)
QUICK = Budget(warmup_s=0.03, sample_s=0.05, repeats=3, min_repeats=1, total_s=0.3, import_runs=3)


class WorkloadError(Exception):
    """A failure in one phase of a workload; the message is what the runner reports."""


def first_line(exc: BaseException) -> str:
    """``Type: first line of the message`` for an exception (the row text on failure)."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else ""
    name = type(exc).__name__
    return f"{name}: {line}" if line else name


def time_calls(
    step: Callable[[Any], Any], state: Any, budget: Budget
) -> tuple[list[float], int, float]:
    """Warm up, calibrate, then time ``step(state)``.

    The first call is timed on its own: it often pays one-time costs (thread pools, lazy
    imports, allocator growth) that can be 100x a steady call, so it never feeds the
    calibration. Then warm-up runs for ``budget.warmup_s`` more (at least one call), and the
    number of calls per sample is calibrated like ``timeit``'s autorange: double ``n`` until
    ``n`` calls take a fifth of ``budget.sample_s``, then scale to one ``sample_s``.

    The garbage collector stays enabled (as in user code, and lamina's graph objects are part
    of its cost), but a collection runs before each sample so that no sample pays for the
    garbage of the previous one.

    Returns:
        (seconds per call of each sample, calls per sample, seconds of the first call).
    """
    t0 = time.perf_counter()
    step(state)
    first_s = time.perf_counter() - t0
    start = time.perf_counter()
    while True:
        step(state)
        if time.perf_counter() - start >= budget.warmup_s:
            break
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            step(state)
        elapsed = time.perf_counter() - t0
        if elapsed >= budget.sample_s / 5:
            break
        n *= 2
    per_call = elapsed / n
    n = max(1, round(budget.sample_s / per_call))
    sample_cost = n * per_call
    repeats = budget.repeats
    if sample_cost * repeats > budget.total_s:
        repeats = max(budget.min_repeats, int(budget.total_s / sample_cost))
    samples: list[float] = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(n):
            step(state)
        samples.append((time.perf_counter() - t0) / n)
    return samples, n, first_s


def _check_regular_package(mod: ModuleType, lib: str) -> None:
    # A directory without __init__.py imports as an empty namespace package; timing that
    # would report a meaningless (excellent) import time.
    if getattr(mod, "__file__", None) is None:
        raise WorkloadError(f"import {lib}: '{lib}' is a namespace package (no __init__.py)")


def import_lib(lib: str) -> ModuleType:
    """Import the library under test, turning any failure into a WorkloadError."""
    try:
        mod = importlib.import_module(lib)
    except Exception as exc:  # the library may be half-written: report, never crash
        raise WorkloadError(f"import {lib}: {first_line(exc)}") from exc
    _check_regular_package(mod, lib)
    return mod


def measure_import(lib: str, budget: Budget) -> tuple[list[float], str | None]:
    """Wall time of fresh `python -c "import LIB"` processes (one untimed run first).

    The untimed run may write the library's bytecode cache (``__pycache__``) even where the
    environment sets PYTHONDONTWRITEBYTECODE: an installed package has its bytecode compiled
    (pip does it at install time), a source checkout after its first import; without it every
    timed run would measure compiling the library's source, not importing it."""
    check = (
        f"import {lib}, sys\n"
        f"print(getattr({lib}, '__version__', ''))\n"
        f"sys.exit(0 if getattr({lib}, '__file__', None) else 3)"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run(
        [sys.executable, "-c", check], cwd=_REPO_ROOT, capture_output=True, text=True, env=env
    )
    if proc.returncode == 3:
        raise WorkloadError(f"import {lib}: '{lib}' is a namespace package (no __init__.py)")
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        raise WorkloadError(f"import {lib}: {lines[-1] if lines else f'exit {proc.returncode}'}")
    version = proc.stdout.strip() or None
    samples = []
    for _ in range(budget.import_runs):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", f"import {lib}"],
            cwd=_REPO_ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        samples.append(time.perf_counter() - t0)
    return samples, version


def run(name: str, lib: str, quick: bool) -> dict[str, Any]:
    """Measure workload ``name`` on library ``lib``; the returned dict is the JSON line."""
    budget = QUICK if quick else FULL
    result: dict[str, Any] = {"name": name, "lib": lib, "quick": quick, "ok": False}
    try:
        wl = load_workload(name)
    except Exception as exc:
        result["error"] = f"load workload: {first_line(exc)}"
        return result
    kind = getattr(wl, "KIND", "time")
    try:
        if kind == "import":
            samples, version = measure_import(lib, budget)
            result.update(version=version, iters=1)
        else:
            mod = import_lib(lib)
            result["version"] = getattr(mod, "__version__", None)
            result.update(_measure_steps(wl, mod, budget))
            samples = result.pop("samples")
    except WorkloadError as exc:
        result["error"] = str(exc)
        return result
    result.update(ok=True, median_s=statistics.median(samples), samples_s=samples)
    return result


def _measure_steps(wl: ModuleType, mod: ModuleType, budget: Budget) -> dict[str, Any]:
    phase = "setup"
    state = None
    floor = getattr(mod, "IS_FLOOR", False)  # benchmarks.floor: the workload's NumPy-only step
    if floor and not hasattr(wl, "floor_step"):
        raise WorkloadError("setup: this workload defines no NumPy floor (floor_step)")
    setup, step = (wl.floor_setup, wl.floor_step) if floor else ((lambda: wl.setup(mod)), wl.step)
    try:
        t0 = time.perf_counter()
        state = setup()
        setup_s = time.perf_counter() - t0
        out: dict[str, Any] = {"setup_s": setup_s}
        if hasattr(wl, "nbytes") and not floor:
            out["nbytes"] = int(wl.nbytes(state))
        phase = "step"
        samples, n, first_s = time_calls(step, state, budget)
        out.update(samples=samples, iters=n, first_call_s=first_s)
    except Exception as exc:
        raise WorkloadError(f"{phase}: {first_line(exc)}") from exc
    finally:
        if state is not None and hasattr(wl, "teardown") and not floor:
            try:
                wl.teardown(state)
            except Exception as exc:  # cleanup failure must not hide a measurement
                print(f"teardown failed: {first_line(exc)}", file=sys.stderr)
    return out


# ---------------------------------------------------------------------- machine description
def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else ``platform.processor()``)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "cpu model") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def numpy_blas() -> dict[str, Any]:
    """NumPy's BLAS as loaded in this process: library, version, the kernel set chosen for
    this CPU (OpenBLAS core type) and threads, through threadpoolctl when it is installed;
    else NumPy's build configuration (which names no runtime kernel). Also NumPy's SIMD level."""
    import numpy

    info: dict[str, Any] = {"numpy": numpy.__version__}
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

        found = [k for k in __cpu_dispatch__ if __cpu_features__.get(k)]
        info["numpy_simd"] = found[-1] if found else "baseline"
    except Exception:  # private NumPy names: optional
        pass
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        for pool in threadpool_info():
            if pool.get("user_api") == "blas" and "numpy" in str(pool.get("filepath", "")):
                info.update(blas=pool.get("internal_api"), blas_version=pool.get("version"),
                            blas_kernel=pool.get("architecture"),
                            blas_threads=pool.get("num_threads"))
                return info
    try:
        dep = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info.update(blas=dep.get("name"), blas_version=dep.get("version"),
                    blas_kernel="unknown (install threadpoolctl to see it)")
    except Exception:
        info["blas"] = "unknown"
    return info


def torch_config(mod: ModuleType) -> dict[str, Any]:
    """A torch-like library's own math libraries, from ``__config__.show()``."""
    text = mod.__config__.show()
    info: dict[str, Any] = {}
    for line in text.splitlines():
        line = line.strip().lstrip("- ")
        if "Math Kernel Library Version" in line:
            info["mkl"] = line.split("Version", 1)[1].split()[0].split("-")[0]
        elif line.startswith(("Intel(R) MKL-DNN", "oneDNN")):
            info["onednn"] = line.replace("Intel(R) MKL-DNN", "oneDNN").split(" (")[0].strip()
        elif line.startswith("CPU capability usage:"):
            info["cpu_capability"] = line.split(":", 1)[1].strip()
        elif line.startswith("Build settings:"):
            for item in line.split(":", 1)[1].split(","):
                key, _, value = item.strip().partition("=")
                if key in ("BLAS_INFO", "LAPACK_INFO"):
                    info[key.lower()] = value
    if hasattr(mod, "get_num_threads"):
        info["threads"] = mod.get_num_threads()
    return info


def machine_info(libs: list[str]) -> dict[str, Any]:
    """The CPU and, per library, its version and the kernels it computes with: a library with
    a torch-style ``__config__.show()`` reports its own; any other (lamina) computes through
    NumPy, whose BLAS is reported."""
    out: dict[str, Any] = {"cpu_model": cpu_model(), "cpu_count": os.cpu_count(),
                           "machine": platform.machine(), "libs": {}}
    for lib in libs:
        try:
            mod = importlib.import_module(lib)
        except Exception as exc:
            out["libs"][lib] = {"error": first_line(exc)}
            continue
        info: dict[str, Any] = {"version": getattr(mod, "__version__", None)}
        config = getattr(mod, "__config__", None)
        if config is not None and callable(getattr(config, "show", None)):
            try:
                info.update(torch_config(mod))
            except Exception as exc:
                info["config_error"] = first_line(exc)
        else:
            info.update(numpy_blas())
            if hasattr(mod, "get_num_threads"):
                info["threads"] = mod.get_num_threads()
        out["libs"][lib] = info
    return out


def describe_lib(lib: str, info: dict[str, Any]) -> str:
    """One line for the table header: ``lib version: kernels``."""
    if "error" in info:
        return f"{lib}: not importable ({info['error']})"
    head = f"{lib} {info.get('version') or '?'}: "
    if "blas" in info:
        blas = f"{info.get('blas')} {info.get('blas_version') or ''}".strip()
        extra = [f"{info.get('blas_kernel')} kernels"] if info.get("blas_kernel") else []
        if info.get("blas_threads") is not None:
            extra.append(f"{info['blas_threads']} BLAS threads")
        if info.get("numpy_simd"):
            extra.append(f"ufunc SIMD {info['numpy_simd']}")
        if info.get("threads") is not None:
            extra.append(f"{info['threads']} intra-op threads")
        return head + f"NumPy {info.get('numpy')} with {blas} ({', '.join(extra)})"
    parts = []
    if info.get("blas_info"):
        parts.append(f"BLAS {info['blas_info']}" + (f" {info['mkl']}" if info.get("mkl") and
                                                     info["blas_info"] == "mkl" else ""))
    if info.get("onednn"):
        parts.append(info["onednn"])
    if info.get("cpu_capability"):
        parts.append(f"CPU capability {info['cpu_capability']}")
    if info.get("threads") is not None:
        parts.append(f"{info['threads']} intra-op threads")
    return head + (", ".join(parts) or "no configuration reported")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks._worker``."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--machine":
        print(json.dumps(machine_info(argv[1:])), flush=True)
        return 0
    parser = argparse.ArgumentParser(prog="python -m benchmarks._worker")
    parser.add_argument("name", help="workload name (a module in benchmarks/workloads)")
    parser.add_argument("lib", help="library imported as torch: lamina or torch")
    parser.add_argument("--quick", action="store_true", help="short warm-up and samples")
    args = parser.parse_args(argv)
    result = run(args.name, args.lib, args.quick)
    sys.stdout.flush()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
