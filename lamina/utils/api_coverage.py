"""Compare lamina's public API with an installed PyTorch: names and call signatures.

Run ``python -m lamina.utils.api_coverage [--out docs/api_coverage.md]``. For each namespace
(``torch``, ``torch.Tensor``, ``torch.nn``, ...) it lists every public name torch has, whether
lamina has it, and for callables both have whether the parameters match: names, order,
positional / keyword-only kinds and defaults.

Where torch's signatures come from:

* Python-level callables (``F.*``, ``nn`` classes, optimizers): ``inspect.signature``;
* C builtins (``torch.add``, ``Tensor.view``): the ATen schemas torch's own argument parser
  reads (``torch._C._jit_get_schemas_for_operator``), one signature per overload, with the
  parser's rules: ``self`` is ``input`` (dropped for methods); every argument can be passed
  by keyword; a lone int-list argument may be given as varargs and still by its keyword
  (``x.view(2, 3)``, ``x.view(size=(2, 3))``, ``torch.rand(size=(2, 3))``); ``.out``
  overloads add a keyword-only ``out``; factories take ``requires_grad``; JIT-only overloads
  and Scalar overloads with a Tensor twin are skipped;
* builtins without a schema: the signature lines at the top of their docstrings, such as
  ``asarray(obj, *, dtype, device, copy=None, requires_grad=None) -> Tensor``.

Rules of the comparison (``compare``):

* torch's ``*size`` (varargs that torch also takes as ``size=``) matches lamina's ``*args``
  plus a keyword-only ``size``;
* torch's enum defaults (``layout``, ``memory_format``, a ``dtype`` enum default) match
  lamina's ``None`` (one layout, one memory format, None = the function's default dtype); an
  empty int-list default matches ``None`` and ``[1, 1]`` matches ``1``;
* a missing keyword-only ``out`` is noted ("no out=") but not counted as a difference:
  writing into a given tensor is a feature lamina does not have, not a spelling;
* *ok*: identical to one of torch's overloads; *compatible*: lamina's one Python signature
  accepts every call each overload accepts, with the same defaults (for overloads that torch
  tells apart by the type of a positional argument, only missing arguments count);
* methods are compared without ``self``; classes by their constructor.

``op_spellings()`` is what tests/utils/test_api_coverage.py checks: every spelling torch has
of every op lamina implements.

This module imports torch only when run, so ``import lamina.utils.api_coverage`` works
without it.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import re
import sys

NAMESPACES = [
    ("torch", "lamina"),
    ("torch.Tensor", "lamina.Tensor"),
    ("torch.nn", "lamina.nn"),
    ("torch.nn.functional", "lamina.nn.functional"),
    ("torch.nn.init", "lamina.nn.init"),
    ("torch.optim", "lamina.optim"),
    ("torch.optim.lr_scheduler", "lamina.optim.lr_scheduler"),
    ("torch.utils.data", "lamina.utils.data"),
    ("torch.autograd", "lamina.autograd"),
    ("torch.linalg", "lamina.linalg"),
    ("torch.special", "lamina.special"),
]

POK, VAR, KWO, VKW, POS = "pos_or_kw", "*args", "kw_only", "**kwargs", "pos_only"
_NO = "<required>"
_ENUM_NONE = {"torch.strided", "torch.preserve_format", "torch.contiguous_format",
              "torch.legacy_contiguous_format"}

# Result of comparing one callable.
MATCH, COMPATIBLE, DIFFER, UNKNOWN = "ok", "compatible", "differs", "?"


class Param:
    """One parameter: name, kind (POK, VAR, KWO, VKW, POS), normalized default, and for a
    builtin's ``*size``, whether the same name is also accepted as a keyword."""

    __slots__ = ("name", "kind", "default", "kw_too", "tp")

    def __init__(self, name, kind, default=_NO, kw_too=False, tp=None):
        self.name, self.kind, self.default, self.kw_too = name, kind, default, kw_too
        self.tp = tp

    def __repr__(self):
        if self.kind == VAR:
            return "*" + self.name + ("(=kw)" if self.kw_too else "")
        if self.kind == VKW:
            return "**" + self.name
        s = self.name if self.default == _NO else f"{self.name}={self.default}"
        return ("kw:" if self.kind == KWO else "pos:" if self.kind == POS else "") + s


