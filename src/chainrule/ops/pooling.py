"""Pooling primitives: ``max_pool2d``, ``avg_pool2d``, their 1-D forms, ``adaptive_avg_pool2d``
and ``adaptive_max_pool2d``, each forward beside its backward.

A window of ``kh × kw`` offsets slides with a stride. Both pools loop over the ``kh·kw``
*kernel offsets* (not over pixels, samples or channels): offset ``(i, j)`` sees the strided
slice ``xp[:, :, i·d::s, j·d::s]`` of the padded input, one value per output position.

- max: ``out = max over offsets``; the first offset holding the maximum is remembered, and
  backward sends ``g`` to it (PyTorch's tie rule).
- average: ``out = Σ slices / divisor``; backward adds ``g / divisor`` into every offset's slice.

Adaptive average pooling is ``A_h @ x @ A_wᵀ`` with averaging matrices built from PyTorch's
window formula ``start = ⌊i·H/OH⌋, end = ⌈(i+1)·H/OH⌉``; its backward is ``A_hᵀ @ g @ A_w``.

>>> import chainrule as cr, numpy as np
>>> x = cr.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
>>> max_pool2d(x, 2).tolist(), avg_pool2d(x, 2).tolist()
([[[[5.0, 7.0], [13.0, 15.0]]]], [[[[2.5, 4.5], [10.5, 12.5]]]])
"""

import math

import numpy as np

from chainrule.ops.base import as_tensor, needs_grad, node
from chainrule.ops.conv import ntuple, offset_slice, pad_array, positive_tuple
from chainrule.tensor import _wrap

__all__ = ["adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool1d", "avg_pool2d",
           "max_pool1d", "max_pool2d"]


def _pool_out(op, size, k, s, p, d, ceil_mode):
    """PyTorch's pooling output size, with the ceil-mode rule that the last window must start
    inside the input or its left padding."""
    if p < 0:
        raise ValueError(f"{op}: padding must be non-negative, got {p}")
    if p * 2 > k:
        raise ValueError(f"{op}: padding should be at most half of the kernel size, got "
                         f"padding {p} for kernel size {k}")
    span = d * (k - 1) + 1
    numerator = size + 2 * p - span + ((s - 1) if ceil_mode else 0)
    out = numerator // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    if out <= 0 or size + 2 * p < span:
        raise ValueError(f"{op}: kernel size {k} (dilated extent {span}) is larger than the "
                         f"padded input size {size + 2 * p} (input {size} + padding 2×{p})")
    return out


def _prepare(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode):
    """Shared argument handling: the 4-D array, the geometry and how to shape the result."""
    x = as_tensor(input)
    xd = x.data
    if xd.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{op}: expected a {nd + 2}-D batched or {nd + 1}-D unbatched input, "
                         f"got shape {xd.shape}")
    if xd.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {xd.dtype}")
    kernel = positive_tuple(kernel_size, nd, op, "kernel_size")
    empty = stride is None or (not isinstance(stride, (int, np.integer)) and len(stride) == 0)
    stride = kernel if empty else positive_tuple(stride, nd, op, "stride")  # torch: [] = default
    padding = ntuple(padding, nd, op, "padding")
    dilation = positive_tuple(dilation, nd, op, "dilation")
    x4 = xd[None] if xd.ndim == nd + 1 else xd
    if nd == 1:
        x4 = x4[:, :, None, :]
        kernel, stride, padding, dilation = ((1,) + kernel, (1,) + stride, (0,) + padding,
                                             (1,) + dilation)
    out_size = tuple(_pool_out(op, n, k, s, p, d, ceil_mode) for n, k, s, p, d in
                     zip(x4.shape[2:], kernel, stride, padding, dilation))
    # Pad the bottom/right far enough that the last (ceil-mode) window fits.
    pads = tuple((p, max(p, (o - 1) * s + d * (k - 1) + 1 - n - p)) for n, k, s, p, d, o in
                 zip(x4.shape[2:], kernel, stride, padding, dilation, out_size))
    result_shape = xd.shape[:-nd] + out_size[2 - nd:]
    return x, x4, (kernel, stride, padding, dilation, out_size, pads), result_shape


