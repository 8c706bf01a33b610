"""Building and initializing a big model: 16 x Linear(2048, 2048), then xavier_uniform_."""

from __future__ import annotations

TARGET = 1.0
ISSUE = 4
DESCRIPTION = (
    "build Sequential(16 x Linear(2048,2048)) (~268 MB), then net.apply(xavier_uniform_ on "
    "every Linear weight)"
)


def setup(torch):
    nn = torch.nn

    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)

    return nn, init_weights


def step(state):
    nn, init_weights = state
    net = nn.Sequential(*[nn.Linear(2048, 2048) for _ in range(16)])
    net.apply(init_weights)