# ---------------------------------------------------------------------- defaults
def norm_default(v) -> str:
    """A comparable text for a default value (torch's and lamina's objects alike)."""
    if v is inspect.Parameter.empty:
        return _NO
    if v is None or isinstance(v, (bool, str)):
        return repr(v)
    if isinstance(v, (int, float)):
        return repr(float(v)) if v == v else "nan"
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(norm_default(x) for x in v) + ")"
    if inspect.ismodule(v):
        return f"<module {v.__name__}>"
    # no memory addresses: the report must not change from run to run
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(v)).replace("lamina.", "torch.")


def _doc_default(text: str) -> str:
    text = text.strip()
    try:
        return norm_default(ast.literal_eval(text))
    except (ValueError, SyntaxError):
        pass
    if text in ("inf", "math.inf", "float('inf')"):
        return repr(float("inf"))
    if text in ("-inf", "-math.inf"):
        return repr(float("-inf"))
    return text.replace("lamina.", "torch.")


def defaults_equal(torch_d: str, lamina_d: str) -> bool:
    """Equal defaults; also torch's enum defaults vs None, an empty int list (torch's "not
    given") vs None, and an int list of one repeated value (``stride=[1, 1]``) vs that value,
    which torch's int-list arguments accept."""
    if torch_d == lamina_d:
        return True
    if lamina_d == "None" and (torch_d in _ENUM_NONE or torch_d == "()"):
        return True
    if torch_d.startswith("(") and torch_d.endswith(")") and torch_d != "()":
        return set(torch_d[1:-1].split(", ")) == {lamina_d}
    return False


# ---------------------------------------------------------------------- signatures
def from_inspect(sig: inspect.Signature, drop_self: bool = False) -> list:
    kinds = {inspect.Parameter.POSITIONAL_ONLY: POS, inspect.Parameter.POSITIONAL_OR_KEYWORD: POK,
             inspect.Parameter.VAR_POSITIONAL: VAR, inspect.Parameter.KEYWORD_ONLY: KWO,
             inspect.Parameter.VAR_KEYWORD: VKW}
    ps = [Param(p.name, kinds[p.kind], norm_default(p.default)) for p in sig.parameters.values()]
    if drop_self and ps and ps[0].kind in (POS, POK):
        ps = ps[1:]
    return ps


def _split_top(s: str) -> list:
    out, depth, cur = [], 0, []
    for ch in s:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur))
    return out


def parse_doc_params(text: str):
    """Parse the inside of ``name(...)`` from a builtin's docstring; None if not a signature."""
    ps, kw = [], False
    for tok in _split_top(text.replace("\\", "")):
        tok = tok.strip()
        if not tok:
            return None
        if tok == "*":
            kw = True
            continue
        if tok.startswith("**"):
            ps.append(Param(tok[2:].split(":")[0].strip(), VKW))
            continue
        if tok.startswith("*"):
            ps.append(Param(tok[1:].split(":")[0].strip(), VAR, kw_too=True))
            kw = True
            continue
        name, _, default = tok.partition("=")
        name = name.split(":")[0].strip()
        if not name.isidentifier():
            return None
        # the conversion methods' docs (``float(memory_format=...)``) omit the ``*`` that
        # torch's parser has: x.float(torch.preserve_format) raises
        kind = KWO if kw or name == "memory_format" else POK
        ps.append(Param(name, kind, _doc_default(default) if _ else _NO))
    return ps


_PREFIXES = ("torch.Tensor.", "Tensor.", "linalg.", "special.", "nn.functional.")


def _inside_parens(text: str):
    """The text between the first '(' and its matching ')', or None."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return text[text.index("(") + 1:i]
    return None


def doc_signatures(obj, name: str) -> list:
    """All signature lines of a builtin's docstring (one per overload)."""
    doc = getattr(obj, "__doc__", None) or ""
    sigs = []
    pat = re.compile(r"^\s{0,4}(?:\.\. function:: )?(?:(?:" +
                     "|".join(re.escape(p) for p in _PREFIXES) + r"))?" + re.escape(name) +
                     r"\(")
    for line in doc.splitlines():
        m = pat.match(line)
        if m:
            inner = _inside_parens(line[m.end() - 1:])
            ps = parse_doc_params(inner) if inner is not None else None
            if ps is not None:
                sigs.append(ps)
    return sigs


def _schema_type_is_intlist(t) -> bool:
    return str(t) in ("List[int]", "List[SymInt]")