def _offsets(kernel):
    return [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]


# --------------------------------------------------------------------------- max pooling
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max pooling of ``input (N, C, H, W)`` (or ``(C, H, W)``), as
    ``torch.nn.functional.max_pool2d``: ``stride`` defaults to ``kernel_size``; padding counts
    as −∞; ``ceil_mode`` rounds the output size up. ``return_indices=True`` also returns the
    flat ``H·W`` index of each maximum (int64, as PyTorch).

    >>> import chainrule as cr, numpy as np
    >>> x = cr.tensor(np.arange(9.0).reshape(1, 1, 3, 3))
    >>> max_pool2d(x, 2, stride=1).tolist()
    [[[[4.0, 5.0], [7.0, 8.0]]]]
    >>> max_pool2d(x, 2, ceil_mode=True, return_indices=True)[1].tolist()
    [[[[4, 5], [7, 8]]]]
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max pooling of ``input (N, C, L)`` (or ``(C, L)``), as ``torch.nn.functional.max_pool1d``.

    >>> import chainrule as cr
    >>> max_pool1d(cr.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
    [[[3.0, 2.0]]]
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def _max_pool(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, x4, geometry, result_shape = _prepare(op, nd, input, kernel_size, stride, padding,
                                             dilation, ceil_mode)
    kernel, stride, padding, dilation, out_size, pads = geometry
    xp = pad_array(x4, pads, -np.inf)
    slices = [offset_slice(i, j, out_size, stride, dilation) for i, j in _offsets(kernel)]
    # the running maximum over the offsets' strided slices; ufuncs keep the input's memory
    # order (a convolution's batch-last output stays batch-last)
    best = np.copy(xp[slices[0]], order="K") if len(slices) == 1 else \
        np.maximum(xp[slices[0]], xp[slices[1]])
    for where in slices[2:]:
        np.maximum(best, xp[where], out=best)
    saved = (xp, best, slices, pads) if needs_grad(x) else None
    y = node(best.reshape(result_shape), (x,), op, _max_pool_backward, saved)
    if not return_indices:
        return y
    hits = np.stack([xp[where] == best for where in slices], axis=2)
    which = np.argmax(hits, axis=2)  # the first maximum in window order, as PyTorch
    rows, cols = _window_positions(which, _offsets(kernel), stride, dilation, pads, out_size)
    flat = rows * x4.shape[3] + cols
    return y, _wrap(flat.reshape(result_shape))


def _window_positions(which, offsets, stride, dilation, pads, out_size):
    """Input row and column of the chosen offset of every window (unpadded coordinates)."""
    di = np.array([i for i, _ in offsets], dtype=np.int64)[which]
    dj = np.array([j for _, j in offsets], dtype=np.int64)[which]
    oy = np.arange(out_size[0], dtype=np.int64)[:, None] * stride[0] - pads[0][0]
    ox = np.arange(out_size[1], dtype=np.int64)[None, :] * stride[1] - pads[1][0]
    return oy + di * dilation[0], ox + dj * dilation[1]


def _max_pool_backward(g, node):
    xp, best, slices, pads = node._saved
    x = node.parents[0].data
    rest = np.empty_like(best, dtype=x.dtype)  # in the output's memory order
    rest[...] = g.reshape(best.shape)
    gxp = _zeros_like_layout(xp)
    share = np.empty_like(rest)
    hit = np.empty_like(best, dtype=bool)
    for k, where in enumerate(slices):  # the first offset equal to the maximum takes g
        np.equal(xp[where], best, out=hit)
        np.multiply(rest, hit, out=share)
        gxp[where] += share  # each offset's windows are disjoint in the input
        if k < len(slices) - 1:
            rest -= share
    return (_crop(gxp, pads, x.shape),)


def _zeros_like_layout(a):
    """Zeros of ``a``'s shape and memory order (a batch-last view gets batch-last zeros)."""
    return np.zeros_like(a, order="K")


def _crop(gxp, pads, shape):
    (t, b), (lf, r) = pads
    return gxp[:, :, t:gxp.shape[2] - b, lf:gxp.shape[3] - r].reshape(shape)


# --------------------------------------------------------------------------- average pooling
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Average pooling of ``input (N, C, H, W)`` (or ``(C, H, W)``), as
    ``torch.nn.functional.avg_pool2d``. Each window's sum is divided by its size counting the
    zero padding (``count_include_pad=True``) or only the input cells it covers; the part of a
    ceil-mode window beyond the padding never counts. ``divisor_override`` fixes the divisor.

    >>> import chainrule as cr, numpy as np
    >>> x = cr.tensor(np.ones((1, 1, 2, 2)))
    >>> avg_pool2d(x, 2, stride=1, padding=1).tolist()[0][0][0]
    [0.25, 0.5, 0.25]
    >>> avg_pool2d(x, 2, stride=1, padding=1, count_include_pad=False).tolist()[0][0][0]
    [1.0, 1.0, 1.0]
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Average pooling of ``input (N, C, L)`` (or ``(C, L)``), as
    ``torch.nn.functional.avg_pool1d``.

    >>> import chainrule as cr
    >>> avg_pool1d(cr.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2).tolist()
    [[[2.0, 1.0]]]
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def _divisor_axis(size, k, s, p, out, count_include_pad):
    """Per output position along one axis: the window length PyTorch divides by."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def _avg_pool(op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    x, x4, geometry, result_shape = _prepare(op, nd, input, kernel_size, stride, padding, 1,
                                             ceil_mode)
    kernel, stride, padding, dilation, out_size, pads = geometry
    xp = pad_array(x4, pads, 0.0)
    slices = [offset_slice(i, j, out_size, stride, dilation) for i, j in _offsets(kernel)]
    total = np.copy(xp[slices[0]], order="K") if len(slices) == 1 else \
        np.add(xp[slices[0]], xp[slices[1]])
    for where in slices[2:]:
        total += xp[where]
    if divisor_override is not None:
        if int(divisor_override) == 0:
            raise ValueError(f"{op}: divisor_override must not be zero")
        scale = np.asarray(1.0 / int(divisor_override), dtype=x.data.dtype)
    else:
        rows, cols = (_divisor_axis(n, k, s, p, o, count_include_pad) for n, k, s, p, o in
                      zip(x4.shape[2:], kernel, stride, padding, out_size))
        with np.errstate(divide="ignore"):
            scale = (1.0 / (rows[:, None] * cols[None, :])).astype(x.data.dtype)
    total *= scale
    return node(total.reshape(result_shape), (x,), op, _avg_pool_backward,
                (scale, geometry, xp))


def _avg_pool_backward(g, node):
    scale, geometry, xp = node._saved
    kernel, stride, _, dilation, out_size, pads = geometry
    x = node.parents[0].data
    share = (g.reshape(xp.shape[:2] + out_size) * scale).astype(x.dtype, copy=False)
    gxp = _zeros_like_layout(xp)
    for i, j in _offsets(kernel):
        gxp[offset_slice(i, j, out_size, stride, dilation)] += share
    return (_crop(gxp, pads, x.shape),)


# --------------------------------------------------------------------------- adaptive pooling
def _adaptive_size(output_size, h, w, op):
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size, output_size)
    try:
        oh, ow = output_size
    except (TypeError, ValueError):
        raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size!r}") \
            from None
    oh, ow = (h if oh is None else int(oh)), (w if ow is None else int(ow))
    if oh <= 0 or ow <= 0:
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    return oh, ow


def _bounds(size, out):
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)  # ⌊i·n/o⌋, ⌈(i+1)·n/o⌉


def _averaging_matrix(size, out, dtype):
    start, end = _bounds(size, out)
    pos = np.arange(size)
    inside = (pos >= start[:, None]) & (pos < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _adaptive_input(op, input):
    x = as_tensor(input)
    xd = x.data
    if xd.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 4-D batched or 3-D unbatched input, got shape "
                         f"{xd.shape}")
    if xd.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {xd.dtype}")
    return x, xd


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed ``output_size`` ``(OH, OW)`` (an int, a pair, None keeps
    that axis), as ``torch.nn.functional.adaptive_avg_pool2d``: output cell ``i`` averages
    input rows ``⌊i·H/OH⌋ .. ⌈(i+1)·H/OH⌉ − 1`` (windows may overlap).

    >>> import chainrule as cr, numpy as np
    >>> x = cr.tensor(np.arange(6.0).reshape(1, 1, 2, 3))
    >>> adaptive_avg_pool2d(x, 1).tolist(), adaptive_avg_pool2d(x, (1, 2)).tolist()
    ([[[[2.5]]]], [[[[2.0, 3.0]]]])
    """
    op = "adaptive_avg_pool2d"
    x, xd = _adaptive_input(op, input)
    h, w = xd.shape[-2:]
    oh, ow = _adaptive_size(output_size, h, w, op)
    a_h = _averaging_matrix(h, oh, xd.dtype)
    a_w = _averaging_matrix(w, ow, xd.dtype)
    if oh == 1 and ow == 1:
        out = xd.mean(axis=(-2, -1), keepdims=True)
    else:
        out = np.matmul(np.matmul(a_h, xd), a_w.T)
    return node(out, (x,), op, _adaptive_avg_backward, (a_h, a_w))


def _adaptive_avg_backward(g, node):
    a_h, a_w = node._saved
    return (np.matmul(np.matmul(a_h.T, g), a_w).astype(node.parents[0].data.dtype, copy=False),)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed ``output_size``, as ``torch.nn.functional.adaptive_max_pool2d``,
    with the windows of :func:`adaptive_avg_pool2d`. Computed as a max pool over every
    window's cells padded to the largest window (−∞ fill): a loop over the largest window's
    offsets, none over pixels.

    >>> import chainrule as cr, numpy as np
    >>> x = cr.tensor(np.arange(6.0).reshape(1, 1, 2, 3))
    >>> adaptive_max_pool2d(x, (1, 2)).tolist()
    [[[[4.0, 5.0]]]]
    """
    op = "adaptive_max_pool2d"
    x, xd = _adaptive_input(op, input)
    h, w = xd.shape[-2:]
    oh, ow = _adaptive_size(output_size, h, w, op)
    (hs, he), (ws, we) = _bounds(h, oh), _bounds(w, ow)
    kh, kw = int((he - hs).max()), int((we - ws).max())
    # rows[i, a] = the a-th row of window i, or -1 (beyond the window: −∞)
    rows = np.where(np.arange(kh) < (he - hs)[:, None], hs[:, None] + np.arange(kh), -1)
    cols = np.where(np.arange(kw) < (we - ws)[:, None], ws[:, None] + np.arange(kw), -1)
    flat_x = xd.reshape(xd.shape[:-2] + (h * w,))
    best = which = None
    track = return_indices or needs_grad(x)
    for a in range(kh):
        for b in range(kw):
            r, c = rows[:, a][:, None], cols[:, b][None, :]
            valid = (r >= 0) & (c >= 0)
            index = np.where(valid, np.maximum(r, 0) * w + np.maximum(c, 0), 0)
            candidate = np.where(valid, flat_x[..., index], -np.inf)
            if best is None:
                best, which = candidate, np.broadcast_to(index, candidate.shape).copy()
                continue
            better = candidate > best
            np.copyto(best, candidate, where=better)
            if track:
                np.copyto(which, index, where=better)
    out = best.astype(xd.dtype, copy=False)
    y = node(out, (x,), op, _adaptive_max_backward, which)
    return (y, _wrap(which.astype(np.int64))) if return_indices else y


def _adaptive_max_backward(g, node):
    which = node._saved
    x = node.parents[0].data
    lead = int(math.prod(x.shape[:-2]))
    hw = x.shape[-2] * x.shape[-1]
    idx = which.reshape(lead, -1)
    # add into each plane at the chosen positions (windows may overlap): one flat bincount
    flat = (idx + (np.arange(lead) * hw)[:, None]).ravel()
    gx = np.bincount(flat, weights=g.reshape(-1), minlength=lead * hw).astype(x.dtype)
    return (gx.reshape(x.shape),)
