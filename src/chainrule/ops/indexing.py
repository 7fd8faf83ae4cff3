"""Indexing primitives with PyTorch's names and signatures: index_select, gather, take,
take_along_dim, masked_select, masked_fill, scatter, scatter_add, scatter_reduce, index_add,
nonzero, one-argument where, sort, argsort, topk, kthvalue.

Reads (gather, take, sort's values, ...) are :func:`chainrule.ops.shape_extra.index_map`: their
backward adds gradients back with ``np.bincount``, so repeated indices accumulate. Writes
(scatter, index_add) have their own backward, as PyTorch's: the overwritten entries of the
input get no gradient, the written values get the gradient of the place they went to.

>>> import chainrule as cr
>>> x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> y = cr.gather(x, 1, cr.tensor([[0, 0], [1, 0]])); y.tolist()
[[1.0, 1.0], [4.0, 3.0]]
>>> y.sum().backward(); x.grad.tolist()
[[2.0, 0.0], [1.0, 1.0]]
"""

from collections import namedtuple

import numpy as np

from chainrule.autograd import reads
from chainrule.ops import elementwise
from chainrule.ops.base import as_tensor, node, normalize_axis
from chainrule.ops.shape import broadcast_to, getitem
from chainrule.ops.shape_extra import index_map
from chainrule.tensor import Tensor, _wrap

SortResult = namedtuple("sort", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])
KthvalueResult = namedtuple("kthvalue", ["values", "indices"])


def _axis(dim, ndim, op):
    (axis,) = normalize_axis(dim, max(ndim, 1), op)
    return axis


def _index_array(index, op, dims=None):
    idx = index.data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got dtype {idx.dtype}")
    if dims is not None and idx.ndim not in dims:
        raise ValueError(f"{op}: index must have {' or '.join(map(str, dims))} dims, "
                         f"got shape {idx.shape}")
    return idx.astype(np.intp, copy=False)


