"""Arithmetic primitives: add, sub, mul, div, neg, pow, matmul, the fused affine ``linear``,
and ``astype``. Each forward is followed by its backward (vector-Jacobian product).

>>> import chainrule as cr
>>> w = cr.tensor([[1.0, 2.0]], requires_grad=True); x = cr.tensor([[3.0], [4.0]])
>>> (w @ x).item()
11.0
"""

import numpy as np

from chainrule.backend import get_default_dtype
from chainrule.ops.base import (
    _leaf,
    as_tensor,
    binary,
    node,
    operands,
    shape_error,
    unary,
    unbroadcast,
)


def _broadcast_call(fn, op, a, b):
    try:
        return fn(a.data, b.data)
    except ValueError:
        raise shape_error(op, a.data.shape, b.data.shape) from None


_F64 = np.dtype(np.float64)


def _float_result(fn, op, a, b, out):
    """PyTorch's promotion where NumPy's differs: an integer with a float gives the float's
    dtype (NumPy: float64), integers divided give the default float dtype. Called only when
    ``out`` came out float64, so the float32 fast path pays one dtype check."""
    da, db = a.data.dtype, b.data.dtype
    if da == _F64 or db == _F64:
        return a, b, out
    target = da if da.kind in "fc" else db if db.kind in "fc" else get_default_dtype()
    if da.kind not in "fc":
        a = _leaf(a.data.astype(target))
    if db.kind not in "fc":
        b = _leaf(b.data.astype(target))
    return a, b, _broadcast_call(fn, op, a, b)


# --------------------------------------------------------------------------- add / sub
def add(a, b):
    """``a + b`` with broadcasting. d/da = 1, d/db = 1.

    >>> import chainrule as cr
    >>> (cr.tensor([1.0, 2.0]) + 1).tolist()
    [2.0, 3.0]
    """
    a, b = operands(a, b)
    out = _broadcast_call(np.add, "add", a, b)
    if out.dtype is _F64:
        a, b, out = _float_result(np.add, "add", a, b, out)
    return binary(out, a, b, "add", _add_backward)


def _add_backward(g, node):
    a, b = node.parents
    return (unbroadcast(g, a.data.shape) if a.requires_grad else None,
            unbroadcast(g, b.data.shape) if b.requires_grad else None)


def sub(a, b):
    """``a - b`` with broadcasting. d/da = 1, d/db = -1.

    >>> import chainrule as cr
    >>> (cr.tensor([1.0, 2.0]) - 1).tolist()
    [0.0, 1.0]
    """
    a, b = operands(a, b)
    out = _broadcast_call(np.subtract, "sub", a, b)
    if out.dtype is _F64:
        a, b, out = _float_result(np.subtract, "sub", a, b, out)
    return binary(out, a, b, "sub", _sub_backward)


def _sub_backward(g, node):
    a, b = node.parents
    return (unbroadcast(g, a.data.shape) if a.requires_grad else None,
            unbroadcast(-g, b.data.shape) if b.requires_grad else None)


def neg(a):
    """``-a``.

    >>> import chainrule as cr
    >>> (-cr.tensor([1.0])).tolist()
    [-1.0]
    """
    a = as_tensor(a)
    return unary(np.negative(a.data), a, "neg", _neg_backward)


def _neg_backward(g, node):
    return (-g,)


# --------------------------------------------------------------------------- mul / div
def mul(a, b):
    """``a * b`` elementwise with broadcasting. d/da = b, d/db = a.

    >>> import chainrule as cr
    >>> (cr.tensor([1.0, 2.0]) * cr.tensor([3.0, 4.0])).tolist()
    [3.0, 8.0]
    """
    a, b = operands(a, b)
    out = _broadcast_call(np.multiply, "mul", a, b)
    if out.dtype is _F64:
        a, b, out = _float_result(np.multiply, "mul", a, b, out)
    return binary(out, a, b, "mul", _mul_backward)


def _mul_backward(g, node):
    a, b = node.parents
    return (unbroadcast(g * b.data, a.data.shape) if a.requires_grad else None,
            unbroadcast(g * a.data, b.data.shape) if b.requires_grad else None)


def div(a, b):
    """``a / b`` elementwise. d/da = 1/b, d/db = -a/b².

    >>> import chainrule as cr
    >>> (cr.tensor([1.0, 2.0]) / 2).tolist()
    [0.5, 1.0]
    """
    a, b = operands(a, b)
    out = _broadcast_call(np.true_divide, "div", a, b)
    if out.dtype is _F64:
        a, b, out = _float_result(np.true_divide, "div", a, b, out)
    return binary(out, a, b, "div", _div_backward)


