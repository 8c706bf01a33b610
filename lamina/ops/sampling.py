"""Resampling and rearranging: pad (reflect / replicate / circular, and constant),
interpolate (nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area),
pixel_shuffle / pixel_unshuffle, unfold / fold.

Padding and interpolation are separable: each spatial axis gets an index map (and, for the
linear family, weights) computed once on the host from the sizes alone; the forward gathers
along that axis with ``take``. Backward sums the gradient back through the same map: padding
copies the untouched core with one slice and adds the few border positions one by one (a loop
over the pad width, never over pixels); interpolation multiplies by the transposed
interpolation matrix (one GEMM per axis).
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ._op import Op
from ._registry import register
from .conv import _col2im, _crop, _im2col, _pad0, ntuple
from .pool import _apply_last

# ---------------------------------------------------------------------- non-constant padding


def _pad_plan(n, lo, hi, mode):
    """Index map of one padded axis: (idx (host int64), core_out (a, b), core_in_start)."""
    if mode == "circular":
        cl, cr = max(-lo, 0), max(-hi, 0)
        lc = n - cl - cr
        lp, rp = max(lo, 0), max(hi, 0)
        idx = cl + (np.arange(lc + lp + rp) - lp) % max(lc, 1)
        return idx.astype(np.int64), (lp, lp + lc), cl
    out_n = n + lo + hi
    pos = np.arange(out_n) - lo
    if mode == "reflect":
        pos = np.abs(pos)
        pos = np.where(pos >= n, 2 * (n - 1) - pos, pos)
    else:  # replicate
        pos = np.clip(pos, 0, n - 1)
    a = max(lo, 0)
    b = min(n + lo, out_n)
    return pos.astype(np.int64), (a, max(a, b)), a - lo


class _PadNd(Op):
    """Reflect / replicate / circular padding of the trailing axes."""

    node_name = "ReflectionPad2DBackward0"

    @staticmethod
    def forward(ctx, x, plans):
        xp = ctx.xp
        y = x
        for axis, idx, _core, _cin in plans:
            y = xp.take(y, xp.asarray(idx), axis=axis)
        if ctx.needs_input_grad is not None:
            ctx.plans = plans
            ctx.xshape = x.shape
        return y

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        shape = list(g.shape)
        for axis, idx, (a, b), cin in reversed(ctx.plans):
            n = ctx.xshape[axis]
            shape[axis] = n
            gx = xp.zeros(tuple(shape), g.dtype)
            pre = (slice(None),) * axis
            if b > a:
                gx[pre + (slice(cin, cin + b - a),)] = g[pre + (slice(a, b),)]
            for j in list(range(0, a)) + list(range(b, idx.shape[0])):
                gx[pre + (int(idx[j]),)] += g[pre + (j,)]
            g = gx
        return g, None


_PAD_OPS = {}
_PAD_NAMES = {"reflect": "ReflectionPad", "replicate": "ReplicationPad",
              "circular": "CircularPad"}


def pad(input, pad, mode="constant", value=None):
    """torch.nn.functional.pad: ``pad`` lists (before, after) pairs from the last axis
    backwards; modes 'constant', 'reflect', 'replicate', 'circular'."""
    from .shape import constant_pad

    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    pad = tuple(int(v) for v in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if mode == "constant":
        return constant_pad(input, pad, 0.0 if value is None else value)
    if mode not in _PAD_NAMES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    nd = len(pad) // 2
    dim = input.ndim
    if nd not in (1, 2, 3) or dim not in (nd + 1, nd + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {dim}D input tensor.\n"
            f"Supported combinations for non-constant padding:\n"
            f"  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            f"  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            f"  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    plans = []
    shape = tuple(input.shape)
    for i in range(nd):
        axis = dim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        n = shape[axis]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({lo}, {hi}) "
                               f"at dimension {axis} of input {list(shape)}")
        if mode == "circular":
            lc = n - max(-lo, 0) - max(-hi, 0)
            if lo > lc or hi > lc:
                raise RuntimeError("Padding value causes wrapping around more than once.")
        if n + lo + hi <= 0 or (mode != "circular" and n == 0):
            raise RuntimeError(f"{mode} padding: input size {n} at dimension {axis} with "
                               f"padding ({lo}, {hi}) gives an empty output")
        if lo == 0 and hi == 0:
            continue
        idx, core, cin = _pad_plan(n, lo, hi, mode)
        plans.append((axis, idx, core, cin))
    op = _PAD_OPS.get((mode, nd))
    if op is None:
        op = _PAD_OPS[(mode, nd)] = type(f"{_PAD_NAMES[mode]}{nd}d", (_PadNd,),
                                         {"node_name": f"{_PAD_NAMES[mode]}{nd}DBackward0"})
    return op.apply(input, tuple(plans))


# ---------------------------------------------------------------------- interpolation
def _src_scale(n_in, n_out, align_corners, scale, cubic=False):
    """ATen's ``area_pixel_compute_scale``."""
    if align_corners:
        return (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    if scale is not None and scale > 0:
        return 1.0 / scale
    return n_in / n_out


def _nearest_plan(n_in, n_out, scale, exact):
    """Source index of each output (ATen's nearest_idx / nearest_neighbor_exact)."""
    if n_in == n_out:
        return np.arange(n_out)
    s = np.float32(1.0 / scale if (scale is not None and scale > 0) else n_in / n_out)
    o = np.arange(n_out, dtype=np.float32)
    if exact:
        src = np.floor((o + np.float32(0.5)) * s)
    elif n_out == 2 * n_in:
        return np.arange(n_out) >> 1
    else:
        src = np.floor(o * s)
    return np.minimum(src.astype(np.int64), n_in - 1)


def _cubic_weights(t, a=-0.75):
    """Keys' cubic convolution coefficients for the 4 taps around a fractional offset t."""
    def c1(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def c2(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [c2(t + 1.0), c1(t), c1(1.0 - t), c2(2.0 - t)]


def _linear_plan(n_in, n_out, align_corners, scale, cubic):
    """(list of index arrays, list of weight arrays) for one axis (host float64)."""
    r = _src_scale(n_in, n_out, align_corners, scale)
    o = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = o * r
    else:
        src = r * (o + 0.5) - 0.5
        if not cubic:
            src = np.maximum(src, 0.0)
    if cubic:
        i0 = np.floor(src).astype(np.int64)
        t = src - i0
        ws = _cubic_weights(t)
        idxs = [np.clip(i0 + k, 0, n_in - 1) for k in (-1, 0, 1, 2)]
        return idxs, ws
    i0 = np.floor(src).astype(np.int64)
    i0 = np.minimum(i0, n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = np.clip(src - i0, 0.0, 1.0)
    return [i0, i1], [1.0 - lam, lam]


def _plan_matrix(n_in, idxs, ws):
    n_out = idxs[0].shape[0]
    a = np.zeros((n_out, n_in), np.float64)
    rows = np.arange(n_out)
    for i, w in zip(idxs, ws if ws is not None else [None] * len(idxs)):
        np.add.at(a, (rows, i), 1.0 if w is None else w)
    return a


class _Interp(Op):
    """Separable resampling of the trailing axes. ``plans``: per axis (axis, n_in, index
    arrays, weight arrays or None)."""

    node_name = "UpsampleNearest2DBackward0"

    @staticmethod
    def forward(ctx, x, plans):
        xp = ctx.xp
        y = x
        for axis, _n, idxs, ws in plans:
            if ws is None:
                y = xp.take(y, xp.asarray(idxs[0]), axis=axis)
                continue
            shape = [1] * y.ndim
            shape[axis] = -1
            acc = None
            for i, w in zip(idxs, ws):
                term = xp.take(y, xp.asarray(i), axis=axis)
                term *= xp.asarray(w.astype(x.dtype)).reshape(shape)
                if acc is None:
                    acc = term
                else:
                    acc += term
            y = acc
        if ctx.needs_input_grad is not None:
            ctx.plans = plans
        return y

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        for axis, n_in, idxs, ws in reversed(ctx.plans):
            mat = xp.asarray(_plan_matrix(n_in, idxs, ws).T.astype(g.dtype))
            g = _apply_last(xp, g, mat, axis)
        return g, None


_INTERP_OPS = {}
_INTERP_NAMES = {"nearest": "UpsampleNearest", "nearest-exact": "UpsampleNearestExact",
                 "linear": "UpsampleLinear", "bilinear": "UpsampleBilinear",
                 "trilinear": "UpsampleTrilinear", "bicubic": "UpsampleBicubic"}
_MODE_DIM = {"linear": 3, "bilinear": 4, "trilinear": 5, "bicubic": 4}
_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")


def _is_int(v):
    return isinstance(v, int) or (hasattr(v, "__index__") and not isinstance(v, float))


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize ``(N, C, *spatial)`` to ``size`` or by ``scale_factor`` (torch's rules for output
    sizes and source coordinates); modes nearest, nearest-exact, linear, bilinear, bicubic,
    trilinear, area."""
    from .pool import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d

    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    f"Input and output must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {list(input.shape[2:])} and output "
                    f"size of {size}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                    f"format and output size in (o1, o2, ...,oK) format.")
            if not all(_is_int(v) for v in size):
                raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, "
                                f"int] or Tuple[int, int, int], but got size with types "
                                f"{[type(v) for v in size]}")
            output_size = [int(v) for v in size]
        else:
            output_size = [int(size)] * dim
        scales = [None] * dim
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    f"Input and scale_factor must have the same number of spatial dimensions, "
                    f"but got input with spatial dimensions of {list(input.shape[2:])} and "
                    f"scale_factor of shape {scale_factor}. Please provide input tensor in "
                    f"(N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) "
                    f"format.")
            scales = [float(v) for v in scale_factor]
        else:
            scales = [float(scale_factor)] * dim
        output_size = None
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if output_size is None:
        output_size = [int(math.floor(input.shape[2 + i] * scales[i])) for i in range(dim)]
        if recompute_scale_factor:
            scales = [None] * dim
    if antialias:
        if not (mode in ("bilinear", "bicubic") and input.ndim == 4):
            raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                             "modes and requires a 4-D tensor as input")
        if any(output_size[i] < input.shape[2 + i] for i in range(dim)):
            raise NotImplementedError("interpolate: antialias=True when downsampling is not "
                                      "implemented in lamina; use antialias=False")
    if mode not in _MODES or input.ndim not in (3, 4, 5):
        if mode in _MODE_DIM and input.ndim in (3, 4, 5):
            need = _MODE_DIM[mode]
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                      f"{need}D input")
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
            f"the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
            f"nearest-exact (got {mode})")
    if mode in _MODE_DIM and _MODE_DIM[mode] != input.ndim:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{_MODE_DIM[mode]}D input")
    if any(v <= 0 for v in output_size):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({', '.join(str(v) for v in input.shape[2:])}) output "
                           f"({', '.join(str(v) for v in output_size)})")
    if mode == "area":
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[dim - 1](
            input, output_size)
    plans = []
    for i in range(dim):
        n_in = input.shape[2 + i]
        n_out = output_size[i]
        if mode in ("nearest", "nearest-exact"):
            if n_in == n_out:
                continue
            plans.append((2 + i, n_in, [_nearest_plan(n_in, n_out, scales[i],
                                                      mode == "nearest-exact")], None))
        else:
            if n_in == n_out and (align_corners or scales[i] in (None, 1.0)):
                continue
            idxs, ws = _linear_plan(n_in, n_out, align_corners, scales[i], mode == "bicubic")
            plans.append((2 + i, n_in, idxs, ws))
    key = (mode, dim)
    op = _INTERP_OPS.get(key)
    if op is None:
        op = _INTERP_OPS[key] = type(f"{_INTERP_NAMES[mode]}{dim}d", (_Interp,),
                                     {"node_name": f"{_INTERP_NAMES[mode]}{dim}DBackward0"})
    return op.apply(input, tuple(plans))


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate`` (kept by torch)."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------------- pixel shuffle
def _shuffle(x, r):
    lead = x.shape[:-3]
    c, h, w = x.shape[-3:]
    oc = c // (r * r)
    nl = len(lead)
    y = x.reshape(lead + (oc, r, r, h, w))
    perm = tuple(range(nl)) + tuple(nl + i for i in (0, 3, 1, 4, 2))
    return y.transpose(perm).reshape(lead + (oc, h * r, w * r))


def _unshuffle(x, r):
    lead = x.shape[:-3]
    c, h, w = x.shape[-3:]
    nl = len(lead)
    y = x.reshape(lead + (c, h // r, r, w // r, r))
    perm = tuple(range(nl)) + tuple(nl + i for i in (0, 2, 4, 1, 3))
    return y.transpose(perm).reshape(lead + (c * r * r, h // r, w // r))


class PixelShuffle(Op):
    """``_shuffle`` by ``r`` (channels into space), or ``_unshuffle`` by ``-r`` when ``r`` is
    negative; the gradient takes the opposite move."""

    node_name = "PixelShuffleBackward0"

    @staticmethod
    def forward(ctx, x, r):
        ctx.r = r
        return _shuffle(x, r) if r > 0 else _unshuffle(x, -r)

    @staticmethod
    def backward(ctx, g):
        r = ctx.r
        return (_unshuffle(g, r) if r > 0 else _shuffle(g, -r)), None


class PixelUnshuffle(PixelShuffle):
    """``PixelShuffle`` applied with ``-downscale_factor``."""

    node_name = "PixelUnshuffleBackward0"


def _pixel_factor(fn, input, factor, factor_name):
    """pixel_shuffle / pixel_unshuffle's common checks (torch's messages); the factor as int."""
    r = int(factor)
    if input.ndim < 3:
        raise RuntimeError(f"{fn} expects input to have at least 3 dimensions, but got input "
                           f"with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"{fn} expects a positive {factor_name}, but got {r}")
    return r


def pixel_shuffle(input, upscale_factor):
    """``(*, C*r^2, H, W) -> (*, C, H*r, W*r)``."""
    r = _pixel_factor("pixel_shuffle", input, upscale_factor, "upscale_factor")
    c = input.shape[-3]
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    return PixelShuffle.apply(input, r)


def pixel_unshuffle(input, downscale_factor):
    """``(*, C, H*r, W*r) -> (*, C*r^2, H, W)``."""
    r = _pixel_factor("pixel_unshuffle", input, downscale_factor, "downscale_factor")
    h, w = input.shape[-2:]
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by "
                           f"downscale_factor, but input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by "
                           f"downscale_factor, but input.size(-1)={w} is not divisible by {r}")
    return PixelUnshuffle.apply(input, -r)


# ---------------------------------------------------------------------- unfold / fold
def _to_blocks(xp, cols, n, ck, nl):
    """``(C, kh, kw, N, oh, ow)`` columns -> torch's ``(N, C*kh*kw, L)``."""
    c = cols.shape[0]
    k = cols.shape[1:3]
    y = cols.reshape((c * k[0] * k[1], n, nl))
    return xp.ascontiguousarray(y.transpose(1, 0, 2))


def _out_size(psp, k, d, s) -> tuple:
    """The number of block positions along each of the two padded spatial sizes ``psp``."""
    return tuple((psp[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))


def _image_to_blocks(xp, x, k, d, pads, s, osp):
    """``(N, C, H, W)`` -> its ``(N, C*kh*kw, L)`` sliding blocks (zero padded): unfold's
    forward and fold's gradient."""
    cols = _im2col(xp, _pad0(xp, x, pads), k, s, d, osp)  # (C, kh, kw, N, oh, ow)
    return _to_blocks(xp, cols, x.shape[0], None, osp[0] * osp[1])


def _blocks_to_image(xp, blocks, c, psp, k, d, pads, s, osp):
    """``(N, C*kh*kw, L)`` blocks -> the ``(N, C, H, W)`` image that sums them (padding
    cropped): fold's forward and unfold's gradient."""
    n = blocks.shape[0]
    gc = xp.ascontiguousarray(blocks.transpose(1, 0, 2)).reshape((c,) + k + (n,) + osp)
    full = _col2im(xp, gc, (c, n) + psp, k, s, d, osp)
    return xp.ascontiguousarray(_crop(full, pads).transpose(1, 0, 2, 3))


class Im2Col(Op):
    node_name = "Im2ColBackward0"

    @staticmethod
    def forward(ctx, x, k, d, p, s):
        unb = x.ndim == 3
        if unb:
            x = x[None]
        pads = ((p[0], p[0]), (p[1], p[1]))
        psp = (x.shape[2] + 2 * p[0], x.shape[3] + 2 * p[1])
        osp = _out_size(psp, k, d, s)
        out = _image_to_blocks(ctx.xp, x, k, d, pads, s, osp)
        ctx.geom = (unb, k, d, pads, s, osp, x.shape[1], psp)
        return out[0] if unb else out

    @staticmethod
    def backward(ctx, g):
        unb, k, d, pads, s, osp, c, psp = ctx.geom
        if unb:
            g = g[None]
        gx = _blocks_to_image(ctx.xp, g, c, psp, k, d, pads, s, osp)
        return (gx[0] if unb else gx), None, None, None, None


class Col2Im(Op):
    node_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, x, osz, k, d, p, s):
        unb = x.ndim == 2
        if unb:
            x = x[None]
        c = x.shape[1] // (k[0] * k[1])
        pads = ((p[0], p[0]), (p[1], p[1]))
        psp = (osz[0] + 2 * p[0], osz[1] + 2 * p[1])
        osp = _out_size(psp, k, d, s)
        out = _blocks_to_image(ctx.xp, x, c, psp, k, d, pads, s, osp)
        ctx.geom = (unb, k, d, pads, s, osp)
        return out[0] if unb else out

    @staticmethod
    def backward(ctx, g):
        unb, k, d, pads, s, osp = ctx.geom
        if unb:
            g = g[None]
        out = _image_to_blocks(ctx.xp, g, k, d, pads, s, osp)
        return (out[0] if unb else out), None, None, None, None, None


def _pair_args(kernel_size, dilation, padding, stride):
    k = ntuple(kernel_size, 2, "kernel_size")
    d = ntuple(dilation, 2, "dilation")
    p = ntuple(padding, 2, "padding")
    s = ntuple(stride, 2, "stride")
    if any(v <= 0 for v in k):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: "
                           f"{k[0]} kernel_width: {k[1]}")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: "
                           f"{d[0]} dilation_width: {d[1]}")
    if any(v < 0 for v in p):
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {p[0]} "
                           f"pad_width: {p[1]}")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {s[0]} "
                           f"stride_width: {s[1]}")
    return k, d, p, s


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding blocks: ``(N, C, H, W) -> (N, C*kh*kw, L)`` (im2col)."""
    if input.ndim not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported "
                                  f"(got {input.ndim}D)")
    k, d, p, s = _pair_args(kernel_size, dilation, padding, stride)
    h, w = input.shape[-2:]
    oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    if oh < 1 or ow < 1:
        raise RuntimeError(f"Given input with spatial size ({h}, {w}), kernel_size=({k[0]}, "
                           f"{k[1]}), dilation=({d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), "
                           f"calculated shape of the array of sliding blocks as ({oh}, {ow}), "
                           f"but its components must be at least one.")
    return Im2Col.apply(input, k, d, p, s)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding blocks into a tensor, summing overlaps: the adjoint of ``unfold``."""
    if input.ndim not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input "
                                  f"Tensors are supported (got {input.ndim}D)")
    osz = ntuple(output_size, 2, "output_size")
    k, d, p, s = _pair_args(kernel_size, dilation, padding, stride)
    ck, nl = input.shape[-2:]
    if ck % (k[0] * k[1]):
        raise RuntimeError(f"Expected size of input's dimension {input.ndim - 2} to be divisible "
                           f"by the product of kernel_size, but got input.size("
                           f"{input.ndim - 2})={ck} and kernel_size=({k[0]}, {k[1]}).")
    bh = (osz[0] + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    bw = (osz[1] + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    if bh * bw != nl:
        raise RuntimeError(f"Given output_size=({osz[0]}, {osz[1]}), kernel_size=({k[0]}, "
                           f"{k[1]}), dilation=({d[0]}, {d[1]}), padding=({p[0]}, {p[1]}), "
                           f"stride=({s[0]}, {s[1]}), expected size of input's dimension "
                           f"{input.ndim - 1} to match the calculated number of sliding blocks "
                           f"{bh} * {bw} = {bh * bw}, but got input.size({input.ndim - 1})={nl}.")
    return Col2Im.apply(input, osz, k, d, p, s)


# the public names of this module's ops (ops/_registry.py): nn.functional.X (their torch.X
# twins are lamina/__init__.py's _FUNCTIONAL_TWINS, loaded at first use)
for _fn in (pad, interpolate, upsample, upsample_nearest, upsample_bilinear, pixel_shuffle,
            pixel_unshuffle, unfold, fold):
    register(_fn, function=False, method=False, functional=True)