def _check_range(idx, n, op, dim):
    if idx.size and (idx.max() >= n or idx.min() < -n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(f"{op}: index {bad} is out of range for dim {dim} of size {n}")


# --------------------------------------------------------------------------- reads
def index_select(a, dim, index):
    """The entries ``index`` (1-D) along ``dim``.

    >>> import chainrule as cr
    >>> cr.index_select(cr.tensor([[1, 2], [3, 4]]), 0, cr.tensor([1, 1])).tolist()
    [[3, 4], [3, 4]]
    """
    a = as_tensor(a)
    idx = _index_array(index, "index_select", (0, 1)).reshape(-1)
    axis = _axis(dim, a.data.ndim, "index_select")
    if a.data.ndim == 0:
        return index_map(a, lambda v: v.reshape(1)[idx].reshape(()), "index_select")
    _check_range(idx, a.data.shape[axis], "index_select", dim)
    return index_map(a, lambda v: np.take(v, idx, axis=axis), "index_select")


def _coords(idx, axis):
    """Fancy-index tuple addressing ``input[..., idx[i, j, ...], ...]`` along ``axis``."""
    coords = list(np.ogrid[tuple(slice(n) for n in idx.shape)]) if idx.ndim else []
    coords[axis] = idx
    return tuple(coords)


def _check_index_shape(idx, shape, axis, op, other=None):
    if idx.ndim != len(shape):
        raise ValueError(
            f"{op}: index must have as many dims as the input ({len(shape)}), got shape "
            f"{idx.shape}"
        )
    for d, (n, m) in enumerate(zip(idx.shape, shape)):
        if d != axis and n > m:
            raise ValueError(f"{op}: index shape {idx.shape} is larger than the input shape "
                             f"{shape} in dim {d}")
        if other is not None and n > other[d]:
            raise ValueError(f"{op}: index shape {idx.shape} is larger than the src shape "
                             f"{other} in dim {d}")
    _check_range(idx, shape[axis], op, axis)


def gather(a, dim, index):
    """``out[i][j] = a[index[i][j]][j]`` for ``dim=0`` (and so on): PyTorch's ``gather``.

    >>> import chainrule as cr
    >>> cr.gather(cr.tensor([[1, 2], [3, 4]]), 1, cr.tensor([[1], [0]])).tolist()
    [[2], [3]]
    """
    a = as_tensor(a)
    idx = _index_array(index, "gather")
    axis = _axis(dim, a.data.ndim, "gather")
    if a.data.ndim == 0:
        return index_map(a, lambda v: v.reshape(1)[idx.reshape(-1)].reshape(idx.shape), "gather")
    _check_index_shape(idx, a.data.shape, axis, "gather")
    coords = _coords(idx, axis)
    return index_map(a, lambda v: v[coords], "gather")


def take(a, index, axis=None):
    """Entries of the flattened tensor at ``index`` (PyTorch's ``take``); NumPy's ``axis=`` takes
    along one axis instead.

    >>> import chainrule as cr
    >>> cr.take(cr.tensor([[1, 2], [3, 4]]), cr.tensor([0, 3])).tolist()
    [1, 4]
    """
    a = as_tensor(a)
    idx = _index_array(index, "take")
    if axis is not None:
        ax = _axis(axis, a.data.ndim, "take")
        _check_range(idx, a.data.shape[ax], "take", axis)
        return index_map(a, lambda v: np.take(v, idx, axis=ax), "take")
    _check_range(idx, a.data.size, "take", "(flattened)")
    return index_map(a, lambda v: v.reshape(-1)[idx], "take")


def take_along_dim(a, indices, dim=None):
    """Entries at ``indices`` along ``dim`` (broadcast against each other elsewhere); with no
    dim, on the flattened tensor. NumPy's ``take_along_axis``.

    >>> import chainrule as cr
    >>> x = cr.tensor([[10.0, 30.0, 20.0]])
    >>> cr.take_along_dim(x, x.argsort(dim=1), dim=1).tolist()
    [[10.0, 20.0, 30.0]]
    """
    a = as_tensor(a)
    idx = _index_array(indices, "take_along_dim")
    if dim is None:
        _check_range(idx, a.data.size, "take_along_dim", "(flattened)")
        flat = idx.reshape(-1)
        return index_map(a, lambda v: v.reshape(-1)[flat], "take_along_dim")
    axis = _axis(dim, a.data.ndim, "take_along_dim")
    if idx.ndim != a.data.ndim:
        raise ValueError(f"take_along_dim: indices shape {idx.shape} and input shape "
                         f"{a.data.shape} must have the same number of dims")
    _check_range(idx, a.data.shape[axis], "take_along_dim", dim)
    shape = np.broadcast_shapes(
        tuple(1 if d == axis else n for d, n in enumerate(a.data.shape)),
        tuple(1 if d == axis else n for d, n in enumerate(idx.shape)))
    idx = np.broadcast_to(idx, shape[:axis] + (idx.shape[axis],) + shape[axis + 1:])

    def pick(v):
        v = np.broadcast_to(v, shape[:axis] + (v.shape[axis],) + shape[axis + 1:])
        return np.take_along_axis(v, idx, axis)

    return index_map(a, pick, "take_along_dim")


def take_along_axis(a, indices, axis):
    """NumPy's name for :func:`take_along_dim` (``axis`` required, as NumPy)."""
    return take_along_dim(a, indices, axis)


def masked_select(a, mask):
    """The entries where ``mask`` is true, as a 1-D tensor (mask and input broadcast).

    >>> import chainrule as cr
    >>> cr.masked_select(cr.tensor([1.0, 2.0, 3.0]), cr.tensor([True, False, True])).tolist()
    [1.0, 3.0]
    """
    a = as_tensor(a)
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_select: mask must be a bool tensor, got dtype {m.dtype}")
    shape = np.broadcast_shapes(a.data.shape, m.shape)
    if a.data.shape != shape:
        a = broadcast_to(a, shape)
    return getitem(a, np.broadcast_to(m, shape))


def nonzero(a, *, as_tuple=False):
    """Indices of the non-zero entries: an ``(n, ndim)`` int64 tensor, or with ``as_tuple=True``
    one 1-D tensor per dim (NumPy's ``nonzero``).

    >>> import chainrule as cr
    >>> cr.nonzero(cr.tensor([0, 3, 0, 4])).tolist()
    [[1], [3]]
    """
    x = a.data if isinstance(a, Tensor) else np.asarray(a)
    if as_tuple:
        return tuple(_wrap(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(x)))
    return _wrap(np.argwhere(x).astype(np.int64))


def argwhere(a):
    """NumPy's name: the ``(n, ndim)`` indices of non-zero entries."""
    return nonzero(a)


def where(condition, input=None, other=None):
    """``where(cond, a, b)`` picks ``a`` where ``cond`` holds, else ``b`` (differentiable in
    both); ``where(cond)`` alone gives the indices of the true entries, one tensor per dim, as
    ``torch.where(cond)`` and ``np.where(cond)``.

    >>> import chainrule as cr
    >>> [t.tolist() for t in cr.where(cr.tensor([[True, False], [False, True]]))]
    [[0, 1], [0, 1]]
    """
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where: give both input and other, or neither")
    return elementwise.where(condition, input, other)


def masked_fill(a, mask, value):
    """``value`` where ``mask`` is true (broadcast to the input), the input elsewhere; a tensor
    ``value`` gets the gradient of the entries it filled.

    >>> import chainrule as cr
    >>> cr.masked_fill(cr.tensor([1.0, 2.0]), cr.tensor([True, False]), 0.0).tolist()
    [0.0, 2.0]
    """
    a = as_tensor(a)
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got dtype {m.dtype}")
    try:
        fits = np.broadcast_shapes(a.data.shape, m.shape) == a.data.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"masked_fill: mask of shape {m.shape} does not broadcast to the "
                         f"input's shape {a.data.shape}")
    value = as_tensor(value, a)
    if value.data.ndim:
        raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape "
                         f"{value.data.shape}")
    if value.data.dtype != a.data.dtype:
        value = value.astype(a.data.dtype)
    return elementwise.where(m, value, a)


