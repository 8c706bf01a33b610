"""lamina/examples/_cli.py: the argparse types and the optional-dependency check."""

import argparse

import pytest

from lamina.examples._cli import have, positive_float, positive_int


def test_positive_int_and_float():
    assert positive_int("3") == 3 and positive_float("0.5") == 0.5
    for bad in ("0", "-1", "x", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError, match="positive integer"):
            positive_int(bad)
    for bad in ("0", "-2", "inf", "nan", "x"):
        with pytest.raises(argparse.ArgumentTypeError, match="positive number"):
            positive_float(bad)


def test_have():
    assert have("json") and not have("surely_not_a_module_xyz")
