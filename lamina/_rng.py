"""Which Generator a random op uses: the caller's, or the default one of the device."""

from __future__ import annotations

_cuda_generators: dict = {}
_pending_cuda_seed = None


def generator_for(dev, generator):
    from . import random

    if generator is not None:
        gdev = generator.device
        if getattr(gdev, "type", str(gdev).split(":")[0]) != dev.type:
            raise RuntimeError(f"Expected a '{dev.type}' device type for generator but found "
                               f"'{getattr(gdev, 'type', gdev)}'")
        return generator
    if dev.type == "cpu":
        return random.default_generator
    g = _cuda_generators.get(dev.index)
    if g is None:
        g = _cuda_generators[dev.index] = random.Generator(dev)
        if _pending_cuda_seed is not None:
            g.manual_seed(_pending_cuda_seed)
    return g


def cuda_manual_seed(seed, all_devices):
    """Seed cuda generators; remembered for generators created later (lazily)."""
    global _pending_cuda_seed
    _pending_cuda_seed = int(seed)
    for g in _cuda_generators.values():
        g.manual_seed(seed)
