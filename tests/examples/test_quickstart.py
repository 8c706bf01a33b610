"""lamina.examples.quickstart: the README's seed network trains and materializes its lazy layers.

The lazy layers themselves are tested in tests/nn/modules/test_lazy.py.
"""

from __future__ import annotations

from lamina.examples import quickstart


def test_quickstart_trains_and_prints_materialized_shapes(capsys):
    losses = quickstart.main(steps=4)
    out = capsys.readouterr().out
    assert len(losses) == 4 and losses[-1] < losses[0]
    assert "LazyLinear(in_features=0, out_features=256, bias=True)" in out
    assert "Linear(in_features=20, out_features=256, bias=True)" in out
    assert "0.weight   (256, 20)" in out and "2.weight   (10, 256)" in out
