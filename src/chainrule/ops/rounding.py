"""Rounding and modular ops: sign, floor, ceil, round, trunc, frac, fmod, remainder (``%``),
floor division (``//``), nan_to_num. Integer tensors stay integers where PyTorch keeps them.

Rounding is piecewise constant, so its gradient is zero (as in PyTorch); ``frac`` passes the
gradient through; ``fmod``/``remainder`` pass it to the dividend and give the divisor
``−trunc(a/b)`` / ``−floor(a/b)``.

>>> import chainrule as cr
>>> (cr.tensor([5, -5]) % 3).tolist(), (cr.tensor([-7]) // 2).tolist()
([2, 1], [-4])
"""

import numpy as np

from chainrule.ops.base import (
    _leaf,
    as_tensor,
    node,
    operands,
    promote_operands,
    reflected,
    shape_error,
    unary,
    unbroadcast,
)


def _quiet():
    return np.errstate(all="ignore")


def _zero_backward(g, node):
    return tuple(np.zeros(p.data.shape, dtype=p.data.dtype) if p.requires_grad else None
                 for p in node.parents)


def _piecewise_constant(fn, a, op):
    a = as_tensor(a)
    x = a.data
    if x.dtype.kind == "b" or (x.dtype.kind in "iu" and fn is not np.sign):
        out = x.copy()  # integers are already whole
    else:
        out = fn(x)
        if fn is np.sign and x.dtype.kind == "f":
            out = np.where(np.isnan(x), 0, out).astype(x.dtype)  # PyTorch: sign(NaN) = 0
    return unary(out, a, op, _zero_backward)


def sign(a):
    """−1, 0 or +1 by the sign of ``a`` (NaN stays NaN); zero gradient.

    >>> import chainrule as cr
    >>> cr.sign(cr.tensor([-2.0, 0.0, 3.0])).tolist()
    [-1.0, 0.0, 1.0]
    """
    return _piecewise_constant(np.sign, a, "sign")


def floor(a):
    """Round toward −∞; zero gradient.

    >>> import chainrule as cr
    >>> cr.floor(cr.tensor([-1.5, 1.5])).tolist()
    [-2.0, 1.0]
    """
    return _piecewise_constant(np.floor, a, "floor")


def ceil(a):
    """Round toward +∞; zero gradient.

    >>> import chainrule as cr
    >>> cr.ceil(cr.tensor([-1.5, 1.5])).tolist()
    [-1.0, 2.0]
    """
    return _piecewise_constant(np.ceil, a, "ceil")


def trunc(a):
    """Round toward zero; zero gradient.

    >>> import chainrule as cr
    >>> cr.trunc(cr.tensor([-1.5, 1.5])).tolist()
    [-1.0, 1.0]
    """
    return _piecewise_constant(np.trunc, a, "trunc")


def round(a, decimals=0):
    """Round half to even (as PyTorch and NumPy), to ``decimals`` places; zero gradient.

    >>> import chainrule as cr
    >>> cr.round(cr.tensor([0.5, 1.5, 2.25]), decimals=0).tolist()
    [0.0, 2.0, 2.0]
    """
    a = as_tensor(a)
    x = a.data
    if x.dtype.kind in "iub":
        if decimals:
            raise TypeError(f"round: decimals={decimals} needs a floating-point tensor, "
                            f"got dtype {x.dtype}")
        out = x.copy()
    else:
        with _quiet():
            out = np.round(x, decimals)
    return unary(out, a, "round", _zero_backward)


def frac(a):
    """The fractional part ``a − trunc(a)`` (sign of ``a``); d/da = 1.

    >>> import chainrule as cr
    >>> cr.frac(cr.tensor([-1.5, 2.25])).tolist()
    [-0.5, 0.25]
    """
    a = as_tensor(a)
    if a.data.dtype.kind not in "fc":
        raise TypeError(f"frac: needs a floating-point tensor, got dtype {a.data.dtype}")
    with _quiet():
        out = a.data - np.trunc(a.data)
    return unary(out, a, "frac", _frac_backward)


def _frac_backward(g, node):
    return (g,)


def nan_to_num(a, nan=0.0, posinf=None, neginf=None):
    """Replace NaN by ``nan`` and ±inf by ``posinf``/``neginf`` (the dtype's extremes by
    default); the gradient passes where ``a`` was finite.

    >>> import chainrule as cr
    >>> cr.nan_to_num(cr.tensor([float("nan"), 1.0]), nan=-1.0).tolist()
    [-1.0, 1.0]
    """
    a = as_tensor(a)
    out = np.nan_to_num(a.data, nan=nan, posinf=posinf, neginf=neginf)
    return unary(out, a, "nan_to_num", _nan_to_num_backward)


