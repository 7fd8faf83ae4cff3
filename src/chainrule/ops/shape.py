"""Shape and indexing primitives: reshape, transpose, flatten, squeeze, unsqueeze,
broadcast_to, getitem, concat, stack. Their backward only moves gradient entries around.

>>> import chainrule as cr
>>> cr.ones(2, 3).reshape(3, 2).shape
(3, 2)
"""

import numpy as np

from chainrule.ops.base import as_tensor, node, normalize_axis, pick_axis, unary, unbroadcast
from chainrule.tensor import Tensor


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def reshape(a, *shape):
    """Same elements, new shape (``-1`` infers one dimension).

    >>> import chainrule as cr
    >>> cr.arange(6).reshape(2, -1).shape
    (2, 3)
    """
    a = as_tensor(a)
    shape = _shape_args(shape)
    try:
        out = a.data.reshape(shape)
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {a.data.shape} ({a.data.size} elements) "
            f"into shape {shape}"
        ) from None
    return unary(out, a, "reshape", _reshape_backward)


def _reshape_backward(g, node):
    return (g.reshape(node.parents[0].data.shape),)


def transpose(a, *axes):
    """Permute axes: no axes reverses them (NumPy's ``.T``); exactly two axes swap those two
    (PyTorch's ``transpose(dim0, dim1)``, so ``x.transpose(0, 1)`` swaps a matrix's axes); more
    axes are a full permutation (NumPy's ``transpose(axes)``).

    >>> import chainrule as cr
    >>> cr.ones(2, 3, 4).transpose(0, 2).shape
    (4, 3, 2)
    """
    a = as_tensor(a)
    axes = _shape_args(axes)
    ndim = a.data.ndim
    if not axes:
        perm = tuple(range(ndim))[::-1]
    elif len(axes) == 2 and ndim >= 2:
        i, j = normalize_axis(axes, ndim, "transpose")
        perm = list(range(ndim))
        perm[i], perm[j] = perm[j], perm[i]
        perm = tuple(perm)
    else:
        if len(axes) != ndim:
            raise ValueError(f"transpose: axes {axes} do not match a tensor with {ndim} dims")
        perm = normalize_axis(axes, ndim, "transpose")
    return unary(a.data.transpose(perm), a, "transpose", _transpose_backward, (perm,))


def permute(a, *dims):
    """Reorder all axes (PyTorch's name for a full ``transpose``)."""
    a = as_tensor(a)
    dims = _shape_args(dims)
    if len(dims) != a.data.ndim:
        raise ValueError(f"permute: dims {dims} do not match a tensor with {a.data.ndim} dims")
    perm = normalize_axis(dims, a.data.ndim, "permute")
    return unary(a.data.transpose(perm), a, "transpose", _transpose_backward, (perm,))


def _transpose_backward(g, node):
    (perm,) = node._saved
    return (g.transpose(np.argsort(perm)),)


def swapaxes(a, axis1, axis2):
    """Swap two axes."""
    a = as_tensor(a)
    i, j = normalize_axis((axis1, axis2), a.data.ndim, "swapaxes")
    perm = list(range(a.data.ndim))
    perm[i], perm[j] = perm[j], perm[i]
    return unary(a.data.transpose(perm), a, "transpose", _transpose_backward, (tuple(perm),))


def flatten(a, start_dim=0, end_dim=-1):
    """Merge axes ``start_dim..end_dim`` into one (all of them by default).

    >>> import chainrule as cr
    >>> cr.ones(2, 3, 4).flatten(1).shape
    (2, 12)
    """
    a = as_tensor(a)
    shape = a.data.shape
    if a.data.ndim == 0:
        return reshape(a, (1,))
    nd = a.data.ndim
    for d in (start_dim, end_dim):
        if not -nd <= d < nd:
            raise ValueError(f"flatten: dim {d} is out of range for a tensor with {nd} dims")
    start, end = start_dim % nd, end_dim % nd
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    new = shape[:start] + (int(np.prod(shape[start:end + 1])),) + shape[end + 1:]
    return reshape(a, new)


def squeeze(a, axis=None, *, dim=None):
    """Remove axes of length one (all of them, or those named).

    >>> import chainrule as cr
    >>> cr.ones(1, 3, 1).squeeze().shape
    (3,)
    """
    a = as_tensor(a)
    axes = normalize_axis(pick_axis(axis, dim), a.data.ndim, "squeeze")
    if axes is None:
        new = tuple(n for n in a.data.shape if n != 1)
    else:
        # PyTorch leaves an axis that is not of length one alone; so do we.
        new = tuple(n for i, n in enumerate(a.data.shape) if not (i in axes and n == 1))
    return reshape(a, new)


