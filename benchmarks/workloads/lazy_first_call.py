"""Lazy modules: construct a LazyLinear MLP and run its first (materializing) forward."""

from __future__ import annotations

TARGET = 0.3
ISSUE = 16
DESCRIPTION = (
    "Sequential(LazyLinear(256), ReLU(), LazyLinear(10)) built and called once on rand(2,20)"
)


def setup(torch):
    return torch.nn, torch.rand(2, 20)


def step(state):
    nn, X = state
    net = nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))
    net(X)


def floor_setup():
    import numpy as np

    from benchmarks.workloads._floor import rand

    bg = np.random.MT19937(0)
    return bg, rand(2, 20)


def floor_step(state):
    """The draws and the forward, no modules: 7,946 MT19937 words from NumPy's generator
    (torch's stream), each turned into a float32 uniform (mask, convert, scale), then the
    two products, bias adds and ``maximum`` of the forward."""
    import numpy as np

    bg, x = state
    params = []
    for shape in ((256, 20), (256,), (10, 256), (10,)):
        r = bg.random_raw(int(np.prod(shape)))
        r &= np.uint64(0xFFFFFF)
        u = r.astype(np.float32)
        u -= np.float32(1 << 23)
        u *= np.float32(2.0 ** -27)
        params.append(u.reshape(shape))
    w1, b1, w2, b2 = params
    h = x.dot(w1.T)
    h += b1
    np.maximum(h, 0, out=h)
    o = h.dot(w2.T)
    o += b2