def _div_backward(g, node):
    a, b = node.parents
    ga = g / b.data
    return (unbroadcast(ga, a.data.shape) if a.requires_grad else None,
            unbroadcast(-ga * node.data, b.data.shape) if b.requires_grad else None)


# --------------------------------------------------------------------------- pow
def pow(a, b):
    """``a ** b``; ``b`` may be a Python number (saved as a constant) or a tensor.

    d/da = b·a^(b-1); d/db = a^b·log(a) (0 where a == 0 and b >= 0, as in PyTorch).

    >>> import chainrule as cr
    >>> x = cr.tensor(3.0, requires_grad=True); y = x ** 2; y.backward(); x.grad.item()
    6.0
    """
    if isinstance(b, (int, float)) and not isinstance(b, bool):
        a = as_tensor(a)
        try:
            out = np.power(a.data, b)
        except ValueError:
            raise _integer_power_error(a.data.dtype, b) from None
        if out.dtype is _F64 and a.data.dtype != _F64:  # int ** float: the default float
            a = _leaf(a.data.astype(get_default_dtype()))
            out = np.power(a.data, b)
        return unary(out, a, "pow", _pow_scalar_backward, (b,))
    a, b = operands(a, b)
    try:
        out = np.power(a.data, b.data)
    except ValueError:
        if not _broadcastable(a, b):
            raise shape_error("pow", a.data.shape, b.data.shape) from None
        raise _integer_power_error(a.data.dtype, "a negative integer tensor") from None
    if out.dtype is _F64:
        a, b, out = _float_result(np.power, "pow", a, b, out)
    return binary(out, a, b, "pow", _pow_backward)


def _broadcastable(a, b):
    try:
        np.broadcast_shapes(a.data.shape, b.data.shape)
    except ValueError:
        return False
    return True


def _integer_power_error(dtype, exponent):
    return ValueError(
        f"pow: integers to negative integer powers are not allowed (base dtype {dtype}, "
        f"exponent {exponent}); cast the base to float first, e.g. x.float() ** -1"
    )


def _pow_scalar_backward(g, node):
    (p,) = node._saved
    x = node.parents[0].data
    if p == 2:
        return (g * (2 * x),)
    if p == 1:
        return (g,)
    if p == 0:  # x**0 is constant: 0, not 0·x^-1 (nan at x = 0)
        return (np.zeros_like(g * x),)
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** (p < 1): inf, as PyTorch
        return (g * (p * np.power(x, p - 1)),)


def _pow_backward(g, node):
    a, b = node.parents
    ga = gb = None
    with np.errstate(divide="ignore", invalid="ignore"):
        if a.requires_grad:
            # b · a^(b−1), and 0 where b == 0 (PyTorch: d(x⁰)/dx = 0, also at x = 0)
            ga = np.where(b.data == 0, 0, g * b.data * np.power(a.data, b.data - 1))
            ga = unbroadcast(ga.astype(g.dtype, copy=False), a.data.shape)
        if b.requires_grad:
            x = a.data
            zero_base = (x == 0) & (b.data >= 0)
            safe = np.where(zero_base, 1, x)
            gb = np.where(zero_base, 0, g * node.data * np.log(safe))
            gb = unbroadcast(gb.astype(g.dtype, copy=False), b.data.shape)
    return ga, gb


def rpow(a, b):
    """``b ** a`` for a non-tensor base ``b`` (``2 ** t``)."""
    a = as_tensor(a)
    return pow(as_tensor(b, a), a)


# --------------------------------------------------------------------------- matmul
def matmul(input, other):  # noqa: A002  (PyTorch's argument names: matmul(input=, other=))
    """Matrix product with NumPy's rules: 1-D, 2-D and batched (broadcast) operands.

    For ``C = A @ B``: dL/dA = dL/dC @ Bᵀ and dL/dB = Aᵀ @ dL/dC (summed over broadcast batches).

    >>> import chainrule as cr
    >>> cr.matmul(cr.ones(2, 3), cr.ones(3)).tolist()
    [3.0, 3.0]
    """
    a, b = operands(input, other)
    try:
        out = np.matmul(a.data, b.data)
    except ValueError:
        sa, sb = a.data.shape, b.data.shape
        if a.data.ndim == 0 or b.data.ndim == 0:
            raise ValueError(
                f"matmul: operands must be at least 1-D, got shapes {sa} and {sb}"
            ) from None
        inner_b = sb[-2] if len(sb) > 1 else sb[0]
        if sa[-1] == inner_b:
            raise ValueError(
                f"matmul: shapes {sa} and {sb} have batch dimensions {sa[:-2]} and {sb[:-2]} "
                "that cannot be broadcast together"
            ) from None
        raise ValueError(
            f"matmul: shapes {sa} and {sb} do not align "
            f"(inner dimensions {sa[-1]} and {inner_b} differ)"
        ) from None
    return binary(out, a, b, "matmul", _matmul_backward)


