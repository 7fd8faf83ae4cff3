"""Convolution primitives: ``conv2d``, ``conv1d`` and ``pad``, forward and backward side by side.

A convolution (PyTorch's: a cross-correlation) is one matrix product on *im2col* columns::

    out[n, o, y, x] = b[o] + Σ_{c, i, j} w[o, c, i, j] · xp[n, c, y·s + i·d, x·s + j·d]

``xp`` is the padded input. The work is done in the *batch-last* layout ``(C, H, W, N)``:
the columns ``cols[(c, i, j), (y, x, n)]`` are a strided view of ``xp`` (no Python loop over
pixels, samples or channels) copied once with long contiguous runs of ``OW·N`` values, and
``out = W₂ @ cols`` is one GEMM with ``W₂ = w.reshape(O, C·kh·kw)`` (per group). The backward
pass reuses the saved columns::

    dW₂ = g @ colsᵀ,   db = Σ_{y, x, n} g,   dcols = W₂ᵀ @ g

and ``dx`` is *col2im*: each of the ``kh·kw`` kernel offsets adds its slice of ``dcols`` into a
strided slice of the padded input's gradient (within one offset the slices never overlap).

Memory order: the output is PyTorch's ``(N, O, OH, OW)``, returned as a transposed view of
the batch-last product rather than copied. NumPy's elementwise ops keep that order, and so do
the pooling primitives, so the next convolution finds its batch-last input already in place:
a LeNet-style stack moves no data between layouts (values are the same either way).

>>> import chainrule as cr, numpy as np
>>> x = cr.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
>>> conv2d(x, cr.tensor(np.ones((1, 1, 2, 2)))).shape
(1, 1, 3, 3)
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from chainrule.ops.base import as_tensor, needs_grad, node

__all__ = ["conv1d", "conv2d", "pad"]


# --------------------------------------------------------------------------- argument helpers
def ntuple(value, n, op, what):
    """``value`` (an int or a sequence of ``n`` ints) as a tuple of ``n`` Python ints."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    try:
        values = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(
            f"{op}: {what} must be an int or a tuple of {n} ints, got {value!r}") from None
    if len(values) != n:
        raise ValueError(f"{op}: {what} must be an int or a tuple of {n} ints, got {value!r}")
    return values


def positive_tuple(value, n, op, what):
    values = ntuple(value, n, op, what)
    if any(v <= 0 for v in values):
        raise ValueError(f"{op}: {what} must be positive, got {value!r}")
    return values


def _conv_padding(padding, kernel, dilation, stride, op):
    """Padding as ``((before, after), ...)`` per spatial axis; ``'same'`` may be asymmetric
    (PyTorch puts the odd extra on the after side)."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride})")
            totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in totals)
        raise ValueError(f"{op}: padding must be 'same', 'valid', an int or a tuple, got "
                         f"{padding!r}")
    pads = ntuple(padding, n, op, "padding")
    if any(p < 0 for p in pads):
        raise ValueError(f"{op}: padding must be non-negative, got {padding!r}")
    return tuple((p, p) for p in pads)


def pad_array(x, pads, value=0.0):
    """``x`` (N, C, H, W) padded with ``value`` by ``((top, bottom), (left, right))``; ``x``
    itself when there is nothing to pad."""
    (t, b), (lf, r) = pads
    if not (t or b or lf or r):
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + t + b, w + lf + r), value, dtype=x.dtype)
    out[:, :, t:t + h, lf:lf + w] = x
    return out


def offset_slice(i, j, out_size, stride, dilation):
    """The index of kernel offset ``(i, j)``'s inputs in the padded input, for every output."""
    (oh, ow), (sh, sw), (dh, dw) = out_size, stride, dilation
    return (slice(None), slice(None), slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
            slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))


