"""Copies, comparisons and counting: ``clone`` and ``contiguous`` (differentiable copies whose
backward passes the gradient through), PyTorch's comparison functions ``eq ne lt le gt ge``
(bool tensors, no gradient), ``equal`` and ``histc``.

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0], requires_grad=True)
>>> y = x.clone(); (y * y).sum().backward(); x.grad.tolist(), y.op
([2.0, 4.0], 'clone')
"""

import numpy as np

from chainrule.ops.base import _leaf, as_tensor, unary
from chainrule.tensor import Tensor


def clone(a):
    """A copy of ``a`` with its own memory, recorded on the graph (d/da = 1), as
    ``torch.clone``.

    >>> import chainrule as cr
    >>> a = cr.ones(2); b = a.clone(); b.data[0] = 5; a.tolist()
    [1.0, 1.0]
    """
    a = as_tensor(a)
    return unary(a.data.copy(), a, "clone", _copy_backward)


def _copy_backward(g, node):
    return (g,)


def contiguous(a):
    """``a`` itself when its array is C-contiguous, else a contiguous copy recorded on the graph
    (as ``torch.Tensor.contiguous``).

    >>> import chainrule as cr
    >>> x = cr.ones(2, 3); t = x.T
    >>> x.contiguous() is x, t.is_contiguous(), t.contiguous().is_contiguous()
    (True, False, True)
    """
    a = as_tensor(a)
    if a.data.flags.c_contiguous:
        return a
    return unary(np.ascontiguousarray(a.data), a, "contiguous", _copy_backward)


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def _compare(ufunc, op, a, b):
    try:
        return _leaf(np.asarray(ufunc(_raw(a), _raw(b))))
    except ValueError:
        raise ValueError(
            f"{op}: shapes {np.shape(_raw(a))} and {np.shape(_raw(b))} cannot be broadcast together"
        ) from None


def eq(input, other):  # noqa: A002  (PyTorch's argument names)
    """``input == other`` elementwise, as a bool tensor (``torch.eq``).

    >>> import chainrule as cr
    >>> cr.eq(cr.tensor([1, 2]), 2).tolist()
    [False, True]
    """
    return _compare(np.equal, "eq", input, other)


def ne(input, other):  # noqa: A002
    """``input != other`` elementwise (``torch.ne``)."""
    return _compare(np.not_equal, "ne", input, other)


def lt(input, other):  # noqa: A002
    """``input < other`` elementwise (``torch.lt``)."""
    return _compare(np.less, "lt", input, other)


def le(input, other):  # noqa: A002
    """``input <= other`` elementwise (``torch.le``)."""
    return _compare(np.less_equal, "le", input, other)


def gt(input, other):  # noqa: A002
    """``input > other`` elementwise (``torch.gt``).

    >>> import chainrule as cr
    >>> cr.tensor([1.0, 3.0]).gt(2).tolist()
    [False, True]
    """
    return _compare(np.greater, "gt", input, other)


def ge(input, other):  # noqa: A002
    """``input >= other`` elementwise (``torch.ge``)."""
    return _compare(np.greater_equal, "ge", input, other)


def equal(input, other):  # noqa: A002
    """True when both tensors have the same shape and the same values (``torch.equal``).

    >>> import chainrule as cr
    >>> cr.equal(cr.tensor([1, 2]), cr.tensor([1, 2])), cr.equal(cr.ones(2), cr.ones(3))
    (True, False)
    """
    a, b = np.asarray(_raw(input)), np.asarray(_raw(other))
    return a.shape == b.shape and bool(np.array_equal(a, b))


def histc(input, bins=100, min=0, max=0):  # noqa: A002
    """Histogram of the values with ``bins`` equal-width bins over ``[min, max]``; with
    ``min == max`` the data's own minimum and maximum are used. Values outside are ignored; the
    last bin includes ``max``. Returns counts in the input's float dtype (``torch.histc``).

    >>> import chainrule as cr
    >>> cr.histc(cr.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3).tolist()
    [0.0, 2.0, 1.0, 0.0]
    """
    x = np.asarray(_raw(input))
    if x.dtype.kind != "f":
        raise TypeError(f"histc: expected a floating-point tensor, got dtype {x.dtype}")
    bins = int(bins)
    if bins <= 0:
        raise ValueError(f"histc: bins must be > 0, got {bins}")
    lo, hi = float(min), float(max)
    if lo > hi:
        raise ValueError(f"histc: max must be larger than min, got min={lo} and max={hi}")
    if lo == hi:
        if x.size:
            lo, hi = float(x.min()), float(x.max())
        if lo == hi:  # PyTorch widens an empty range by one on each side
            lo, hi = lo - 1, hi + 1
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"histc: range of [{lo}, {hi}] is not finite")
    values = x[(x >= lo) & (x <= hi)].astype(np.float64)
    index = np.floor((values - lo) * (bins / (hi - lo))).astype(np.int64)
    np.minimum(index, bins - 1, out=index)  # the top edge belongs to the last bin
    counts = np.bincount(index, minlength=bins)
    return _leaf(counts.astype(x.dtype))


__all__ = ["clone", "contiguous", "eq", "equal", "ge", "gt", "histc", "le", "lt", "ne"]
