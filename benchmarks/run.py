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
    """

    label: str
    lib: str
    rounds_s: list[float] = field(default_factory=list)
    error: str | None = None
    nbytes: int | None = None
    version: str | None = None
    iters: int | None = None

    @property
    def median_s(self) -> float | None:
        """Median over rounds, or None when no round succeeded."""
        return statistics.median(self.rounds_s) if self.rounds_s else None


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


def measure(name: str, libs: tuple[str, str], rounds: int, quick: bool, timeout: float, log) -> Row:
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
            t0 = time.perf_counter()
            out = run_worker(name, res.lib, quick, timeout)
            wall = time.perf_counter() - t0
            if out.get("ok"):
                res.rounds_s.append(float(out["median_s"]))
                res.nbytes = out.get("nbytes", res.nbytes)
                res.version = out.get("version", res.version)
                res.iters = out.get("iters", res.iters)
                msg = f"{fmt_time(out['median_s'])}/call x{out.get('iters', '?')}"
            else:
                res.error = str(out.get("error") or "unknown error")
                msg = f"ERROR ({res.error})"
            log(f"  {name} round {r + 1}/{rounds} {res.label}: {msg}  [{wall:.1f} s]")
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
    header = ["workload", "issue", labels[0], labels[1], "ratio", "target", "holds?"]
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
            ]
        )
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    # Names left-aligned, numbers right-aligned.
    align = ["<", "<", ">", ">", ">", "<", "<"]

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


def to_json(rows: list[Row], args: argparse.Namespace, libs: tuple[str, str]) -> dict[str, Any]:
    """Everything measured, for ``--json``: per-round medians, errors, verdicts."""
    return {
        "libs": list(libs),
        "rounds": args.rounds,
        "quick": args.quick,
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
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
                    }
                    for res in row.results
                },
            }
            for row in rows
        ],
    }


def _parse_libs(text: str) -> tuple[str, str]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(p.isidentifier() for p in parts):
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
    parser.add_argument("--json", metavar="PATH", help="also write all results as JSON")
    parser.add_argument("--list", action="store_true", help="list workloads and exit")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds before a worker is killed"
    )
    # Harness validation (e.g. torch,torch: the ratio should be ~1); not a user feature.
    parser.add_argument("--libs", type=_parse_libs, default=DEFAULT_LIBS, help=argparse.SUPPRESS)
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
    interrupted = False
    try:
        for k, name in enumerate(names, 1):
            log(f"[{k}/{len(names)}] {name}")
            rows.append(measure(name, libs, args.rounds, args.quick, args.timeout, log))
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: showing the workloads finished so far")
    print(format_table(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(to_json(rows, args, libs), f, indent=2)
            f.write("\n")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