def _matmul_backward(g, node):
    a, b = node.parents
    x, y = a.data, b.data
    if x.ndim == 2 and y.ndim == 2:  # the common case, without reshapes
        return (g @ y.T if a.requires_grad else None, x.T @ g if b.requires_grad else None)
    # Promote 1-D operands to matrices, as np.matmul does, then undo it.
    x2 = x[None, :] if x.ndim == 1 else x
    y2 = y[:, None] if y.ndim == 1 else y
    g2 = g
    if y.ndim == 1:  # restore the column axis first: for vector @ vector g is 0-d
        g2 = np.expand_dims(g2, -1)
    if x.ndim == 1:
        g2 = np.expand_dims(g2, -2)
    ga = gb = None
    if a.requires_grad:
        ga = unbroadcast(g2 @ np.swapaxes(y2, -1, -2), x2.shape).reshape(x.shape)
    if b.requires_grad:
        gb = unbroadcast(np.swapaxes(x2, -1, -2) @ g2, y2.shape).reshape(y.shape)
    return ga, gb


# --------------------------------------------------------------------------- linear
def linear(x, weight, bias=None):
    """The fused affine map ``x @ weight.T + bias`` (weight shape ``(out, in)``, as in PyTorch).

    One node instead of three; backward: dx = g @ W, dW = gᵀ @ x, db = Σ_rows g.

    >>> import chainrule as cr
    >>> linear(cr.ones(4, 3), cr.ones(2, 3), cr.zeros(2)).shape
    (4, 2)
    """
    x = as_tensor(x)
    w = weight.data
    xd = x.data
    try:
        if xd.ndim > 2 and xd.shape[-1] == w.shape[-1]:
            # (*, in) as one (rows, in) product: NumPy's matmul would make one BLAS call
            # per leading index (64 calls for a (64, 32, in) sequence), 2-4x slower
            out = (xd.reshape(-1, xd.shape[-1]) @ w.T).reshape(*xd.shape[:-1], w.shape[0])
        else:
            out = xd @ w.T
    except ValueError:
        raise ValueError(
            f"linear: input with shape {x.data.shape} does not match weight with shape {w.shape} "
            f"(expected the last input dimension to be {w.shape[-1]})"
        ) from None
    if bias is None:
        return binary(out, x, weight, "linear", _linear_backward)
    try:
        out += bias.data
    except ValueError:
        raise shape_error(
            "linear", out.shape, bias.data.shape, detail="(output and bias) differ"
        ) from None
    return node(out, (x, weight, bias), "linear", _linear_backward)


def _linear_backward(g, node):
    x, w = node.parents[0], node.parents[1]
    gx = gw = gb = None
    xd = x.data
    if xd.ndim != 2:  # fold batch dimensions into rows
        xd = xd.reshape(-1, xd.shape[-1]) if xd.ndim > 1 else xd[None, :]
        g = g.reshape(-1, g.shape[-1]) if g.ndim > 1 else g[None, :]
    if x.requires_grad:
        gx = (g @ w.data).reshape(x.data.shape)
    if w.requires_grad:
        gw = g.T @ xd
    if len(node.parents) == 2:
        return gx, gw
    if node.parents[2].requires_grad:
        gb = g.sum(axis=0)
    return gx, gw, gb


# --------------------------------------------------------------------------- casts
def astype(a, dtype):
    """Cast to ``dtype``; between float dtypes the gradient is cast back.

    >>> import chainrule as cr
    >>> cr.tensor([1.5]).astype(cr.float64).dtype
    dtype('float64')
    """
    a = as_tensor(a)
    dtype = np.dtype(dtype)
    out = a.data.astype(dtype)
    if dtype.kind != "f":
        return _leaf(out)
    return unary(out, a, "astype", _astype_backward)


def _astype_backward(g, node):
    return (g.astype(node.parents[0].data.dtype, copy=False),)


__all__ = ["add", "sub", "neg", "mul", "div", "pow", "rpow", "matmul", "linear", "astype"]
