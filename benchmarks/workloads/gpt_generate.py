"""The same GPT as gpt_train: sampling 200 tokens one at a time (overhead-bound)."""

from __future__ import annotations

from benchmarks.workloads._gpt import make_gpt

TARGET = 1.0
ISSUE = 14
DESCRIPTION = ("GPT (lamina/examples/gpt.py, 4x4x128, context 64, vocab 256): generate() 200 "
               "tokens, batch 1, top-k 10, multinomial, under no_grad")


def setup(torch):
    _, model = make_gpt(torch, block_size=64, vocab_size=256, n_layer=4, n_head=4, n_embd=128,
                        dropout=0.0)
    model.eval()
    return torch, model, torch.zeros((1, 1), dtype=torch.long)


def step(state):
    torch, model, idx = state
    torch.manual_seed(0)
    model.generate(idx, 200, temperature=1.0, top_k=10)



def floor_setup():
    import numpy as np

    from benchmarks.workloads._floor import rand

    layers = [{"ln1": (rand(128), rand(128)), "attn": (rand(384, 128), rand(384)),
               "proj": (rand(128, 128), rand(128)), "ln2": (rand(128), rand(128)),
               "fc": (rand(512, 128), rand(512)), "mlp": (rand(128, 512), rand(128))}
              for _ in range(4)]
    wte, wpe, lnf = rand(256, 128), rand(64, 128), (rand(128), rand(128))
    masks = {t: np.tril(np.ones((t, t), bool)) for t in range(1, 65)}
    tokens = np.random.default_rng(0).integers(0, 256, 200)
    return layers, wte, wpe, lnf, masks, tokens


def _layer_norm(x, wb):
    import numpy as np

    m = x.sum(-1, keepdims=True)
    m /= x.shape[-1]
    d = x - m
    v = (d * d).sum(-1, keepdims=True)
    v /= x.shape[-1]
    v += 1e-5
    np.sqrt(v, out=v)
    d /= v
    d *= wb[0]
    d += wb[1]
    return d


def floor_step(state):
    """The arithmetic of the 200 forward passes, no modules or tensors: embeddings, per layer
    two LayerNorms, the four products with their biases, causal attention (scores, mask,
    softmax, weighted values, head transposes) and the residual adds, then the final
    LayerNorm and the head on the last position. GELU is counted in its cheapest form (the
    tanh approximation, 9 float32 passes), so this is a lower bound for the exact GELU the
    model runs. Sampling (softmax over 256 logits, top-k, one draw) is left out."""
    import numpy as np

    layers, wte, wpe, lnf, masks, tokens = state
    for i in range(200):
        t = min(i + 1, 64)
        x = wte[tokens[i + 1 - t:i + 1]] + wpe[:t]
        for p in layers:
            h = _layer_norm(x, p["ln1"])
            qkv = h.dot(p["attn"][0].T)
            qkv += p["attn"][1]
            q, k, v = (qkv[:, j * 128:(j + 1) * 128].reshape(t, 4, 32).transpose(1, 0, 2)
                       for j in range(3))
            s = np.matmul(q, k.transpose(0, 2, 1))
            s *= 0.17677669529663687
            s = np.where(masks[t], s, -np.inf)
            s -= s.max(-1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(-1, keepdims=True)
            y = np.matmul(s, v).transpose(1, 0, 2).reshape(t, 128)
            y = y.dot(p["proj"][0].T)
            y += p["proj"][1]
            x = x + y
            h = _layer_norm(x, p["ln2"])
            f = h.dot(p["fc"][0].T)
            f += p["fc"][1]
            g = f * f
            g *= f
            g *= 0.044715
            g += f
            g *= 0.7978845608028654
            np.tanh(g, out=g)
            g += 1.0
            g *= f
            g *= 0.5
            o = g.dot(p["mlp"][0].T)
            o += p["mlp"][1]
            x = x + o
        _layer_norm(x[-1:], lnf).dot(wte.T)