def _nan_to_num_backward(g, node):
    return (g * np.isfinite(node.parents[0].data),)


# --------------------------------------------------------------------------- modular
def _modular(fn, a, b, op, backward):
    a, b = promote_operands(a, b)
    if a.data.dtype.kind == "b" and b.data.dtype.kind == "b":
        raise TypeError(f"{op}: not defined for two boolean tensors")
    try:
        with _quiet():
            out = fn(a.data, b.data)
    except ValueError:
        raise shape_error(op, a.data.shape, b.data.shape) from None
    except TypeError:
        raise TypeError(f"{op}: not supported for dtypes {a.data.dtype} and "
                        f"{b.data.dtype}") from None
    return node(out, (a, b), op, backward)


def fmod(a, b):
    """C's remainder ``a − trunc(a/b)·b`` (sign of ``a``); d/da = 1, d/db = −trunc(a/b).

    >>> import chainrule as cr
    >>> cr.fmod(cr.tensor([-5.0, 5.0]), 3.0).tolist()
    [-2.0, 2.0]
    """
    return _modular(np.fmod, a, b, "fmod", _fmod_backward)


def _fmod_backward(g, node):
    return _modular_grads(g, node, np.trunc)


def remainder(a, b):
    """Python's ``a % b``: ``a − floor(a/b)·b`` (sign of ``b``); d/da = 1, d/db = −floor(a/b).

    >>> import chainrule as cr
    >>> cr.remainder(cr.tensor([-5.0, 5.0]), 3.0).tolist()
    [1.0, 2.0]
    """
    return _modular(np.remainder, a, b, "remainder", _remainder_backward)


def _remainder_backward(g, node):
    return _modular_grads(g, node, np.floor)


def _modular_grads(g, node, rounding):
    """``a − rounding(a/b)·b``: d/da = 1, d/db = −rounding(a/b)."""
    a, b = node.parents
    with _quiet():
        q = rounding(a.data / b.data) if b.requires_grad else None
    return (unbroadcast(g, a.data.shape) if a.requires_grad else None,
            unbroadcast(-g * q, b.data.shape) if b.requires_grad else None)


def _trunc_divide(x, y):
    if x.dtype.kind in "fc" or y.dtype.kind in "fc":
        return np.trunc(np.true_divide(x, y))
    q = np.floor_divide(x, y)
    # Integer floor division rounds toward −∞: step back toward zero where signs differ.
    return q + ((np.remainder(x, y) != 0) & ((x < 0) != (y < 0)))


def rounded_divide(a, b, rounding_mode):
    """``a / b`` rounded by ``rounding_mode`` ('trunc' or 'floor'); zero gradient, as in
    PyTorch. Integers stay integers.

    >>> import chainrule as cr
    >>> rounded_divide(cr.tensor([-7, 7]), 2, "trunc").tolist()
    [-3, 3]
    """
    if rounding_mode == "floor":
        fn = np.floor_divide
    elif rounding_mode == "trunc":
        fn = _trunc_divide
    else:
        raise ValueError(
            f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    a, b = operands(a, b)
    if a.data.dtype.kind == "b" and b.data.dtype.kind == "b":
        a = _leaf(a.data.astype(np.int64))
    try:
        with _quiet():
            out = fn(a.data, b.data)
    except ValueError:
        raise shape_error("div", a.data.shape, b.data.shape) from None
    return node(np.asarray(out), (a, b), "div_" + rounding_mode, _zero_backward)


def floor_divide(a, b):
    """``a // b``: floor division (Python's and PyTorch's rule); zero gradient.

    >>> import chainrule as cr
    >>> cr.floor_divide(cr.tensor([7.0, -7.0]), 2).tolist()
    [3.0, -4.0]
    """
    return rounded_divide(a, b, "floor")


__all__ = ["ceil", "floor", "floor_divide", "fmod", "frac", "nan_to_num", "remainder", "round",
           "sign", "trunc"]


def install_tensor_methods(cls):
    """``x.floor()``, ``x % y``, ``x // y`` and the other ops of this module as methods."""
    for name in __all__:
        setattr(cls, name, globals()[name])
    cls.__mod__ = remainder
    cls.__rmod__ = reflected(remainder)
    cls.__floordiv__ = floor_divide
    cls.__rfloordiv__ = reflected(floor_divide)
