"""Reductions: sum, mean, max, min, amax, amin, var, std, logsumexp, prod, norm, median,
argmax, argmin, any, all. They take NumPy's ``axis=``/``keepdims=`` (or PyTorch's
``dim=``/``keepdim=``); backward broadcasts the gradient back over the reduced axes. A 0-d tensor
accepts ``dim=0`` and ``dim=-1`` (as PyTorch) and is its own reduction.

``max``/``min`` follow the keyword: ``dim=`` (or a positional dim) returns PyTorch's named tuple
``(values, indices)``; ``axis=`` (NumPy's spelling) returns the values. The scans (cumsum,
cumprod, cummax, cummin, logcumsumexp) live in :mod:`chainrule.ops.scan`.

>>> import chainrule as cr
>>> x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> x.sum(axis=0).tolist(), x.mean().item()
([4.0, 6.0], 2.5)
"""

from collections import namedtuple

import numpy as np

from chainrule.backend import get_default_dtype
from chainrule.ops.base import _leaf, as_tensor, normalize_axis, pick_axis, pick_keepdims, unary
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


def reduce_axes(axis, ndim, op):
    """``normalize_axis`` for reductions: a 0-d tensor takes axis 0 or −1 (PyTorch does) and
    reduces over no axis at all."""
    if ndim == 0 and axis is not None:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        for ax in axes:
            if int(ax) not in (0, -1):
                raise ValueError(f"{op}: axis {int(ax)} is out of range for a 0-d tensor "
                                 "(use 0, -1 or None)")
        return ()
    return normalize_axis(axis, ndim, op)


def _setup(a, axis, dim, keepdims, keepdim, op):
    a = as_tensor(a)
    axes = reduce_axes(pick_axis(axis, dim), a.data.ndim, op)
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


def amax(a, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Maximum over ``axis`` (values only; any axes); tied maxima share the gradient evenly.

    >>> import chainrule as cr
    >>> cr.amax(cr.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1).tolist()
    [5.0, 7.0]
    """
    return _extreme(a, axis, dim, keepdims, keepdim, np.max, "amax")


def amin(a, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Minimum over ``axis`` (values only); tied minima share the gradient evenly.

    >>> import chainrule as cr
    >>> cr.amin(cr.tensor([[1.0, 5.0], [7.0, 2.0]]), axis=0).tolist()
    [1.0, 2.0]
    """
    return _extreme(a, axis, dim, keepdims, keepdim, np.min, "amin")


ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])
ValuesIndices.__doc__ = """PyTorch's ``(values, indices)`` result of ``max(dim)``, ``min(dim)``,
``median(dim)``, ``cummax``, ``cummin``: a named tuple, so ``v, i = x.max(dim=1)`` works."""


def max(a, dim=None, keepdim=None, *, axis=None, keepdims=None):
    """The maximum. The keyword picks the convention:

    * ``x.max()``: the largest value (tied maxima share the gradient evenly);
    * ``x.max(dim=1)`` or ``x.max(1)`` (PyTorch): the named tuple ``(values, indices)``; the
      gradient goes to the element ``indices`` points at (the first maximum);
    * ``x.max(axis=1)`` (NumPy): the values only, like ``amax``;
    * ``cr.max(x, y)`` with a second tensor: the elementwise ``maximum``.

    >>> import chainrule as cr
    >>> x = cr.tensor([[1.0, 5.0], [7.0, 2.0]])
    >>> x.max(axis=1).tolist(), x.max(dim=1).indices.tolist()
    ([5.0, 7.0], [1, 0])
    """
    return _max_min(a, dim, keepdim, axis, keepdims, "max")


def min(a, dim=None, keepdim=None, *, axis=None, keepdims=None):
    """The minimum, with :func:`max`'s conventions (``dim=`` gives ``(values, indices)``,
    ``axis=`` the values, a second tensor the elementwise ``minimum``).

    >>> import chainrule as cr
    >>> x = cr.tensor([[1.0, 5.0], [7.0, 2.0]])
    >>> x.min(axis=0).tolist(), x.min(dim=0).indices.tolist()
    ([1.0, 2.0], [0, 1])
    """
    return _max_min(a, dim, keepdim, axis, keepdims, "min")


