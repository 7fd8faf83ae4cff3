"""Fused recurrent layers: one whole-sequence LSTM, GRU or Elman RNN layer (one direction) as
a single graph node, forward and backpropagation through time side by side.

Inputs are time-major: ``x (T, B, I)``, states ``(B, H)``; weights as PyTorch stores them
(``w_ih (G·H, I)``, ``w_hh (G·H, H)``, ``b_ih, b_hh (G·H,)`` with G = 4, 3, 1 gates).

Forward. Every time step's input projection comes from ONE matrix product,
``P = X Wᵢₕᵀ + b`` over all ``T·B`` rows; only the recurrence ``h Wₕₕᵀ`` is a Python loop over
time (never over samples or units). PyTorch's equations and gate orders::

    LSTM (i, f, g, o):  i, f, o = σ(·),  g = tanh(·),  c' = f⊙c + i⊙g,  h' = o⊙tanh(c')
    GRU  (r, z, n):     r, z = σ(Pᵣ,𝓏 + Wₕᵣ,ₕ𝓏 h + bₕᵣ,ₕ𝓏),
                        n = tanh(Pₙ + r⊙(Wₕₙ h + bₕₙ)),  h' = (1 − z)⊙n + z⊙h
    RNN:                h' = tanh(P + Wₕₕ h) or relu(P + Wₕₕ h)

The activated gates are saved for backward. Backward (BPTT) is an iterative reverse loop over
time (no recursion, so 10,000 steps are fine) that carries ``dh`` (and ``dc``) and stores the
pre-activation gate gradients ``dG (T, B, G·H)``; the parameter gradients and ``dx`` are then
single matrix products over all steps: ``dWᵢₕ = dGᵀ X``, ``dWₕₕ = dGₕᵀ H₋₁``, ``dx = dG Wᵢₕ``.

The LSTM node's value packs the final cell state after the outputs (``(T + 1, B, H)``, row
``T`` is ``c_n``), so one node carries everything; :func:`lstm_layer` slices it.

>>> import numpy as np, chainrule as cr
>>> rng = np.random.default_rng(0)
>>> x = cr.tensor(rng.normal(size=(5, 2, 3)), requires_grad=True)
>>> w_ih, w_hh = cr.tensor(rng.normal(size=(16, 3))), cr.tensor(rng.normal(size=(16, 4)))
>>> out, h_n, c_n = lstm_layer(x, None, None, w_ih, w_hh)
>>> out.shape, h_n.shape, c_n.shape
((5, 2, 4), (2, 4), (2, 4))
>>> out.sum().backward(); x.grad.shape
(5, 2, 3)
"""

import threading

import numpy as np

from chainrule.ops._blas import small_products
from chainrule.ops.base import as_tensor, node
from chainrule.ops.shape import getitem

_GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}

# Backward's large temporaries (the gate gradients and derivative factors, T·B·G·H each) are
# kept per thread and reused by the next backward of the same shape: a fresh multi-megabyte
# array each step costs the operating system's page faults on first touch, measured as ~20%
# of a W6 training step. Nothing that leaves the backward lives in these buffers.
_SCRATCH = threading.local()
_SCRATCH_LIMIT = 64 * 2**20  # bytes per array; larger ones are allocated fresh


def _scratch(name, shape, dtype):
    """An uninitialised reusable array (see above)."""
    dtype = np.dtype(dtype)
    if int(np.prod(shape)) * dtype.itemsize > _SCRATCH_LIMIT:
        return np.empty(shape, dtype)
    cache = getattr(_SCRATCH, "arrays", None)
    if cache is None:
        cache = _SCRATCH.arrays = {}
    key = (name, shape, dtype)
    array = cache.get(key)
    if array is None:
        if len(cache) >= 12:  # a model with many shapes: keep the cache small
            cache.clear()
        array = cache[key] = np.empty(shape, dtype)
    return array
_NAMES = {"lstm": "lstm", "gru": "gru", "rnn_tanh": "rnn", "rnn_relu": "rnn"}


