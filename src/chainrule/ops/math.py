"""The trigonometric, hyperbolic, exponential and logarithmic family, and the smooth binary ops
(atan2, logaddexp, hypot, copysign, lerp). Each forward is followed by its backward.

Integer and boolean inputs are computed in the default float dtype (float32), as PyTorch does;
float inputs keep their dtype. Values outside an op's domain give NaN or ±inf as in PyTorch,
without NumPy RuntimeWarnings.

>>> import chainrule as cr
>>> x = cr.tensor(0.0, requires_grad=True); y = cr.sin(x); y.backward(); x.grad.item()
1.0
"""

import math

import numpy as np

from chainrule.backend import get_default_dtype
from chainrule.ops.base import _leaf, as_tensor, node, operands, shape_error, unary, unbroadcast
from chainrule.ops.special import _erfc_large, _erfc_mid
from chainrule.ops.special import erf as _erf_array
from chainrule.tensor import Tensor

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _quiet():
    """Silence NumPy's floating-point warnings where NaN/inf is the intended answer."""
    return np.errstate(all="ignore")


def to_float(a):
    """``a`` as a floating tensor: integers and bools become the default float dtype.

    >>> import chainrule as cr
    >>> to_float(cr.tensor([1, 2])).dtype
    dtype('float32')
    """
    a = as_tensor(a)
    if a.data.dtype.kind not in "fc":
        return _leaf(a.data.astype(get_default_dtype()))
    return a


def float_operands(a, b, op):
    """Both operands as tensors of one float dtype (PyTorch's promotion: int with float gives
    the float's dtype, int with int gives the default float dtype)."""
    a, b = operands(a, b)
    da, db = a.data.dtype, b.data.dtype
    if da == db and da.kind in "fc":
        return a, b
    if da.kind in "fc" and db.kind in "fc":
        return a, b  # float16 with float32 etc.: NumPy's promotion is PyTorch's
    target = da if da.kind in "fc" else db if db.kind in "fc" else get_default_dtype()
    if da.kind not in "fc":
        a = _leaf(a.data.astype(target))
    if db.kind not in "fc":
        b = _leaf(b.data.astype(target))
    return a, b


def _unary(fn, a, op, backward):
    a = to_float(a)
    with _quiet():
        out = fn(a.data)
    return unary(out, a, op, backward)


def _x(node):
    return node.parents[0].data


# --------------------------------------------------------------------------- trigonometric
def sin(a):
    """Sine; d/da = cos a.

    >>> import chainrule as cr
    >>> cr.sin(cr.tensor([0.0])).tolist()
    [0.0]
    """
    return _unary(np.sin, a, "sin", _sin_backward)


def _sin_backward(g, node):
    with _quiet():
        return (g * np.cos(_x(node)),)


def cos(a):
    """Cosine; d/da = −sin a.

    >>> import chainrule as cr
    >>> cr.cos(cr.tensor([0.0])).tolist()
    [1.0]
    """
    return _unary(np.cos, a, "cos", _cos_backward)


def _cos_backward(g, node):
    with _quiet():
        return (-g * np.sin(_x(node)),)


def tan(a):
    """Tangent; d/da = 1 + tan² a.

    >>> import chainrule as cr
    >>> cr.tan(cr.tensor([0.0])).tolist()
    [0.0]
    """
    return _unary(np.tan, a, "tan", _tan_backward)


def _tan_backward(g, node):
    t = node.data
    with _quiet():
        return (g * (1 + t * t),)


def asin(a):
    """Inverse sine (NaN outside [−1, 1]); d/da = 1/√(1 − a²).

    >>> import chainrule as cr
    >>> cr.asin(cr.tensor([0.0])).tolist()
    [0.0]
    """
    return _unary(np.arcsin, a, "asin", _asin_backward)


def _asin_backward(g, node):
    x = _x(node)
    with _quiet():
        return (g / np.sqrt(1 - x * x),)


def acos(a):
    """Inverse cosine; d/da = −1/√(1 − a²).

    >>> import chainrule as cr
    >>> cr.acos(cr.tensor([1.0])).tolist()
    [0.0]
    """
    return _unary(np.arccos, a, "acos", _acos_backward)


def _acos_backward(g, node):
    x = _x(node)
    with _quiet():
        return (-g / np.sqrt(1 - x * x),)


