"""Elementwise primitives: exp, log, sqrt, abs, maximum, minimum, where, clip.

>>> import chainrule as cr
>>> x = cr.tensor(2.0, requires_grad=True); y = cr.exp(x); y.backward()
>>> bool(abs(x.grad.item() - y.item()) < 1e-6)
True
"""

import numpy as np

from chainrule.backend import get_default_dtype
from chainrule.ops.base import (
    _leaf,
    as_tensor,
    binary,
    node,
    operands,
    promote_operands,
    shape_error,
    unary,
    unbroadcast,
)
from chainrule.tensor import Tensor


def exp(a):
    """``e^a``; d/da = e^a (reuses the output).

    >>> import chainrule as cr
    >>> cr.exp(cr.tensor([0.0])).tolist()
    [1.0]
    """
    a = as_tensor(a)
    with np.errstate(all="ignore"):  # log(0) = -inf, sqrt(-1) = nan, exp(1e4) = inf: intended
        out = np.exp(a.data)
    if out.dtype is not a.data.dtype:  # an integer input: the default float dtype (PyTorch)
        a, out = _float_again(np.exp, a, out)
    return unary(out, a, "exp", _exp_backward)


def _exp_backward(g, node):
    with np.errstate(invalid="ignore"):  # 0 · inf
        return (g * node.data,)


def log(a):
    """Natural logarithm; d/da = 1/a.

    >>> import chainrule as cr
    >>> cr.log(cr.tensor([1.0])).tolist()
    [0.0]
    """
    a = as_tensor(a)
    with np.errstate(all="ignore"):  # log(0) = -inf, sqrt(-1) = nan, exp(1e4) = inf: intended
        out = np.log(a.data)
    if out.dtype is not a.data.dtype:  # an integer input: the default float dtype (PyTorch)
        a, out = _float_again(np.log, a, out)
    return unary(out, a, "log", _log_backward)


def _log_backward(g, node):
    with np.errstate(divide="ignore", invalid="ignore"):
        return (g / node.parents[0].data,)


def sqrt(a):
    """Square root; d/da = 1 / (2·√a).

    >>> import chainrule as cr
    >>> cr.sqrt(cr.tensor([4.0])).tolist()
    [2.0]
    """
    a = as_tensor(a)
    with np.errstate(all="ignore"):  # log(0) = -inf, sqrt(-1) = nan, exp(1e4) = inf: intended
        out = np.sqrt(a.data)
    if out.dtype is not a.data.dtype:  # an integer input: the default float dtype (PyTorch)
        a, out = _float_again(np.sqrt, a, out)
    return unary(out, a, "sqrt", _sqrt_backward)


def _sqrt_backward(g, node):
    with np.errstate(divide="ignore", invalid="ignore"):
        return (g / (2 * node.data),)


def _float_again(fn, a, out):
    """Integers and bools through a float op: compute in the default float dtype, as PyTorch
    does (NumPy would give float64). Floats arrive here only with a non-native dtype object."""
    if a.data.dtype.kind in "fc":
        return a, out
    a = _leaf(a.data.astype(get_default_dtype()))
    with np.errstate(all="ignore"):
        return a, fn(a.data)


def abs(a):
    """``|a|``; d/da = sign(a) (0 at 0, as in PyTorch).

    >>> import chainrule as cr
    >>> cr.abs(cr.tensor([-2.0])).tolist()
    [2.0]
    """
    a = as_tensor(a)
    return unary(np.abs(a.data), a, "abs", _abs_backward)


def _abs_backward(g, node):
    return (g * np.sign(node.parents[0].data),)


def maximum(a, b):
    """Elementwise maximum; on ties each input gets half the gradient (as in PyTorch).

    >>> import chainrule as cr
    >>> cr.maximum(cr.tensor([1.0, 5.0]), 3.0).tolist()
    [3.0, 5.0]
    """
    a, b = promote_operands(a, b)
    try:
        out = np.maximum(a.data, b.data)
    except ValueError:
        raise shape_error("maximum", a.data.shape, b.data.shape) from None
    return binary(out, a, b, "maximum", _maximum_backward)


def _maximum_backward(g, node):
    a, b = node.parents
    return _split_ties(g, a, b, a.data > b.data)


def minimum(a, b):
    """Elementwise minimum; on ties each input gets half the gradient.

    >>> import chainrule as cr
    >>> cr.minimum(cr.tensor([1.0, 5.0]), 3.0).tolist()
    [1.0, 3.0]
    """
    a, b = promote_operands(a, b)
    try:
        out = np.minimum(a.data, b.data)
    except ValueError:
        raise shape_error("minimum", a.data.shape, b.data.shape) from None
    return binary(out, a, b, "minimum", _minimum_backward)


def _minimum_backward(g, node):
    a, b = node.parents
    return _split_ties(g, a, b, a.data < b.data)


def _split_ties(g, a, b, a_wins):
    tie = a.data == b.data
    # In g's dtype: a float64 share would silently promote float32 gradients.
    share_a = np.where(tie, g.dtype.type(0.5), a_wins)
    ga = unbroadcast(g * share_a, a.data.shape) if a.requires_grad else None
    gb = unbroadcast(g * (1 - share_a), b.data.shape) if b.requires_grad else None
    return ga, gb


def where(condition, a, b):
    """``a`` where ``condition`` holds, else ``b`` (broadcast); the gradient follows the choice.

    >>> import chainrule as cr
    >>> cr.where(cr.tensor([True, False]), 1.0, 0.0).tolist()
    [1.0, 0.0]
    """
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    cond = cond.astype(bool, copy=False)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = as_tensor(a)
    a, b = operands(a, b)
    try:
        out = np.where(cond, a.data, b.data)
    except ValueError:
        raise shape_error("where", cond.shape, a.data.shape, b.data.shape) from None
    return node(out, (a, b), "where", _where_backward, (cond,))


def _where_backward(g, node):
    a, b = node.parents
    (cond,) = node._saved
    ga = unbroadcast(np.where(cond, g, 0), a.data.shape) if a.requires_grad else None
    gb = unbroadcast(np.where(cond, 0, g), b.data.shape) if b.requires_grad else None
    return ga, gb


def clip(a, min=None, max=None):
    """Limit values to ``[min, max]``; the gradient passes where ``min <= a <= max``.

    >>> import chainrule as cr
    >>> cr.clip(cr.tensor([-2.0, 0.5, 2.0]), -1, 1).tolist()
    [-1.0, 0.5, 1.0]
    """
    a = as_tensor(a)
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    if any(isinstance(b, Tensor) and b.requires_grad for b in (min, max)):
        # Bounds that need a gradient: the bound gets it wherever it is the value chosen.
        out = a if min is None else where(a.data < _raw(min), min, a)
        return out if max is None else where(out.data > _raw(max), max, out)
    lo = min.data if isinstance(min, Tensor) else min
    hi = max.data if isinstance(max, Tensor) else max
    out = np.clip(a.data, lo, hi).astype(a.data.dtype, copy=False)
    return unary(out, a, "clip", _clip_backward, (lo, hi))


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def _clip_backward(g, node):
    lo, hi = node._saved
    x = node.parents[0].data
    inside = np.ones(x.shape, dtype=bool)
    if lo is not None:
        inside &= x >= lo
    if hi is not None:
        inside &= x <= hi
    return (g * inside,)
