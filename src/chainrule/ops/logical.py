"""Tests and logic without gradients: isnan, isinf, isfinite, isclose, allclose, the logical
ops, and the bitwise operators ``& | ^ ~ << >>`` on integer and boolean tensors.

Every result is a bool (or integer) tensor that never requires grad.

>>> import chainrule as cr
>>> cr.isnan(cr.tensor([1.0, float("nan")])).tolist()
[False, True]
>>> (cr.tensor([True, False]) & cr.tensor([True, True])).tolist()
[True, False]
"""

import numpy as np

from chainrule.ops.base import _leaf, reflected
from chainrule.tensor import Tensor


def _array(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def isnan(a):
    """True where ``a`` is NaN.

    >>> import chainrule as cr
    >>> cr.isnan(cr.tensor([float("nan")])).tolist()
    [True]
    """
    return _leaf(np.isnan(_array(a)))


def isinf(a):
    """True where ``a`` is +inf or −inf.

    >>> import chainrule as cr
    >>> cr.isinf(cr.tensor([float("inf"), 1.0])).tolist()
    [True, False]
    """
    return _leaf(np.isinf(_array(a)))


def isfinite(a):
    """True where ``a`` is neither NaN nor ±inf.

    >>> import chainrule as cr
    >>> cr.isfinite(cr.tensor([float("inf"), 1.0])).tolist()
    [False, True]
    """
    return _leaf(np.isfinite(_array(a)))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """``|a − b| <= atol + rtol·|b|`` elementwise (PyTorch's and NumPy's defaults).

    >>> import chainrule as cr
    >>> cr.isclose(cr.tensor([1.0, 2.0]), cr.tensor([1.0 + 1e-9, 2.1])).tolist()
    [True, False]
    """
    x, y = _array(a), _array(b)
    try:
        return _leaf(np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan))
    except ValueError:
        raise ValueError(f"isclose: shapes {x.shape} and {y.shape} cannot be broadcast "
                         "together") from None


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True (a Python bool) when every element is :func:`isclose`.

    >>> import chainrule as cr
    >>> cr.allclose(cr.tensor([1.0]), cr.tensor([1.0 + 1e-9]))
    True
    """
    return bool(isclose(a, b, rtol, atol, equal_nan).data.all())


def _logical(fn, op, *args):
    arrays = [_array(x) for x in args]
    try:
        return _leaf(fn(*arrays))
    except ValueError:
        listed = " and ".join(str(x.shape) for x in arrays)
        raise ValueError(f"{op}: shapes {listed} cannot be broadcast together") from None


def logical_and(a, b):
    """Elementwise AND of the truth values (nonzero is True).

    >>> import chainrule as cr
    >>> cr.logical_and(cr.tensor([1.0, 0.0]), cr.tensor([2.0, 2.0])).tolist()
    [True, False]
    """
    return _logical(np.logical_and, "logical_and", a, b)


def logical_or(a, b):
    """Elementwise OR of the truth values.

    >>> import chainrule as cr
    >>> cr.logical_or(cr.tensor([1.0, 0.0]), cr.tensor([0.0, 0.0])).tolist()
    [True, False]
    """
    return _logical(np.logical_or, "logical_or", a, b)


def logical_xor(a, b):
    """Elementwise XOR of the truth values.

    >>> import chainrule as cr
    >>> cr.logical_xor(cr.tensor([1.0, 1.0]), cr.tensor([0.0, 1.0])).tolist()
    [True, False]
    """
    return _logical(np.logical_xor, "logical_xor", a, b)


def logical_not(a):
    """Elementwise NOT of the truth values.

    >>> import chainrule as cr
    >>> cr.logical_not(cr.tensor([1.0, 0.0])).tolist()
    [False, True]
    """
    return _logical(np.logical_not, "logical_not", a)


def _bitwise(fn, op, *args):
    arrays = [_array(x) for x in args]
    for x in arrays:
        if x.dtype.kind not in "iub":
            raise TypeError(f"{op}: needs integer or boolean tensors, got dtype {x.dtype}")
    try:
        return _leaf(np.asarray(fn(*arrays)))
    except ValueError:
        listed = " and ".join(str(x.shape) for x in arrays)
        raise ValueError(f"{op}: shapes {listed} cannot be broadcast together") from None
    except TypeError:
        dtypes = " and ".join(str(x.dtype) for x in arrays)
        raise TypeError(f"{op}: not supported for dtypes {dtypes}") from None


def bitwise_and(a, b):
    """``a & b`` for integer or boolean tensors.

    >>> import chainrule as cr
    >>> cr.bitwise_and(cr.tensor([12]), cr.tensor([10])).tolist()
    [8]
    """
    return _bitwise(np.bitwise_and, "bitwise_and", a, b)


def bitwise_or(a, b):
    """``a | b`` for integer or boolean tensors.

    >>> import chainrule as cr
    >>> cr.bitwise_or(cr.tensor([12]), cr.tensor([10])).tolist()
    [14]
    """
    return _bitwise(np.bitwise_or, "bitwise_or", a, b)


def bitwise_xor(a, b):
    """``a ^ b`` for integer or boolean tensors.

    >>> import chainrule as cr
    >>> cr.bitwise_xor(cr.tensor([12]), cr.tensor([10])).tolist()
    [6]
    """
    return _bitwise(np.bitwise_xor, "bitwise_xor", a, b)


def bitwise_not(a):
    """``~a``: bit flip for integers, NOT for booleans.

    >>> import chainrule as cr
    >>> cr.bitwise_not(cr.tensor([True, False])).tolist(), cr.bitwise_not(cr.tensor([0])).tolist()
    ([False, True], [-1])
    """
    return _bitwise(np.invert, "bitwise_not", a)


def bitwise_left_shift(a, b):
    """``a << b`` for integer tensors.

    >>> import chainrule as cr
    >>> (cr.tensor([1, 3]) << 2).tolist()
    [4, 12]
    """
    return _bitwise(np.left_shift, "bitwise_left_shift", a, b)


def bitwise_right_shift(a, b):
    """``a >> b`` for integer tensors (arithmetic shift).

    >>> import chainrule as cr
    >>> (cr.tensor([16, -16]) >> 2).tolist()
    [4, -4]
    """
    return _bitwise(np.right_shift, "bitwise_right_shift", a, b)


__all__ = [
    "allclose", "bitwise_and", "bitwise_left_shift", "bitwise_not", "bitwise_or",
    "bitwise_right_shift", "bitwise_xor", "isclose", "isfinite", "isinf", "isnan",
    "logical_and", "logical_not", "logical_or", "logical_xor",
]


def install_tensor_methods(cls):
    """``x.isnan()``, ``x & y``, ``~x``, ``x << 2`` ... on Tensor."""
    for name in __all__:
        setattr(cls, name, globals()[name])
    cls.__and__ = bitwise_and
    cls.__rand__ = reflected(bitwise_and)
    cls.__or__ = bitwise_or
    cls.__ror__ = reflected(bitwise_or)
    cls.__xor__ = bitwise_xor
    cls.__rxor__ = reflected(bitwise_xor)
    cls.__invert__ = bitwise_not
    cls.__lshift__ = bitwise_left_shift
    cls.__rlshift__ = reflected(bitwise_left_shift)
    cls.__rshift__ = bitwise_right_shift
    cls.__rrshift__ = reflected(bitwise_right_shift)
