"""The package's shape, as docs/architecture.md states it.

- Import layering: every module under ``lamina/`` has a layer in the table of
  docs/architecture.md (the table is read from the page, so the page and this test cannot
  disagree), and imports only from its own layer or those below. A module-level import from a
  higher layer always fails; an import inside a function may reach up only where
  ``UPWARD_IN_FUNCTIONS`` below lists it, with the reason.
- Tests follow the tree: ``lamina/a/b.py`` is tested in ``tests/a/test_b.py`` (leading
  underscores of the module name dropped: ``_dtype.py`` -> ``test_dtype.py``). A package's
  ``__init__.py`` that defines functions or classes is tested in ``tests/a/test_a.py``
  (``lamina/__init__.py`` in ``tests/test_lamina.py``); one that only imports and re-exports
  needs no file of its own.
"""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PKG = ROOT / "lamina"
TESTS = ROOT / "tests"
DOC = ROOT / "docs" / "architecture.md"

# Imports inside functions that reach a higher layer, each to break an import cycle (the
# higher module imports the lower one at module level) or to load something only when used.
# Key: (importing module, imported module or package prefix). A stale entry fails too.
UPWARD_IN_FUNCTIONS = {
    # lamina.save / lamina.load: serialization loads at its first use (import time)
    ("lamina", "lamina.serialization"):
        "lazy attribute: `import lamina` does not load the checkpoint code",
    # lamina.compile: the tracer loads at the first compile (import time)
    ("lamina", "lamina.compiler"): "lazy: `import lamina` does not load lamina.compiler",
    # Tensor methods are the ops and the engine; every op module imports Tensor
    ("lamina._tensor", "lamina.ops"): "cycle: ops import Tensor",
    ("lamina._tensor", "lamina.autograd"): "cycle: the engine and graph import Tensor",
    # a factory's out= writes through the in-place copy op, and the ops use the factories
    ("lamina._creation", "lamina.ops.inplace"): "cycle: ops import the factories",
    # the installer makes in-place methods from the op declarations once the ops are loaded
    ("lamina.ops._registry", "lamina.ops.inplace"): "cycle: every ops module declares through the registry",
    # lamina.cuda.amp is torch's deprecated alias of lamina.amp's classes
    ("lamina.cuda", "lamina.amp"): "lazy attribute: only `lamina.cuda.amp` loads it",
    # the one un-broadcast helper is defined with the Op contract in ops/_op.py
    ("lamina.autograd", "lamina.ops._op"): "cycle: ops/_op.py builds on autograd.graph",
    ("lamina.autograd.function", "lamina.ops._op"): "cycle: ops/_op.py builds on autograd.graph",
    # jacobian stacks its rows with the stack op
    ("lamina.autograd.functional", "lamina.ops.shape"):
        "cycle: autograd/__init__ imports functional, ops import autograd",
}


# ------------------------------------------------------------------------------- the table
def _layer_table() -> list[tuple[int, str]]:
    """(layer, path) for every backquoted path in the 'modules' column of the doc's table."""
    rows = []
    for line in DOC.read_text().splitlines():
        m = re.match(r"\|\s*(\d+)\.[^|]*\|([^|]*)\|", line)
        if m:
            for path in re.findall(r"`([^`]+)`", m.group(2)):
                rows.append((int(m.group(1)), path))
    return rows


def _modules() -> dict[str, pathlib.Path]:
    """Dotted name -> file, for every module of the package."""
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = p
    return out


def _layer_of(path: pathlib.Path, table) -> int | None:
    """The layer of the most specific table entry that covers ``path`` (relative to lamina/).

    ``dir/`` covers everything under it; ``x.py`` covers the module and also a package ``x/``
    that replaces it (a module split into a package keeps its layer)."""
    rel = path.relative_to(PKG).as_posix()
    best = None
    for layer, entry in table:
        if entry.endswith("/"):
            hit = rel.startswith(entry)
        else:
            hit = rel == entry or (entry.endswith(".py") and entry != "__init__.py"
                                   and rel.startswith(entry[:-3] + "/"))
        if hit and (best is None or len(entry) > best[1]):
            best = (layer, len(entry))
    return None if best is None else best[0]


