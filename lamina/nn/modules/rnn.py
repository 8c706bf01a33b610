"""Recurrent layers (torch.nn.modules.rnn): RNN, LSTM, GRU and their single-step cells.

Parameters, their names (``weight_ih_l0``, ``bias_hh_l1_reverse``, ``weight_hr_l0``), shapes,
registration order and default init (U(-1/sqrt(hidden), 1/sqrt(hidden)) over
``self.parameters()`` in order) are torch's, so the same seed gives the same weights and
state_dicts load across both libraries. Each layer and direction runs as one fused op
(``lamina.ops.rnn.RNNLayer``) with a hand-written backward through time; dropout between
layers (training only) and the concatenation of directions are ordinary ops.

A ``PackedSequence`` input runs on the padded layout with a mask, so each sequence's final
state is the one of its own last step (torch's semantics).
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ..._creation import empty, zeros
from ..._tensor import Tensor
from ...ops.rnn import PackedToPadded, PaddedToPacked, rnn_layer
from ...ops.shape import cat, stack
from .. import functional as F
from ..lazy import LazyModuleMixin
from ..module import Module
from ..parameter import Parameter, UninitializedParameter
from ..utils.rnn import PackedSequence, _device_idx, _positions
from .utils import uniform_within_

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
           "LazyRNN", "LazyLSTM", "LazyGRU"]


def _apply_permutation(tensor: Tensor, permutation: Tensor, dim: int = 1) -> Tensor:
    return tensor.index_select(dim, permutation)


class RNNBase(Module):
    """Shared by RNN, LSTM and GRU: the parameters, their init, the checks and the loop over
    layers and directions."""

    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first",
                     "dropout", "bidirectional", "proj_size"]

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1

        if (not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1
                or isinstance(dropout, bool)):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: "
                            f"{type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: "
                            f"{type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: "
                            f"{type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")

        if mode == "LSTM":
            gate_size = 4 * hidden_size
        elif mode == "GRU":
            gate_size = 3 * hidden_size
        elif mode in ("RNN_TANH", "RNN_RELU"):
            gate_size = hidden_size
        else:
            raise ValueError("Unrecognized RNN mode: " + mode)

        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                real_hidden_size = proj_size if proj_size > 0 else hidden_size
                layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
                w_ih = Parameter(empty((gate_size, layer_input_size), **factory_kwargs))
                w_hh = Parameter(empty((gate_size, real_hidden_size), **factory_kwargs))
                b_ih = Parameter(empty(gate_size, **factory_kwargs))
                b_hh = Parameter(empty(gate_size, **factory_kwargs))
                if self.proj_size == 0:
                    layer_params = (w_ih, w_hh, b_ih, b_hh) if bias else (w_ih, w_hh)
                else:
                    w_hr = Parameter(empty((proj_size, hidden_size), **factory_kwargs))
                    layer_params = (w_ih, w_hh, b_ih, b_hh, w_hr) if bias else (w_ih, w_hh, w_hr)
                suffix = "_reverse" if direction == 1 else ""
                param_names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    param_names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if self.proj_size > 0:
                    param_names += ["weight_hr_l{}{}"]
                param_names = [x.format(layer, suffix) for x in param_names]
                for name, param in zip(param_names, layer_params):
                    setattr(self, name, param)
                self._flat_weights_names.extend(param_names)
                self._all_weights.append(param_names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, wn) if hasattr(self, wn) else None
                for wn in self._flat_weights_names]

    def flatten_parameters(self) -> None:
        """A no-op (torch compacts the weights for cuDNN here; lamina has nothing to do)."""

    @property
    def all_weights(self):
        return [[getattr(self, weight) for weight in weights] for weights in self._all_weights]

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        uniform_within_(stdv, *self.parameters())

    # ------------------------------------------------------------------ checks (torch's)
    def check_input(self, input: Tensor, batch_sizes) -> None:
        w0 = self._flat_weights[0]
        if input.dtype != w0.dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({w0.dtype}). Convert input: input.to({w0.dtype}), or convert "
                             f"model: model.to({input.dtype})")
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got "
                               f"{input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")

    def get_expected_hidden_size(self, input: Tensor, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        h = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * num_directions, mini_batch, h)

    def check_hidden_size(self, hx: Tensor, expected_hidden_size,
                          msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(hx.size()) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input: Tensor, hidden: Tensor, batch_sizes) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return _apply_permutation(hx, permutation)

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # ------------------------------------------------------------------ the computation
    def _run(self, x, h0, c0, mask):
        """x (T, B, I) time-major; h0 / c0 (L * D, B, *). Returns y, h_n, c_n (or None)."""
        mode = self.mode
        nd = 2 if self.bidirectional else 1
        lstm = mode == "LSTM"
        hs = []
        cs = []
        names = self._all_weights
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = F.dropout(x, self.dropout, True)
            outs = []
            for d in range(nd):
                k = layer * nd + d
                ws = [getattr(self, n) for n in names[k]]
                w_ih, w_hh = ws[0], ws[1]
                b_ih = b_hh = w_hr = None
                if self.bias:
                    b_ih, b_hh = ws[2], ws[3]
                if self.proj_size > 0:
                    w_hr = ws[-1]
                res = rnn_layer(mode, x, h0[k], c0[k] if lstm else None, w_ih, w_hh, b_ih,
                                b_hh, w_hr, d == 1, mask)
                outs.append(res[0])
                hs.append(res[1])
                if lstm:
                    cs.append(res[2])
            x = outs[0] if nd == 1 else cat(outs, 2)
        h_n = stack(hs, 0)
        c_n = stack(cs, 0) if lstm else None
        return x, h_n, c_n

    def _forward(self, input, hx):
        lstm = self.mode == "LSTM"
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes, sorted_indices, unsorted_indices = input
            bs = np.asarray(batch_sizes._data).astype(np.int64)
            max_batch = int(bs[0])
            if hx is None:
                hx = self._zeros_state(data, max_batch, real_hidden)
            else:
                hx = self.permute_hidden(hx, sorted_indices)
            self.check_forward_args(data, hx, batch_sizes)
            T = bs.size
            idx = _device_idx(_positions(bs, max_batch, T, False), data)
            x = PackedToPadded.apply(data, idx, T, max_batch, 0.0)
            valid = (np.arange(max_batch)[None, :] < bs[:, None]).astype(x._data.dtype)
            mask = _device_idx(valid[:, :, None], data)
        else:
            if input.dim() not in (2, 3):
                if lstm:
                    raise ValueError(f"LSTM: Expected input to be 2D or 3D, got "
                                     f"{input.dim()}D instead")
                if self.mode == "GRU":
                    raise ValueError(f"GRU: Expected input to be 2D or 3D, got "
                                     f"{input.dim()}D instead")
                raise ValueError(f"RNN: Expected input to be 2D or 3D, got {input.dim()}D "
                                 f"tensor instead")
            is_batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            if not is_batched:
                input = input.unsqueeze(batch_dim)
            max_batch = input.size(0) if self.batch_first else input.size(1)
            if hx is None:
                hx = self._zeros_state(input, max_batch, real_hidden)
            elif lstm:
                if is_batched:
                    if hx[0].dim() != 3 or hx[1].dim() != 3:
                        raise RuntimeError(f"For batched 3-D input, hx and cx should also be "
                                           f"3-D but got ({hx[0].dim()}-D, {hx[1].dim()}-D) "
                                           f"tensors")
                else:
                    if hx[0].dim() != 2 or hx[1].dim() != 2:
                        raise RuntimeError(f"For unbatched 2-D input, hx and cx should also "
                                           f"be 2-D but got ({hx[0].dim()}-D, "
                                           f"{hx[1].dim()}-D) tensors")
                    hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
            else:
                if is_batched:
                    if hx.dim() != 3:
                        raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but "
                                           f"got {hx.dim()}-D tensor")
                else:
                    if hx.dim() != 2:
                        raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D "
                                           f"but got {hx.dim()}-D tensor")
                    hx = hx.unsqueeze(1)
            self.check_forward_args(input, hx, None)
            x = input.transpose(0, 1) if self.batch_first else input
            mask = None
        h0, c0 = (hx if lstm else (hx, None))
        y, h_n, c_n = self._run(x, h0, c0, mask)
        hidden = (h_n, c_n) if lstm else h_n
        if packed:
            out = PackedSequence(PaddedToPacked.apply(y, idx), batch_sizes, sorted_indices,
                                 unsorted_indices)
            return out, self.permute_hidden(hidden, unsorted_indices)
        if self.batch_first:
            y = y.transpose(0, 1)
        if not is_batched:
            y = y.squeeze(batch_dim)
            hidden = (h_n.squeeze(1), c_n.squeeze(1)) if lstm else h_n.squeeze(1)
        return y, hidden

    def _zeros_state(self, like, max_batch, real_hidden):
        nd = 2 if self.bidirectional else 1
        h = zeros(self.num_layers * nd, max_batch, real_hidden, dtype=like.dtype,
                  device=like.device)
        if self.mode != "LSTM":
            return h
        c = zeros(self.num_layers * nd, max_batch, self.hidden_size, dtype=like.dtype,
                  device=like.device)
        return (h, c)


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or relu).

    Args: input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None.
    Returns ``(output, h_n)``.

    Example:
        >>> import lamina as torch
        >>> rnn = torch.nn.RNN(10, 20, 2)
        >>> out, h = rnn(torch.randn(5, 3, 10))
        >>> tuple(out.shape), tuple(h.shape)
        ((5, 3, 20), (2, 3, 20))
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             f"or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input, hx=None):
        return self._forward(input, hx)


class LSTM(RNNBase):
    """Long short-term memory (gates i, f, g, o), with an optional projection of the hidden
    state (``proj_size``). Returns ``(output, (h_n, c_n))``.

    Example:
        >>> import lamina as torch
        >>> lstm = torch.nn.LSTM(10, 20, 2)
        >>> out, (h, c) = lstm(torch.randn(5, 3, 10))
        >>> tuple(out.shape), tuple(h.shape), tuple(c.shape)
        ((5, 3, 20), (2, 3, 20), (2, 3, 20))
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input: Tensor, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    def check_forward_args(self, input, hidden, batch_sizes) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return (_apply_permutation(hx[0], permutation), _apply_permutation(hx[1], permutation))

    def forward(self, input, hx=None):
        return self._forward(input, hx)


