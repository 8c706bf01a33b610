"""lamina.nn.utils: clip_grad_norm_, parameters_to_vector, materialize, ..."""

from __future__ import annotations

# --- clip_grad (issue 3) ---
from .clip_grad import (clip_grad_norm, clip_grad_norm_, clip_grad_value_,  # noqa: E402,F401
                        clip_grads_with_norm_, get_total_norm)
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: E402,F401
# --- materialize (issue 5) ---
from .materialize import materialize  # noqa: E402,F401
# --- packed sequences (issue 14) ---
from . import rnn  # noqa: E402,F401
from .rnn import (PackedSequence, pack_padded_sequence, pad_packed_sequence,  # noqa: E402,F401
                  pad_sequence, pack_sequence, unpack_sequence, unpad_sequence)