def _max_min(a, dim, keepdim, axis, keepdims, op):
    if isinstance(dim, Tensor) or (dim is not None and not isinstance(dim, (int, np.integer,
                                                                             tuple, list))):
        from chainrule.ops.elementwise import maximum, minimum  # max(a, b): elementwise

        return (maximum if op == "max" else minimum)(a, dim)
    if dim is None or isinstance(dim, (tuple, list)):
        kd = keepdim if keepdims is None else keepdims
        return _extreme(a, axis, dim, bool(kd), None, np.max if op == "max" else np.min, op)
    if axis is not None:
        raise TypeError(f"{op}: pass either axis= (values) or dim= (values, indices), not both")
    return _arg_extreme(a, dim, bool(keepdim if keepdims is None else keepdims), op)


def _arg_extreme(a, dim, keepdim, op):
    """Values and indices along one axis; the gradient flows to the chosen index."""
    a = as_tensor(a)
    x = a.data
    axes = reduce_axes(dim, x.ndim, op)
    if not axes:  # 0-d: the element itself, index 0
        return ValuesIndices(unary(x.copy(), a, op, _pick_backward, (None, keepdim)),
                             _leaf(np.zeros((), dtype=np.int64)))
    (axis,) = axes
    if x.shape[axis] == 0:
        raise ValueError(f"{op}: cannot reduce over an axis of length 0 (tensor shape "
                         f"{x.shape}, dim {dim})")
    idx = (np.argmax if op == "max" else np.argmin)(x, axis=axis, keepdims=True)
    values = np.take_along_axis(x, idx, axis=axis)
    if not keepdim:
        values, idx = values.squeeze(axis), idx.squeeze(axis)
    out = unary(values, a, op, _pick_backward, ((axis, idx), keepdim))
    return ValuesIndices(out, _leaf(idx.astype(np.int64, copy=False)))


def _pick_backward(g, node):
    where, keepdim = node._saved
    x = node.parents[0].data
    if where is None:
        return (np.asarray(g).reshape(x.shape),)
    axis, idx = where
    out = np.zeros(x.shape, dtype=g.dtype)
    if not keepdim:
        g, idx = np.expand_dims(g, axis), np.expand_dims(idx, axis)
    np.put_along_axis(out, idx, g, axis=axis)
    return (out,)


def _correction(ddof, correction, unbiased, op):
    given = [v is not None for v in (ddof, correction, unbiased)]
    if sum(given) > 1:
        raise TypeError(f"{op}: pass only one of ddof=, correction= and unbiased=")
    if unbiased is not None:
        return 1 if unbiased else 0
    value = ddof if ddof is not None else correction
    return 1 if value is None else value


def _moments(a, axis, dim, keepdims, keepdim, ddof, correction, unbiased, op):
    if isinstance(axis, bool):  # var(x, False): PyTorch's old positional ``unbiased``
        axis, unbiased = None, axis
    a, axes, keepdims = _setup(a, axis, dim, keepdims, keepdim, op)
    corr = _correction(ddof, correction, unbiased, op)
    x = a.data
    if x.dtype.kind not in "fc":
        x = x.astype(get_default_dtype())
        a = _leaf(x)
    n = _reduced_count(x.shape, axes)
    denom = x.dtype.type(n - corr if n - corr > 0 else 0)  # PyTorch: max(0, N − correction)
    with np.errstate(divide="ignore", invalid="ignore"):  # too few elements: NaN / inf
        centered = x - x.mean(axis=axes, keepdims=True)
        var = np.asarray((centered * centered).sum(axis=axes, keepdims=keepdims) / denom)
    return a, axes, keepdims, centered, denom, var.astype(x.dtype, copy=False)


