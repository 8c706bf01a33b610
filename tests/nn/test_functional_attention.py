"""lamina.nn._functional_attention: F.multi_head_attention_forward against torch's.

nn.MultiheadAttention (which calls it) is tested in tests/nn/modules/test_activation_mha.py;
the fused attention op in tests/ops/test_attention.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import lamina as L
from lamina.nn import _functional_attention as FA

E, H, Lq, S, N = 8, 2, 3, 4, 2


def _arrays(seed=0):
    r = np.random.default_rng(seed)
    f = lambda *s: r.standard_normal(s).astype(np.float32)  # noqa: E731
    return dict(q=f(Lq, N, E), k=f(S, N, E), v=f(S, N, E), w=f(3 * E, E), b=f(3 * E),
                ow=f(E, E), ob=f(E))


@pytest.mark.parametrize("average", [True, False])
def test_matches_torch_with_padding_mask(average):
    a = _arrays()
    pad = np.zeros((N, S), bool)
    pad[1, -1] = True
    ours = {k: L.tensor(v, requires_grad=True) for k, v in a.items()}
    ref = {k: torch.tensor(v, requires_grad=True) for k, v in a.items()}
    out, w = FA.multi_head_attention_forward(
        ours["q"], ours["k"], ours["v"], E, H, ours["w"], ours["b"], None, None, False, 0.0,
        ours["ow"], ours["ob"], key_padding_mask=L.tensor(pad), average_attn_weights=average)
    tout, tw = TF.multi_head_attention_forward(
        ref["q"], ref["k"], ref["v"], E, H, ref["w"], ref["b"], None, None, False, 0.0,
        ref["ow"], ref["ob"], key_padding_mask=torch.tensor(pad), average_attn_weights=average)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    tout.sum().backward()
    for k in a:
        np.testing.assert_allclose(ours[k].grad.numpy(), ref[k].grad.numpy(), rtol=1e-4,
                                   atol=1e-5, err_msg=k)


def test_embed_dim_mismatch_is_torch_error():
    a = _arrays()
    t = {k: L.tensor(v) for k, v in a.items()}
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 9"):
        FA.multi_head_attention_forward(t["q"], t["k"], t["v"], 9, H, t["w"], t["b"], None,
                                        None, False, 0.0, t["ow"], t["ob"])
