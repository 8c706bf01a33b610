"""Time the same workloads on lamina and on torch and print their ratio.

Usage (from the repository root)::

    python benchmarks/run.py [NAME ...] [--rounds R] [--quick] [--json out.json] [--list]

For every workload and every round, each library runs in a fresh process
(``python -m benchmarks._worker NAME LIB``); which library goes first alternates from round to
round. The table shows, per library, the median over rounds of each worker's median time per
call, and the ratio lamina/torch. A workload that fails on a library shows
``ERROR (<first line of the error>)`` in that library's cell and the run goes on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

# `python benchmarks/run.py` puts benchmarks/ (not the repository root) on sys.path.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from benchmarks.workloads import ALL, load_workload  # noqa: E402

DEFAULT_LIBS = ("lamina", "torch")
ERROR_CELL_WIDTH = 60


@dataclass
class LibResult:
    """What one library did on one workload, over all rounds.

    Attributes:
        label: column header (the library name, numbered when both columns run the same one).
        lib: module imported as torch.
        rounds_s: each round's median seconds per call.
        error: the first error reported; later rounds of this library are skipped.
        nbytes: bytes moved per call (throughput workloads), from the worker.
        version: the library's ``__version__`` as the worker saw it.
        iters: calls per sample chosen by the last worker.
        other_cpu: per worker, the share of all CPUs that other processes used meanwhile.
    """

    label: str
    lib: str
    rounds_s: list[float] = field(default_factory=list)
    error: str | None = None
    nbytes: int | None = None
    version: str | None = None
    iters: int | None = None
    other_cpu: list[float] = field(default_factory=list)

    @property
    def median_s(self) -> float | None:
        """Median over rounds, or None when no round succeeded."""
        return statistics.median(self.rounds_s) if self.rounds_s else None

    @property
    def spread(self) -> float | None:
        """(max - min) / median over rounds: how much fresh processes disagreed."""
        if len(self.rounds_s) < 2:
            return None
        return (max(self.rounds_s) - min(self.rounds_s)) / statistics.median(self.rounds_s)


@dataclass
class Row:
    """One workload's results for both libraries and its verdict."""

    name: str
    issue: int
    target: float
    kind: str
    description: str
    results: list[LibResult]

    @property
    def ratio(self) -> float | None:
        """Time ratio first/second library (lamina/torch), None if either failed."""
        a, b = (r.median_s for r in self.results)
        if a is None or b is None or b <= 0:
            return None
        return a / b

    @property
    def holds(self) -> bool | None:
        """Whether the target is met: time ratio <= target, or throughput ratio >= target."""
        ratio = self.ratio
        if ratio is None:
            return None
        if self.kind == "throughput":
            return (1.0 / ratio) >= self.target if ratio > 0 else True
        return ratio <= self.target

    @property
    def spread(self) -> float | None:
        """The larger round-to-round spread of the two libraries (None with one round)."""
        spreads = [r.spread for r in self.results if r.spread is not None]
        return max(spreads) if spreads else None

    @property
    def other_cpu(self) -> float | None:
        """The largest share of the CPUs other processes took during any of this row's workers."""
        shares = [x for r in self.results for x in r.other_cpu]
        return max(shares) if shares else None


