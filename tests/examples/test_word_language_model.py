"""The classic word-level language model (the official PyTorch example's shape), written once
against the torch API and run on both libraries: embedding, 2-layer RNN (LSTM / GRU /
RNN_TANH) with dropout, tied decoder, CrossEntropyLoss, clip_grad_norm_, truncated BPTT with
detach() of the hidden state, plain SGD by hand. With dropout=0 and copied weights a few
training steps give the same losses and the same weights as torch; with dropout on, training
still lowers the loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lamina
from tests.oracle_helpers import assert_close, npy


def build(lib, rnn_type, ntoken=50, ninp=16, nhid=16, nlayers=2, dropout=0.0):
    nn = lib.nn

    class RNNModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(dropout)
            self.encoder = nn.Embedding(ntoken, ninp)
            if rnn_type in ("LSTM", "GRU"):
                self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
            else:
                self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity="tanh", dropout=dropout)
            self.decoder = nn.Linear(nhid, ntoken)
            self.decoder.weight = self.encoder.weight  # tied
            self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers
            initrange = 0.1
            nn.init.uniform_(self.encoder.weight, -initrange, initrange)
            nn.init.zeros_(self.decoder.bias)

        def forward(self, input, hidden):
            emb = self.drop(self.encoder(input))
            output, hidden = self.rnn(emb, hidden)
            output = self.drop(output)
            decoded = self.decoder(output).view(-1, ntoken)
            return lib.nn.functional.log_softmax(decoded, dim=1), hidden

        def init_hidden(self, bsz):
            weight = next(self.parameters())
            if self.rnn_type == "LSTM":
                return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                        weight.new_zeros(self.nlayers, bsz, self.nhid))
            return weight.new_zeros(self.nlayers, bsz, self.nhid)

    return RNNModel()


def repackage_hidden(h):
    if isinstance(h, (tuple, list)):
        return tuple(repackage_hidden(v) for v in h)
    return h.detach()


def train(lib, model, data, bptt=7, lr=5.0, clip=0.25):
    criterion = lib.nn.NLLLoss()
    model.train()
    hidden = model.init_hidden(data.size(1))
    losses = []
    for i in range(0, data.size(0) - 1, bptt):
        seq_len = min(bptt, len(data) - 1 - i)
        x = data[i:i + seq_len]
        y = data[i + 1:i + 1 + seq_len].reshape(-1)
        model.zero_grad()
        hidden = repackage_hidden(hidden)
        output, hidden = model(x, hidden)
        loss = criterion(output, y)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        losses.append(loss.item())
    return losses


def _data(n=36, bsz=4, ntoken=50):
    rng = np.random.default_rng(0)
    # a learnable stream: a noisy cycle through the vocabulary
    s = (np.arange(n * bsz) * 7 + rng.integers(0, 3, n * bsz)) % ntoken
    return s.reshape(bsz, n).T.copy().astype(np.int64)


@pytest.mark.parametrize("rnn_type", ["LSTM", "GRU", "RNN_TANH"])
def test_same_losses_as_torch(rnn_type):
    torch.manual_seed(0)
    tm = build(torch, rnn_type)
    lm = build(lamina, rnn_type)
    lm.load_state_dict({k: lamina.from_numpy(npy(v)) for k, v in tm.state_dict().items()})
    assert list(lm.state_dict()) == list(tm.state_dict())
    assert lm.decoder.weight is lm.encoder.weight
    d = _data()
    ll = train(lamina, lm, lamina.from_numpy(d))
    tl = train(torch, tm, torch.from_numpy(d))
    np.testing.assert_allclose(ll, tl, rtol=2e-5)  # float32, 5 chunks of truncated BPTT
    tp = dict(tm.named_parameters())
    for n, p in lm.named_parameters():
        assert_close(p, tp[n], rtol=1e-4, atol=1e-5, msg=n)


def test_training_with_dropout_lowers_the_loss():
    # dropout on (embedding, between the LSTM layers, output); Adam on a learnable stream
    lamina.manual_seed(0)
    m = build(lamina, "LSTM", dropout=0.2)
    d = lamina.from_numpy(((np.arange(71 * 4) * 7) % 50).reshape(4, 71).T.copy())
    opt = lamina.optim.Adam(m.parameters(), lr=0.05)
    crit = lamina.nn.NLLLoss()
    means = []
    for _ in range(5):
        hidden = m.init_hidden(4)
        losses = []
        for i in range(0, 70, 7):
            hidden = repackage_hidden(hidden)
            opt.zero_grad()
            out, hidden = m(d[i:i + 7], hidden)
            loss = crit(out, d[i + 1:i + 8].reshape(-1))
            loss.backward()
            lamina.nn.utils.clip_grad_norm_(m.parameters(), 0.25)
            opt.step()
            losses.append(loss.item())
        means.append(np.mean(losses))
    assert means[-1] < means[0] - 0.8, means