def schema_signatures(aten_name: str, method: bool):
    """torch's Python signatures of a builtin, from its ATen schemas (what torch's argument
    parser reads): ``self`` is ``input`` (dropped for methods), factory functions take
    ``requires_grad``, a single int-list argument may be given as varargs, and ``.out``
    overloads add a keyword-only ``out``. Returns (signatures, has_out)."""
    try:
        import torch
        schemas = torch._C._jit_get_schemas_for_operator("aten::" + aten_name)
    except Exception:  # noqa: BLE001
        return [], False
    sigs, has_out = [], False
    names = {sc.overload_name for sc in schemas}
    for sc in schemas:
        args = list(sc.arguments)
        # torch's Python bindings skip a Scalar overload that has a Tensor twin (add.Scalar),
        # and JIT-only overloads (no Tensor argument, not a factory) are not bound at all
        if sc.overload_name.startswith("Scalar") and \
                sc.overload_name.replace("Scalar", "Tensor") in names:
            continue
        if not any("Tensor" in str(a.type) or a.name == "pin_memory" for a in args):
            continue
        if not any("Tensor" in str(r.type) for r in sc.returns) and sc.returns:
            continue
        if any("Dimname" in str(a.type) or "t[]" in str(a.type) or str(a.type) == "t"
               for a in args):
            continue
        if any(a.is_out for a in args):
            has_out = True
            continue
        if method:
            if not args or args[0].name != "self" or "Tensor" not in str(args[0].type):
                continue
            args = args[1:]
        elif args and args[0].name == "self" and "Tensor" not in str(args[0].type):
            continue
        ps = []
        for a in args:
            if a.name in ("dtype", "memory_format") and isinstance(a.default_value, int):
                # a ScalarType / MemoryFormat enum default: None in lamina means the same
                d = "None" if a.name == "dtype" else "torch.preserve_format"
            elif a.has_default_value():
                d = norm_default(a.default_value)
            else:  # required even when it may be None (torch.batch_norm's weight)
                d = _NO
            name = "input" if a.name == "self" else a.name
            if name == "pin_memory":
                d = "False"
            ps.append(Param(name, KWO if a.kwarg_only else POK, d, tp=a.type))
        if any(p.name == "pin_memory" for p in ps) and not any(p.name == "requires_grad"
                                                                for p in ps):
            ps.append(Param("requires_grad", KWO, "False"))
        pos = [p for p in ps if p.kind == POK]
        if len(pos) == 1 and _schema_type_is_intlist(pos[0].tp):
            i = ps.index(pos[0])
            ps[i] = Param(pos[0].name, VAR, kw_too=True)
            ps[i + 1:] = [Param(p.name, KWO, p.default) for p in ps[i + 1:]]
        for p in ps:
            p.tp = None
        sigs.append(ps)
    return sigs, has_out


def _is_method_ns(ns_name: str) -> bool:
    return ns_name.endswith(".Tensor")


_ATEN_PREFIX = {"torch.linalg": "linalg_", "torch.special": "special_"}


def torch_signatures(obj, name: str, ns_name: str):
    """torch's signatures of ``obj`` (several for an overloaded builtin) and whether it takes
    ``out=``; ([], False) if unknown."""
    method = _is_method_ns(ns_name)
    if inspect.isclass(obj):
        try:
            return [from_inspect(inspect.signature(obj))], False
        except (TypeError, ValueError):
            return doc_signatures(obj.__init__, name), False
    try:
        ps = from_inspect(inspect.signature(obj), drop_self=method)
        # a (*args, **kwargs) wrapper (F.max_pool2d's boolean_dispatch) says nothing: use
        # the documented signature instead
        if [p.kind for p in ps] != [VAR, VKW]:
            return [ps], any(p.name == "out" and p.kind == KWO for p in ps)
        sigs = doc_signatures(obj, name)
        return sigs, False
    except (TypeError, ValueError):
        pass
    sigs, has_out = schema_signatures(_ATEN_PREFIX.get(ns_name, "") + name, method)
    if sigs:
        return sigs, has_out and not method
    sigs = doc_signatures(obj, name)
    return sigs, any(p.name == "out" and p.kind == KWO for s in sigs for p in s)


def lamina_signature(obj, method: bool):
    try:
        return from_inspect(inspect.signature(obj), drop_self=method and not inspect.isclass(obj))
    except (TypeError, ValueError):
        return None