def unsqueeze(a, axis=None, *, dim=None):
    """Insert an axis of length one at ``axis``.

    >>> import chainrule as cr
    >>> cr.ones(3).unsqueeze(0).shape
    (1, 3)
    """
    a = as_tensor(a)
    axis = pick_axis(axis, dim)
    if axis is None:
        raise TypeError("unsqueeze: missing the axis to insert")
    try:
        new = np.expand_dims(a.data, axis).shape
    except np.exceptions.AxisError:
        raise ValueError(
            f"unsqueeze: axis {axis} is out of range for shape {a.data.shape}"
        ) from None
    return reshape(a, new)


def broadcast_to(a, shape):
    """Repeat along broadcast axes to ``shape``; backward sums the copies.

    >>> import chainrule as cr
    >>> cr.broadcast_to(cr.ones(3), (2, 3)).shape
    (2, 3)
    """
    a = as_tensor(a)
    shape = tuple(shape)
    try:
        out = np.broadcast_to(a.data, shape)
    except ValueError:
        raise ValueError(
            f"broadcast_to: shape {a.data.shape} cannot be broadcast to {shape}"
        ) from None
    return unary(out, a, "broadcast_to", _broadcast_to_backward)


def _broadcast_to_backward(g, node):
    return (unbroadcast(g, node.parents[0].data.shape),)


def _plain_index(index):
    """Replace tensors inside an index by their arrays; report whether it has integer arrays."""
    items = index if isinstance(index, tuple) else (index,)
    converted = []
    advanced_int = False
    for item in items:
        if isinstance(item, Tensor):
            item = item.data
        elif isinstance(item, list) or (isinstance(item, tuple) and items is index):
            # A list, or a tuple inside a tuple index (``x[(0, 0, 1),]``), is an integer-array
            # index: NumPy reads it so, and its repeated entries must add up their gradients.
            item = np.asarray(item)
            if item.size == 0:  # x[[]] selects nothing: an empty *integer* index, as in PyTorch
                item = item.astype(np.intp)
        if isinstance(item, np.ndarray) and item.dtype.kind in "iu":
            advanced_int = True
        converted.append(item)
    return (tuple(converted) if isinstance(index, tuple) else converted[0]), advanced_int


def getitem(a, index):
    """``a[index]`` with basic slicing, boolean masks and integer arrays (repeated indices add
    up their gradients).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> x[[0, 0, 2]].sum().backward(); x.grad.tolist()
    [2.0, 0.0, 1.0]
    """
    a = as_tensor(a)
    index, advanced_int = _plain_index(index)
    try:
        out = a.data[index]
    except IndexError as err:
        raise IndexError(f"getitem: {err} (tensor shape {a.data.shape})") from None
    return unary(out, a, "getitem", _getitem_backward, (index, advanced_int))


def _getitem_backward(g, node):
    index, advanced_int = node._saved
    x = node.parents[0].data
    grad = np.zeros(x.shape, dtype=g.dtype if g.dtype.kind == "f" else x.dtype)
    if advanced_int:
        np.add.at(grad, index, g)  # repeated indices accumulate
    else:
        grad[index] = g
    return (grad,)


def concat(tensors, axis=None, *, dim=None):
    """Join tensors along an existing axis (the lectures' ⊕ of feature vectors).

    >>> import chainrule as cr
    >>> cr.concat([cr.ones(2, 1), cr.zeros(2, 2)], axis=1).shape
    (2, 3)
    """
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concat: needs at least one tensor")
    axis = pick_axis(axis, dim, 0)  # axis=None default: dim= alone must not conflict
    (axis,) = normalize_axis(axis, tensors[0].data.ndim, "concat")
    try:
        out = np.concatenate([t.data for t in tensors], axis=axis)
    except ValueError:
        shapes = ", ".join(str(t.data.shape) for t in tensors)
        raise ValueError(f"concat: shapes {shapes} differ outside axis {axis}") from None
    sizes = [t.data.shape[axis] for t in tensors]
    return node(out, tensors, "concat", _concat_backward, (axis, np.cumsum(sizes)[:-1]))


def _concat_backward(g, node):
    axis, splits = node._saved
    return tuple(np.split(g, splits, axis=axis))


def stack(tensors, axis=None, *, dim=None):
    """Join tensors of the same shape along a new axis.

    >>> import chainrule as cr
    >>> cr.stack([cr.ones(3), cr.zeros(3)]).shape
    (2, 3)
    """
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    axis = pick_axis(axis, dim, 0)  # axis=None default: dim= alone must not conflict
    try:
        out = np.stack([t.data for t in tensors], axis=axis)
    except ValueError:
        shapes = ", ".join(str(t.data.shape) for t in tensors)
        raise ValueError(f"stack: all tensors must have the same shape, got {shapes}") from None
    (axis,) = normalize_axis(axis, out.ndim, "stack")
    return node(out, tensors, "stack", _stack_backward, (axis,))


def _stack_backward(g, node):
    (axis,) = node._saved
    return tuple(np.moveaxis(g, axis, 0))