# --------------------------------------------------------------------------- writes
def _src_part(src, shape):
    return tuple(slice(0, n) for n in shape)


def scatter(a, dim, index, src=None, value=None, reduce=None):
    """A copy of ``a`` with ``out[index[i][j]][j] = src[i][j]`` (``dim=0``; and so on), or a
    number ``value`` written at those places (PyTorch's ``scatter``). ``reduce='add'`` or
    ``'multiply'`` combine instead of overwriting (as PyTorch's deprecated form).

    >>> import chainrule as cr
    >>> cr.scatter(cr.zeros(3), 0, cr.tensor([2, 0]), cr.tensor([5.0, 7.0])).tolist()
    [7.0, 0.0, 5.0]
    """
    if reduce is not None:
        names = {"add": "sum", "multiply": "prod"}
        if reduce not in names:
            raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
        if src is None or not isinstance(src, (Tensor, np.ndarray)):
            fill = src if value is None else value
            a = as_tensor(a)
            src = as_tensor(np.full(np.shape(_index_array(index, "scatter")), fill,
                                    dtype=a.data.dtype))
        return scatter_reduce(a, dim, index, src, names[reduce])
    a = as_tensor(a)
    if value is None and not isinstance(src, (Tensor, np.ndarray, list)):
        value, src = src, None
    idx = _index_array(index, "scatter")
    axis = _axis(dim, a.data.ndim, "scatter")
    if src is None:
        if value is None:
            raise TypeError("scatter: give src (a tensor) or value (a number)")
        src = as_tensor(np.full(idx.shape, value, dtype=a.data.dtype))
    src = as_tensor(src, a)
    _check_index_shape(idx, a.data.shape, axis, "scatter", src.data.shape)
    coords = _coords(idx, axis)
    part = _src_part(src, idx.shape)
    out = a.data.copy()
    out[coords] = src.data[part]
    return node(out, (a, src), "scatter", _scatter_backward, (coords, part))


def _scatter_backward(g, node):
    coords, part = node._saved
    a, src = node.parents
    ga = gs = None
    if a.requires_grad:
        ga = g.copy()
        ga[coords] = 0
    if src.requires_grad:
        gs = np.zeros(src.data.shape, dtype=src.data.dtype)
        gs[part] = g[coords]
    return ga, gs


def scatter_add(a, dim, index, src):
    """A copy of ``a`` with ``src[i][j]`` added at ``out[index[i][j]][j]`` (``dim=0``); repeated
    indices add up.

    >>> import chainrule as cr
    >>> cr.scatter_add(cr.zeros(2), 0, cr.tensor([1, 1, 0]), cr.tensor([1.0, 2.0, 3.0])).tolist()
    [3.0, 3.0]
    """
    return scatter_reduce(a, dim, index, src, "sum")