def _out_size(op, padded, kernel, stride, dilation, raw, pads):
    sizes = []
    for axis, (p, k, s, d) in enumerate(zip(padded, kernel, stride, dilation)):
        span = d * (k - 1) + 1
        if p < span:
            pad_note = "" if not any(pads[axis]) else f" (input {raw[axis]} + padding {pads[axis]})"
            raise ValueError(
                f"{op}: kernel size {tuple(kernel)} (dilated extent {span} on spatial axis "
                f"{axis}) is larger than the padded input {tuple(padded)}{pad_note}")
        sizes.append((p - span) // s + 1)
    return tuple(sizes)


# --------------------------------------------------------------------------- conv2d / conv1d
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) of ``input (N, C, H, W)`` (or unbatched
    ``(C, H, W)``) with ``weight (O, C/groups, kh, kw)`` and optional ``bias (O,)``, as
    ``torch.nn.functional.conv2d``. Output ``(N, O, OH, OW)`` with
    ``OH = ⌊(H + pt + pb − d·(kh − 1) − 1) / s⌋ + 1``.

    ``stride``, ``dilation``: an int or a pair; ``padding``: an int, a pair, ``'valid'`` (0)
    or ``'same'`` (output size = input size; stride 1 only). ``groups`` splits the channels
    into independent convolutions. One graph node; see the module docstring for the rule.

    >>> import chainrule as cr, numpy as np
    >>> x = cr.tensor(np.ones((2, 3, 5, 5), np.float32))
    >>> w = cr.tensor(np.ones((4, 3, 3, 3), np.float32))
    >>> conv2d(x, w, padding=1).shape, conv2d(x, w, stride=2).shape
    ((2, 4, 5, 5), (2, 4, 2, 2))
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of ``input (N, C, L)`` (or ``(C, L)``) with ``weight (O, C/groups, k)``,
    as ``torch.nn.functional.conv1d``; computed as a 2-D convolution of height 1.

    >>> import chainrule as cr, numpy as np
    >>> x = cr.tensor(np.array([[[1.0, 2.0, 3.0, 4.0]]]))
    >>> conv1d(x, cr.tensor(np.array([[[1.0, -1.0]]]))).tolist()
    [[[-1.0, -1.0, -1.0]]]
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def _conv(op, nd, input, weight, bias, stride, padding, dilation, groups):
    x, w = as_tensor(input), as_tensor(weight)
    xd, wd = x.data, w.data
    if xd.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{op}: expected a {nd + 2}-D batched or {nd + 1}-D unbatched input, "
                         f"got shape {xd.shape}")
    if wd.ndim != nd + 2:
        raise ValueError(f"{op}: expected a {nd + 2}-D weight (out_channels, in_channels/groups, "
                         f"*kernel), got shape {wd.shape}")
    if xd.dtype.kind != "f" or wd.dtype.kind != "f":
        raise TypeError(f"{op}: expected floating-point input and weight, got {xd.dtype} and "
                        f"{wd.dtype}")
    groups = int(groups)
    unbatched = xd.ndim == nd + 1
    x4 = xd[None] if unbatched else xd
    w4 = wd
    if nd == 1:
        x4, w4 = x4[:, :, None, :], wd[:, :, None, :]
    n, c, h, width = x4.shape
    o, cg, kh, kw = w4.shape
    if groups <= 0:
        raise ValueError(f"{op}: groups must be positive, got {groups}")
    if c % groups or o % groups:
        raise ValueError(f"{op}: groups={groups} must divide both in_channels ({c}) and "
                         f"out_channels ({o})")
    if cg * groups != c:
        raise ValueError(f"{op}: expected input with {cg * groups} channels (weight {wd.shape}, "
                         f"groups={groups}), got {c} channels (input shape {xd.shape})")
    kernel = (kh, kw)
    if nd == 1:
        stride = (1,) + positive_tuple(stride, 1, op, "stride")
        dilation = (1,) + positive_tuple(dilation, 1, op, "dilation")
        pads = ((0, 0),) + _conv_padding(padding, (kw,), dilation[1:], stride[1:], op)
    else:
        stride = positive_tuple(stride, 2, op, "stride")
        dilation = positive_tuple(dilation, 2, op, "dilation")
        pads = _conv_padding(padding, kernel, dilation, stride, op)
    b = None
    if bias is not None:
        b = as_tensor(bias)
        if b.data.shape != (o,):
            raise ValueError(f"{op}: bias must have shape ({o},), got {b.data.shape}")
    padded = (h + sum(pads[0]), width + sum(pads[1]))
    spatial = slice(2 - nd, 2)  # the axes the caller sees (conv1d: the width only)
    out_size = (1,) * (2 - nd) + _out_size(op, padded[spatial], kernel[spatial],
                                           stride[spatial], dilation[spatial],
                                           (h, width)[spatial], pads[spatial])
    oh, ow = out_size
    xt = _to_batch_last(x4, pads)
    # im2col: one copy of the strided windows, laid out (groups, Cg·kh·kw, OH·OW·N)
    cols = batch_last_windows(xt, kernel, out_size, stride, dilation)
    cols = cols.reshape(groups, cg * kh * kw, oh * ow * n)
    w2 = w4.reshape(groups, o // groups, cg * kh * kw)
    prod = np.matmul(w2, cols).reshape(o, oh, ow, n)  # one GEMM per group
    if b is not None:
        prod += b.data.astype(prod.dtype, copy=False)[:, None, None, None]
    # The result is (N, O, OH, OW) as PyTorch's, returned as a transposed *view* of the
    # batch-last product: no copy. Elementwise ops and pooling keep that memory order, and the
    # next convolution's batch-last input is then free (see the module docstring).
    out = prod.transpose(3, 0, 1, 2)
    if nd == 1:
        out = out[:, :, 0]
    if unbatched:
        out = out[0]
    parents = (x, w) if b is None else (x, w, b)
    saved = None
    if needs_grad(*parents):
        geometry = ((c,) + padded, pads, kernel, stride, dilation, out_size, groups)
        saved = (cols if w.requires_grad else None, w2, geometry)
    return node(out, parents, op, _conv_backward, saved)


def _to_batch_last(x4, pads):
    """``x4 (N, C, H, W)`` zero-padded and laid out ``(C, H', W', N)`` in one copy: im2col and
    col2im then move runs of ``OW·N`` contiguous values instead of ``OW``."""
    n, c, h, w = x4.shape
    (t, b), (lf, r) = pads
    if not (t or b or lf or r):
        return np.ascontiguousarray(x4.transpose(1, 2, 3, 0))
    xt = np.zeros((c, h + t + b, w + lf + r, n), dtype=x4.dtype)
    xt[:, t:t + h, lf:lf + w] = x4.transpose(1, 2, 3, 0)
    return xt


def batch_last_windows(xt, kernel, out_size, stride, dilation):
    """The view ``v[c, i, j, y, x, n] = xt[c, y·sh + i·dh, x·sw + j·dw, n]`` of a batch-last
    array."""
    sc, sh, sw, sn = xt.strides
    shape = (xt.shape[0],) + tuple(kernel) + tuple(out_size) + (xt.shape[3],)
    strides = (sc, sh * dilation[0], sw * dilation[1], sh * stride[0], sw * stride[1], sn)
    return as_strided(xt, shape, strides, writeable=False)


def _conv_backward(g, node):
    cols, w2, (padded, pads, kernel, stride, dilation, out_size, groups) = node._saved
    x, w = node.parents[0], node.parents[1]
    c = padded[0]
    o = w.data.shape[0]
    kh, kw = kernel
    oh, ow = out_size
    g4 = g.reshape(-1, o, oh, ow)  # a view (unbatched and 1-D forms only add unit axes)
    n = g4.shape[0]
    gx = gw = gb = None
    gt = np.ascontiguousarray(g4.transpose(1, 2, 3, 0))  # free when g is batch-last already
    if len(node.parents) == 3 and node.parents[2].requires_grad:
        gb = gt.reshape(o, -1).sum(axis=1).astype(node.parents[2].data.dtype, copy=False)
    if not (w.requires_grad or x.requires_grad):
        return (gx, gw, gb)
    gt = gt.reshape(groups, o // groups, -1)
    if w.requires_grad:
        gw = np.matmul(gt, cols.transpose(0, 2, 1))  # dW₂ = g @ colsᵀ, per group
        gw = gw.reshape(w.data.shape).astype(w.data.dtype, copy=False)
    if x.requires_grad:
        gcols = np.matmul(w2.transpose(0, 2, 1), gt)  # (groups, Cg·kh·kw, OH·OW·N)
        gcols = gcols.reshape(c, kh, kw, oh, ow, n)
        gxt = np.zeros(padded + (n,), dtype=np.result_type(gcols.dtype, x.data.dtype))
        for i in range(kh):  # col2im: kh·kw strided adds, each over all samples and channels
            for j in range(kw):
                gxt[offset_slice(i, j, out_size, stride, dilation)[1:]] += gcols[:, i, j]
        (t, _), (lf, _) = pads
        h, width = padded[1] - sum(pads[0]), padded[2] - sum(pads[1])
        gx4 = gxt[:, t:t + h, lf:lf + width].transpose(3, 0, 1, 2)  # a view, as the output
        gx = gx4.reshape(x.data.shape).astype(x.data.dtype, copy=False)
    return (gx, gw) if len(node.parents) == 2 else (gx, gw, gb)


# --------------------------------------------------------------------------- pad
_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_pairs(pad, ndim, op):
    """PyTorch's pad spec ``(last_before, last_after, prev_before, ...)`` as per-axis pairs."""
    try:
        pad = [int(p) for p in pad]
    except TypeError:
        raise TypeError(f"{op}: pad must be a sequence of ints, got {pad!r}") from None
    if len(pad) % 2 or len(pad) // 2 > ndim:
        raise ValueError(f"{op}: pad must have an even length of at most 2 × {ndim} (the "
                         f"input's dims), got {len(pad)} values {tuple(pad)}")
    pairs = [(0, 0)] * ndim
    for k in range(len(pad) // 2):
        pairs[ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    return pairs


def _source_index(size, before, after, mode):
    """For each output position along one axis, the input position it copies."""
    positions = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":
        return positions % size
    period = 2 * (size - 1)  # reflect without repeating the edge
    folded = np.abs(positions) % period if period else np.zeros_like(positions)
    return np.where(folded >= size, period - folded, folded)


def pad(input, pad, mode="constant", value=0.0):
    """Pad ``input`` as ``torch.nn.functional.pad``: ``pad`` lists ``(before, after)`` pairs
    starting from the *last* axis, e.g. ``(left, right, top, bottom)`` for images.

    ``mode='constant'`` fills with ``value`` (negative pads crop); ``'reflect'`` mirrors without
    repeating the edge, ``'replicate'`` repeats the edge, ``'circular'`` wraps around. Backward
    of constant padding takes the un-padded slice of the gradient; of the other modes, it adds
    each output's gradient into the input position it was copied from.

    >>> import chainrule as cr
    >>> pad(cr.tensor([[1.0, 2.0]]), (1, 2)).tolist()
    [[0.0, 1.0, 2.0, 0.0, 0.0]]
    >>> pad(cr.tensor([[[1.0, 2.0, 3.0]]]), (2, 1), mode="reflect").tolist()
    [[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]]
    """
    op = "pad"
    x = as_tensor(input)
    xd = x.data
    if mode not in _PAD_MODES:
        raise ValueError(f"{op}: mode must be one of {', '.join(_PAD_MODES)}, got {mode!r}")
    pairs = _pad_pairs(pad, xd.ndim, op)
    if mode == "constant":
        out_shape = tuple(s + b + a for s, (b, a) in zip(xd.shape, pairs))
        if any(s < 0 for s in out_shape):
            raise ValueError(f"{op}: padding {tuple(pad)} of an input of shape {xd.shape} gives "
                             f"a negative size {out_shape}")
        src = tuple(slice(max(-b, 0), s - max(-a, 0)) for s, (b, a) in zip(xd.shape, pairs))
        dst = tuple(slice(max(b, 0), max(b, 0) + max(s - max(-b, 0) - max(-a, 0), 0))
                    for s, (b, a) in zip(xd.shape, pairs))
        out = np.full(out_shape, value, dtype=xd.dtype)
        out[dst] = xd[src]
        return node(out, (x,), op, _pad_constant_backward, (src, dst))
    padded_axes = [ax for ax, (b, a) in enumerate(pairs) if b or a]
    indices = []
    for ax in padded_axes:
        b, a = pairs[ax]
        size = xd.shape[ax]
        if b < 0 or a < 0:
            raise ValueError(f"{op}: {mode} padding must be non-negative, got {tuple(pad)}")
        if mode == "reflect" and (b >= size or a >= size):
            raise ValueError(f"{op}: reflect padding ({b}, {a}) must be smaller than the "
                             f"padded axis's size {size} (input shape {xd.shape})")
        if mode == "circular" and (b > size or a > size):
            raise ValueError(f"{op}: circular padding ({b}, {a}) must be at most the padded "
                             f"axis's size {size} (input shape {xd.shape})")
        if size == 0:
            raise ValueError(f"{op}: cannot {mode}-pad an empty axis (input shape {xd.shape})")
        indices.append(_source_index(size, b, a, mode))
    out = xd
    for ax, idx in zip(padded_axes, indices):
        out = np.take(out, idx, axis=ax)
    return node(out, (x,), op, _pad_gather_backward, (padded_axes, indices))


def _pad_constant_backward(g, node):
    src, dst = node._saved
    x = node.parents[0].data
    gx = np.zeros(x.shape, dtype=x.dtype)
    gx[src] = g[dst]
    return (gx,)


def _pad_gather_backward(g, node):
    axes, indices = node._saved
    x = node.parents[0].data
    for ax, idx in zip(reversed(axes), reversed(indices)):
        # adjoint of np.take along ax: a 0/1 matrix product, M[out_pos, in_pos] = 1
        onehot = (idx[:, None] == np.arange(x.shape[ax])).astype(g.dtype)
        g = np.moveaxis(np.moveaxis(g, ax, -1) @ onehot, -1, ax)
    return (np.ascontiguousarray(g, dtype=x.dtype),)
