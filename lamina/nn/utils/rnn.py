"""Variable-length sequences (torch.nn.utils.rnn): PackedSequence, pack / pad / unpack.

A ``PackedSequence`` holds the rows of a batch of sequences time step by time step: first
the first element of every sequence (longest first), then the second of those that have one,
and so on; ``batch_sizes[t]`` says how many sequences are still running at step t. The
recurrent layers accept it and then give each sequence the final state of its own last step.

Packing and padding are one gather or scatter op each (``lamina.ops.rnn``), so gradients flow
through them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from ... import _dtype as D
from ..._tensor import Tensor, _make
from ...ops.rnn import PackedToPadded, PaddedToPacked

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """Packed rows of variable-length sequences; build it with ``pack_padded_sequence`` or
    ``pack_sequence``, not by hand.

    Attributes:
        data: (sum of lengths, *) the rows, time step by time step.
        batch_sizes: int64 cpu tensor, the number of sequences running at each step.
        sorted_indices / unsorted_indices: the permutation from the caller's batch order to
            the length-sorted order and back (None when the input was already sorted).
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            if batch_sizes.device.type != "cpu":
                raise ValueError(
                    "batch_sizes should always be on CPU. Instances of PackedSequence should "
                    "never be created manually. They should be instantiated by functions like "
                    "pack_sequence and pack_padded_sequences in nn.utils.rnn. "
                    "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
        else:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The same packed sequence with ``data`` moved / cast as ``Tensor.to`` does (the
        index tensors follow ``data``'s device; ``batch_sizes`` stays on the cpu)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        dev = data.device

        def call_to(t):
            return None if t is None else t.to(dev)

        return type(self)(data, self.batch_sizes, call_to(self.sorted_indices),
                          call_to(self.unsorted_indices))

    def cuda(self, *args, **kwargs):
        return self.to("cuda" if not args else args[0], **kwargs)

    def cpu(self, *args, **kwargs):
        return self.to("cpu")

    def double(self):
        return self.to(dtype=D.float64)

    def float(self):
        return self.to(dtype=D.float32)

    def half(self):
        return self.to(dtype=D.float16)

    def long(self):
        return self.to(dtype=D.int64)

    def int(self):
        return self.to(dtype=D.int32)

    def short(self):
        return self.to(dtype=D.int16)

    def char(self):
        return self.to(dtype=D.int8)

    def byte(self):
        return self.to(dtype=D.uint8)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return False


def _cpu_long(a) -> Tensor:
    from ..._device import device as _dev

    return _make(np.ascontiguousarray(a, dtype=np.int64), _dev("cpu"))


def _on(a, like: Tensor) -> Tensor:
    """An int64 tensor of ``a`` (NumPy) on ``like``'s device."""
    t = _cpu_long(a)
    return t if like.device.type == "cpu" else t.to(like.device)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation (None stays None)."""
    if permutation is None:
        return None
    p = np.asarray(permutation.detach().cpu()._data).astype(np.int64)
    inv = np.empty_like(p)
    inv[p] = np.arange(p.size)
    return _on(inv, permutation)


def _positions(batch_sizes: np.ndarray, n_batch: int, n_time: int, batch_first: bool):
    """Flat positions (in a (T, B) or (B, T) grid) of the packed rows, in packed order."""
    T = len(batch_sizes)
    t = np.repeat(np.arange(T), batch_sizes)
    b = np.concatenate([np.arange(k) for k in batch_sizes]) if T else np.zeros(0, np.int64)
    return (b * n_time + t) if batch_first else (t * n_batch + b)


def _device_idx(idx: np.ndarray, like: Tensor):
    from ..._device import backend

    xp = backend(like._device).xp
    return idx if xp is np else xp.asarray(idx)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded (T, B, *) batch (``(B, T, *)`` with ``batch_first``) of sequences of the
    given ``lengths``; with ``enforce_sorted=False`` the lengths may come in any order."""
    if isinstance(lengths, Tensor):
        lens = np.asarray(lengths.detach().cpu()._data).astype(np.int64).reshape(-1)
    else:
        lens = np.asarray(lengths, dtype=np.int64).reshape(-1)
    sorted_indices = None
    if not enforce_sorted:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
        sorted_indices = _on(order, input)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    bdim, tdim = (0, 1) if batch_first else (1, 0)
    B = input.shape[bdim]
    T = input.shape[tdim]
    if lens.size and lens.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if lens.size != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lens.size} (batch_size={B})")
    if enforce_sorted and np.any(lens[1:] > lens[:-1]):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                           "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                           "pack_padded_sequence and/or pack_sequence to sidestep this "
                           "requirement if you do not need ONNX exportability.")
    if lens.size and lens[0] > T:
        raise RuntimeError(f"pack_padded_sequence: a length ({int(lens[0])}) exceeds the "
                           f"padded sequence length ({T}) of the input of shape "
                           f"{list(input.shape)}")
    Tm = int(lens[0]) if lens.size else 0
    batch_sizes = (lens[None, :] > np.arange(Tm)[:, None]).sum(axis=1)
    idx = _positions(batch_sizes, B, T, batch_first)
    data = PaddedToPacked.apply(input, _device_idx(idx, input))
    return PackedSequence(data, _cpu_long(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    """The inverse of ``pack_padded_sequence``: ``(padded, lengths)`` in the caller's original
    batch order, padded to ``total_length`` when given."""
    bs = np.asarray(sequence.batch_sizes._data).astype(np.int64)
    max_seq_length = bs.size
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {max_seq_length}")
        max_seq_length = total_length
    B = int(bs[0]) if bs.size else 0
    T = max_seq_length
    idx = _positions(bs, B, T, batch_first)
    data = sequence.data
    shape = (B, T) if batch_first else (T, B)
    padded = PackedToPadded.apply(data, _device_idx(idx, data), shape[0], shape[1],
                                  padding_value)
    lengths = (bs[None, :] > np.arange(B)[:, None]).sum(axis=1)
    unsorted = sequence.unsorted_indices
    if unsorted is not None:
        padded = padded.index_select(0 if batch_first else 1, unsorted)
        lengths = lengths[np.asarray(unsorted.detach().cpu()._data)]
    return padded, _cpu_long(lengths)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of different lengths (L_i, *) into (T, B, *) (``(B, T, *)`` with
    ``batch_first``), filling with ``padding_value`` on the ``padding_side``."""
    from ...ops.shape import cat

    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg "
                           f"of type: {type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    trail = tuple(sequences[0].shape[1:])
    for s in sequences[1:]:
        if tuple(s.shape[1:]) != trail:
            got = tuple(s.shape[1:])
            k = next((i for i in range(min(len(got), len(trail))) if got[i] != trail[i]), 0)
            raise RuntimeError(f"The size of tensor a ({trail[k] if trail else 0}) must match "
                               f"the size of tensor b ({got[k] if got else 0}) at "
                               f"non-singleton dimension {k + 1}")
    lens = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    B = len(sequences)
    T = int(lens.max())
    b = np.repeat(np.arange(B), lens)
    t = np.concatenate([np.arange(n) for n in lens])
    if padding_side == "left":
        t = t + np.repeat(T - lens, lens)
    idx = (b * T + t) if batch_first else (t * B + b)
    data = cat(list(sequences), 0)
    shape = (B, T) if batch_first else (T, B)
    return PackedToPadded.apply(data, _device_idx(idx, data), shape[0], shape[1],
                                padding_value)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False):
    """Split a padded batch back into a list of sequences of the given lengths."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    if isinstance(lengths, Tensor):
        lens = [int(v) for v in np.asarray(lengths.detach().cpu()._data).reshape(-1)]
    else:
        lens = [int(v) for v in lengths]
    return [padded_sequences[i, :n] for i, n in enumerate(lens)]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *) (longest first unless ``enforce_sorted=False``)."""
    lengths = [int(v.size(0)) for v in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence):
    """The list of sequences a PackedSequence holds, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