def _fold_size_kw(ps: list, tps: list) -> list:
    """lamina spells a builtin's ``*size`` (which torch also takes as ``size=``) as ``*args``
    plus a keyword-only ``size``: fold that pair into one ``*size(=kw)`` parameter."""
    tvar = next((p for p in tps if p.kind == VAR and p.kw_too), None)
    var = next((p for p in ps if p.kind == VAR), None)
    if tvar is None or var is None:
        return ps
    kw = next((p for p in ps if p.kind == KWO and p.name == tvar.name), None)
    if kw is None:
        return ps
    return [Param(tvar.name, VAR, kw_too=True) if p is var else p for p in ps if p is not kw]


def _without_out(ps: list) -> list:
    return [p for p in ps if not (p.name == "out" and p.kind == KWO)]


def exact(tps: list, lps: list) -> list:
    """Differences between one torch signature and lamina's (empty: identical)."""
    notes = []
    tpos = [p for p in tps if p.kind in (POS, POK, VAR)]
    lpos = [p for p in lps if p.kind in (POS, POK, VAR)]
    for i in range(max(len(tpos), len(lpos))):
        t = tpos[i] if i < len(tpos) else None
        m = lpos[i] if i < len(lpos) else None
        if t is None:
            notes.append(f"extra positional {m!r}")
        elif m is None:
            notes.append(f"missing positional {t!r}")
        elif t.kind == VAR or m.kind == VAR:
            if t.kind != m.kind:
                notes.append(f"position {i}: torch {t!r}, lamina {m!r}")
            elif t.kw_too and not m.kw_too:
                notes.append(f"*{t.name}: torch also takes {t.name}= as a keyword")
        elif t.name != m.name:
            notes.append(f"position {i}: torch {t!r}, lamina {m!r}")
        elif not defaults_equal(t.default, m.default):
            notes.append(f"{t.name}: torch default {t.default}, lamina {m.default}")
    tkw = {p.name: p for p in tps if p.kind == KWO}
    lkw = {p.name: p for p in lps if p.kind == KWO}
    for n, t in tkw.items():
        m = lkw.get(n)
        if m is None:
            notes.append(f"missing keyword {t!r}")
        elif not defaults_equal(t.default, m.default):
            notes.append(f"{n}: torch default {t.default}, lamina {m.default}")
    for n, m in lkw.items():
        if n not in tkw:
            notes.append(f"extra keyword {m!r}")
    if any(p.kind == VKW for p in tps) != any(p.kind == VKW for p in lps):
        notes.append("**kwargs differs")
    return notes


def accepts(tps: list, lps: list) -> list:
    """Why lamina's signature does not accept every call torch's accepts with the same
    meaning (empty: it does). Extra optional parameters and wider kinds are fine."""
    notes = []
    tpos = [p for p in tps if p.kind in (POS, POK, VAR)]
    lpos = [p for p in lps if p.kind in (POS, POK, VAR)]
    l_vkw = any(p.kind == VKW for p in lps)
    for i, t in enumerate(tpos):
        m = lpos[i] if i < len(lpos) else None
        if m is None:
            notes.append(f"missing positional {t!r}")
        elif t.kind == VAR:
            if m.kind != VAR:
                notes.append(f"position {i}: torch {t!r}, lamina {m!r}")
            elif t.kw_too and not m.kw_too:
                notes.append(f"*{t.name}: torch also takes {t.name}= as a keyword")
        elif m.kind == VAR:
            notes.append(f"position {i}: torch {t!r}, lamina {m!r}")
        elif t.name != m.name and t.kind != POS:
            notes.append(f"position {i}: torch {t!r}, lamina {m!r}")
        elif t.default != _NO and not defaults_equal(t.default, m.default):
            notes.append(f"{t.name}: torch default {t.default}, lamina {m.default}")
    for m in lpos[len(tpos):]:
        if m.kind != VAR and m.default == _NO:
            notes.append(f"lamina requires {m.name}")
    lall = {p.name: p for p in lps if p.kind in (POK, KWO)}
    for t in tps:
        if t.kind != KWO:
            continue
        m = lall.get(t.name)
        if m is None or m in lpos[:len(tpos)]:
            if not l_vkw:
                notes.append(f"missing keyword {t!r}")
        elif t.default != _NO and not defaults_equal(t.default, m.default):
            notes.append(f"{t.name}: torch default {t.default}, lamina {m.default}")
    tnames = {p.name for p in tps}
    for m in lps:
        if m.kind == KWO and m.default == _NO and m.name not in tnames:
            notes.append(f"lamina requires keyword {m.name}")
    return notes


