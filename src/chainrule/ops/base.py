"""What every primitive shares: turning operands into tensors, building graph nodes, and the
single un-broadcast helper.

A primitive computes its output with NumPy and calls :func:`unary`, :func:`binary` or
:func:`node` with its module-level backward function. The node is recorded only when grad mode
is on and some input requires grad, so inference pays for nothing it does not use.
"""

from itertools import count

import numpy as np

from chainrule.autograd import GradMode
from chainrule.backend import get_default_dtype
from chainrule.tensor import Tensor, _wrap

_new = object.__new__


_leaf = _wrap
_ndarray = np.ndarray
_next_seq = count(1).__next__  # creation order of recorded nodes: a topological order

# chainrule.jit's capture sets this to a callable that sees every op's output, inputs, name and
# saved values (recorded or not); None otherwise, so eager mode pays one global lookup per op.
_observer = None


def _record(data, op, parents, backward, saved):
    if data.__class__ is not _ndarray:  # NumPy returns scalars for 0-d results
        data = np.asarray(data)
    t = _new(Tensor)
    t.data = data
    t.grad = None
    t.requires_grad = True
    t.op = op
    t.parents = parents
    t._backward = backward
    t._saved = saved
    t._retain = False
    t.name = None
    t._seq = _next_seq()
    return t


def unary(data, a, op, backward, saved=()):
    """The output tensor of a one-input op; records the node when ``a`` needs a gradient."""
    if _observer is not None:
        return _observed(data, (a,), op, backward, saved)
    if a.requires_grad and GradMode.enabled:
        return _record(data, op, (a,), backward, saved)
    return _wrap(data)


def binary(data, a, b, op, backward, saved=()):
    """The output tensor of a two-input op."""
    if _observer is not None:
        return _observed(data, (a, b), op, backward, saved)
    if (a.requires_grad or b.requires_grad) and GradMode.enabled:
        return _record(data, op, (a, b), backward, saved)
    return _wrap(data)


def node(data, parents, op, backward, saved=()):
    """The output tensor of an op with any number of inputs."""
    if _observer is not None:
        return _observed(data, tuple(parents), op, backward, saved)
    if GradMode.enabled:
        for p in parents:
            if p.requires_grad:
                return _record(data, op, tuple(parents), backward, saved)
    return _wrap(data)


def _observed(data, parents, op, backward, saved):
    """An op's output while chainrule.jit captures a step: built as usual, then reported."""
    if GradMode.enabled and any(p.requires_grad for p in parents):
        out = _record(data, op, parents, backward, saved)
    else:
        out = _wrap(data)
    _observer(out, parents, op, saved)
    return out


def needs_grad(*tensors):
    """True when an op's result will be recorded (lets ops skip computing saved arrays)."""
    if not GradMode.enabled:
        return False
    for t in tensors:
        if t.requires_grad:
            return True
    return False


def as_tensor(x, like=None):
    """``x`` as a Tensor; Python scalars take ``like``'s dtype so float32 stays float32."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return _leaf(x if x.dtype.kind != "i" or x.dtype == np.int64 else x.astype(np.int64))
    if isinstance(x, (bool, int, float, np.number)) and not isinstance(x, np.ndarray):
        kind = like.data.dtype.kind if like is not None else None
        if isinstance(x, (bool, np.bool_)):
            dtype = like.data.dtype if like is not None else np.bool_
        elif kind == "f":
            dtype = like.data.dtype
        elif isinstance(x, (float, np.floating)):
            dtype = get_default_dtype()
        else:
            dtype = like.data.dtype if kind in ("i", "u") else np.int64
        return _leaf(np.asarray(x, dtype=dtype))
    if isinstance(x, (list, tuple)) and _holds_tensor(x):
        return _stack_nested(x)
    return Tensor(x)


def _holds_tensor(seq):
    for item in seq:
        if isinstance(item, Tensor) or (isinstance(item, (list, tuple)) and _holds_tensor(item)):
            return True
    return False


def _stack_nested(seq):
    """A (nested) list of tensors as one tensor built with ``stack``, so ``cr.mean([x, x + 2])``
    keeps the graph instead of silently becoming a constant."""
    from chainrule.ops.shape import stack

    return stack([_stack_nested(item) if isinstance(item, (list, tuple)) else as_tensor(item)
                  for item in seq])


def operands(a, b):
    """Both operands as tensors (the common all-Tensor case costs two isinstance checks)."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            return a, b
        return a, as_tensor(b, a)
    b = as_tensor(b)
    return as_tensor(a, b), b


def promote_operands(a, b):
    """Both operands as tensors, an integer or bool one cast to the other's float dtype
    (PyTorch's rule; NumPy would make int64 with float32 float64). Off the hot path: for ops
    that are not the arithmetic operators."""
    a, b = operands(a, b)
    ka, kb = a.data.dtype.kind, b.data.dtype.kind
    if (ka in "fc") != (kb in "fc"):
        if ka in "fc":
            b = _leaf(b.data.astype(a.data.dtype))
        else:
            a = _leaf(a.data.astype(b.data.dtype))
    return a, b


def reflected(fn):
    """``fn`` with its operands swapped: the ``__radd__``-style method of a binary op.

    >>> from chainrule.ops.arithmetic import sub
    >>> reflected(sub)(_leaf(np.array(1.0)), 3.0).item()
    2.0
    """

    def swapped(self, other):
        return fn(other, self)

    swapped.__name__ = f"r{fn.__name__}"
    return swapped


def unbroadcast(g, shape):
    """Sum ``g`` down to ``shape``: the adjoint of NumPy broadcasting.

    >>> unbroadcast(np.ones((4, 3)), (3,)).tolist()
    [4.0, 4.0, 4.0]
    >>> unbroadcast(np.ones((2, 3)), (2, 1)).tolist()
    [[3.0], [3.0]]
    """
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and g.shape[extra + i] != 1
    )
    if axes:
        g = g.sum(axis=axes)
    return g.reshape(shape)


def shape_error(op, *shapes, detail="cannot be broadcast together"):
    listed = " and ".join(str(tuple(s)) for s in shapes)
    return ValueError(f"{op}: shapes {listed} {detail}")


def normalize_axis(axis, ndim, op):
    """An int, tuple of ints or None as a tuple of non-negative axes (or None)."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for ax in axes:
        ax = int(ax)
        if not -ndim <= ax < max(ndim, 1):
            raise ValueError(f"{op}: axis {ax} is out of range for a tensor with {ndim} dims")
        out.append(ax % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(out)


def pick_axis(axis, dim, default=None):
    """Accept NumPy's ``axis=`` or PyTorch's ``dim=``."""
    if dim is not None:
        if axis is not None and axis != dim:
            raise TypeError("pass either axis= or dim=, not both")
        return dim
    return default if axis is None else axis


def pick_keepdims(keepdims, keepdim):
    return keepdims if keepdim is None else keepdim
