"""Save and load tensors in the safetensors format (``safetensors.torch``'s API, for lamina).

Files are interchangeable with the ``safetensors`` library. One difference, by design: tensors
that share memory (tied weights, views) are written once and listed, with their view
(offset, shape, stride in elements), in the metadata entry ``"lamina.aliases"``; lamina's
:func:`load_file` / :func:`load` tie them again. (The library itself refuses shared tensors on
save, and sees only the stored ones on load.) Tensors that merely overlap without one
containing the others are written as independent copies.

Example:
    >>> import lamina, lamina.safetensors as st, tempfile, os
    >>> w = lamina.ones(2, 2)
    >>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
    >>> st.save_file({"enc.weight": w, "dec.weight": w}, path)
    >>> d = st.load_file(path)
    >>> d["dec.weight"].data_ptr() == d["enc.weight"].data_ptr()
    True
"""

from __future__ import annotations

from .serialization._safetensors import ALIAS_KEY, deserialize, read_file, serialize, write_file

__all__ = ["save_file", "load_file", "save", "load", "save_model", "load_model", "ALIAS_KEY"]


def save_file(tensors, filename, metadata=None) -> None:
    """Write ``tensors`` (a dict of name -> Tensor) to ``filename``, atomically.

    Args:
        tensors: the tensors; any device (cuda data is copied to the host).
        filename: a path; written as a temp file, fsynced and renamed over the target.
        metadata: optional str -> str pairs stored in the header's ``__metadata__``
            (the key ``"lamina.aliases"`` is reserved).
    """
    write_file(tensors, filename, metadata)


def load_file(filename, device="cpu") -> dict:
    """Read a safetensors file into a dict of name -> Tensor on ``device``.

    Raises:
        lamina.serialization.CheckpointError: malformed, truncated or unsupported file.
    """
    return read_file(filename, device)


def save(tensors, metadata=None) -> bytes:
    """The safetensors bytes of ``tensors`` (see :func:`save_file`)."""
    return serialize(tensors, metadata)


def load(data: bytes, device="cpu") -> dict:
    """Tensors from safetensors bytes (see :func:`load_file`)."""
    return deserialize(data, device)


def save_model(model, filename, metadata=None) -> None:
    """Save ``model.state_dict()`` (tied parameters included: they are stored once)."""
    save_file(model.state_dict(), filename, metadata)


def load_model(model, filename, strict: bool = True, device="cpu"):
    """Load a file written by :func:`save_model` into ``model``.

    Returns:
        (missing, unexpected): the key lists of ``model.load_state_dict``.
    """
    result = model.load_state_dict(load_file(filename, device), strict=strict)
    return list(result.missing_keys), list(result.unexpected_keys)
