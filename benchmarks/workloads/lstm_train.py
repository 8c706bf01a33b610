"""The classic word-level LSTM language model: one training step (truncated-BPTT chunk)."""

from __future__ import annotations

TARGET = 1.5
ISSUE = 14
DESCRIPTION = ("word LM: Embedding(1000, 256) -> 2-layer LSTM(256, 256) -> tied decoder, "
               "seq 35 x batch 20, CrossEntropyLoss, clip_grad_norm_, SGD(lr=20)")


def setup(torch):
    nn = torch.nn

    class RNNModel(nn.Module):
        def __init__(self, ntoken, nhid, nlayers):
            super().__init__()
            self.encoder = nn.Embedding(ntoken, nhid)
            self.rnn = nn.LSTM(nhid, nhid, nlayers)
            self.decoder = nn.Linear(nhid, ntoken)
            self.decoder.weight = self.encoder.weight

        def forward(self, x, hidden):
            out, hidden = self.rnn(self.encoder(x), hidden)
            return self.decoder(out).view(-1, self.decoder.out_features), hidden

    torch.manual_seed(0)
    model = RNNModel(1000, 256, 2)
    x = torch.randint(0, 1000, (35, 20))
    y = torch.randint(0, 1000, (35 * 20,))
    hidden = (torch.zeros(2, 20, 256), torch.zeros(2, 20, 256))
    opt = torch.optim.SGD(model.parameters(), lr=20.0)
    return model, x, y, hidden, nn.CrossEntropyLoss(), opt, nn.utils.clip_grad_norm_


def step(state):
    model, x, y, hidden, loss_fn, opt, clip = state
    opt.zero_grad()
    out, _ = model(x, hidden)
    loss = loss_fn(out, y)
    loss.backward()
    clip(model.parameters(), 0.25)
    opt.step()
