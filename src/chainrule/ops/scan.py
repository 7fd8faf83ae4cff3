"""Scans (running reductions) along one axis: cumsum, cumprod, cummax, cummin, logcumsumexp.

``dim`` is PyTorch's required axis; NumPy's ``axis=None`` (flatten first) is accepted too. Each
backward is a reverse scan of the upstream gradient.

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = cr.cumsum(x, dim=0); y.tolist()
[1.0, 3.0, 6.0]
>>> y.sum().backward(); x.grad.tolist()
[3.0, 2.0, 1.0]
"""

import numpy as np

from chainrule.ops.base import _leaf, as_tensor, unary
from chainrule.ops.reduction import ValuesIndices, reduce_axes

_NO_DIM = object()


def _scan_setup(a, axis, dim, op):
    a = as_tensor(a)
    if dim is not None:
        if axis is not _NO_DIM and axis != dim:
            raise TypeError(f"{op}: pass either axis= or dim=, not both")
        axis = dim
    if axis is _NO_DIM:
        raise TypeError(f"{op}: missing the dim to scan along (e.g. {op}(x, dim=0))")
    if axis is None:  # NumPy: scan the flattened tensor
        a = a.reshape(-1)
        axis = 0
    axes = reduce_axes(axis, a.data.ndim, op)
    if len(axes) > 1:
        raise ValueError(f"{op}: dim must be a single int, got {axis}")
    return a, (axes[0] if axes else None)


def _rev_cumsum(g, axis):
    return np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)


def cumsum(a, dim=None, *, axis=_NO_DIM, dtype=None):
    """Running sum along ``dim``; the gradient is the reversed running sum of ``g``.

    >>> import chainrule as cr
    >>> cr.cumsum(cr.tensor([[1, 2], [3, 4]]), dim=1).tolist()
    [[1, 3], [3, 7]]
    """
    a, ax = _scan_setup(a, axis, dim, "cumsum")
    if dtype is not None:
        a = a.astype(dtype)
    out = a.data.copy() if ax is None else np.cumsum(a.data, axis=ax)
    return unary(out, a, "cumsum", _cumsum_backward, (ax,))


def _cumsum_backward(g, node):
    (ax,) = node._saved
    return (g if ax is None else _rev_cumsum(g, ax),)