def run_worker(name: str, lib: str, quick: bool, timeout: float) -> dict[str, Any]:
    """Run one fresh worker process and return its JSON result (an error result on any failure).

    The worker gets its own TMPDIR, deleted afterwards, so temp files (the 268 MB checkpoint
    of the save/load workloads) are removed even when the worker is killed.
    """
    cmd = [sys.executable, "-m", "benchmarks._worker", name, lib]
    if quick:
        cmd.append("--quick")
    tmpdir = tempfile.mkdtemp(prefix="lamina-bench-worker-")
    env = dict(os.environ, TMPDIR=tmpdir)
    try:
        proc = subprocess.run(
            cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timeout: worker ran longer than {timeout:g} s"}
    except OSError as exc:
        return {"ok": False, "error": f"could not start worker: {exc}"}
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return parse_worker_output(proc.stdout, proc.stderr, proc.returncode)


def parse_worker_output(stdout: str, stderr: str, returncode: int) -> dict[str, Any]:
    """The worker's result: the last stdout line that is a JSON object with an ``ok`` key.

    Anything the library printed before it is ignored. Without such a line (the worker crashed,
    was killed for memory, ...), the error is the last line of stderr or the exit status.
    """
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and "ok" in obj:
            return obj
    err_lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    if err_lines:
        return {"ok": False, "error": f"worker crashed (exit {returncode}): {err_lines[-1]}"}
    if returncode < 0:
        return {"ok": False, "error": f"worker killed by signal {-returncode}"}
    return {"ok": False, "error": f"worker exited with status {returncode} and no result"}


def _cpu_busy_s() -> float | None:
    """CPU seconds used by every process on the machine since boot; None without /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if len(fields) < 5 or fields[0] != "cpu":
        return None
    # user nice system idle iowait irq softirq steal (guest time is inside user already).
    ticks = [int(x) for x in fields[1:9]]
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class OtherCpu:
    """Measures the CPU share that processes other than our workers took over an interval.

    Other agents' test runs on a 2-core machine are the main source of noise: torch's
    intra-op thread pool in particular slows down by 10-100x when its threads are preempted.
    The share is (all CPU time - our children's CPU time) / (wall time x CPU count).
    """

    __slots__ = ("_busy", "_children", "_t0")

    def __init__(self) -> None:
        self._busy = _cpu_busy_s()
        self._children = _children_cpu_s()
        self._t0 = time.perf_counter()

    def share(self) -> float | None:
        """Share of all CPUs used by others since construction (0..1), None off Linux."""
        busy = _cpu_busy_s()
        wall = time.perf_counter() - self._t0
        if busy is None or self._busy is None or wall <= 0:
            return None
        ours = _children_cpu_s() - self._children
        others = max(0.0, (busy - self._busy) - ours)
        return min(1.0, others / (wall * (os.cpu_count() or 1)))


def wait_idle(max_wait: float, log, threshold: float = 0.15) -> None:
    """Wait (at most ``max_wait`` s) until other processes use less than ``threshold`` of CPUs."""
    deadline = time.perf_counter() + max_wait
    while True:
        probe = OtherCpu()
        time.sleep(1.0)
        share = probe.share()
        if share is None or share < threshold:
            return
        if time.perf_counter() >= deadline:
            log(f"  still {share:.0%} CPU used by others after waiting {max_wait:g} s; going on")
            return


def measure(
    name: str,
    libs: tuple[str, str],
    rounds: int,
    quick: bool,
    timeout: float,
    log,
    idle_wait: float = 0.0,
) -> Row:
    """Run workload ``name`` for ``rounds`` rounds, alternating which library goes first."""
    wl = load_workload(name)
    labels = list(libs) if libs[0] != libs[1] else [f"{libs[0]}#1", f"{libs[1]}#2"]
    results = [LibResult(label=lab, lib=lib) for lab, lib in zip(labels, libs, strict=True)]
    for r in range(rounds):
        order = (0, 1) if r % 2 == 0 else (1, 0)
        for i in order:
            res = results[i]
            if res.error is not None:
                continue  # failures are deterministic enough; don't pay for them again
            if idle_wait > 0:
                wait_idle(idle_wait, log)
            probe = OtherCpu()
            t0 = time.perf_counter()
            out = run_worker(name, res.lib, quick, timeout)
            wall = time.perf_counter() - t0
            other = probe.share()
            if other is not None:
                res.other_cpu.append(other)
            if out.get("ok"):
                res.rounds_s.append(float(out["median_s"]))
                res.nbytes = out.get("nbytes", res.nbytes)
                res.version = out.get("version", res.version)
                res.iters = out.get("iters", res.iters)
                msg = f"{fmt_time(out['median_s'])}/call x{out.get('iters', '?')}"
            else:
                res.error = str(out.get("error") or "unknown error")
                msg = f"ERROR ({res.error})"
            busy = "" if other is None else f", others used {other:.0%} CPU"
            log(f"  {name} round {r + 1}/{rounds} {res.label}: {msg}  [{wall:.1f} s{busy}]")
    return Row(
        name=name,
        issue=int(getattr(wl, "ISSUE", 0)),
        target=float(getattr(wl, "TARGET", float("nan"))),
        kind=str(getattr(wl, "KIND", "time")),
        description=str(getattr(wl, "DESCRIPTION", "")),
        results=results,
    )


def fmt_time(seconds: float) -> str:
    """A duration with a unit that keeps 3-4 significant digits (ns, us, ms, s)."""
    if seconds < 1e-6:
        return f"{seconds * 1e9:.1f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.3f} s"


def _cell(res: LibResult) -> str:
    if res.error is not None:
        text = res.error
        if len(text) > ERROR_CELL_WIDTH:
            text = text[: ERROR_CELL_WIDTH - 3] + "..."
        return f"ERROR ({text})"
    med = res.median_s
    if med is None:
        return "-"
    cell = fmt_time(med)
    if res.nbytes and med > 0:
        cell += f" ({res.nbytes / med / 1e6:,.0f} MB/s)"
    return cell


def target_text(kind: str, target: float) -> str:
    """The target column: a time-ratio bound, or a throughput-ratio bound for MB/s workloads."""
    if kind == "throughput":
        return f"MB/s >= {target:g}x"
    return f"<= {target:g}"


def format_table(rows: list[Row]) -> str:
    """The results table (plain text, aligned columns) plus full error lines under it."""
    if not rows:
        return "(no results)"
    labels = [r.label for r in rows[0].results]
    header = [
        "workload",
        "issue",
        labels[0],
        labels[1],
        "ratio",
        "target",
        "holds?",
        "spread",
        "others",
    ]
    body = []
    for row in rows:
        ratio = row.ratio
        holds = row.holds
        body.append(
            [
                row.name,
                f"#{row.issue}",
                _cell(row.results[0]),
                _cell(row.results[1]),
                "-" if ratio is None else f"{ratio:.2f}",
                target_text(row.kind, row.target),
                "-" if holds is None else ("yes" if holds else "NO"),
                "-" if row.spread is None else f"{row.spread:.0%}",
                "-" if row.other_cpu is None else f"{row.other_cpu:.0%}",
            ]
        )
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    # Names left-aligned, numbers right-aligned.
    align = ["<", "<", ">", ">", ">", "<", "<", ">", ">"]

    def fmt(line: list[str]) -> str:
        return " | ".join(
            f"{c:{a}{w}}" for c, a, w in zip(line, align, widths, strict=True)
        ).rstrip()

    out = [fmt(header), "-+-".join("-" * w for w in widths)]
    out += [fmt(line) for line in body]
    errors = [
        f"  {row.name} [{res.label}]: {res.error}"
        for row in rows
        for res in row.results
        if res.error is not None
    ]
    if errors:
        out += ["", "errors:"] + errors
    return "\n".join(out)


def probe_machine(libs: tuple[str, str], timeout: float = 120.0) -> dict[str, Any]:
    """CPU model and each library's math kernels, from one fresh process
    (``python -m benchmarks._worker --machine LIB LIB``); ``{"error": ...}`` when it fails."""
    cmd = [sys.executable, "-m", "benchmarks._worker", "--machine", *dict.fromkeys(libs)]
    try:
        proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=timeout)
    except (subprocess.TimeoutExpired, OSError) as exc:
        return {"error": f"machine probe failed: {exc}"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                break
    err = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    return {"error": f"machine probe failed: {err[-1] if err else proc.returncode}"}


def machine_lines(machine: dict[str, Any]) -> list[str]:
    """The lines printed above the table: the CPU, then each library's kernels."""
    from benchmarks._worker import describe_lib

    if "error" in machine:
        return [machine["error"]]
    lines = [f"CPU: {machine.get('cpu_model')} ({machine.get('cpu_count')} logical CPUs, "
             f"{machine.get('machine')})"]
    lines += [describe_lib(lib, info) for lib, info in machine.get("libs", {}).items()]
    return lines


def load_average() -> float | None:
    """The 1-minute load average, None where the platform has none."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def load_note(before: float | None, after: float | None) -> str:
    """One line on machine load; other processes on the CPUs are the main source of noise."""
    cpus = os.cpu_count() or 1
    if before is None:
        return f"{cpus} CPUs; load average unavailable"
    text = f"{cpus} CPUs; 1-min load average {before:.2f} before the run, {after:.2f} after"
    # Before the run none of our workers is running yet, so this load is someone else's.
    if before >= 0.5:
        text += "; WARNING: other processes were using the CPUs, expect noisy timings"
    return text


def to_json(
    rows: list[Row],
    args: argparse.Namespace,
    libs: tuple[str, str],
    loads: tuple,
    machine: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything measured, for ``--json``: per-round medians, errors, verdicts."""
    return {
        "libs": list(libs),
        "rounds": args.rounds,
        "quick": args.quick,
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "loadavg_before": loads[0],
            "loadavg_after": loads[1],
            **(machine or {}),
        },
        "workloads": [
            {
                "name": row.name,
                "issue": row.issue,
                "kind": row.kind,
                "target": row.target,
                "description": row.description,
                "ratio": row.ratio,
                "holds": row.holds,
                "spread": row.spread,
                "other_cpu": row.other_cpu,
                "results": {
                    res.label: {
                        "lib": res.lib,
                        "version": res.version,
                        "median_s": res.median_s,
                        "rounds_s": res.rounds_s,
                        "iters": res.iters,
                        "nbytes": res.nbytes,
                        "mb_per_s": (
                            res.nbytes / res.median_s / 1e6 if res.nbytes and res.median_s else None
                        ),
                        "error": res.error,
                        "other_cpu": res.other_cpu,
                    }
                    for res in row.results
                },
            }
            for row in rows
        ],
    }


def _parse_libs(text: str) -> tuple[str, str]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(q.isidentifier() for p in parts for q in p.split(".")):
        raise argparse.ArgumentTypeError(
            f"--libs: expected two module names separated by a comma, got {text!r}"
        )
    return parts[0], parts[1]


def build_parser() -> argparse.ArgumentParser:
    """The command line of run.py."""
    parser = argparse.ArgumentParser(
        prog="python benchmarks/run.py",
        description="Time the same workloads on lamina and torch; print medians and ratios.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="workloads (default: all)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="fresh-process rounds per library (default 3; 1 with --quick)",
    )
    parser.add_argument("--quick", action="store_true", help="short warm-up and samples")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="S",
        help="before each worker, wait up to S seconds for other processes to leave the CPUs",
    )
    parser.add_argument("--json", metavar="PATH", help="also write all results as JSON")
    parser.add_argument("--list", action="store_true", help="list workloads and exit")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds before a worker is killed"
    )
    # Harness validation (e.g. torch,torch: the ratio should be ~1); not a user feature.
    parser.add_argument(
        "--libs", type=_parse_libs, default=DEFAULT_LIBS, metavar="A,B",
        help="the two libraries compared (default lamina,torch); benchmarks.floor,torch "
             "prints each workload's NumPy floor against torch (see benchmarks/floor.py)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the chosen workloads and print the table."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list:
        for name in ALL:
            wl = load_workload(name)
            target = target_text(getattr(wl, "KIND", "time"), wl.TARGET)
            print(f"{name:22} #{wl.ISSUE}  {target:14} {wl.DESCRIPTION}")
        return 0
    unknown = [n for n in args.names if n not in ALL]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; known: {', '.join(ALL)}")
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    names = args.names or list(ALL)
    libs: tuple[str, str] = args.libs

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    rows: list[Row] = []
    machine = probe_machine(libs)
    for line in machine_lines(machine):
        log(line)
    load_before = load_average()
    interrupted = False
    try:
        for k, name in enumerate(names, 1):
            log(f"[{k}/{len(names)}] {name}")
            rows.append(
                measure(name, libs, args.rounds, args.quick, args.timeout, log, args.wait_idle)
            )
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: showing the workloads finished so far")
    load_after = load_average()
    for line in machine_lines(machine):
        print(line)
    print(load_note(load_before, load_after))
    print(format_table(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(to_json(rows, args, libs, (load_before, load_after), machine), f,
                      indent=2)
            f.write("\n")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
