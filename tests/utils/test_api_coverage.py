"""Every op lamina implements is reachable under each of torch's spellings, with torch's
signature (lamina/utils/api_coverage.py does the comparing; torch is the oracle)."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

import lamina  # noqa: E402
from lamina.utils import api_coverage as A  # noqa: E402

# Deliberate differences: (torch namespace, name) -> why. Each entry must still differ (see
# test_allow_list_is_current), so a fixed one has to leave the list.
ALLOWED = {
    # torch's builtins carry neither a docstring signature nor an ATen schema to compare with
    ("torch", "is_autocast_enabled"): "no torch signature to read",
    ("torch", "get_autocast_dtype"): "no torch signature to read",
    # torch's top-level twins of these F losses are ATen ops that take the reduction as an
    # integer enum (torch.kl_div(input, target, reduction=1)); lamina keeps the F.* spelling.
    ("torch", "binary_cross_entropy_with_logits"): "ATen twin, integer reduction",
    ("torch", "cosine_embedding_loss"): "ATen twin, integer reduction",
    ("torch", "hinge_embedding_loss"): "ATen twin, integer reduction",
    ("torch", "kl_div"): "ATen twin, integer reduction",
    ("torch", "margin_ranking_loss"): "ATen twin, integer reduction",
    ("torch", "poisson_nll_loss"): "ATen twin, integer reduction",
    ("torch", "triplet_margin_loss"): "ATen twin, integer reduction",
    ("torch", "embedding_bag"): "ATen twin with an integer mode and tuple output",
    # linalg.norm's ord selects matrix norms for 2-D dims; lamina has vector norms only
    ("torch.linalg", "norm"): "no matrix norms",
    # F.elu_'s ATen signature adds SELU's internal scale / input_scale constants
    ("torch.nn.functional", "elu_"): "ATen-internal scale arguments",
    # in-place shape changes (metadata only in torch): a lamina tensor's shape is its array's
    # and autograd's view tracking does not rewrite a tensor's own shape
    ("torch.Tensor", "squeeze_"): "no in-place shape change",
    ("torch.Tensor", "unsqueeze_"): "no in-place shape change",
    ("torch.Tensor", "t_"): "no in-place shape change",
    ("torch.Tensor", "transpose_"): "no in-place shape change",
    ("torch.Tensor", "swapaxes_"): "no in-place shape change",
    ("torch.Tensor", "swapdims_"): "no in-place shape change",
    # a different op with the same name: F.unfold is im2col, Tensor.unfold a sliding window
    ("torch.Tensor", "unfold"): "name clash with F.unfold (not the same op)",
    # `from` is a Python keyword: lamina takes from=/to= through **kwargs, so its signature
    # cannot spell torch's (from=0, to=None, *, generator=None)
    ("torch.Tensor", "random_"): "`from` keyword parsed by hand",
    ("torch.Tensor", "uniform_"): "`from` keyword parsed by hand",
    # torch's keyword name depends on the overload the value's type selects (sections=,
    # indices=, tensor_indices_or_sections=); lamina's one name is indices_or_sections
    ("torch", "tensor_split"): "keyword name per overload",
    ("torch.Tensor", "tensor_split"): "keyword name per overload",
    # Tensor.to's overloads (dtype | device | tensor first) are parsed from *args
    ("torch.Tensor", "to"): "overloads parsed by hand",
    # torch.einsum(*args) also takes the sublist format; lamina: (equation, *operands)
    ("torch", "einsum"): "no sublist format",
    # randint's overloads are another change's work (issue 11, section 3)
    ("torch", "randint"): "overloads handled elsewhere",
    ("torch", "randint_like"): "overloads handled elsewhere",
    # torch's docstring says where(condition, y) but its parser takes `other` (checked:
    # x.where(c, y=x) raises, x.where(c, other=x) works); lamina follows the parser
    ("torch.Tensor", "where"): "torch's docstring is wrong",
    # torch's asarray docstring says requires_grad=None; its parser (torch/csrc/autograd/
    # python_torch_functions_manual.cpp) declares `bool requires_grad=False`, as lamina does
    ("torch", "asarray"): "torch's docstring default differs from its parser",
    # torch.get_device has neither a docstring signature nor a schema to compare with
    ("torch", "get_device"): "no torch signature",
}
OK = (A.MATCH, A.COMPATIBLE)


@pytest.fixture(scope="module")
def rows():
    return A.op_spellings()


def test_every_spelling_of_every_op(rows):
    bad = [f"{ns}.{name}: {status} {note}".rstrip() for ns, name, status, note in rows
           if status not in OK and (ns, name) not in ALLOWED]
    assert not bad, "spellings missing or differing from torch:\n" + "\n".join(bad)


def test_allow_list_is_current(rows):
    status = {(ns, name): s for ns, name, s, _ in rows}
    stale = [k for k in ALLOWED if status.get(k) in OK or k not in status]
    assert not stale, f"no longer differ (or no longer checked), remove from ALLOWED: {stale}"


def test_catalogue_covers_the_namespaces(rows):
    spaces = {ns for ns, *_ in rows}
    assert spaces == {"torch", "torch.Tensor", "torch.nn.functional", "torch.special",
                      "torch.linalg"}
    assert len(rows) > 500


# ---------------------------------------------------------------------- the examples
def test_tutorial_spellings_work():
    assert tuple(lamina.rand(size=(2, 4)).shape) == (2, 4)
    assert tuple(lamina.randn(size=[3]).shape) == (3,)
    assert tuple(lamina.zeros(size=(1, 2)).shape) == (1, 2)
    assert tuple(lamina.ones(2, 3).new_zeros(size=(4,)).shape) == (4,)
    x = lamina.ones(2, 3)
    assert tuple(x.view(size=(3, 2)).shape) == (3, 2)
    assert tuple(x.reshape(shape=(6,)).shape) == (6,)
    assert tuple(x.permute(dims=(1, 0)).shape) == (3, 2)
    assert tuple(x.permute(1, 0).shape) == (3, 2)
    assert tuple(x.flip(0, 1).shape) == (2, 3)
    assert tuple(x.tile(2, 1).shape) == (4, 3)
    with pytest.raises(TypeError, match="multiple values for argument 'size'"):
        lamina.zeros(2, size=(2,))
    with pytest.raises(RuntimeError, match="pin_memory"):
        lamina.zeros(2, pin_memory=True)


def test_torch_level_inplace_functions():
    x = lamina.tensor([0.5, -1.0])
    assert lamina.exp_(x) is x
    assert x.numpy().tolist() == pytest.approx([1.6487212707, 0.3678794412])
    lamina.zero_(x)
    assert x.numpy().tolist() == [0.0, 0.0]
    assert lamina.abs_ is lamina.Tensor.abs_


def test_softmax_spellings_match_torch():
    a = torch.randn(3, 5)
    x = lamina.tensor(a.numpy())
    want = torch.softmax(a, dim=1).numpy()
    for got in (lamina.softmax(x, dim=1), x.softmax(1), lamina.special.softmax(x, 1),
                lamina.nn.functional.softmax(x, dim=1)):
        assert got.numpy() == pytest.approx(want, rel=1e-6, abs=1e-7)
    want = torch.log_softmax(a, dim=0).numpy()
    assert x.log_softmax(dim=0).numpy() == pytest.approx(want, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("name,target", [
    ("absolute", "abs"), ("negative", "neg"), ("multiply", "mul"), ("divide", "div"),
    ("subtract", "sub"), ("greater", "gt"), ("less_equal", "le"), ("clip", "clamp"),
    ("fix", "trunc"), ("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"),
    ("arcsinh", "asinh"), ("arccosh", "acosh"), ("arctanh", "atanh")])
def test_numpy_aliases_are_the_one_definition(name, target):
    assert getattr(lamina, name) is getattr(lamina, target)


def test_special_and_linalg_values_match_torch():
    a = torch.randn(4, 3, dtype=torch.float64)
    x = lamina.tensor(a.numpy())
    pairs = [(lamina.special.expit(x), torch.special.expit(a)),
             (lamina.special.erf(x), torch.special.erf(a)),
             (lamina.special.logsumexp(x, 1), torch.special.logsumexp(a, 1)),
             (lamina.linalg.vector_norm(x, 3, dim=0), torch.linalg.vector_norm(a, 3, dim=0)),
             (lamina.linalg.diagonal(x), torch.linalg.diagonal(a)),
             (lamina.linalg.matmul(x, x.t()), torch.linalg.matmul(a, a.t()))]
    for got, want in pairs:
        assert got.numpy() == pytest.approx(want.numpy(), rel=1e-12, abs=1e-12)


def test_torch_level_twins_of_functional_ops_match_torch():
    a = torch.randn(2, 3, 5)
    x = lamina.tensor(a.numpy())
    w = torch.randn(3)
    pairs = [(lamina.layer_norm(x, (5,)), torch.layer_norm(a, (5,))),
             (lamina.dropout(x, 0.5, False), torch.dropout(a, 0.5, False)),
             (lamina.batch_norm(x, lamina.tensor(w.numpy()), None, lamina.zeros(3),
                                lamina.ones(3), False, 0.1, 1e-5, False),
              torch.batch_norm(a, w, None, torch.zeros(3), torch.ones(3), False, 0.1, 1e-5,
                               False)),
             (lamina.embedding(x[0], lamina.tensor([2, 0])),
              torch.embedding(a[0], torch.tensor([2, 0])))]
    for got, want in pairs:
        assert got.numpy() == pytest.approx(want.numpy(), rel=1e-5, abs=1e-6)


def test_new_inplace_spellings_match_torch():
    a = torch.tensor([1.5, -2.0, 3.0])
    for name, args in [("eq_", (3.0,)), ("cumsum_", (0,)), ("bitwise_not_", ()),
                       ("fix_", ()), ("float_power_", (2,)), ("clamp_", (None, 2.0))]:
        src = a.double() if name == "float_power_" else a.long() if "bitwise" in name else a
        t = src.clone()
        x = lamina.tensor(src.numpy())
        getattr(t, name)(*args)
        assert getattr(x, name)(*args) is x
        assert x.numpy().tolist() == t.numpy().tolist(), name


# ---------------------------------------------------------------------- the comparison itself
def test_doc_signature_parsing():
    (ps,) = A.doc_signatures(torch.rand, "rand")
    assert repr(ps[0]) == "*size(=kw)"
    assert {p.name for p in ps if p.kind == A.KWO} >= {"generator", "dtype", "requires_grad"}
    sigs = A.doc_signatures(torch.max, "max")
    assert len(sigs) >= 3  # max(input), max(input, dim, keepdim), max(input, other)


def test_comparison_catches_differences():
    tsigs, has_out = A.torch_signatures(torch.rand, "rand", "torch")

    def plain(*size, generator=None, dtype=None, layout=None, device=None,
              requires_grad=False, pin_memory=False):
        pass

    def good(*args, size=None, generator=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
        pass

    def renamed(*args, shape=None, generator=None, dtype=None, layout=None, device=None,
                requires_grad=False, pin_memory=False):
        pass

    sig = A.lamina_signature
    assert A.compare(tsigs, sig(plain, False), has_out)[0] == A.DIFFER  # no size= keyword
    assert A.compare(tsigs, sig(good, False), has_out)[0] in OK
    assert A.compare(tsigs, sig(renamed, False), has_out)[0] == A.DIFFER

    tsigs, has_out = A.torch_signatures(torch.clamp, "clamp", "torch")

    def clamp_bad_default(input, min=0, max=None):
        pass

    def clamp_wrong_order(input, max=None, min=None):
        pass

    for f in (clamp_bad_default, clamp_wrong_order):
        assert A.compare(tsigs, sig(f, False), has_out)[0] == A.DIFFER, f.__name__
    assert A.compare(tsigs, sig(lamina.clamp, False), has_out)[0] in OK


def test_methods_compare_without_self():
    tsigs, _ = A.torch_signatures(torch.Tensor.add, "add", "torch.Tensor")

    def add(self, other, *, alpha=1):
        pass

    def add_renamed(self, value, *, alpha=1):
        pass

    assert A.compare(tsigs, A.lamina_signature(add, True))[0] == A.MATCH
    assert A.compare(tsigs, A.lamina_signature(add_renamed, True))[0] == A.DIFFER
    assert A.compare(tsigs, A.lamina_signature(lamina.Tensor.add, True))[0] in OK
    assert inspect.signature(lamina.Tensor.clamp_) == inspect.signature(lamina.clamp)


def test_report_has_totals_per_namespace():
    rows = [("a", True, A.MATCH, ""), ("b", False, "", ""), ("c", True, A.DIFFER, "x")]
    t = A.totals(rows)
    assert (t["torch"], t["covered"], t["match"], t["differ"]) == (3, 2, 1, 1)
    text = A.report([("torch.special", rows)], "0")
    assert "| `torch.special` | 2 / 3 | 2 | 1 | 0 | 1 | 0 |" in text


def test_runs_without_torch_and_says_so():
    code = ("import sys; sys.modules['torch'] = None\n"
            "from lamina.utils import api_coverage\n"
            "sys.exit(api_coverage.main([]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2
    assert "needs PyTorch" in r.stderr