def atan(a):
    """Inverse tangent; d/da = 1/(1 + a²).

    >>> import chainrule as cr
    >>> cr.atan(cr.tensor([0.0])).tolist()
    [0.0]
    """
    return _unary(np.arctan, a, "atan", _atan_backward)


def _atan_backward(g, node):
    x = _x(node)
    with _quiet():
        return (g / (1 + x * x),)


# --------------------------------------------------------------------------- hyperbolic
def sinh(a):
    """Hyperbolic sine; d/da = cosh a.

    >>> import chainrule as cr
    >>> cr.sinh(cr.tensor([0.0])).tolist()
    [0.0]
    """
    return _unary(np.sinh, a, "sinh", _sinh_backward)


def _sinh_backward(g, node):
    with _quiet():
        return (g * np.cosh(_x(node)),)


def cosh(a):
    """Hyperbolic cosine; d/da = sinh a.

    >>> import chainrule as cr
    >>> cr.cosh(cr.tensor([0.0])).tolist()
    [1.0]
    """
    return _unary(np.cosh, a, "cosh", _cosh_backward)


def _cosh_backward(g, node):
    with _quiet():
        return (g * np.sinh(_x(node)),)


def asinh(a):
    """Inverse hyperbolic sine; d/da = 1/√(a² + 1).

    >>> import chainrule as cr
    >>> cr.asinh(cr.tensor([0.0])).tolist()
    [0.0]
    """
    return _unary(np.arcsinh, a, "asinh", _asinh_backward)


def _asinh_backward(g, node):
    x = _x(node)
    with _quiet():
        return (g / np.sqrt(x * x + 1),)


def acosh(a):
    """Inverse hyperbolic cosine (NaN below 1); d/da = 1/√(a² − 1).

    >>> import chainrule as cr
    >>> cr.acosh(cr.tensor([1.0])).tolist()
    [0.0]
    """
    return _unary(np.arccosh, a, "acosh", _acosh_backward)


def _acosh_backward(g, node):
    x = _x(node)
    with _quiet():
        return (g / np.sqrt(x * x - 1),)


def atanh(a):
    """Inverse hyperbolic tangent (±inf at ±1); d/da = 1/(1 − a²).

    >>> import chainrule as cr
    >>> cr.atanh(cr.tensor([0.0])).tolist()
    [0.0]
    """
    return _unary(np.arctanh, a, "atanh", _atanh_backward)


def _atanh_backward(g, node):
    x = _x(node)
    with _quiet():
        return (g / (1 - x * x),)


# --------------------------------------------------------------------------- exp / log family
def exp2(a):
    """``2^a``; d/da = 2^a · ln 2.

    >>> import chainrule as cr
    >>> cr.exp2(cr.tensor([3.0])).tolist()
    [8.0]
    """
    return _unary(np.exp2, a, "exp2", _exp2_backward)


def _exp2_backward(g, node):
    with _quiet():
        return (g * (node.data * node.data.dtype.type(_LN2)),)


def expm1(a):
    """``e^a − 1``, accurate for small ``a``; d/da = e^a.

    >>> import chainrule as cr
    >>> cr.expm1(cr.tensor([0.0])).tolist()
    [0.0]
    """
    return _unary(np.expm1, a, "expm1", _expm1_backward)


def _expm1_backward(g, node):
    with _quiet():
        return (g * (node.data + 1),)


def log2(a):
    """Base-2 logarithm; d/da = 1/(a · ln 2).

    >>> import chainrule as cr
    >>> cr.log2(cr.tensor([8.0])).tolist()
    [3.0]
    """
    return _unary(np.log2, a, "log2", _log2_backward)


def _log2_backward(g, node):
    x = _x(node)
    with _quiet():
        return (g / (x * x.dtype.type(_LN2)),)


def log10(a):
    """Base-10 logarithm; d/da = 1/(a · ln 10).

    >>> import chainrule as cr
    >>> round(cr.log10(cr.tensor([100.0])).item(), 5)
    2.0
    """
    return _unary(np.log10, a, "log10", _log10_backward)


def _log10_backward(g, node):
    x = _x(node)
    with _quiet():
        return (g / (x * x.dtype.type(_LN10)),)


def log1p(a):
    """``log(1 + a)``, accurate for small ``a``; d/da = 1/(1 + a).

    >>> import chainrule as cr
    >>> cr.log1p(cr.tensor([0.0])).tolist()
    [0.0]
    """
    return _unary(np.log1p, a, "log1p", _log1p_backward)


