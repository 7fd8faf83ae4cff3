"""Reductions: sum, mean, max, min, var, logsumexp. They take NumPy's ``axis=``/``keepdims=``
(or PyTorch's ``dim=``/``keepdim=``); backward broadcasts the gradient back over the reduced axes.

>>> import chainrule as cr
>>> x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> x.sum(axis=0).tolist(), x.mean().item()
([4.0, 6.0], 2.5)
"""

import numpy as np

from chainrule.backend import get_default_dtype
from chainrule.ops.base import as_tensor, normalize_axis, pick_axis, pick_keepdims, unary
from chainrule.tensor import Tensor


def _reduced_count(shape, axes):
    return _numel(shape if axes is None else [shape[i] for i in axes])


_SMALL = 1 << 14  # below this many elements a filled array is cheaper than a broadcast view


def _expand(g, shape, axes, keepdims):
    """Broadcast a reduced gradient back to the input ``shape``."""
    if axes is not None and not keepdims:
        g = np.expand_dims(g, axes)
    elif axes is None and not keepdims:
        g = g.reshape((1,) * len(shape))
    if _numel(shape) <= _SMALL:  # np.broadcast_to costs a few µs of Python; filling is ~1 µs
        out = np.empty(shape, dtype=g.dtype)
        out[...] = g
        return out
    return np.broadcast_to(g, shape)


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


_ALL = (None, False)  # saved (axes, keepdims) of a full reduction


def _setup(a, axis, dim, keepdims, keepdim, op):
    a = as_tensor(a)
    axes = normalize_axis(pick_axis(axis, dim), a.data.ndim, op)
    return a, axes, bool(pick_keepdims(keepdims, keepdim))


