"""The main job's training loop: one epoch of the digits CNN (``python -m lamina.examples.digits``).

The network and the data split are the demo's (``lamina/examples/_digits_common.py``, loaded
by path because workloads never import lamina): lazy Conv/BatchNorm/Linear layers, one
convolution module used twice (tied), materialized by one forward in ``setup``. One ``step`` is
a full epoch over the 1,438 training images of scikit-learn's digits: DataLoader (batch 64,
seeded shuffle, default collation of a ``random_split`` Subset), forward, CrossEntropyLoss,
backward, Adam step.
"""

from __future__ import annotations

import importlib.util
import os

TARGET = 1.2
ISSUE = 8
DESCRIPTION = (
    "digits demo CNN (lazy conv16-BN-ReLU, tied conv16 x2, maxpool, lazy fc64, fc10), "
    "one epoch: DataLoader batch 64 over 1,438 8x8 images, CrossEntropyLoss, Adam(lr=3e-3)"
)


def _demo_common():
    """lamina/examples/_digits_common.py (the demo's network and split), loaded by path:
    importing it as ``lamina.examples._digits_common`` would import lamina into torch's run."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir,
                        "lamina", "examples", "_digits_common.py")
    spec = importlib.util.spec_from_file_location("_digits_common", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_DEMO = _demo_common()


def build_model(torch):
    """The digits demo's CNN built from ``torch.nn``."""
    return _DEMO.build_model(torch.nn)


def load_train(torch):
    """(all images, the 80% train Subset, the split's generator): scikit-learn's digits split
    as the demo splits them with seed 0."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    generator = torch.Generator().manual_seed(0)
    train, _ = _DEMO.split_digits(torch, digits, generator)
    return train.dataset.tensors[0], train, generator


def setup(torch):
    torch.manual_seed(0)
    images, train, generator = load_train(torch)
    loader = torch.utils.data.DataLoader(train, batch_size=64, shuffle=True, generator=generator)
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
