"""Run one snippet of torch-API code on lamina and on torch and compare what happens.

A snippet binds ``out`` (compared by repr, with ``lamina.`` read as ``torch.``) or raises
(compared by exception type and message; lamina's messages end with their own hint, so the
text is compared up to ``Hint:``).
"""

from __future__ import annotations

import textwrap

import torch

import lamina


def outcome(code: str, m):
    ns = {"m": m}
    try:
        exec(textwrap.dedent(code), ns)  # noqa: S102 - test snippets
    except Exception as e:  # noqa: BLE001 - the exception is the outcome
        msg = str(e).split(" Hint:")[0]
        return ("raised", type(e).__name__, msg.replace("lamina.", "torch."))
    return ("ok", repr(ns.get("out")).replace("lamina.", "torch."))


def assert_same(code: str) -> None:
    got = outcome(code, lamina)
    want = outcome(code, torch)
    assert got == want, f"\nlamina: {got}\ntorch:  {want}"
