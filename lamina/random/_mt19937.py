"""The engine of torch's CPU generator: MT19937 and torch's state layout.

torch's ``CPUGeneratorImpl`` draws from MT19937 seeded the classic way (``init_genrand`` with
the low 32 bits of the seed), which is ``numpy.random.MT19937._legacy_seeding``: the raw 32-bit
stream is identical. ``state_bytes`` writes torch's own 5056-byte ``CPUGeneratorImplState``
(the engine, the seed and the normals cached by ``normal``), so a state taken from lamina can
be loaded by ``torch.set_rng_state`` and the other way round.
"""

from __future__ import annotations

import numpy as np

STATE_N = 624  # MT19937 words
STATE_SIZE = 5056  # sizeof(at::detail::CPUGeneratorImplState) on x86-64
_S32 = np.uint64(32)

# The CPUGeneratorImplState struct (aten/src/ATen/CPUGeneratorImpl.cpp), byte for byte.
_STATE_DTYPE = np.dtype({
    "names": ["seed", "left", "seeded", "next", "state", "normal_x", "normal_y", "normal_rho",
              "normal_is_valid", "next_float", "next_float_valid"],
    "formats": ["<u8", "<i4", "<i4", "<u8", ("<u8", (STATE_N,)), "<f8", "<f8", "<f8", "<i4",
                "<f4", "u1"],
    "offsets": [0, 8, 12, 16, 24, 5016, 5024, 5032, 5040, 5048, 5052],
    "itemsize": STATE_SIZE,
})


class MT19937:
    """torch's CPU engine: the MT19937 stream plus what torch's state keeps beside it, the
    seed and the Box-Muller samples cached for the next ``normal`` call (``next_double``, the
    second sample of the scalar path's pair; ``next_float``, never set by lamina's kernels but
    carried through a state from torch)."""

    __slots__ = ("seed", "next_double", "next_float", "_bg", "_fresh")

    def __init__(self, seed: int):
        self._bg = None
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> None:
        """Restart the stream from ``seed`` (an int in [0, 2**64))."""
        self.seed = seed
        self.next_double = self.next_float = None
        bg = self._bg
        if bg is not None:
            bg._legacy_seeding(seed & 0xFFFFFFFF)  # mt19937(seed) uses the low 32 bits
        # else: the engine is made and seeded from self.seed at the first draw (_engine), so
        # `import lamina` does not pay for importing numpy.random
        self._fresh = True

    def _engine(self):
        """NumPy's MT19937 bit generator, created (and seeded from ``seed``) on first use."""
        bg = self._bg
        if bg is None:
            from numpy.random import MT19937 as _NumpyMT19937

            # A fixed key avoids drawing OS entropy; the legacy seeding replaces it.
            bg = self._bg = _NumpyMT19937(0)
            bg._legacy_seeding(self.seed & 0xFFFFFFFF)
        return bg

    # ------------------------------------------------------------------ the stream

    def raw(self, n: int) -> np.ndarray:
        """``n`` 32-bit draws of ``CPUGeneratorImpl::random()`` (as uint64)."""
        if n:
            self._fresh = False
        return (self._bg or self._engine()).random_raw(n)

    def raw64(self, n: int) -> np.ndarray:
        """``n`` draws of ``random64()``: two 32-bit draws each, the first is the high word."""
        r = self.raw(2 * n).reshape(n, 2)
        return (r[:, 0] << _S32) | r[:, 1]

    def raw_blocks(self, n: int, size: int):
        """``raw(n)`` as successive blocks of ``size`` draws, for a caller that transforms
        block after block (the raw words and the temporaries stay in cache)."""
        for i in range(0, n, size):
            yield self.raw(min(size, n - i))

    # ------------------------------------------------------------------ torch's state bytes

    def state_bytes(self) -> np.ndarray:
        """The state as torch's ``CPUGeneratorImplState``: 5056 uint8."""
        st = self._engine().state["state"]
        pos = int(st["pos"])
        rec = np.zeros((), dtype=_STATE_DTYPE)
        rec["seed"] = self.seed
        rec["left"] = STATE_N + 1 - pos
        rec["seeded"] = 1
        # Freshly seeded, torch's engine says next=0 and numpy's pos=624; both mean "twist
        # before the next draw", which torch also writes as next=624 after a full block.
        rec["next"] = 0 if self._fresh else pos
        rec["state"] = st["key"]
        if self.next_double is not None:
            rec["normal_is_valid"] = 1
            rec["normal_y"] = self.next_double
        if self.next_float is not None:
            rec["next_float_valid"] = 1
            rec["next_float"] = self.next_float
        return rec.reshape(1).view(np.uint8).copy()

    def load_state_bytes(self, arr: np.ndarray) -> None:
        """Restore a state from ``state_bytes`` (or torch's ``get_rng_state``); a state that
        torch would refuse raises and changes nothing."""
        if arr.size != STATE_SIZE:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {STATE_SIZE} but found "
                               f"the input RNG state size to be {arr.size}")
        rec = arr.view(_STATE_DTYPE)[0]
        left, nxt, seeded = int(rec["left"]), int(rec["next"]), int(rec["seeded"])
        words = rec["state"]
        # torch's mt19937::is_valid, plus the invariant its engine keeps between left and next
        # (NumPy's engine has a single position, so a state breaking it cannot be represented).
        if (not seeded or not 1 <= left <= STATE_N or nxt > STATE_N
                or (left > 1 and nxt != STATE_N + 1 - left) or (words >> 32).any()):
            raise RuntimeError("Invalid mt19937 state")
        self.seed = int(rec["seed"])
        self._engine().state = {"bit_generator": "MT19937",
                                "state": {"key": words.astype(np.uint32),
                                          "pos": STATE_N + 1 - left}}
        self._fresh = left == 1 and nxt == 0
        self.next_double = float(rec["normal_y"]) if rec["normal_is_valid"] else None
        self.next_float = float(rec["next_float"]) if rec["next_float_valid"] else None
