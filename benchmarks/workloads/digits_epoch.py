"""The main job's training loop: one epoch of the digits CNN (``python -m lamina.examples.digits``).

The network is the demo's (``lamina.examples.digits.build_model``), written here again against
the torch API because workloads never import lamina: lazy Conv/BatchNorm/Linear layers, one
convolution module used twice (tied), materialized by one forward in ``setup``. One ``step`` is
a full epoch over the 1,438 training images of scikit-learn's digits: DataLoader (batch 64,
seeded shuffle, default collation of a ``random_split`` Subset), forward, CrossEntropyLoss,
backward, Adam step.
"""

from __future__ import annotations

from collections import OrderedDict

TARGET = 1.2
ISSUE = 8
DESCRIPTION = (
    "digits demo CNN (lazy conv16-BN-ReLU, tied conv16 x2, maxpool, lazy fc64, fc10), "
    "one epoch: DataLoader batch 64 over 1,438 8x8 images, CrossEntropyLoss, Adam(lr=3e-3)"
)


def build_model(torch):
    nn = torch.nn
    tied = nn.LazyConv2d(16, 3, padding=1)
    features = nn.Sequential(OrderedDict([
        ("conv1", nn.LazyConv2d(16, 3, padding=1)),
        ("bn1", nn.LazyBatchNorm2d()),
        ("relu1", nn.ReLU()),
        ("conv2", tied),
        ("bn2", nn.LazyBatchNorm2d()),
        ("relu2", nn.ReLU()),
        ("conv3", tied),
        ("bn3", nn.LazyBatchNorm2d()),
        ("relu3", nn.ReLU()),
        ("pool", nn.MaxPool2d(2)),
    ]))
    classifier = nn.Sequential(OrderedDict([
        ("flatten", nn.Flatten()),
        ("fc1", nn.LazyLinear(64)),
        ("relu", nn.ReLU()),
        ("fc2", nn.Linear(64, 10)),
    ]))
    return nn.Sequential(OrderedDict([("features", features), ("classifier", classifier)]))


def setup(torch):
    from sklearn.datasets import load_digits

    data = torch.utils.data
    torch.manual_seed(0)
    digits = load_digits()
    images = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
    labels = torch.tensor(digits.target, dtype=torch.long)
    generator = torch.Generator().manual_seed(0)
    train, _ = data.random_split(data.TensorDataset(images, labels), [0.8, 0.2],
                                      generator=generator)
    loader = data.DataLoader(train, batch_size=64, shuffle=True, generator=generator)
    net = build_model(torch)
    net(images[:2])  # materialize the lazy layers outside the timed epoch
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    return net, loader, torch.nn.CrossEntropyLoss(), opt


def step(state):
    net, loader, loss_fn, opt = state
    for x, y in loader:
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