def compare(torch_sigs: list, lamina_ps, torch_has_out: bool = False):
    """(status, note): MATCH when lamina's signature is identical to one of torch's overloads,
    COMPATIBLE when it accepts every call of every overload with the same defaults, DIFFER
    otherwise, UNKNOWN without signatures. A missing ``out=`` is noted, not counted."""
    if not torch_sigs or lamina_ps is None:
        return UNKNOWN, ""
    lacks_out = torch_has_out and not any(p.name == "out" for p in lamina_ps)
    out_note = "no out=" if lacks_out else ""
    sigs = [_without_out(t) for t in torch_sigs]
    folded = [_fold_size_kw(lamina_ps, t) for t in sigs]
    lps = [_without_out(f) if lacks_out else f for f in folded]
    for t, l in zip(sigs, lps):
        if not exact(t, l):
            return MATCH, out_note
    problems = [accepts(t, l) for t, l in zip(sigs, lps)]
    if len(problems) > 1 and not all(problems):
        # overloads that torch tells apart by argument type: lamina's one signature takes
        # the value at that position (and dispatches on it); only a keyword or a positional
        # slot missing altogether counts
        problems = [[n for n in p if n.startswith(("missing", "lamina requires", "*"))]
                    for p in problems]
    if not any(problems):
        return COMPATIBLE, out_note
    note = "; ".join(dict.fromkeys(n for p in problems for n in p))
    return DIFFER, "; ".join(x for x in (note, out_note) if x)


def compare_objects(tobj, lobj, name: str, ns_name: str):
    """Compare two callables (torch's, lamina's) by signature."""
    if not callable(tobj) or not callable(lobj):
        return UNKNOWN, ""
    sigs, has_out = torch_signatures(tobj, name, ns_name)
    return compare(sigs, lamina_signature(lobj, _is_method_ns(ns_name)), has_out)


# ---------------------------------------------------------------------- namespaces
def resolve(path: str):
    """The object at a dotted path (``lamina.nn.functional``, ``torch.Tensor``), or None."""
    parts = path.split(".")
    try:
        obj = importlib.import_module(parts[0])
    except ImportError:
        return None
    for i, p in enumerate(parts[1:], 1):
        try:
            obj = getattr(obj, p)
        except AttributeError:
            try:
                obj = importlib.import_module(".".join(parts[: i + 1]))
            except ImportError:
                return None
    return obj


def public_names(ns) -> list:
    return sorted(n for n in dir(ns) if not n.startswith("_"))


def _get(ns, name):
    if ns is None:
        return None
    try:
        return getattr(ns, name)
    except Exception:  # noqa: BLE001 - a lazy attribute that fails counts as absent
        return None


def _has(ns, name) -> bool:
    if ns is None:
        return False
    if inspect.isclass(ns):
        return any(name in vars(k) for k in ns.__mro__ if k is not object) or hasattr(ns, name)
    try:
        getattr(ns, name)
        return True
    except Exception:  # noqa: BLE001
        return False


def survey(torch_path: str, lamina_path: str) -> list:
    """Rows (name, in_lamina, status, note) for every public name of torch's namespace."""
    tns, lns = resolve(torch_path), resolve(lamina_path)
    rows = []
    for name in public_names(tns):
        has = _has(lns, name)
        status, note = "", ""
        if has:
            tobj, lobj = getattr(tns, name, None), _get(lns, name)
            if (callable(tobj) and callable(lobj) and not inspect.ismodule(tobj)
                    and not isinstance(inspect.getattr_static(tns, name, None), property)):
                status, note = compare_objects(tobj, lobj, name, torch_path)
        rows.append((name, has, status, note))
    return rows


OP_NAMESPACES = [("torch", "lamina"), ("torch.Tensor", "lamina.Tensor"),
                 ("torch.nn.functional", "lamina.nn.functional"),
                 ("torch.special", "lamina.special"), ("torch.linalg", "lamina.linalg")]


def _is_routine(obj) -> bool:
    return (inspect.isroutine(obj) or inspect.ismethoddescriptor(obj)) and not inspect.isclass(obj)


