"""Recurrent layers as fused ops: one node per layer and direction runs the whole time loop.

``RNNLayer`` computes one layer of one direction of an Elman RNN (tanh / relu), an LSTM (with
an optional projection, torch's ``proj_size``) or a GRU over a whole (T, B, I) sequence. The
input projection of every timestep is ONE matmul up front; the loop then does one
``h @ W_hh^T`` and the gate arithmetic per step on raw arrays, and saves the gate activations
for a hand-written backward through time (BPTT), which again does one matmul per step and
forms the weight gradients as single matmuls over all timesteps after the loop.

Gate layouts are torch's: LSTM ``i, f, g, o``; GRU ``r, z, n`` with
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))`` and ``h' = (1 - z) * n + z * h``.

Variable-length (packed) sequences run on the padded (T, B, *) layout with a (T, B, 1) mask:
where the mask is 0 the state carries over unchanged and the output is 0, so each sequence's
final state is the one of its own last step, in both directions. ``PackedToPadded`` /
``PaddedToPacked`` move the packed rows to and from that layout (gather and scatter).
"""

from __future__ import annotations

from .._backends import _workspace as _ws
from ._op import Op
from .linalg import dot_arrays



def _sig(xp, a, out=None):
    """sigmoid(a) = 0.5 * tanh(a / 2) + 0.5: no overflow for any input."""
    r = xp.multiply(a, 0.5, out=out)
    xp.tanh(r, out=r)
    r *= 0.5
    r += 0.5
    return r


class RNNLayer(Op):
    """One layer, one direction. Forward args: ``x (T, B, I), h0 (B, P), c0 (B, H) | None,
    w_ih, w_hh, b_ih | None, b_hh | None, w_hr | None, mode, reverse, mask (T, B, 1) | None``.

    Returns ``(y (T, B, P), h_n (B, P), c_n (B, H))`` for LSTM, ``(y, h_n)`` otherwise.
    """

    node_name = "RnnBackward0"

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, reverse, mask):
        xp = ctx.xp
        T, B, _ = x.shape
        G = w_ih.shape[0]
        P = w_hh.shape[1]
        dt = x.dtype
        # the input projection of every timestep at once
        gx = dot_arrays(x.reshape(T * B, -1), w_ih.T).reshape(T, B, G)
        if mode == "GRU":
            if b_ih is not None:
                gx += b_ih
        elif b_ih is not None:
            gx += b_ih
            gx += b_hh
        whhT = xp.ascontiguousarray(w_hh.T)  # one copy; BLAS runs faster on it per step
        steps = range(T - 1, -1, -1) if reverse else range(T)
        y = _ws.result(xp, (T, B, P), dt)
        hs = _ws.result(xp, (T, B, P), dt)  # state entering each step (for dW_hh)
        h = h0
        save = ctx.needs_input_grad is not None
        c = None
        if mode == "LSTM":
            H = G // 4
            acts = gx  # overwritten in place by the gate activations
            cs = _ws.result(xp, (T, B, H), dt)  # cell entering each step
            tcs = _ws.result(xp, (T, B, H), dt)  # tanh of the new cell
            hhs = _ws.result(xp, (T, B, H), dt) if w_hr is not None else None
            c = c0
            for t in steps:
                hs[t] = h
                cs[t] = c
                a = acts[t]
                a += h @ whhT
                g = a[:, 2 * H:3 * H]
                _sig(xp, a[:, :2 * H], out=a[:, :2 * H])
                xp.tanh(g, out=g)
                _sig(xp, a[:, 3 * H:], out=a[:, 3 * H:])
                a_i = a[:, :H]
                a_f = a[:, H:2 * H]
                a_o = a[:, 3 * H:]
                cn = a_f * c
                cn += a_i * g
                tc = xp.tanh(cn)
                tcs[t] = tc
                hn = a_o * tc
                if w_hr is not None:
                    hhs[t] = hn
                    hn = hn @ w_hr.T
                if mask is not None:
                    m = mask[t]
                    hn *= m
                    y[t] = hn
                    hn = hn + (1 - m) * h
                    cn = m * cn + (1 - m) * c
                else:
                    y[t] = hn
                h = hn
                c = cn
            if save:
                ctx.saved = (x, acts, cs, tcs, hhs, hs, w_ih, w_hh, w_hr, mask)
            ctx.cfg = (mode, reverse, b_ih is not None)
            return y, h, c
        if mode == "GRU":
            H = G // 3
            rz = _ws.result(xp, (T, B, 2 * H), dt)
            ns = _ws.result(xp, (T, B, H), dt)
            ghn = _ws.result(xp, (T, B, H), dt)
            for t in steps:
                hs[t] = h
                gh = h @ whhT
                if b_hh is not None:
                    gh += b_hh
                a = gx[t]
                s = rz[t]
                xp.add(a[:, :2 * H], gh[:, :2 * H], out=s)
                _sig(xp, s, out=s)
                r = s[:, :H]
                z = s[:, H:]
                hn_ = gh[:, 2 * H:]
                ghn[t] = hn_
                n = r * hn_
                n += a[:, 2 * H:]
                xp.tanh(n, out=n)
                ns[t] = n
                hn = h - n
                hn *= z
                hn += n
                if mask is not None:
                    m = mask[t]
                    y[t] = hn * m
                    hn = m * hn + (1 - m) * h
                else:
                    y[t] = hn
                h = hn
            if save:
                ctx.saved = (x, rz, ns, ghn, hs, w_ih, w_hh, mask)
            ctx.cfg = (mode, reverse, b_ih is not None)
            return y, h
        # Elman
        relu = mode == "RNN_RELU"
        for t in steps:
            hs[t] = h
            a = gx[t]
            a += h @ whhT
            if relu:
                hn = xp.maximum(a, 0)
            else:
                hn = xp.tanh(a)
            if mask is not None:
                m = mask[t]
                hn *= m
                y[t] = hn
                hn = hn + (1 - m) * h
            else:
                y[t] = hn
            h = hn
        if save:
            ctx.saved = (x, y, hs, w_ih, w_hh, mask)
        ctx.cfg = (mode, reverse, b_ih is not None)
        return y, h

    @staticmethod
    def backward(ctx, gy, gh, gc=None):
        xp = ctx.xp
        mode, reverse, has_bias = ctx.cfg
        need = ctx.needs_input_grad
        if mode == "LSTM":
            return _lstm_backward(xp, ctx, gy, gh, gc, reverse, has_bias, need)
        if mode == "GRU":
            return _gru_backward(xp, ctx, gy, gh, reverse, has_bias, need)
        return _elman_backward(xp, ctx, gy, gh, mode, reverse, has_bias, need)