def scatter_reduce(a, dim, index, src, reduce, *, include_self=True):
    """Combine ``src`` into a copy of ``a`` at the places ``index`` names along ``dim`` with
    ``reduce`` in ``'sum' 'prod' 'mean' 'amax' 'amin'``; ``include_self=False`` leaves the
    input's own value out of every place that receives one. Gradients as PyTorch's (ties of
    amax/amin share evenly).

    >>> import chainrule as cr
    >>> x = cr.tensor([0.0, 0.0])
    >>> cr.scatter_reduce(x, 0, cr.tensor([0, 0, 1]), cr.tensor([1.0, 3.0, 5.0]), "mean").tolist()
    [1.3333333730697632, 2.5]
    """
    a = as_tensor(a)
    src = as_tensor(src, a)
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise ValueError(f"scatter_reduce: reduce must be one of 'sum', 'prod', 'mean', 'amax', "
                         f"'amin', got {reduce!r}")
    idx = _index_array(index, "scatter_reduce")
    axis = _axis(dim, a.data.ndim, "scatter_reduce")
    _check_index_shape(idx, a.data.shape, axis, "scatter_reduce", src.data.shape)
    coords = _coords(idx, axis)
    part = _src_part(src, idx.shape)
    values = np.broadcast_to(src.data[part], idx.shape)
    x = a.data
    hit = np.zeros(x.shape, dtype=bool)
    hit[coords] = True
    count = np.zeros(x.shape, dtype=np.int64)
    np.add.at(count, coords, 1)
    out = x.copy()
    if reduce in ("sum", "mean"):
        if not include_self:
            out[hit] = 0
        np.add.at(out, coords, values)
        if reduce == "mean":
            n = count + (1 if include_self else 0)
            n = np.maximum(n, 1)
            out = out / n if out.dtype.kind in "fc" else out // n
            out = out.astype(x.dtype, copy=False)
    elif reduce == "prod":
        if not include_self:
            out[hit] = 1
        np.multiply.at(out, coords, values)
    else:
        ufunc = np.maximum if reduce == "amax" else np.minimum
        if not include_self:
            info = np.finfo(x.dtype) if x.dtype.kind == "f" else np.iinfo(x.dtype)
            lowest = -np.inf if x.dtype.kind == "f" else info.min
            highest = np.inf if x.dtype.kind == "f" else info.max
            out[hit] = lowest if reduce == "amax" else highest
        ufunc.at(out, coords, values)
    saved = (coords, part, reduce, include_self, hit, count)
    return node(out, (a, src), "scatter_reduce", _scatter_reduce_backward, saved)


def _scatter_reduce_backward(g, node):
    coords, part, reduce, include_self, hit, count = node._saved
    a, src = node.parents
    x, out = a.data, node.data
    s = np.broadcast_to(src.data[part], _idx_shape(coords))
    if reduce == "sum":
        ga = g
        gs_part = g[coords]
    elif reduce == "mean":
        n = np.maximum(count + (1 if include_self else 0), 1).astype(g.dtype)
        ga = g / n
        gs_part = (g / n)[coords]
    elif reduce == "prod":
        ga, gs_part = _prod_grads(g, x, s, out, coords, hit, include_self)
    else:
        self_wins = (x == out) & (~hit | include_self)
        src_wins = s == out[coords]
        n = self_wins.astype(g.dtype)
        np.add.at(n, coords, src_wins.astype(g.dtype))
        share = g / np.maximum(n, 1)
        ga = self_wins * share
        gs_part = src_wins * share[coords]
    if not include_self:
        ga = ga.copy() if ga is g else ga
        ga[hit] = 0
    gs = None
    if src.requires_grad:
        gs = np.zeros(src.data.shape, dtype=src.data.dtype)
        gs[part] = gs_part
    return (ga if a.requires_grad else None), gs


def _idx_shape(coords):
    return np.broadcast_shapes(*(c.shape for c in coords))