def var(a, axis=None, keepdims=False, ddof=None, *, dim=None, keepdim=None, correction=None,
        unbiased=None):
    """Variance ``Σ(a − mean)² / (N − correction)`` over ``axis``.

    The default is PyTorch's unbiased estimate, ``correction=1``; NumPy's ``ddof=`` (NumPy's
    default is 0: pass ``ddof=0`` for the population variance) and PyTorch's older
    ``unbiased=`` say the same thing. Too few elements give NaN/inf, as in PyTorch.
    d/da = 2 (a − mean) / (N − correction).

    >>> import chainrule as cr
    >>> cr.tensor([1.0, 3.0]).var().item(), cr.tensor([1.0, 3.0]).var(ddof=0).item()
    (2.0, 1.0)
    """
    a, axes, keepdims, centered, denom, out = _moments(
        a, axis, dim, keepdims, keepdim, ddof, correction, unbiased, "var")
    return unary(out, a, "var", _var_backward, (axes, keepdims, centered, denom))


def _var_backward(g, node):
    axes, keepdims, centered, denom = node._saved
    with np.errstate(divide="ignore", invalid="ignore"):
        return (_expand(g, centered.shape, axes, keepdims) * centered * (2 / denom),)


def std(a, axis=None, keepdims=False, ddof=None, *, dim=None, keepdim=None, correction=None,
        unbiased=None):
    """Standard deviation ``√var`` with :func:`var`'s conventions (``correction=1`` by default,
    ``ddof=`` as NumPy). d/da = (a − mean) / ((N − correction) · std).

    >>> import chainrule as cr
    >>> cr.tensor([1.0, 3.0]).std(ddof=0).item()
    1.0
    """
    a, axes, keepdims, centered, denom, v = _moments(
        a, axis, dim, keepdims, keepdim, ddof, correction, unbiased, "std")
    return unary(np.sqrt(v), a, "std", _std_backward, (axes, keepdims, centered, denom))


def _std_backward(g, node):
    axes, keepdims, centered, denom = node._saved
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = _expand(g / (node.data * denom), centered.shape, axes, keepdims)
        return (scale * centered,)


def var_mean(a, axis=None, keepdims=False, ddof=None, *, dim=None, keepdim=None,
             correction=None, unbiased=None):
    """``(var, mean)`` in one call, as ``torch.var_mean``.

    >>> import chainrule as cr
    >>> [t.item() for t in cr.var_mean(cr.tensor([1.0, 3.0]))]
    [2.0, 2.0]
    """
    return (var(a, axis, keepdims, ddof, dim=dim, keepdim=keepdim, correction=correction,
                unbiased=unbiased),
            mean(a, axis, keepdims, dim=dim, keepdim=keepdim))


def std_mean(a, axis=None, keepdims=False, ddof=None, *, dim=None, keepdim=None,
             correction=None, unbiased=None):
    """``(std, mean)`` in one call, as ``torch.std_mean``.

    >>> import chainrule as cr
    >>> [t.item() for t in cr.std_mean(cr.tensor([1.0, 3.0]), ddof=0)]
    [1.0, 2.0]
    """
    return (std(a, axis, keepdims, ddof, dim=dim, keepdim=keepdim, correction=correction,
                unbiased=unbiased),
            mean(a, axis, keepdims, dim=dim, keepdim=keepdim))


def prod(a, axis=None, keepdims=False, *, dim=None, keepdim=None, dtype=None):
    """Product over ``axis``; d/daᵢ = the product of the other elements (exact with zeros).

    >>> import chainrule as cr
    >>> cr.prod(cr.tensor([[1.0, 2.0], [3.0, 4.0]]), dim=1).tolist()
    [2.0, 12.0]
    """
    a, axes, keepdims = _setup(a, axis, dim, keepdims, keepdim, "prod")
    if dtype is not None:
        a = a.astype(dtype) if hasattr(a, "astype") else a
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.asarray(a.data.prod(axis=axes, keepdims=keepdims))
    return unary(out, a, "prod", _prod_backward, (axes, keepdims))


def _prod_backward(g, node):
    axes, keepdims = node._saved
    x = node.parents[0].data
    ax = tuple(range(x.ndim)) if axes is None else axes
    rest = [i for i in range(x.ndim) if i not in ax]
    moved = np.transpose(x, rest + list(ax))
    flat = moved.reshape(moved.shape[:len(rest)] + (_numel(x.shape[i] for i in ax),))
    # The product of the others: exclusive running products from the left and from the right.
    ones = np.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = (left * right).reshape(moved.shape)
    others = np.transpose(others, np.argsort(rest + list(ax)))
    return (_expand(g, x.shape, axes, keepdims) * others,)