def _log1p_backward(g, node):
    with _quiet():
        return (g / (_x(node) + 1),)


def rsqrt(a):
    """``1/√a``; d/da = −½ · a^(−3/2).

    >>> import chainrule as cr
    >>> cr.rsqrt(cr.tensor([4.0])).tolist()
    [0.5]
    """
    return _unary(_rsqrt, a, "rsqrt", _rsqrt_backward)


def _rsqrt(x):
    return 1 / np.sqrt(x)


def _rsqrt_backward(g, node):
    r = node.data
    with _quiet():
        return (g * (-0.5 * r * r * r),)


def square(a):
    """``a²``; d/da = 2a. Integers stay integers (as in PyTorch).

    >>> import chainrule as cr
    >>> cr.square(cr.tensor([3.0])).tolist()
    [9.0]
    """
    a = as_tensor(a)
    with _quiet():
        out = np.square(a.data)
    return unary(out, a, "square", _square_backward)


def _square_backward(g, node):
    with _quiet():
        return (g * (2 * _x(node)),)


def reciprocal(a):
    """``1/a``; d/da = −1/a².

    >>> import chainrule as cr
    >>> cr.reciprocal(cr.tensor([4.0])).tolist()
    [0.25]
    """
    return _unary(np.reciprocal, a, "reciprocal", _reciprocal_backward)


def _reciprocal_backward(g, node):
    r = node.data
    with _quiet():
        return (-g * (r * r),)


# --------------------------------------------------------------------------- error function
def erf(a):
    """The error function; d/da = (2/√π) e^(−a²).

    >>> import chainrule as cr
    >>> cr.erf(cr.tensor([0.0])).tolist()
    [0.0]
    """
    return _unary(_erf_array, a, "erf", _erf_backward)


def _erf_backward(g, node):
    x = _x(node)
    with _quiet():
        return (g * (_TWO_OVER_SQRT_PI * np.exp(-x * x)).astype(x.dtype, copy=False),)


def _erfc_array(x):
    """``1 − erf(x)`` without cancellation: Cody's erfc intervals for |x| > 0.46875."""
    x = np.asarray(x)
    dtype = x.dtype
    xd = x.astype(np.float64).reshape(-1)
    out = 1.0 - _erf_array(xd)  # exact enough where |x| <= 0.46875 (erfc near 1)
    y = np.abs(xd)
    for part, fn in (((y > 0.46875) & (y <= 4.0), _erfc_mid),
                     ((y > 4.0) & np.isfinite(y), _erfc_large)):
        i = np.flatnonzero(part)
        if i.size:
            tail = fn(y[i])
            out[i] = np.where(xd[i] > 0, tail, 2.0 - tail)
    out[xd == np.inf] = 0.0
    out[xd == -np.inf] = 2.0
    return out.reshape(x.shape).astype(dtype, copy=False)


def erfc(a):
    """The complementary error function ``1 − erf(a)``, accurate in the tail; d/da =
    −(2/√π) e^(−a²).

    >>> import chainrule as cr
    >>> cr.erfc(cr.tensor([0.0])).tolist()
    [1.0]
    """
    return _unary(_erfc_array, a, "erfc", _erfc_backward)


def _erfc_backward(g, node):
    x = _x(node)
    with _quiet():
        return (-g * (_TWO_OVER_SQRT_PI * np.exp(-x * x)).astype(x.dtype, copy=False),)


# --------------------------------------------------------------------------- binary
def _binary(fn, a, b, op, backward, saved=()):
    a, b = float_operands(a, b, op)
    try:
        with _quiet():
            out = fn(a.data, b.data)
    except ValueError:
        raise shape_error(op, a.data.shape, b.data.shape) from None
    return node(out, (a, b), op, backward, saved)


def _pair(node):
    a, b = node.parents
    return a, b, a.data, b.data


def atan2(a, b):
    """The angle of the point ``(b, a)``: ``atan2(y=a, x=b)``; d/da = b/(a² + b²),
    d/db = −a/(a² + b²).

    >>> import chainrule as cr
    >>> cr.atan2(cr.tensor([0.0]), cr.tensor([1.0])).tolist()
    [0.0]
    """
    return _binary(np.arctan2, a, b, "atan2", _atan2_backward)


def _atan2_backward(g, node):
    a, b, y, x = _pair(node)
    with _quiet():
        r = g / (x * x + y * y)
        return (unbroadcast(r * x, a.data.shape) if a.requires_grad else None,
                unbroadcast(-r * y, b.data.shape) if b.requires_grad else None)