def _sigmoid_(a):
    """σ(a) in place (four ufunc calls; exp overflow for very negative a gives exactly 0)."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1.0
    np.reciprocal(a, out=a)
    return a


def _check(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
    op = _NAMES[mode]
    G = _GATES[mode]
    if x.data.ndim != 3:
        raise ValueError(f"{op}: expected a 3-D (T, B, input_size) input, got shape {x.shape}")
    T, B, I = x.shape
    if w_ih.data.ndim != 2 or w_ih.shape[0] % G or w_ih.shape[1] != I:
        raise ValueError(f"{op}: input has {I} features (input_size) but weight_ih has shape "
                         f"{w_ih.shape}, expected ({G}*hidden_size, {I})")
    H = w_ih.shape[0] // G
    if w_hh.shape != (G * H, H):
        raise ValueError(f"{op}: weight_hh has shape {w_hh.shape}, expected {(G * H, H)}")
    for b, name in ((b_ih, "bias_ih"), (b_hh, "bias_hh")):
        if b is not None and b.shape != (G * H,):
            raise ValueError(f"{op}: {name} has shape {b.shape}, expected {(G * H,)}")
    for s, name in ((h0, "h0"), (c0, "c0")):
        if s is not None and s.shape != (B, H):
            raise ValueError(f"{op}: expected {name} of shape {(B, H)} (batch, hidden_size), "
                             f"got {s.shape}")
    if T == 0:
        raise ValueError(f"{op}: the input sequence is empty (shape {x.shape})")
    return T, B, I, H, G


def recurrent_layer(mode, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """One recurrent layer over the whole sequence as one graph node (see the module docs).

    ``mode`` is ``'lstm'``, ``'gru'``, ``'rnn_tanh'`` or ``'rnn_relu'``; ``h0`` / ``c0`` may be
    None (zeros); ``reverse=True`` runs from the last time step to the first (the backward
    direction of a bidirectional layer), writing outputs at their own time positions.
    Returns the node: ``(T, B, H)`` hidden states (``(T + 1, B, H)`` with ``c_n`` last for
    LSTM).
    """
    if mode not in _GATES:
        raise ValueError(f"recurrent_layer: mode must be one of {sorted(_GATES)}, got {mode!r}")
    x, w_ih, w_hh = as_tensor(x), as_tensor(w_ih), as_tensor(w_hh)
    h0, c0, b_ih, b_hh = (None if t is None else as_tensor(t) for t in (h0, c0, b_ih, b_hh))
    if mode != "lstm":
        c0 = None
    T, B, I, H, G = _check(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    dtype = np.result_type(x.data, w_ih.data)
    X = x.data.astype(dtype, copy=False)
    W_ih = w_ih.data.astype(dtype, copy=False)
    W_hh = w_hh.data.astype(dtype, copy=False)
    h = np.zeros((B, H), dtype) if h0 is None else h0.data.astype(dtype, copy=False)
    order = range(T - 1, -1, -1) if reverse else range(T)

    with small_products():  # BLAS threads: see ops/_blas.py
        # All steps' input projections (and the biases that simply add) in one product. For the
        # LSTM, tanh(a) = 2σ(2a) − 1: the g gate's rows are doubled (weights and biases) so that
        # one σ call activates all four gates at each step.
        W_in = W_ih
        if mode == "lstm":
            W_in = W_ih.copy()
            W_in[2 * H:3 * H] *= 2
        P = (X.reshape(T * B, I) @ W_in.T).reshape(T, B, G, H)
        bias = np.zeros((G, H), dtype) if b_ih is not None or b_hh is not None else None
        if b_ih is not None:
            bias += b_ih.data.reshape(G, H)
        if b_hh is not None:
            if mode == "gru":
                bias[:2] += b_hh.data.reshape(G, H)[:2]  # b_hn sits inside r⊙(·)
            else:
                bias += b_hh.data.reshape(G, H)
        if mode == "lstm" and bias is not None:
            bias[2] *= 2
        if bias is not None:
            P += bias  # one pass over the projections for both biases
        W_hh_T = W_hh.T

        if mode == "lstm":
            out = np.empty((T + 1, B, H), dtype)
            c = np.zeros((B, H), dtype) if c0 is None else c0.data.astype(dtype, copy=False)
            W_hh_T = W_hh_T.copy()
            W_hh_T[:, 2 * H:3 * H] *= 2
            A = P  # activated in place, step by step
            C = np.empty((T, B, H), dtype)
            tanh_C = np.empty((T, B, H), dtype)
            with np.errstate(over="ignore"):
                for t in order:
                    a = A[t].reshape(B, 4 * H)
                    a += h @ W_hh_T
                    _sigmoid_(a)
                    g = A[t, :, 2]
                    g *= 2
                    g -= 1
                    c_t = C[t]
                    np.multiply(A[t, :, 1], c, out=c_t)
                    c_t += A[t, :, 0] * g
                    np.tanh(c_t, out=tanh_C[t])
                    h = np.multiply(A[t, :, 3], tanh_C[t], out=out[t])
                    c = c_t
            out[T] = c
            saved = (A, C, tanh_C)
        elif mode == "gru":
            out = np.empty((T, B, H), dtype)
            b_hn = None if b_hh is None else b_hh.data.reshape(G, H)[2]
            RZ = P[:, :, :2]  # r, z activated in place
            N = P[:, :, 2]  # n activated in place
            HN = np.empty((T, B, H), dtype)  # W_hn h + b_hn, needed for dr
            with np.errstate(over="ignore"):
                for t in order:
                    gh = (h @ W_hh_T).reshape(B, 3, H)
                    rz = RZ[t]
                    rz += gh[:, :2]
                    _sigmoid_(rz)
                    hn = HN[t]
                    if b_hn is None:
                        hn[...] = gh[:, 2]
                    else:
                        np.add(gh[:, 2], b_hn, out=hn)
                    n = N[t]
                    n += rz[:, 0] * hn
                    np.tanh(n, out=n)
                    h_new = np.subtract(h, n, out=out[t])  # h' = n + z⊙(h − n)
                    h_new *= rz[:, 1]
                    h_new += n
                    h = h_new
            saved = (P, HN)
        else:
            out = np.empty((T, B, H), dtype)
            pre = P.reshape(T, B, H)
            for t in order:
                a = pre[t]
                a += h @ W_hh_T
                if mode == "rnn_tanh":
                    h = np.tanh(a, out=out[t])
                else:
                    h = np.maximum(a, 0, out=out[t])
            saved = ()

    parents = [x, w_ih, w_hh]
    flags = []
    for t in (h0, c0, b_ih, b_hh):
        flags.append(t is not None)
        if t is not None:
            parents.append(t)
    info = (mode, reverse, X, h0 is not None and h0.data.astype(dtype, copy=False),
            c0 is not None and c0.data.astype(dtype, copy=False), W_ih, W_hh, tuple(flags))
    return node(out, parents, _NAMES[mode], _recurrent_backward, (info, saved))


def _previous(seq, first, reverse):
    """States entering each time step, in time order: the sequence shifted by one step."""
    prev = np.empty_like(seq)
    if reverse:
        prev[:-1] = seq[1:]
        prev[-1] = first
    else:
        prev[1:] = seq[:-1]
        prev[0] = first
    return prev


def _recurrent_backward(g, node):
    (mode, reverse, X, h0, c0, W_ih, W_hh, flags), saved = node._saved
    T, B, I = X.shape
    G = _GATES[mode]
    H = W_hh.shape[1]
    dtype = X.dtype
    out = node.data
    order = range(T) if reverse else range(T - 1, -1, -1)  # processing order, reversed
    zeros = np.zeros((B, H), dtype)
    h_first = zeros if h0 is False else h0
    dY = g[:T]
    dG = _scratch("dG", (T, B, G, H), dtype)  # gradients of the pre-activation gates
    dh = zeros
    dc = None
    with small_products():  # BLAS threads: see ops/_blas.py
        if mode == "lstm":
            A, C, tanh_C = saved
            dc = g[T].astype(dtype, copy=True)
            c_first = zeros if c0 is False else c0
            step = 1 if reverse else -1  # the step that ran before step t
            # Vectorised over all steps, in place (no temporaries the size of A):
            # σ' = s(1 − s), tanh' = 1 − g², and ∂h/∂c = o(1 − tanh²c).
            D = np.subtract(1, A, out=_scratch("D", A.shape, dtype))
            D *= A
            g_act = A[:, :, 2]
            np.multiply(g_act, g_act, out=D[:, :, 2])
            np.subtract(1, D[:, :, 2], out=D[:, :, 2])
            K = np.multiply(tanh_C, tanh_C, out=_scratch("K", tanh_C.shape, dtype))
            np.subtract(1, K, out=K)
            K *= A[:, :, 3]
            dh_t = np.empty((B, H), dtype)
            W_hh_g = W_hh.reshape(G * H, H)
            for t in order:
                np.add(dY[t], dh, out=dh_t)
                dc += dh_t * K[t]
                dg = dG[t]
                c_prev = c_first if t == order[-1] else C[t + step]
                np.multiply(dc, A[t, :, 2], out=dg[:, 0])  # di = dc⊙g
                np.multiply(dc, c_prev, out=dg[:, 1])  # df = dc⊙c₋₁
                np.multiply(dc, A[t, :, 0], out=dg[:, 2])  # dg = dc⊙i
                np.multiply(dh_t, tanh_C[t], out=dg[:, 3])
                dg *= D[t]
                dc *= A[t, :, 1]
                dh = dg.reshape(B, G * H) @ W_hh_g
            dGh = dG
        elif mode == "gru":
            P, HN = saved
            R, Z, N = P[:, :, 0], P[:, :, 1], P[:, :, 2]
            H_prev = _previous(out, h_first, reverse)
            dGh = _scratch("dGh", (T, B, G, H), dtype)
            dh_t = np.empty((B, H), dtype)
            for t in order:
                np.add(dY[t], dh, out=dh_t)
                r, z, n = R[t], Z[t], N[t]
                dp = dG[t]
                dan = np.multiply(dh_t, 1 - z, out=dp[:, 2])
                dan *= 1 - n * n
                dar = np.multiply(dan, HN[t], out=dp[:, 0])
                dar *= r * (1 - r)
                daz = np.multiply(dh_t, H_prev[t] - n, out=dp[:, 1])
                daz *= z * (1 - z)
                dgh = dGh[t]
                dgh[:, :2] = dp[:, :2]
                np.multiply(dan, r, out=dgh[:, 2])
                dh = dgh.reshape(B, G * H) @ W_hh
                dh += dh_t * z
        else:
            dh_t = np.empty((B, H), dtype)
            for t in order:
                np.add(dY[t], dh, out=dh_t)
                d = dG[t, :, 0]
                if mode == "rnn_tanh":
                    np.multiply(dh_t, 1 - out[t] * out[t], out=d)
                else:
                    np.multiply(dh_t, out[t] > 0, out=d)
                dh = d @ W_hh
            dGh = dG

        parents = node.parents
        x, w_ih, w_hh = parents[:3]
        dG2 = dG.reshape(T * B, G * H)
        dGh2 = dGh.reshape(T * B, G * H)
        gx = (dG2 @ W_ih).reshape(T, B, I) if x.requires_grad else None
        gw_ih = dG2.T @ X.reshape(T * B, I) if w_ih.requires_grad else None
        gw_hh = None
        if w_hh.requires_grad:
            if mode == "gru":
                gw_hh = dGh2.T @ H_prev.reshape(T * B, H)
            else:  # Σ_t dGₜᵀ hₜ₋₁ without building the shifted sequence: the steps after the
                # first read the outputs, the first reads h0
                first, rest, prev = (T - 1, slice(0, T - 1), slice(1, T)) if reverse else (
                    0, slice(1, T), slice(0, T - 1))
                gw_hh = dGh[rest].reshape(-1, G * H).T @ out[prev].reshape(-1, H)
                if h0 is not False:
                    gw_hh += dGh[first].reshape(B, G * H).T @ h_first
        grads = [gx, gw_ih, gw_hh]
    has_h0, has_c0, has_b_ih, has_b_hh = flags
    if has_h0:
        grads.append(dh)
    if has_c0:
        grads.append(dc)
    db = dG2.sum(axis=0) if has_b_ih or has_b_hh else None
    if has_b_ih:
        grads.append(db)
    if has_b_hh:
        grads.append(db if dGh is dG else dGh2.sum(axis=0))  # LSTM/RNN: the same sum
    return tuple(grads)


def _unpack(mode, y, reverse):
    T = y.shape[0] - (mode == "lstm")
    last = 0 if reverse else T - 1
    output = getitem(y, slice(0, T)) if mode == "lstm" else y
    return output, getitem(y, last)


def lstm_layer(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """One LSTM layer over a time-major sequence: ``(output (T,B,H), h_n (B,H), c_n (B,H))``.

    >>> import chainrule as cr
    >>> out, h, c = lstm_layer(cr.ones(3, 1, 2), None, None, cr.zeros(8, 2), cr.zeros(8, 2))
    >>> out.tolist()[0], c.tolist()  # all gates ½, g = 0: nothing is stored
    ([[0.0, 0.0]], [[0.0, 0.0]])
    """
    y = recurrent_layer("lstm", x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)
    output, h_n = _unpack("lstm", y, reverse)
    return output, h_n, getitem(y, y.shape[0] - 1)


def gru_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """One GRU layer over a time-major sequence: ``(output (T,B,H), h_n (B,H))``.

    >>> import chainrule as cr
    >>> out, h = gru_layer(cr.ones(4, 2, 3), None, cr.zeros(6, 3), cr.zeros(6, 2))
    >>> out.shape, h.tolist()  # n = 0 and z = ½ keep h at zero
    ((4, 2, 2), [[0.0, 0.0], [0.0, 0.0]])
    """
    y = recurrent_layer("gru", x, h0, None, w_ih, w_hh, b_ih, b_hh, reverse)
    return _unpack("gru", y, reverse)


def rnn_layer(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh", reverse=False):
    """One Elman RNN layer (``tanh`` or ``relu``): ``(output (T,B,H), h_n (B,H))``.

    >>> import chainrule as cr
    >>> out, h = rnn_layer(cr.ones(2, 1, 1), None, cr.ones(1, 1), cr.ones(1, 1),
    ...                    nonlinearity="relu")
    >>> out.tolist()  # h₁ = 1, h₂ = 1 + 1
    [[[1.0]], [[2.0]]]
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    mode = f"rnn_{nonlinearity}"
    y = recurrent_layer(mode, x, h0, None, w_ih, w_hh, b_ih, b_hh, reverse)
    return _unpack(mode, y, reverse)


__all__ = ["gru_layer", "lstm_layer", "recurrent_layer", "rnn_layer"]