def _prod_grads(g, x, s, out, coords, hit, include_self):
    """d out / d element = product of the other elements of its group, also with zeros."""
    zeros = np.zeros(x.shape, dtype=np.int64)
    nonzero_prod = np.where(~hit | include_self, np.where(x == 0, 1, x), 1).astype(x.dtype)
    if include_self:
        zeros += x == 0
    else:
        zeros += (x == 0) & ~hit
    np.add.at(zeros, coords, (s == 0).astype(np.int64))
    np.multiply.at(nonzero_prod, coords, np.where(s == 0, 1, s))

    def others(v, z, p):  # product of the group without element v
        with np.errstate(divide="ignore", invalid="ignore"):
            plain = np.where(v == 0, 0, p / np.where(v == 0, 1, v))
        return np.where(z == 0, plain, np.where((z == 1) & (v == 0), p, 0))

    ga = g * others(x, zeros, nonzero_prod)
    gs_part = g[coords] * others(s, zeros[coords], nonzero_prod[coords])
    return ga, gs_part


def index_add(a, dim, index, source, alpha=1):
    """A copy of ``a`` with ``alpha * source`` added at the slices ``index`` (1-D) along ``dim``;
    repeated indices add up.

    >>> import chainrule as cr
    >>> cr.index_add(cr.zeros(3), 0, cr.tensor([0, 0]), cr.tensor([1.0, 2.0])).tolist()
    [3.0, 0.0, 0.0]
    """
    a = as_tensor(a)
    source = as_tensor(source, a)
    idx = _index_array(index, "index_add", (0, 1)).reshape(-1)
    axis = _axis(dim, a.data.ndim, "index_add")
    if a.data.ndim:
        _check_range(idx, a.data.shape[axis], "index_add", dim)
    out = a.data.copy()
    moved = np.moveaxis(out, axis, 0) if out.ndim else out.reshape(1)
    src = source.data * alpha if alpha != 1 else source.data
    src_moved = np.moveaxis(src, axis, 0) if src.ndim else src.reshape(1)
    try:
        np.add.at(moved, idx, src_moved.astype(out.dtype, copy=False))
    except ValueError:
        raise ValueError(f"index_add: source of shape {source.data.shape} does not fit "
                         f"{len(idx)} slices of the input of shape {a.data.shape} along dim "
                         f"{dim}") from None
    return node(out, (a, source), "index_add", _index_add_backward, (axis, idx, alpha))


def _index_add_backward(g, node):
    axis, idx, alpha = node._saved
    source = node.parents[1]
    gs = None
    if source.requires_grad:
        gs = np.take(g, idx, axis=axis) if g.ndim else g.reshape(1)[idx]
        gs = (gs * alpha if alpha != 1 else gs).reshape(source.data.shape)
        gs = gs.astype(source.data.dtype, copy=False)
    return g, gs


# --------------------------------------------------------------------------- sorting
def _order(x, axis, descending, op):
    if x.dtype == np.bool_:
        x = x.astype(np.int8)
    elif x.dtype.kind == "u":
        x = x.astype(np.int64)
    if descending:
        x = -x
    return np.argsort(x, axis=axis, kind="stable")


def argsort(a, dim=-1, descending=False, stable=False, *, axis=None):
    """Indices that sort ``a`` along ``dim`` (ties keep their order).

    >>> import chainrule as cr
    >>> cr.argsort(cr.tensor([3.0, 1.0, 2.0])).tolist()
    [1, 2, 0]
    """
    a = as_tensor(a)
    dim = dim if axis is None else axis
    if a.data.ndim == 0:
        return _wrap(np.zeros((), dtype=np.int64))
    ax = _axis(dim, a.data.ndim, "argsort")
    return _wrap(_order(a.data, ax, descending, "argsort").astype(np.int64))


def sort(a, dim=-1, descending=False, stable=False):
    """``(values, indices)`` sorted along ``dim``, as PyTorch's ``sort``; values are
    differentiable (the gradient goes back to where each value came from).

    >>> import chainrule as cr
    >>> cr.sort(cr.tensor([3.0, 1.0, 2.0]), descending=True).values.tolist()
    [3.0, 2.0, 1.0]
    """
    a = as_tensor(a)
    indices = argsort(a, dim, descending)
    if a.data.ndim == 0:
        return SortResult(index_map(a, lambda v: v.copy(), "sort"), indices)
    ax = _axis(dim, a.data.ndim, "sort")
    idx = indices.data
    return SortResult(index_map(a, lambda v: np.take_along_axis(v, idx, ax), "sort"), indices)