class GRU(RNNBase):
    """Gated recurrent unit (gates r, z, n). Returns ``(output, h_n)``.

    Example:
        >>> import lamina as torch
        >>> gru = torch.nn.GRU(10, 20, 2)
        >>> out, h = gru(torch.randn(5, 3, 10))
        >>> tuple(out.shape), tuple(h.shape)
        ((5, 3, 20), (2, 3, 20))
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        return self._forward(input, hx)


# ---------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """Shared by the cells: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""

    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size),
                                         **factory_kwargs))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size),
                                         **factory_kwargs))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, **factory_kwargs))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, **factory_kwargs))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        uniform_within_(stdv, *self.parameters())

    def _check_cell(self, input, hx):
        if input.size(-1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} "
                               f"expected {self.input_size}")
        if input.size(0) != hx.size(0):
            raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden0 batch "
                               f"size {hx.size(0)}")
        if hx.size(1) != self.hidden_size:
            raise RuntimeError(f"hidden0 has inconsistent hidden_size: got {hx.size(1)}, "
                               f"expected {self.hidden_size}")

    def _step(self, mode, input, h, c=None):
        return rnn_layer(mode, input.unsqueeze(0), h, c, self.weight_ih, self.weight_hh,
                         self.bias_ih, self.bias_hh, None)

    def _one_state_step(self, mode: str, input: Tensor, hx: Tensor | None) -> Tensor:
        """RNNCell's and GRUCell's forward: one hidden state, batched or unbatched."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             f"instead")
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {hx.dim()}D "
                             f"instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if hx is None:
            hx = zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
        elif not is_batched:
            hx = hx.unsqueeze(0)
        self._check_cell(input, hx)
        ret = self._step(mode, input, hx)[1]
        return ret if is_batched else ret.squeeze(0)


class RNNCell(RNNCellBase):
    """One Elman step: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or relu)."""

    __constants__ = ["input_size", "hidden_size", "bias", "nonlinearity"]

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return self._one_state_step(mode, input, hx)


class LSTMCell(RNNCellBase):
    """One LSTM step; returns ``(h', c')``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input: Tensor, hx=None):
        if input.dim() not in (1, 2):
            raise ValueError(f"LSTMCell: Expected input to be 1D or 2D, got {input.dim()}D "
                             f"instead")
        if hx is not None:
            for idx, value in enumerate(hx):
                if value.dim() not in (1, 2):
                    raise ValueError(f"LSTMCell: Expected hx[{idx}] to be 1D or 2D, got "
                                     f"{value.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if hx is None:
            z = zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
            hx = (z, z)
        else:
            hx = (hx[0].unsqueeze(0), hx[1].unsqueeze(0)) if not is_batched else hx
        self._check_cell(input, hx[0])
        self._check_cell(input, hx[1])
        _, h, c = self._step("LSTM", input, hx[0], hx[1])
        if not is_batched:
            return (h.squeeze(0), c.squeeze(0))
        return (h, c)


class GRUCell(RNNCellBase):
    """One GRU step."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._one_state_step("GRU", input, hx)


# ---------------------------------------------------------------------- lazy (lamina only)
class _LazyRNNMixin(LazyModuleMixin):
    """A recurrent layer whose ``input_size`` is the last dimension of its first input (a
    Tensor or a PackedSequence's data). torch has no lazy recurrent layers; these follow
    lamina's lazy protocol: every parameter is pending until then, materializes in torch's
    registration order and gets the plain layer's default init (so the weights equal those of
    the plain layer built at that moment with the same seed); ``load_state_dict`` can finish
    the layer from a checkpoint (``weight_ih_l0`` gives ``input_size``)."""

    def __init__(self, hidden_size: int, *args, device=None, dtype=None, **kwargs) -> None:
        self.__dict__["_lazy_skip_reset"] = True  # no draws for the placeholder weights
        self.cls_to_become.__init__(self, 1, hidden_size, *args, device=device, dtype=dtype,
                                    **kwargs)
        del self.__dict__["_lazy_skip_reset"]
        self.input_size = 0
        for name in list(self._parameters):
            setattr(self, name, UninitializedParameter(device=device, dtype=dtype))

    def reset_parameters(self) -> None:
        if self.__dict__.get("_lazy_skip_reset") or self.has_uninitialized_params():
            return
        super().reset_parameters()

    def _expected_shapes(self, input_size: int) -> dict:
        gates = {"LSTM": 4, "GRU": 3}.get(self.mode, 1) * self.hidden_size
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        nd = 2 if self.bidirectional else 1
        out = {}
        for k, names in enumerate(self._all_weights):
            layer_in = input_size if k < nd else real_hidden * nd
            for n in names:
                if n.startswith("weight_ih"):
                    out[n] = (gates, layer_in)
                elif n.startswith("weight_hh"):
                    out[n] = (gates, real_hidden)
                elif n.startswith("weight_hr"):
                    out[n] = (self.proj_size, self.hidden_size)
                else:
                    out[n] = (gates,)
        return out

    def initialize_parameters(self, input, hx=None) -> None:
        """Infer ``input_size`` from the first input, materialize every weight and reset."""
        if self.has_uninitialized_params():
            self._lazy_build(self._lazy_infer_input(input))

    def _lazy_infer_input(self, input, hx=None) -> dict:
        data = input.data if isinstance(input, PackedSequence) else input
        if not isinstance(data, Tensor):
            raise TypeError(f"{type(self).__name__}.forward(): argument 'input' must be Tensor "
                            f"or PackedSequence, not {type(input).__name__}")
        if data.dim() == 0:
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got 0D "
                             f"instead")
        return {"input_size": int(data.shape[-1])}

    def _lazy_infer_state(self, shapes: dict, prefix: str):
        w = shapes.get("weight_ih_l0")
        if w is None or len(w) != 2:
            return None, [f"cannot materialize {prefix or 'the module'} "
                          f"({self._lazy_short_repr()}) from the checkpoint: "
                          f"'{prefix}weight_ih_l0' (2-D) is needed to infer input_size"]
        want = self._expected_shapes(w[1])
        problems = [f"size mismatch for {prefix}{n}: copying a param with shape "
                    f"torch.Size({list(s)}) from checkpoint, the shape in current model is "
                    f"torch.Size({list(want[n])}) ({self._lazy_short_repr()}, not materialized "
                    f"yet)." for n, s in shapes.items() if n in want and tuple(s) != want[n]]
        return (None if problems else {"input_size": w[1]}), problems

    def _lazy_build(self, attrs: dict) -> None:
        self.input_size = n = attrs["input_size"]
        for name, shape in self._expected_shapes(n).items():
            getattr(self, name).materialize(shape)
        self.reset_parameters()

    def _lazy_short_repr(self) -> str:
        return f"{type(self).__name__}(hidden_size={self.hidden_size})"

    def _lazy_waits_for(self) -> str:
        return "input_size: the size of the input's last dimension"


class LazyRNN(_LazyRNNMixin, RNN):
    """:class:`RNN` with ``input_size`` inferred at the first call (lamina only):
    ``LazyRNN(hidden_size, num_layers=1, nonlinearity='tanh', ...)``."""

    cls_to_become = RNN


class LazyLSTM(_LazyRNNMixin, LSTM):
    """:class:`LSTM` with ``input_size`` inferred at the first call (lamina only):
    ``LazyLSTM(hidden_size, num_layers=1, ...)``.

    Example:
        >>> import lamina as torch
        >>> m = torch.nn.LazyLSTM(20, 2)
        >>> out, (h, c) = m(torch.randn(5, 3, 7))
        >>> m
        LSTM(7, 20, num_layers=2)
    """

    cls_to_become = LSTM


class LazyGRU(_LazyRNNMixin, GRU):
    """:class:`GRU` with ``input_size`` inferred at the first call (lamina only)."""

    cls_to_become = GRU