def logaddexp(a, b):
    """``log(e^a + e^b)`` without overflow; d/da = e^(a − out), d/db = e^(b − out).

    >>> import chainrule as cr
    >>> round(cr.logaddexp(cr.tensor([0.0]), cr.tensor([0.0])).item(), 6)
    0.693147
    """
    return _binary(np.logaddexp, a, b, "logaddexp", _logaddexp_backward)


def _logaddexp_backward(g, node):
    a, b, x, y = _pair(node)
    out = node.data
    with _quiet():
        return (unbroadcast(g * np.exp(x - out), a.data.shape) if a.requires_grad else None,
                unbroadcast(g * np.exp(y - out), b.data.shape) if b.requires_grad else None)


def hypot(a, b):
    """``√(a² + b²)`` without overflow; d/da = a/out, d/db = b/out.

    >>> import chainrule as cr
    >>> cr.hypot(cr.tensor([3.0]), cr.tensor([4.0])).tolist()
    [5.0]
    """
    return _binary(np.hypot, a, b, "hypot", _hypot_backward)


def _hypot_backward(g, node):
    a, b, x, y = _pair(node)
    with _quiet():
        r = g / node.data
        return (unbroadcast(r * x, a.data.shape) if a.requires_grad else None,
                unbroadcast(r * y, b.data.shape) if b.requires_grad else None)


def copysign(a, b):
    """``|a|`` with the sign of ``b``; d/da = out/a (0 where a = 0), d/db = 0.

    >>> import chainrule as cr
    >>> cr.copysign(cr.tensor([2.0]), cr.tensor([-1.0])).tolist()
    [-2.0]
    """
    return _binary(np.copysign, a, b, "copysign", _copysign_backward)


def _copysign_backward(g, node):
    a, b, x, _ = _pair(node)
    with _quiet():
        ratio = np.where(x == 0, 0, node.data / np.where(x == 0, 1, x)).astype(g.dtype)
    return (unbroadcast(g * ratio, a.data.shape) if a.requires_grad else None,
            np.zeros(b.data.shape, dtype=b.data.dtype) if b.requires_grad else None)


def lerp(input, end, weight):
    """Linear interpolation ``input + weight · (end − input)``; d/dinput = 1 − weight,
    d/dend = weight, d/dweight = end − input.

    >>> import chainrule as cr
    >>> cr.lerp(cr.tensor([0.0]), cr.tensor([10.0]), 0.25).tolist()
    [2.5]
    """
    a, b = float_operands(input, end, "lerp")
    w = weight if isinstance(weight, Tensor) else as_tensor(weight, a)
    if w.data.dtype != a.data.dtype:
        if w.requires_grad:
            raise TypeError(f"lerp: weight has dtype {w.data.dtype}, input has {a.data.dtype}")
        w = _leaf(w.data.astype(a.data.dtype))
    try:
        with _quiet():
            out = a.data + w.data * (b.data - a.data)
    except ValueError:
        raise shape_error("lerp", a.data.shape, b.data.shape, w.data.shape) from None
    return node(out, (a, b, w), "lerp", _lerp_backward)


def _lerp_backward(g, node):
    a, b, w = node.parents
    with _quiet():
        ga = unbroadcast(g * (1 - w.data), a.data.shape) if a.requires_grad else None
        gb = unbroadcast(g * w.data, b.data.shape) if b.requires_grad else None
        gw = unbroadcast(g * (b.data - a.data), w.data.shape) if w.requires_grad else None
    return ga, gb, gw


# NumPy's spellings
arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh = asinh, acosh, atanh

__all__ = [
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "copysign", "cos", "cosh",
    "erf", "erfc", "exp2", "expm1", "hypot", "lerp", "log10", "log1p", "log2", "logaddexp",
    "reciprocal", "rsqrt", "sin", "sinh", "square", "tan",
]
ALIASES = {"arcsin": asin, "arccos": acos, "arctan": atan, "arctan2": atan2,
           "arcsinh": asinh, "arccosh": acosh, "arctanh": atanh}


def install_tensor_methods(cls):
    """The ops of this module as Tensor methods (``x.sin()``, ``x.atan2(y)``)."""
    for name in __all__:
        setattr(cls, name, globals()[name])
    for name, fn in ALIASES.items():
        setattr(cls, name, fn)