def _weight_grads(xp, need, x, dG, hs, w_ih, has_bias, dGh=None):
    """dx, dW_ih, dW_hh, db_ih, db_hh from the per-step pre-activation gradients."""
    T, B, G = dG.shape
    dG2 = dG.reshape(T * B, G)
    dGh2 = dG2 if dGh is None else dGh.reshape(T * B, G)
    dx = dot_arrays(dG2, w_ih).reshape(x.shape) if need[0] else None
    dwih = dG2.T @ x.reshape(T * B, -1) if need[3] else None
    dwhh = dGh2.T @ hs.reshape(T * B, -1) if need[4] else None
    dbih = dbhh = None
    if has_bias:
        if need[5]:
            dbih = dG2.sum(axis=0)
        if need[6]:
            dbhh = dGh2.sum(axis=0) if dGh is not None else (dbih if dbih is not None
                                                              else dG2.sum(axis=0))
    return dx, dwih, dwhh, dbih, dbhh


def _lstm_backward(xp, ctx, gy, gh, gc, reverse, has_bias, need):
    x, acts, cs, tcs, hhs, hs, w_ih, w_hh, w_hr, mask = ctx.saved
    T, B, G = acts.shape
    H = G // 4
    steps = range(T) if reverse else range(T - 1, -1, -1)
    dG = _ws.result(xp, acts.shape, acts.dtype)
    dh = gh.copy()
    dc = gc.copy()
    dHproj = _ws.result(xp, gy.shape, gy.dtype) if w_hr is not None else None
    for t in steps:
        a = acts[t]
        a_i = a[:, :H]
        a_f = a[:, H:2 * H]
        a_g = a[:, 2 * H:3 * H]
        a_o = a[:, 3 * H:]
        tc = tcs[t]
        if mask is not None:
            m = mask[t]
            km = 1 - m
            dh_new = (gy[t] + dh) * m
            dh_keep = dh * km
            dc_new = dc * m
            dc_keep = dc * km
        else:
            dh_new = gy[t] + dh
            dc_new = dc
        if w_hr is not None:
            dHproj[t] = dh_new
            dh_new = dh_new @ w_hr
        d = dG[t]
        # o: dh * tanh(c) * o (1 - o)
        xp.multiply(dh_new, tc, out=d[:, 3 * H:])
        d[:, 3 * H:] *= a_o * (1 - a_o)
        dcc = dh_new * a_o
        dcc *= 1 - tc * tc
        dcc += dc_new
        # i: dc * g * i (1 - i); f: dc * c_prev * f (1 - f); g: dc * i * (1 - g^2)
        xp.multiply(dcc, a_g, out=d[:, :H])
        d[:, :H] *= a_i * (1 - a_i)
        xp.multiply(dcc, cs[t], out=d[:, H:2 * H])
        d[:, H:2 * H] *= a_f * (1 - a_f)
        xp.multiply(dcc, a_i, out=d[:, 2 * H:3 * H])
        d[:, 2 * H:3 * H] *= 1 - a_g * a_g
        dc = dcc * a_f
        dh = d @ w_hh
        if mask is not None:
            dh += dh_keep
            dc += dc_keep
    dx, dwih, dwhh, dbih, dbhh = _weight_grads(xp, need, x, dG, hs, w_ih, has_bias)
    dwhr = None
    if w_hr is not None and need[7]:
        dwhr = dHproj.reshape(T * B, -1).T @ hhs.reshape(T * B, H)
    return (dx, dh if need[1] else None, dc if need[2] else None, dwih, dwhh, dbih, dbhh,
            dwhr, None, None, None)


