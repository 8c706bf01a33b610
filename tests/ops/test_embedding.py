"""lamina/ops/embedding.py. Embedding and EmbeddingBag are tested with their layers, against torch."""

from __future__ import annotations

from ._coverage import missing

# Ops of this module tested outside the catalogue, and where.
ELSEWHERE = {
    "Embedding": "tests/nn/modules/test_sparse.py",
    "EmbeddingBag": "tests/nn/modules/test_sparse.py",
}


def test_every_op_is_tested():
    assert missing("embedding", ELSEWHERE) == []