def cumprod(a, dim=None, *, axis=_NO_DIM, dtype=None):
    """Running product along ``dim``. d out_j / d a_i = Π_{k≤j, k≠i} a_k (exact with zeros).

    >>> import chainrule as cr
    >>> cr.cumprod(cr.tensor([1.0, 2.0, 3.0]), dim=0).tolist()
    [1.0, 2.0, 6.0]
    """
    a, ax = _scan_setup(a, axis, dim, "cumprod")
    if dtype is not None:
        a = a.astype(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        out = a.data.copy() if ax is None else np.cumprod(a.data, axis=ax)
    return unary(out, a, "cumprod", _cumprod_backward, (ax,))


def _cumprod_backward(g, node):
    (ax,) = node._saved
    if ax is None:
        return (g,)
    x = node.parents[0].data
    zero = x == 0
    zeros_before = np.cumsum(zero, axis=ax) - zero  # zeros strictly before each position
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # Before the first zero: Σ_{j≥i} g_j·out_j / a_i (out_j is 0 from the zero on).
        before = _rev_cumsum(g * node.data, ax) / np.where(zero, 1, x)
        # At the first zero: the running product with that zero replaced by one.
        first = zero & (zeros_before == 0)
        patched = np.cumprod(np.where(first, 1, x), axis=ax)
        at_zero = _rev_cumsum(g * np.where(zeros_before + zero >= 1, patched, 0), ax)
    out = np.where(zeros_before > 0, 0, np.where(first, at_zero, before))
    return (out.astype(x.dtype, copy=False),)


def _cum_extreme(a, axis, dim, op):
    a, ax = _scan_setup(a, axis, dim, op)
    x = a.data
    if ax is None:
        return ValuesIndices(unary(x.copy(), a, op, _cum_extreme_backward, (None, None)),
                             _leaf(np.zeros((), dtype=np.int64)))
    acc = np.maximum if op == "cummax" else np.minimum
    values = acc.accumulate(x, axis=ax)
    shape = [1] * x.ndim
    shape[ax] = x.shape[ax]
    positions = np.arange(x.shape[ax]).reshape(shape)
    # The latest position whose value equals the running extreme (PyTorch keeps the last tie);
    # a NaN sticks, at the NaN's position.
    hit = (x == values) | np.isnan(x)
    idx = np.maximum.accumulate(np.where(hit, positions, 0), axis=ax) if x.size else \
        np.zeros(x.shape, dtype=np.int64)
    out = unary(values, a, op, _cum_extreme_backward, (ax, idx))
    return ValuesIndices(out, _leaf(idx.astype(np.int64, copy=False)))


def _cum_extreme_backward(g, node):
    ax, idx = node._saved
    if ax is None:
        return (g,)
    x = node.parents[0].data
    if x.size == 0:
        return (np.zeros(x.shape, dtype=g.dtype),)
    # Sum g into the positions the indices name: move the axis last, one bincount.
    gm = np.moveaxis(g, ax, -1)
    im = np.moveaxis(idx, ax, -1)
    n = x.shape[ax]
    rows = np.arange(gm.size // n).reshape(gm.shape[:-1] + (1,)) * n
    flat = np.bincount((rows + im).reshape(-1), weights=gm.reshape(-1), minlength=gm.size)
    return (np.moveaxis(flat.reshape(gm.shape), -1, ax).astype(g.dtype, copy=False),)


def cummax(a, dim=None, *, axis=_NO_DIM):
    """Running maximum along ``dim``: the named tuple ``(values, indices)``; the gradient goes to
    the element each running maximum came from.

    >>> import chainrule as cr
    >>> v, i = cr.cummax(cr.tensor([1.0, 3.0, 2.0]), dim=0); v.tolist(), i.tolist()
    ([1.0, 3.0, 3.0], [0, 1, 1])
    """
    return _cum_extreme(a, axis, dim, "cummax")


def cummin(a, dim=None, *, axis=_NO_DIM):
    """Running minimum along ``dim``: ``(values, indices)``.

    >>> import chainrule as cr
    >>> cr.cummin(cr.tensor([3.0, 1.0, 2.0]), dim=0).values.tolist()
    [3.0, 1.0, 1.0]
    """
    return _cum_extreme(a, axis, dim, "cummin")


def logcumsumexp(a, dim=None, *, axis=_NO_DIM):
    """Running ``log Σ e^a`` along ``dim``, exact over any range (a running logaddexp);
    d out_j / d a_i = e^(a_i − out_j) for i ≤ j.

    >>> import chainrule as cr
    >>> cr.logcumsumexp(cr.tensor([-1000.0, 1000.0]), dim=0).tolist()
    [-1000.0, 1000.0]
    """
    a, ax = _scan_setup(a, axis, dim, "logcumsumexp")
    if a.data.dtype.kind not in "fc":
        raise TypeError(f"logcumsumexp: needs a floating-point tensor, got {a.data.dtype}")
    out = a.data.copy() if ax is None else np.logaddexp.accumulate(a.data, axis=ax)
    return unary(out, a, "logcumsumexp", _logcumsumexp_backward, (ax,))


def _rev_logcumsumexp(x, ax):
    return np.flip(np.logaddexp.accumulate(np.flip(x, ax), axis=ax), ax)


def _logcumsumexp_backward(g, node):
    (ax,) = node._saved
    if ax is None:
        return (g,)
    x, out = node.parents[0].data, node.data
    # Σ_{j≥i} g_j e^(x_i − out_j), split by the sign of g so every term is a log-sum-exp.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pos = np.log(np.where(g > 0, g, 0)) - out
        neg = np.log(np.where(g < 0, -g, 0)) - out
        grad = np.exp(x + _rev_logcumsumexp(pos, ax)) - np.exp(x + _rev_logcumsumexp(neg, ax))
    return (grad.astype(x.dtype, copy=False),)


__all__ = ["cummax", "cummin", "cumprod", "cumsum", "logcumsumexp"]


def install_tensor_methods(cls):
    """``x.cumsum(dim)`` and the other scans as Tensor methods."""
    for name in __all__:
        setattr(cls, name, globals()[name])