def sum(a, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Sum over ``axis`` (all axes by default); d/da = 1 on every summed element.

    >>> import chainrule as cr
    >>> cr.tensor([[1.0, 2.0], [3.0, 4.0]]).sum(dim=1, keepdim=True).tolist()
    [[3.0], [7.0]]
    """
    if axis is None and dim is None and not keepdims and keepdim is None and isinstance(
            a, Tensor):  # the common full reduction, without argument normalisation
        return unary(a.data.sum(), a, "sum", _sum_backward, _ALL)
    a, axes, keepdims = _setup(a, axis, dim, keepdims, keepdim, "sum")
    out = a.data.sum(axis=axes, keepdims=keepdims)
    return unary(out, a, "sum", _sum_backward, (axes, keepdims))


def _sum_backward(g, node):
    axes, keepdims = node._saved
    return (_expand(g, node.parents[0].data.shape, axes, keepdims),)


def mean(a, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Mean over ``axis``; d/da = 1/N for the N averaged elements.

    >>> import chainrule as cr
    >>> cr.tensor([1.0, 3.0]).mean().item()
    2.0
    """
    a, axes, keepdims = _setup(a, axis, dim, keepdims, keepdim, "mean")
    if a.data.dtype.kind not in "fc":
        raise TypeError(f"mean: needs a floating-point tensor, got dtype {a.data.dtype}")
    out = a.data.mean(axis=axes, keepdims=keepdims)
    return unary(out, a, "mean", _mean_backward, (axes, keepdims))


def _mean_backward(g, node):
    axes, keepdims = node._saved
    shape = node.parents[0].data.shape
    n = _reduced_count(shape, axes)
    return (_expand(g / n if n else g, shape, axes, keepdims),)


def _extreme(a, axis, dim, keepdims, keepdim, fn, op):
    a, axes, keepdims = _setup(a, axis, dim, keepdims, keepdim, op)
    # Only a reduced axis of length 0 has no extreme; (0, 3).max(axis=1) is simply empty.
    if a.data.size == 0 and _reduced_count(a.data.shape, axes) == 0:
        raise ValueError(
            f"{op}: cannot reduce over an axis of length 0 (tensor shape {a.data.shape}, "
            f"axis {axis if dim is None else dim})"
        )
    out = np.asarray(fn(a.data, axis=axes, keepdims=keepdims))
    return unary(out, a, op, _extreme_backward, (axes, keepdims))


def _extreme_backward(g, node):
    # Ties share the gradient evenly (PyTorch's amax/amin rule).
    axes, keepdims = node._saved
    x = node.parents[0].data
    picked = x == _expand(node.data, x.shape, axes, keepdims)
    # Counts in g's dtype: dividing by an int64 array would promote float32 to float64.
    count = picked.sum(axis=axes, keepdims=True, dtype=g.dtype)
    return (_expand(g, x.shape, axes, keepdims) * picked / count,)


def max(a, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Maximum over ``axis`` (values only); tied maxima share the gradient evenly.

    >>> import chainrule as cr
    >>> cr.tensor([[1.0, 5.0], [7.0, 2.0]]).max(axis=1).tolist()
    [5.0, 7.0]
    """
    return _extreme(a, axis, dim, keepdims, keepdim, np.max, "max")


def min(a, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Minimum over ``axis`` (values only); tied minima share the gradient evenly.

    >>> import chainrule as cr
    >>> cr.tensor([[1.0, 5.0], [7.0, 2.0]]).min(axis=0).tolist()
    [1.0, 2.0]
    """
    return _extreme(a, axis, dim, keepdims, keepdim, np.min, "min")


def var(a, axis=None, keepdims=False, ddof=0, *, dim=None, keepdim=None, correction=None):
    """Variance over ``axis`` with ``ddof`` (NumPy's default 0; ``correction=1`` as PyTorch).

    d/da = 2 (a − mean) / (N − ddof).

    >>> import chainrule as cr
    >>> cr.tensor([1.0, 3.0]).var().item()
    1.0
    """
    a, axes, keepdims = _setup(a, axis, dim, keepdims, keepdim, "var")
    ddof = ddof if correction is None else correction
    n = _reduced_count(a.data.shape, axes)
    if n - ddof <= 0:
        raise ValueError(f"var: {n} elements are too few for ddof={ddof}")
    centered = a.data - a.data.mean(axis=axes, keepdims=True)
    out = np.asarray((centered * centered).sum(axis=axes, keepdims=keepdims) / (n - ddof))
    dtype = a.data.dtype if a.data.dtype.kind in "fc" else get_default_dtype()
    return unary(out.astype(dtype, copy=False), a, "var", _var_backward,
                 (axes, keepdims, centered, n - ddof))


def _var_backward(g, node):
    axes, keepdims, centered, denom = node._saved
    return (_expand(g, centered.shape, axes, keepdims) * centered * (2 / denom),)


def logsumexp(a, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """``log Σ e^a`` over ``axis``, max-shifted so it never overflows; d/da = softmax(a).

    >>> import chainrule as cr
    >>> round(cr.logsumexp(cr.tensor([1e4, 1e4])).item(), 3)
    10000.693
    """
    a, axes, keepdims = _setup(a, axis, dim, keepdims, keepdim, "logsumexp")
    x = a.data
    if x.size:
        m = x.max(axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
    else:  # nothing to shift; a sum over an axis of length 0 is 0, so the result is −inf
        m = np.zeros_like(x.sum(axis=axes, keepdims=True))
    with np.errstate(divide="ignore"):  # an all −inf slice gives −inf, as in PyTorch
        out = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
    if not keepdims:
        out = out.squeeze(axis=axes) if axes is not None else out.reshape(())
    return unary(np.asarray(out), a, "logsumexp", _logsumexp_backward, (axes, keepdims))


def _logsumexp_backward(g, node):
    axes, keepdims = node._saved
    x = node.parents[0].data
    softmax = np.exp(x - _expand(node.data, x.shape, axes, keepdims))
    return (_expand(g, x.shape, axes, keepdims) * softmax,)