def op_spellings() -> list:
    """Every spelling torch has of every op lamina implements somewhere.

    An op is a function lamina exposes in ``lamina``, ``Tensor``, ``nn.functional``,
    ``lamina.special`` or ``lamina.linalg`` whose name torch also has in one of those
    namespaces. For each op, every namespace where torch has that name or its in-place
    ``<name>_`` as a function is checked. Returns rows
    (namespace, name, status, note) where status is MATCH, COMPATIBLE, DIFFER, UNKNOWN or
    "missing".
    """
    spaces = [(tp, resolve(tp), lp, resolve(lp)) for tp, lp in OP_NAMESPACES]
    ops = set()
    for tp, tns, lp, lns in spaces:
        if lns is None:
            continue
        for n in public_names(lns):
            obj = _get(lns, n)
            if _is_routine(obj):
                base = n[:-1] if n.endswith("_") and not n.endswith("__") else n
                ops.add(base)
    rows = []
    for base in sorted(ops):
        wanted = [(tp, tns, lp, lns, n) for tp, tns, lp, lns in spaces
                  for n in (base, base + "_")]
        for tp, tns, lp, lns, name in wanted:
            tobj = getattr(tns, name, None) if tns is not None else None
            if tobj is None or not _is_routine(tobj):
                continue
            lobj = _get(lns, name)
            if lobj is None or not callable(lobj):
                rows.append((tp, name, "missing", ""))
                continue
            status, note = compare_objects(tobj, lobj, name, tp)
            rows.append((tp, name, status, note))
    return rows


def totals(rows: list) -> dict:
    shared = [r for r in rows if r[1]]
    return {
        "torch": len(rows), "covered": len(shared),
        "compared": sum(1 for r in shared if r[2] in (MATCH, COMPATIBLE, DIFFER)),
        "match": sum(1 for r in shared if r[2] == MATCH),
        "compatible": sum(1 for r in shared if r[2] == COMPATIBLE),
        "no_out": sum(1 for r in shared if "no out=" in r[3]),
        "differ": sum(1 for r in shared if r[2] == DIFFER),
    }


def _esc(s: str) -> str:
    return s.replace("|", "\\|").replace("*", "\\*").replace("_", "\\_").replace("<", "&lt;")


def report(results: list, torch_version: str) -> str:
    out = ["# lamina API coverage against PyTorch", "",
           f"Generated by `python -m lamina.utils.api_coverage --out docs/api_coverage.md` "
           f"against torch {torch_version}.", "",
           "*covered*: public names of the torch namespace that lamina also has. "
           "*signatures*: callables both have whose parameters (names, order, "
           "positional/keyword-only kinds, defaults) were compared: *ok* = identical to one "
           "of torch's overloads; *compatible* = not identical, but lamina accepts every call "
           "each of torch's overloads accepts, with the same defaults (e.g. one Python "
           "signature for several overloads); *differs* = see the row's note; `?` = torch "
           "exposes no usable signature (a builtin without one, or a `(*args, **kwargs)` wrapper "
           "such as nn.init's deprecated names). *no out=*: torch's `out=` keyword, which lamina does not "
           "take (writing into a given tensor is not supported; not counted as a difference). "
           "Rules: module docstring of `lamina/utils/api_coverage.py`.", "",
           "| namespace | covered / torch names | compared | ok | compatible | differs "
           "| no out= |",
           "|---|---|---|---|---|---|---|"]
    for ns, rows in results:
        t = totals(rows)
        out.append(f"| `{ns}` | {t['covered']} / {t['torch']} | {t['compared']} | {t['match']} "
                   f"| {t['compatible']} | {t['differ']} | {t['no_out']} |")
    for ns, rows in results:
        out += ["", f"## `{ns}`", "", "| name | lamina | signature | note |", "|---|---|---|---|"]
        for name, has, status, note in rows:
            out.append(f"| {_esc(name)} | {'yes' if has else '-'} | {status} | {_esc(note)} |")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lamina.utils.api_coverage",
                                 description="Compare lamina's public API with installed torch.")
    ap.add_argument("--out", help="write the markdown report to this file (default: stdout)")
    args = ap.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("api_coverage needs PyTorch installed (pip install torch): it compares lamina "
              "with torch's own namespaces.", file=sys.stderr)
        return 2
    results = [(tp, survey(tp, lp)) for tp, lp in NAMESPACES]
    text = report(results, torch.__version__)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
        for ns, rows in results:
            t = totals(rows)
            print(f"{ns:26s} covered {t['covered']:4d} / {t['torch']:4d}   signatures: ok "
                  f"{t['match']:3d}  compatible {t['compatible']:3d}  differs "
                  f"{t['differ']:3d}  (no out= {t['no_out']:3d})")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
