"""Smoke tests of the benchmark machinery: worker JSON, error rows, the table. No timing checks."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load_run_module():
    # benchmarks/run.py is a script; load it by path (it puts the repository root on sys.path).
    spec = importlib.util.spec_from_file_location(
        "benchmarks_run_under_test", ROOT / "benchmarks" / "run.py"
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up in sys.modules
    spec.loader.exec_module(mod)
    return mod


run = _load_run_module()


def _worker(*args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks._worker", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_worker_times_a_torch_workload():
    out = _worker("tiny_add_backward", "torch", "--quick")
    assert out["ok"] is True, out
    assert (out["name"], out["lib"], out["quick"]) == ("tiny_add_backward", "torch", True)
    assert out["iters"] >= 1
    samples = out["samples_s"]
    assert samples and all(s > 0 for s in samples)
    assert min(samples) <= out["median_s"] <= max(samples)
    assert out["version"].startswith("2.")


def test_worker_reports_a_missing_library_as_json_error():
    out = _worker("tiny_add_backward", "no_such_lib_for_bench", "--quick")
    assert out["ok"] is False
    assert out["error"].startswith("import no_such_lib_for_bench: ModuleNotFoundError")
    assert "median_s" not in out


def test_worker_reports_an_unknown_workload_as_json_error():
    out = _worker("no_such_workload", "torch", "--quick")
    assert out["ok"] is False
    assert out["error"].startswith("load workload: KeyError")


def test_runner_puts_errors_in_rows_and_goes_on(tmp_path):
    json_path = tmp_path / "out.json"
    proc = subprocess.run(
        [
            sys.executable,
            "benchmarks/run.py",
            "sum_1m",
            "state_dict_save",
            "--quick",
            "--libs",
            "no_such_lib_a,no_such_lib_b",
            "--json",
            str(json_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    rows = {line.split("|")[0].strip(): line for line in lines if "|" in line}
    assert set(rows) >= {"sum_1m", "state_dict_save"}
    assert "ERROR (import no_such_lib_a: ModuleNotFoundError" in rows["sum_1m"]
    assert "ERROR (import no_such_lib_b: ModuleNotFoundError" in rows["state_dict_save"]
    data = json.loads(json_path.read_text())
    assert data["libs"] == ["no_such_lib_a", "no_such_lib_b"]
    assert [w["name"] for w in data["workloads"]] == ["sum_1m", "state_dict_save"]
    for w in data["workloads"]:
        assert w["ratio"] is None and w["holds"] is None
        assert all(r["error"] and r["median_s"] is None for r in w["results"].values())


def test_runner_rejects_an_unknown_workload_name():
    proc = subprocess.run(
        [sys.executable, "benchmarks/run.py", "no_such_workload"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "unknown workload(s) no_such_workload" in proc.stderr


def test_parse_worker_output_skips_library_prints_and_reports_crashes():
    good = 'hello {not json}\n{"ok": true, "median_s": 0.5}\n'
    assert run.parse_worker_output(good, "", 0) == {"ok": True, "median_s": 0.5}
    crash = run.parse_worker_output("", "Traceback...\nMemoryError: boom\n", 1)
    assert crash == {"ok": False, "error": "worker crashed (exit 1): MemoryError: boom"}
    killed = run.parse_worker_output("", "", -9)
    assert killed == {"ok": False, "error": "worker killed by signal 9"}


def _row(kind: str, target: float, a: float | None, b: float | None, nbytes=None):
    results = [
        run.LibResult(
            label="lamina", lib="lamina", rounds_s=[] if a is None else [a], nbytes=nbytes
        ),
        run.LibResult(label="torch", lib="torch", rounds_s=[] if b is None else [b], nbytes=nbytes),
    ]
    if a is None:
        results[0].error = "step: AttributeError: module 'lamina' has no attribute 'exp'"
    return run.Row(name="w", issue=2, target=target, kind=kind, description="", results=results)


def test_ratio_and_holds_follow_the_target_direction():
    fast = _row("time", 1.5, a=0.2, b=0.1)
    assert fast.ratio == 2.0 and fast.holds is False
    assert _row("time", 1.5, a=0.1, b=0.1).holds is True
    # Throughput: lamina twice as slow is half the MB/s, below a >= 1.0 target.
    assert _row("throughput", 1.0, a=0.2, b=0.1, nbytes=10**8).holds is False
    assert _row("throughput", 1.0, a=0.1, b=0.2, nbytes=10**8).holds is True
    failed = _row("time", 1.0, a=None, b=0.1)
    assert failed.ratio is None and failed.holds is None


def test_format_table_shows_units_mb_per_s_and_error_cells():
    rows = [
        _row("time", 1.5, a=2e-5, b=1e-5),
        _row("throughput", 1.0, a=0.5, b=0.25, nbytes=268_566_528),
        _row("time", 1.0, a=None, b=0.1),
    ]
    lines = run.format_table(rows).splitlines()
    assert lines[0].split("|")[2].strip() == "lamina"
    cells = [c.strip() for c in lines[2].split("|")]
    assert cells == ["w", "#2", "20.0 us", "10.0 us", "2.00", "<= 1.5", "NO", "-", "-"]
    assert "(537 MB/s)" in lines[3] and "(1,074 MB/s)" in lines[3]
    assert "MB/s >= 1x" in lines[3]
    assert "ERROR (step: AttributeError: module 'lamina' has no attribute 'exp')" in lines[4]
    assert "w [lamina]: step: AttributeError" in lines[-1]


def test_other_cpu_share_is_a_fraction_on_linux():
    probe = run.OtherCpu()
    time.sleep(0.05)
    share = probe.share()
    if sys.platform.startswith("linux"):
        assert share is not None and 0.0 <= share <= 1.0
    else:
        assert share is None


def test_machine_probe_names_the_cpu_and_each_librarys_kernels():
    out = _worker("--machine", "lamina", "torch")
    assert out["cpu_model"] and out["cpu_count"] >= 1
    lam, tor = out["libs"]["lamina"], out["libs"]["torch"]
    assert lam["numpy"] and lam["blas"]  # lamina computes through NumPy's BLAS
    assert tor["version"].startswith("2.") and "blas_info" in tor
    lines = run.machine_lines(out)
    assert lines[0].startswith(f"CPU: {out['cpu_model']}")
    assert lines[1].startswith("lamina ") and "NumPy" in lines[1]
    assert lines[2].startswith("torch ") and "BLAS" in lines[2]
    assert run.machine_lines({"error": "machine probe failed: x"}) == ["machine probe failed: x"]


def test_floor_pseudo_library_runs_a_workloads_numpy_floor():
    out = _worker("mlp_784_infer", "benchmarks.floor", "--quick")
    assert out["ok"] is True, out
    import numpy

    assert out["version"] == numpy.__version__ and out["median_s"] > 0
    # a workload without a floor is an error cell, not a crash
    out = _worker("tiny_add_backward", "benchmarks.floor", "--quick")
    assert out["ok"] is False and "defines no NumPy floor" in out["error"]


def test_every_floor_step_runs():
    from benchmarks.workloads import ALL, load_workload

    with_floor = [n for n in ALL if hasattr(load_workload(n), "floor_step")]
    assert {"mlp_784_infer", "mlp_seed_step", "lazy_first_call", "lenet_step", "cnn_bn_step",
            "gpt_generate", "compiled_gpt_generate"} <= set(with_floor)
    for name in with_floor:
        wl = load_workload(name)
        assert wl.floor_step.__doc__ or name.startswith("compiled_"), name  # says what it counts
        wl.floor_step(wl.floor_setup())