def topk(a, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) entries along ``dim`` and their indices, largest first.

    >>> import chainrule as cr
    >>> cr.topk(cr.tensor([1.0, 5.0, 3.0]), 2).indices.tolist()
    [1, 2]
    """
    a = as_tensor(a)
    ax = _axis(dim, a.data.ndim, "topk")
    n = a.data.shape[ax] if a.data.ndim else 1
    if not 0 <= k <= n:
        raise ValueError(f"topk: k={k} is out of range for dim {dim} of size {n}")
    x = a.data if a.data.ndim else a.data.reshape(1)
    order = _order(x, ax, largest, "topk")
    idx = np.take(order, np.arange(k), axis=ax)
    if a.data.ndim == 0:
        return TopkResult(index_map(a, lambda v: v.reshape(1)[idx].reshape(()), "topk"),
                          _wrap(np.zeros((), np.int64)))
    values = index_map(a, lambda v: np.take_along_axis(v, idx, ax), "topk")
    return TopkResult(values, _wrap(idx.astype(np.int64)))


def kthvalue(a, k, dim=-1, keepdim=False):
    """The ``k``-th smallest entry (1-based) along ``dim`` and its index.

    >>> import chainrule as cr
    >>> cr.kthvalue(cr.tensor([3.0, 1.0, 2.0]), 2).values.item()
    2.0
    """
    a = as_tensor(a)
    ax = _axis(dim, a.data.ndim, "kthvalue")
    n = a.data.shape[ax] if a.data.ndim else 1
    if not 1 <= k <= n:
        raise ValueError(f"kthvalue: k={k} is out of range for dim {dim} of size {n}")
    if a.data.ndim == 0:
        return KthvalueResult(index_map(a, lambda v: v.copy(), "kthvalue"),
                              _wrap(np.zeros((), np.int64)))
    order = _order(a.data, ax, False, "kthvalue")
    idx = np.take(order, [k - 1], axis=ax)
    values = index_map(a, lambda v: np.take_along_axis(v, idx, ax), "kthvalue")
    indices = idx.astype(np.int64)
    if not keepdim:
        values = values.squeeze(ax)
        indices = indices.squeeze(ax)
    return KthvalueResult(values, _wrap(indices))


for _fn in (_scatter_backward, _index_add_backward):  # they read shapes only
    reads(_fn)


BACKWARD_RULES = {
    "gather": ("g ↦ scatter_add(0, index, g): repeated indices add up",),
    "take": ("g ↦ bincount(index, g)",),
    "take_along_dim": ("g ↦ bincount(index, g)",),
    "index_select": ("g ↦ index_add(0, index, g)",),
    "sort": ("g ↦ g put back at the sorted positions",),
    "topk": ("g ↦ g at the picked positions, 0 elsewhere",),
    "kthvalue": ("g ↦ g at the picked position, 0 elsewhere",),
    "scatter": ("g ↦ g with the written places zeroed", "g ↦ gather(g, index)"),
    "scatter_reduce": ("g ↦ g (sum), g/N (mean), g·Π others (prod), g at the extreme (amax/amin)",
                       "g ↦ gather of the same"),
    "index_add": ("g ↦ g", "g ↦ α·index_select(g, index)"),
    "index_put": ("g ↦ g with the written places zeroed", "g ↦ Σ g[index] over broadcasting"),
    "copy": ("0 (overwritten)", "g ↦ Σ g over broadcasting"),
}


def _method_where(self, condition, other):
    return elementwise.where(condition, self, other)


def install(cls):
    """Tensor methods of this module's ops."""
    for fn in (index_select, gather, take, take_along_dim, masked_select, masked_fill, nonzero,
               scatter, scatter_add, scatter_reduce, index_add, argsort, sort, topk, kthvalue):
        setattr(cls, fn.__name__, fn)
    cls.where = _method_where


__all__ = [
    "argsort", "argwhere", "gather", "index_add", "index_select", "kthvalue", "masked_fill",
    "masked_select", "nonzero", "scatter", "scatter_add", "scatter_reduce", "sort", "take",
    "take_along_axis", "take_along_dim", "topk", "where",
]