def _into_step(gy_t, dh, mask, t):
    """GRU / Elman backward at step t: the gradient of the step's new hidden state and, in a
    packed batch (``mask``), the part of ``dh`` that passes the step for rows already ended
    (None without a mask)."""
    if mask is None:
        return gy_t + dh, None
    m = mask[t]
    return (gy_t + dh) * m, dh * (1 - m)


def _gru_backward(xp, ctx, gy, gh, reverse, has_bias, need):
    x, rz, ns, ghn, hs, w_ih, w_hh, mask = ctx.saved
    T, B, H = ns.shape
    steps = range(T) if reverse else range(T - 1, -1, -1)
    dGx = _ws.result(xp, (T, B, 3 * H), gy.dtype)
    dGh = _ws.result(xp, (T, B, 3 * H), gy.dtype)
    dh = gh.copy()
    for t in steps:
        r = rz[t, :, :H]
        z = rz[t, :, H:]
        n = ns[t]
        h = hs[t]
        dh_new, dh_keep = _into_step(gy[t], dh, mask, t)
        dan = dh_new * (1 - z)
        dan *= 1 - n * n
        daz = dh_new * (h - n)
        daz *= z * (1 - z)
        dar = dan * ghn[t]
        dar *= r * (1 - r)
        dx_t = dGx[t]
        dh_t = dGh[t]
        dx_t[:, :H] = dar
        dx_t[:, H:2 * H] = daz
        dx_t[:, 2 * H:] = dan
        dh_t[:, :2 * H] = dx_t[:, :2 * H]
        xp.multiply(dan, r, out=dh_t[:, 2 * H:])
        dh = dh_t @ w_hh
        dh += dh_new * z
        if dh_keep is not None:
            dh += dh_keep
    dx, dwih, dwhh, dbih, dbhh = _weight_grads(xp, need, x, dGx, hs, w_ih, has_bias, dGh)
    return (dx, dh if need[1] else None, None, dwih, dwhh, dbih, dbhh, None, None, None,
            None)


def _elman_backward(xp, ctx, gy, gh, mode, reverse, has_bias, need):
    x, y, hs, w_ih, w_hh, mask = ctx.saved
    T, B, H = y.shape
    steps = range(T) if reverse else range(T - 1, -1, -1)
    dG = _ws.result(xp, (T, B, H), gy.dtype)
    dh = gh.copy()
    relu = mode == "RNN_RELU"
    for t in steps:
        yt = y[t]
        dh_new, dh_keep = _into_step(gy[t], dh, mask, t)
        d = dG[t]
        if relu:
            xp.multiply(dh_new, yt > 0, out=d)
        else:
            xp.multiply(dh_new, 1 - yt * yt, out=d)
        dh = d @ w_hh
        if dh_keep is not None:
            dh += dh_keep
    dx, dwih, dwhh, dbih, dbhh = _weight_grads(xp, need, x, dG, hs, w_ih, has_bias)
    return (dx, dh if need[1] else None, None, dwih, dwhh, dbih, dbhh, None, None, None,
            None)


def rnn_layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse=False, mask=None):
    """Run one recurrent layer of one direction over ``x (T, B, I)``; see ``RNNLayer``."""
    return RNNLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, bool(reverse), mask)


# ---------------------------------------------------------------------- packed <-> padded
class PackedToPadded(Op):
    """``data (N, *)`` packed rows -> ``(T, B, *)`` with zeros (or ``value``) elsewhere;
    ``idx`` holds each packed row's flat position ``t * B + b``."""

    node_name = "PackedToPaddedBackward0"

    @staticmethod
    def forward(ctx, data, idx, T, B, value):
        xp = ctx.xp
        out = xp.full((T * B,) + data.shape[1:], value, data.dtype)
        out[idx] = data
        if ctx.needs_input_grad is not None:
            ctx.idx = idx
        return out.reshape((T, B) + data.shape[1:])

    @staticmethod
    def backward(ctx, g):
        return g.reshape((-1,) + g.shape[2:])[ctx.idx], None, None, None, None


class PaddedToPacked(Op):
    """The inverse gather: ``(T, B, *)`` -> the packed rows at ``idx``."""

    node_name = "PaddedToPackedBackward0"

    @staticmethod
    def forward(ctx, padded, idx):
        if ctx.needs_input_grad is not None:
            ctx.idx = idx
            ctx.shape = padded.shape
        return padded.reshape((-1,) + padded.shape[2:])[idx]

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        shape = ctx.shape
        out = xp.zeros((shape[0] * shape[1],) + shape[2:], g.dtype)
        out[ctx.idx] = g
        return out.reshape(shape), None