def _imports(name: str, path: pathlib.Path, modules) -> list[tuple[str, bool, int]]:
    """(imported lamina module, inside a function?, line) for every import in the file."""
    is_pkg = path.name == "__init__.py"
    found = []

    def resolve(node):
        if isinstance(node, ast.Import):
            return [a.name for a in node.names if a.name.split(".")[0] == "lamina"]
        if node.level:
            pkg = name.split(".") if is_pkg else name.split(".")[:-1]
            pkg = pkg[:len(pkg) - (node.level - 1)]
            target = ".".join(pkg + ([node.module] if node.module else []))
        else:
            target = node.module or ""
            if target.split(".")[0] != "lamina":
                return []
        # `from pkg import sub` imports the submodule when there is one, else pkg itself
        return [f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target
                for a in node.names]

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.extend((t, in_function, child.lineno) for t in resolve(child))
            visit(child, in_function or isinstance(child, (ast.FunctionDef,
                                                           ast.AsyncFunctionDef,
                                                           ast.Lambda)))

    visit(ast.parse(path.read_text()), False)
    return found


def _allowed(importer: str, imported: str) -> tuple[str, str] | None:
    for key in UPWARD_IN_FUNCTIONS:
        a, b = key
        if importer == a and (imported == b or imported.startswith(b + ".")):
            return key
    return None


# ------------------------------------------------------------------------------- layering
def test_the_doc_table_is_readable():
    table = _layer_table()
    assert {layer for layer, _ in table} >= set(range(8)), table
    assert ("__init__.py" in {p for _, p in table}), "the table must place lamina/__init__.py"


def test_every_module_has_a_layer():
    table = _layer_table()
    missing = [str(p.relative_to(ROOT)) for p in _modules().values()
               if _layer_of(p, table) is None]
    assert not missing, (f"these modules have no layer: add their path to the table in "
                         f"docs/architecture.md ('Layers, bottom to top'): {missing}")


def test_imports_follow_the_layers():
    table = _layer_table()
    modules = _modules()
    layer = {n: _layer_of(p, table) for n, p in modules.items()}
    bad = []
    used = set()
    for name, path in modules.items():
        for target, in_function, line in _imports(name, path, modules):
            lo, hi = layer[name], layer.get(target)
            if lo is None or hi is None or hi <= lo:
                continue
            key = _allowed(name, target) if in_function else None
            if key is None:
                where = "inside a function" if in_function else "at module level"
                bad.append(f"{path.relative_to(ROOT)}:{line} (layer {lo}) imports {target} "
                           f"(layer {hi}) {where}")
            else:
                used.add(key)
    assert not bad, ("imports from a higher layer (see docs/architecture.md; an import inside a "
                     "function that breaks a cycle goes in UPWARD_IN_FUNCTIONS with its "
                     "reason):\n" + "\n".join(bad))
    stale = set(UPWARD_IN_FUNCTIONS) - used
    assert not stale, f"UPWARD_IN_FUNCTIONS entries no longer needed (delete them): {stale}"


# ------------------------------------------------------------------------------- mirrors
def _mirror(path: pathlib.Path) -> pathlib.Path | None:
    rel = path.relative_to(PKG)
    if rel.name == "__init__.py":
        tree = ast.parse(path.read_text())
        if not any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name not in
                   ("__getattr__", "__dir__") for n in tree.body):
            return None  # imports and re-exports only: tested through what it re-exports
        pkg = (rel.parent.name or "lamina").lstrip("_")
        return TESTS / rel.parent / f"test_{pkg}.py"
    if rel.name == "__main__.py":
        return None  # `python -m` entry points: tested through the module they call
    return TESTS / rel.parent / f"test_{rel.stem.lstrip('_')}.py"


def test_every_module_has_its_mirrored_test_file():
    missing = []
    owners: dict[pathlib.Path, pathlib.Path] = {}
    for path in _modules().values():
        t = _mirror(path)
        if t is None:
            continue
        if t in owners:
            missing.append(f"{path.relative_to(ROOT)} and {owners[t].relative_to(ROOT)} "
                           f"both mirror to {t.relative_to(ROOT)}: rename one of them")
        owners[t] = path
        if not t.exists():
            missing.append(f"{path.relative_to(ROOT)} -> {t.relative_to(ROOT)}")
    assert not missing, ("modules without their mirrored test file (lamina/a/b.py is tested in "
                         "tests/a/test_b.py; a thin file that tests the module and says where "
                         "the rest of its coverage lives is fine):\n" + "\n".join(missing))


@pytest.mark.parametrize("rel", ["_dtype.py", "nn/modules/utils.py", "nn/__init__.py",
                                 "__init__.py"])
def test_mirror_rule_examples(rel):
    expected = {"_dtype.py": TESTS / "test_dtype.py",
                "nn/modules/utils.py": TESTS / "nn" / "modules" / "test_utils.py",
                "nn/__init__.py": None,  # re-exports only
                "__init__.py": TESTS / "test_lamina.py"}[rel]
    assert _mirror(PKG / rel) == expected