def norm(a, p="fro", dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
    """The vector ``p``-norm ``(Σ|a|ᵖ)^(1/p)`` over ``dim`` (all elements by default), as
    ``torch.norm``: ``p`` a number, ``inf``, ``-inf``, 0 (count of non-zeros) or 'fro' (= 2).

    d/da = sign(a)·|a|^(p−1) / out^(p−1) (0 where out = 0); for ±inf the extreme elements share
    the gradient evenly. It is always a vector norm over the elements of ``dim`` (as
    ``torch.linalg.vector_norm``); ``torch.norm`` switches to a matrix norm for a 2-tuple
    ``dim`` with p other than 2/'fro'.

    >>> import chainrule as cr
    >>> cr.norm(cr.tensor([3.0, -4.0])).item(), cr.norm(cr.tensor([3.0, -4.0]), p=1).item()
    (5.0, 7.0)
    """
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise ValueError(f"norm: p must be a number, inf, -inf or 'fro', got {p!r}")
    keepdims = keepdim if keepdims is None else keepdims
    a, axes, keepdims = _setup(a, axis, dim, keepdims, None, "norm")
    if dtype is not None:
        a = a.astype(dtype)
    x = a.data
    if x.dtype.kind not in "fc":
        raise TypeError(f"norm: needs a floating-point tensor, got dtype {x.dtype}")
    ax = np.abs(x)
    p = float(p)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if p == np.inf:
            out = ax.max(axis=axes, keepdims=keepdims) if x.size else np.zeros_like(
                ax.sum(axis=axes, keepdims=keepdims))
        elif p == -np.inf:
            out = ax.min(axis=axes, keepdims=keepdims)
        elif p == 0:
            out = (x != 0).sum(axis=axes, keepdims=keepdims).astype(x.dtype)
        elif p == 2:
            out = np.sqrt((x * x).sum(axis=axes, keepdims=keepdims))
        elif p == 1:
            out = ax.sum(axis=axes, keepdims=keepdims)
        else:
            out = (ax ** p).sum(axis=axes, keepdims=keepdims) ** (1 / p)
    return unary(np.asarray(out, dtype=x.dtype), a, "norm", _norm_backward, (axes, keepdims, p))


def _norm_backward(g, node):
    axes, keepdims, p = node._saved
    x = node.parents[0].data
    out = _expand(node.data, x.shape, axes, keepdims)
    ge = _expand(g, x.shape, axes, keepdims)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if p == 0:
            return (np.zeros_like(x),)
        if p == 1:
            return (ge * np.sign(x),)
        if np.isinf(p):
            picked = np.abs(x) == out
            count = picked.sum(axis=axes, keepdims=True, dtype=g.dtype)
            return (ge * np.sign(x) * picked / count,)
        if p == 2:
            local = np.where(out == 0, 0, x / np.where(out == 0, 1, out))
        else:
            ratio = np.abs(x) / np.where(out == 0, 1, out)
            local = np.where(out == 0, 0, np.sign(x) * ratio ** (p - 1))
    return (ge * local.astype(x.dtype, copy=False),)


def median(a, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The median as PyTorch defines it: the lower of the two middle values for an even count
    (not their mean), NaN if the slice holds a NaN. Without ``dim`` (or with NumPy's ``axis=``)
    it returns the values; with ``dim`` the named tuple ``(values, indices)``. The gradient goes
    to the chosen element.

    >>> import chainrule as cr
    >>> cr.median(cr.tensor([1.0, 4.0, 2.0, 3.0])).item()
    2.0
    >>> cr.median(cr.tensor([[1.0, 4.0, 2.0]]), dim=1).indices.tolist()
    [2]
    """
    a = as_tensor(a)
    keepdim = bool(keepdim if keepdims is None else keepdims)
    if dim is None and axis is None:
        flat = a.reshape(-1)
        if flat.data.size == 0:
            raise ValueError("median: cannot take the median of an empty tensor")
        return _median_along(flat, 0, False, "median").values
    values, indices = _median_along(a, axis if dim is None else dim, keepdim, "median")
    return values if dim is None else ValuesIndices(values, indices)


def _median_along(a, dim, keepdim, op):
    x = a.data
    axes = reduce_axes(dim, x.ndim, op)
    if not axes:
        return ValuesIndices(unary(x.copy(), a, op, _pick_backward, (None, keepdim)),
                             _leaf(np.zeros((), dtype=np.int64)))
    (axis,) = axes
    n = x.shape[axis]
    if n == 0:
        raise ValueError(f"{op}: cannot reduce over an axis of length 0 (shape {x.shape})")
    order = np.argsort(x, axis=axis, kind="stable")  # NaN sorts last
    idx = np.take(order, [(n - 1) // 2], axis=axis)
    nan = np.isnan(x)
    if nan.any():  # a slice with a NaN has median NaN (the first NaN's index)
        has = nan.any(axis=axis, keepdims=True)
        idx = np.where(has, np.argmax(nan, axis=axis, keepdims=True), idx)
    values = np.take_along_axis(x, idx, axis=axis)
    if not keepdim:
        values, idx = values.squeeze(axis), idx.squeeze(axis)
    out = unary(values, a, op, _pick_backward, ((axis, idx), keepdim))
    return ValuesIndices(out, _leaf(idx.astype(np.int64, copy=False)))


def _arg(fn, a, axis, dim, keepdims, keepdim, op):
    x = a.data if isinstance(a, Tensor) else np.asarray(a)
    axis = pick_axis(axis, dim)
    keepdims = bool(pick_keepdims(keepdims, keepdim))
    if axis is None:
        if x.size == 0:
            raise ValueError(f"{op}: cannot take the {op} of an empty tensor")
        out = fn(x.reshape(-1))
        return _leaf(np.asarray(out).reshape((1,) * x.ndim if keepdims else ()))
    axes = reduce_axes(axis, x.ndim, op)
    if not axes:
        return _leaf(np.zeros((), dtype=np.int64))
    if len(axes) != 1:
        raise ValueError(f"{op}: dim must be a single int, got {axis}")
    if x.shape[axes[0]] == 0:
        raise ValueError(f"{op}: cannot reduce over an axis of length 0 (shape {x.shape})")
    return _leaf(np.asarray(fn(x, axis=axes[0], keepdims=keepdims)))


def argmax(a, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the largest value along ``dim`` (of the flattened tensor when None); int64,
    no gradient. The first occurrence wins ties.

    >>> import chainrule as cr
    >>> cr.argmax(cr.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1).tolist()
    [1, 0]
    """
    return _arg(np.argmax, a, axis, dim, keepdims, keepdim, "argmax")


def argmin(a, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the smallest value along ``dim`` (of the flattened tensor when None).

    >>> import chainrule as cr
    >>> cr.argmin(cr.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=0).tolist()
    [0, 1]
    """
    return _arg(np.argmin, a, axis, dim, keepdims, keepdim, "argmin")


def _truth(fn, a, axis, dim, keepdims, keepdim, op):
    x = a.data if isinstance(a, Tensor) else np.asarray(a)
    axes = reduce_axes(pick_axis(axis, dim), x.ndim, op)
    return _leaf(np.asarray(fn(x, axis=axes, keepdims=bool(pick_keepdims(keepdims, keepdim)))))


def any(a, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """True where any element along ``axis`` is non-zero: a bool tensor (``bool(t.any())`` for
    a Python bool).

    >>> import chainrule as cr
    >>> cr.tensor([[0, 1], [0, 0]]).any(dim=1).tolist(), bool(cr.tensor([0, 1]).any())
    ([True, False], True)
    """
    return _truth(np.any, a, axis, dim, keepdims, keepdim, "any")


def all(a, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """True where every element along ``axis`` is non-zero: a bool tensor.

    >>> import chainrule as cr
    >>> cr.tensor([[1, 1], [0, 1]]).all(axis=1).tolist()
    [True, False]
    """
    return _truth(np.all, a, axis, dim, keepdims, keepdim, "all")


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
