"""Activation primitives: relu, leaky_relu, elu, sigmoid, tanh, gelu, softplus, step,
softmax, log_softmax, and PyTorch's wider family (silu, mish, hardswish, hardsigmoid,
hardtanh, relu6, selu, celu, softsign, logsigmoid, softmin, tanhshrink, threshold, prelu, glu).
All are numerically stable for inputs as large as ±1e4; at a kink the gradient is PyTorch's.

>>> import chainrule as cr
>>> cr.relu(cr.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""

import math

import numpy as np

from chainrule.ops.base import as_tensor, normalize_axis, pick_axis, unary
from chainrule.ops.special import erf


def relu(a):
    """``max(a, 0)``; d/da = 1 where a > 0, else 0.

    >>> import chainrule as cr
    >>> cr.relu(cr.tensor([-1.0, 0.0, 3.0])).tolist()
    [0.0, 0.0, 3.0]
    """
    a = as_tensor(a)
    return unary(np.maximum(a.data, 0), a, "relu", _relu_backward)


def _relu_backward(g, node):
    # 0 where the output is <= 0; NaN inputs pass the gradient on, as in PyTorch. A multiply
    # keeps g's memory order (np.where writes C order: 15x slower on a conv layer's
    # batch-last views, 2.5x on a (64, 256) matrix); only an infinite upstream gradient at a
    # masked cell differs from PyTorch (NaN instead of 0).
    return (g * ~(node.data <= 0),)


def leaky_relu(a, negative_slope=0.01):
    """``a`` where a > 0, else ``negative_slope · a``.

    >>> import chainrule as cr
    >>> cr.leaky_relu(cr.tensor([-1.0, 2.0]), 0.1).tolist()
    [-0.10000000149011612, 2.0]
    """
    a = _float_input(as_tensor(a), "leaky_relu")
    x = a.data
    out = np.where(x > 0, x, x * negative_slope).astype(x.dtype, copy=False)
    return unary(out, a, "leaky_relu", _leaky_relu_backward, (negative_slope,))


def _leaky_relu_backward(g, node):
    (slope,) = node._saved
    return (np.where(node.parents[0].data > 0, g, g * slope),)


def elu(a, alpha=1.0):
    """``a`` where a > 0, else ``alpha · (e^a − 1)``.

    >>> import chainrule as cr
    >>> cr.elu(cr.tensor([0.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    a = _float_input(as_tensor(a), "elu")
    x = a.data
    with _quiet():
        out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)
    return unary(out, a, "elu", _elu_backward, (alpha,))


def _elu_backward(g, node):
    (alpha,) = node._saved
    with _quiet():
        return (np.where(node.parents[0].data > 0, g, g * (node.data + alpha)),)


def _to_default_float(a):
    if a.data.dtype.kind in "fc":
        return a
    from chainrule.backend import get_default_dtype
    from chainrule.ops.base import _leaf

    return _leaf(a.data.astype(get_default_dtype()))


def _sigmoid(x):
    # exp(-|x|) never overflows; 1/(1+e) and e/(1+e) cover both signs without cancellation.
    e = np.exp(-np.abs(x))
    r = 1 / (1 + e)
    return np.where(x >= 0, r, e * r)


def sigmoid(a):
    """The logistic function ``1 / (1 + e^-a)``; d/da = σ(a)(1 − σ(a)).

    >>> import chainrule as cr
    >>> cr.sigmoid(cr.tensor([0.0])).tolist()
    [0.5]
    """
    a = as_tensor(a)
    out = _sigmoid(a.data)
    if out.dtype is not a.data.dtype:  # an integer input: the default float dtype
        a = _to_default_float(a)
        out = _sigmoid(a.data)
    return unary(out, a, "sigmoid", _sigmoid_backward)


def _sigmoid_backward(g, node):
    s = node.data
    return (g * s * (1 - s),)


def tanh(a):
    """Hyperbolic tangent; d/da = 1 − tanh²(a).

    >>> import chainrule as cr
    >>> cr.tanh(cr.tensor([0.0])).tolist()
    [0.0]
    """
    a = as_tensor(a)
    out = np.tanh(a.data)
    if out.dtype is not a.data.dtype:  # an integer input: the default float dtype
        a = _to_default_float(a)
        out = np.tanh(a.data)
    return unary(out, a, "tanh", _tanh_backward)


def _tanh_backward(g, node):
    t = node.data
    return (g * (1 - t * t),)


_SQRT_HALF = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def gelu(a, approximate="none"):
    """Gaussian error linear unit ``a · Φ(a)`` (``approximate='tanh'`` for the tanh form).

    >>> import chainrule as cr
    >>> cr.gelu(cr.tensor([0.0])).tolist()
    [0.0]
    """
    a = _float_input(as_tensor(a), "gelu")
    x = a.data
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    with _quiet():  # ±inf and NaN inputs: inf · 0 where PyTorch also gives NaN
        if approximate == "none":
            out = 0.5 * x * (1 + erf(x * _SQRT_HALF))
        else:
            inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
            out = 0.5 * x * (1 + np.tanh(inner))
    return unary(out.astype(x.dtype, copy=False), a, "gelu", _gelu_backward, (approximate,))


def _gelu_backward(g, node):
    (approximate,) = node._saved
    x = node.parents[0].data
    with _quiet():
        if approximate == "none":
            cdf = 0.5 * (1 + erf(x * _SQRT_HALF))
            return (g * (cdf + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x)),)
        k = math.sqrt(2 / math.pi)
        t = np.tanh(k * (x + 0.044715 * x**3))
        dinner = k * (1 + 3 * 0.044715 * x * x)
        return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dinner),)


def softplus(a, beta=1.0, threshold=20.0):
    """``log(1 + e^(beta·a)) / beta``, linear where ``beta·a > threshold`` (as in PyTorch).

    >>> import chainrule as cr
    >>> round(cr.softplus(cr.tensor([0.0])).item(), 6)
    0.693147
    """
    a = _float_input(as_tensor(a), "softplus")
    x = a.data
    bx = x * beta if beta != 1 else x
    with _quiet():
        out = np.where(bx > threshold, x, np.logaddexp(0, bx) / beta).astype(x.dtype, copy=False)
    return unary(out, a, "softplus", _softplus_backward, (beta, threshold))


def _softplus_backward(g, node):
    beta, threshold = node._saved
    bx = node.parents[0].data * beta
    return (np.where(bx > threshold, g, g * _sigmoid(bx)),)


def step(a):
    """Heaviside step: 1 where ``a >= 0``, else 0. Its gradient is zero everywhere.

    >>> import chainrule as cr
    >>> cr.step(cr.tensor([-1.0, 0.0, 2.0])).tolist()
    [0.0, 1.0, 1.0]
    """
    a = as_tensor(a)
    return unary((a.data >= 0).astype(a.data.dtype), a, "step", _step_backward)


def _step_backward(g, node):
    return (np.zeros_like(node.parents[0].data),)


def _one_axis(axis, dim, ndim, op):
    # axis defaults to None (meaning the last axis) so that dim= alone is not a conflict.
    axis = pick_axis(axis, dim, -1)
    if ndim == 0:  # PyTorch accepts dim 0 / -1 on a 0-d tensor: the op over no axis
        if int(axis) not in (0, -1):
            raise ValueError(f"{op}: dim {axis} is out of range for a 0-d tensor (use 0 or -1)")
        return ()
    (axis,) = normalize_axis(axis, ndim, op)
    return axis


def softmax(a, axis=None, dim=None):
    """``e^a / Σ e^a`` along ``axis`` (the last by default; ``dim=`` works too), max-shifted
    so it never overflows.

    Backward: dL/da = s ⊙ (g − Σ(g ⊙ s)).

    >>> import chainrule as cr
    >>> cr.softmax(cr.tensor([0.0, 0.0])).tolist()
    [0.5, 0.5]
    """
    a = as_tensor(a)
    axis = _one_axis(axis, dim, a.data.ndim, "softmax")
    x = a.data
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return unary(e, a, "softmax", _softmax_backward, (axis,))


def _softmax_backward(g, node):
    (axis,) = node._saved
    s = node.data
    gs = g * s
    return (gs - s * gs.sum(axis=axis, keepdims=True),)


def log_softmax(a, axis=None, dim=None):
    """``a − logsumexp(a)`` along ``axis`` (the last by default); backward:
    dL/da = g − softmax(a)·Σg.

    >>> import chainrule as cr
    >>> round(cr.log_softmax(cr.tensor([0.0, 0.0])).tolist()[0], 6)
    -0.693147
    """
    a = as_tensor(a)
    axis = _one_axis(axis, dim, a.data.ndim, "log_softmax")
    x = a.data
    shifted = x - x.max(axis=axis, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return unary(out, a, "log_softmax", _log_softmax_backward, (axis,))


def _log_softmax_backward(g, node):
    (axis,) = node._saved
    return (g - np.exp(node.data) * g.sum(axis=axis, keepdims=True),)


# --------------------------------------------------------------------------- PyTorch's wider family
def _quiet():
    return np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore")


def _float_input(a, op):
    a = as_tensor(a)
    if a.data.dtype.kind not in "fc":
        raise TypeError(f"{op}: needs a floating-point tensor, got dtype {a.data.dtype}")
    return a


def silu(a):
    """SiLU (swish) ``a · σ(a)``; d/da = σ(a)(1 + a(1 − σ(a))).

    >>> import chainrule as cr
    >>> cr.silu(cr.tensor([0.0])).tolist()
    [0.0]
    """
    a = _float_input(a, "silu")
    with _quiet():
        out = a.data * _sigmoid(a.data)
    return unary(out, a, "silu", _silu_backward)


def _silu_backward(g, node):
    x = node.parents[0].data
    s = _sigmoid(x)
    with _quiet():
        return (g * (s * (1 + x * (1 - s))),)


def _softplus0(x):
    return np.logaddexp(0, x).astype(x.dtype, copy=False)


def mish(a):
    """Mish ``a · tanh(softplus(a))``; d/da = tanh(sp) + a·σ(a)·(1 − tanh²(sp)).

    >>> import chainrule as cr
    >>> cr.mish(cr.tensor([0.0])).tolist()
    [0.0]
    """
    a = _float_input(a, "mish")
    with _quiet():
        out = a.data * np.tanh(_softplus0(a.data))
    return unary(out, a, "mish", _mish_backward)


def _mish_backward(g, node):
    x = node.parents[0].data
    with _quiet():
        t = np.tanh(_softplus0(x))
        return (g * (t + x * _sigmoid(x) * (1 - t * t)),)


def hardswish(a):
    """``a · relu6(a + 3) / 6``; d/da = 0 for a ≤ −3, a/3 + ½ for −3 < a < 3, 1 for a ≥ 3.

    >>> import chainrule as cr
    >>> cr.hardswish(cr.tensor([-4.0, 0.0, 4.0])).tolist()
    [-0.0, 0.0, 4.0]
    """
    a = _float_input(a, "hardswish")
    x = a.data
    with _quiet():  # PyTorch's formula: −inf gives NaN (−inf · 0), +inf gives inf
        out = x * np.clip(x + 3, 0, 6) / 6
    return unary(out.astype(x.dtype, copy=False), a, "hardswish", _hardswish_backward)


def _hardswish_backward(g, node):
    x = node.parents[0].data
    local = np.where(x <= -3, 0, np.where(x < 3, x / 3 + 0.5, 1))
    return ((g * local).astype(g.dtype, copy=False),)


def hardsigmoid(a):
    """``relu6(a + 3) / 6``; d/da = 1/6 on (−3, 3), else 0.

    >>> import chainrule as cr
    >>> cr.hardsigmoid(cr.tensor([-4.0, 0.0, 4.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    a = _float_input(a, "hardsigmoid")
    x = a.data
    out = (np.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)
    return unary(out, a, "hardsigmoid", _hardsigmoid_backward)


def _hardsigmoid_backward(g, node):
    x = node.parents[0].data
    return (g * (((x > -3) & (x < 3)) / g.dtype.type(6)).astype(g.dtype),)


def hardtanh(a, min_val=-1.0, max_val=1.0):
    """``a`` clipped to ``[min_val, max_val]``; d/da = 1 strictly inside, else 0.

    >>> import chainrule as cr
    >>> cr.hardtanh(cr.tensor([-2.0, 0.5, 2.0])).tolist()
    [-1.0, 0.5, 1.0]
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} is larger than max_val {max_val}")
    a = as_tensor(a)
    out = np.clip(a.data, min_val, max_val).astype(a.data.dtype, copy=False)
    return unary(out, a, "hardtanh", _hardtanh_backward, (min_val, max_val))


def _hardtanh_backward(g, node):
    lo, hi = node._saved
    x = node.parents[0].data
    return (np.where((x <= lo) | (x >= hi), 0, g),)  # NaN passes g on, as in PyTorch


def relu6(a):
    """``min(max(a, 0), 6)`` (hardtanh on [0, 6]).

    >>> import chainrule as cr
    >>> cr.relu6(cr.tensor([-1.0, 3.0, 9.0])).tolist()
    [0.0, 3.0, 6.0]
    """
    return hardtanh(a, 0.0, 6.0)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(a):
    """``scale · (a if a > 0 else α(e^a − 1))`` with PyTorch's α and scale.

    >>> import chainrule as cr
    >>> round(cr.selu(cr.tensor([1.0])).item(), 6)
    1.050701
    """
    a = _float_input(a, "selu")
    x = a.data
    with _quiet():
        neg = _SELU_ALPHA * np.expm1(np.minimum(x, 0))
    out = (_SELU_SCALE * np.where(x > 0, x, neg)).astype(x.dtype, copy=False)
    return unary(out, a, "selu", _selu_backward)


def _selu_backward(g, node):
    x = node.parents[0].data
    local = np.where(x > 0, _SELU_SCALE, _SELU_SCALE * _SELU_ALPHA * np.exp(np.minimum(x, 0)))
    return ((g * local).astype(g.dtype, copy=False),)


def celu(a, alpha=1.0):
    """``a`` where a > 0, else ``alpha · (e^(a/alpha) − 1)``.

    >>> import chainrule as cr
    >>> cr.celu(cr.tensor([0.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    a = _float_input(a, "celu")
    x = a.data
    with _quiet():
        neg = alpha * np.expm1(np.minimum(x, 0) / alpha)
    out = np.where(x > 0, x, neg).astype(x.dtype, copy=False)
    return unary(out, a, "celu", _celu_backward, (alpha,))


def _celu_backward(g, node):
    (alpha,) = node._saved
    x = node.parents[0].data
    local = np.where(x > 0, 1, np.exp(np.minimum(x, 0) / alpha))
    return ((g * local).astype(g.dtype, copy=False),)


def softsign(a):
    """``a / (1 + |a|)``; d/da = 1 / (1 + |a|)².

    >>> import chainrule as cr
    >>> cr.softsign(cr.tensor([1.0])).tolist()
    [0.5]
    """
    a = _to_default_float(as_tensor(a))
    with _quiet():
        out = a.data / (1 + np.abs(a.data))
    return unary(out, a, "softsign", _softsign_backward)


def _softsign_backward(g, node):
    d = 1 + np.abs(node.parents[0].data)
    with _quiet():
        return (g / (d * d),)


def logsigmoid(a):
    """``log σ(a) = min(a, 0) − log(1 + e^(−|a|))``, stable for any ``a``; d/da = σ(−a).

    >>> import chainrule as cr
    >>> round(cr.logsigmoid(cr.tensor([0.0])).item(), 6)
    -0.693147
    """
    a = _float_input(a, "logsigmoid")
    x = a.data
    with _quiet():
        out = np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))
    return unary(out.astype(x.dtype, copy=False), a, "logsigmoid", _logsigmoid_backward)


def _logsigmoid_backward(g, node):
    return (g * _sigmoid(-node.parents[0].data),)


def softmin(a, axis=None, dim=None):
    """``softmax(−a)`` along ``dim`` (the last by default).

    >>> import chainrule as cr
    >>> cr.softmin(cr.tensor([0.0, 0.0])).tolist()
    [0.5, 0.5]
    """
    from chainrule.ops.arithmetic import neg

    return softmax(neg(_float_input(a, "softmin")), axis, dim)


def tanhshrink(a):
    """``a − tanh(a)``; d/da = tanh²(a).

    >>> import chainrule as cr
    >>> cr.tanhshrink(cr.tensor([0.0])).tolist()
    [0.0]
    """
    a = _to_default_float(as_tensor(a))
    return unary(a.data - np.tanh(a.data), a, "tanhshrink", _tanhshrink_backward)


def _tanhshrink_backward(g, node):
    t = np.tanh(node.parents[0].data)
    return (g * t * t,)


def threshold(a, threshold, value):
    """``a`` where ``a > threshold``, else ``value``; d/da = 1 where a > threshold.

    >>> import chainrule as cr
    >>> cr.threshold(cr.tensor([1.0, 3.0]), 2.0, -1.0).tolist()
    [-1.0, 3.0]
    """
    a = as_tensor(a)
    x = a.data
    out = np.where(x <= threshold, value, x).astype(x.dtype, copy=False)  # NaN stays NaN
    return unary(out, a, "threshold", _threshold_backward, (threshold,))


def _threshold_backward(g, node):
    (t,) = node._saved
    return (np.where(node.parents[0].data <= t, 0, g),)


def prelu(a, weight):
    """``a`` where a > 0, else ``weight · a``, with one learnable slope per channel (dim 1) or
    one for all. d/da = 1 or weight; d/dweight = Σ a over the non-positive elements.

    >>> import chainrule as cr
    >>> cr.prelu(cr.tensor([[-2.0, 2.0]]), cr.tensor([0.25])).tolist()
    [[-0.5, 2.0]]
    """
    from chainrule.ops.base import binary

    a = _float_input(a, "prelu")
    w = as_tensor(weight)
    x = a.data
    c = w.data.size
    if w.data.ndim > 1:
        raise ValueError(f"prelu: weight must be 1-D, got shape {w.data.shape}")
    if c != 1 and (x.ndim < 2 or x.shape[1] != c):
        raise ValueError(f"prelu: weight has {c} slopes but the input of shape {x.shape} has "
                         f"{x.shape[1] if x.ndim >= 2 else 1} channels (dim 1)")
    wb = w.data.reshape((c,) + (1,) * (x.ndim - 2)) if c != 1 else w.data.reshape(())
    out = np.where(x > 0, x, wb * x).astype(x.dtype, copy=False)
    return binary(out, a, w, "prelu", _prelu_backward, (wb,))


def _prelu_backward(g, node):
    a, w = node.parents
    (wb,) = node._saved
    x = a.data
    pos = x > 0
    ga = np.where(pos, g, g * wb).astype(g.dtype, copy=False) if a.requires_grad else None
    gw = None
    if w.requires_grad:
        contrib = np.where(pos, 0, g * x)
        if w.data.size == 1:
            gw = np.asarray(contrib.sum()).reshape(w.data.shape)
        else:
            gw = contrib.sum(axis=tuple(i for i in range(x.ndim) if i != 1))
        gw = gw.astype(w.data.dtype, copy=False)
    return ga, gw


def glu(a, dim=-1):
    """Gated linear unit: split ``a`` in halves ``x, y`` along ``dim`` and return ``x · σ(y)``;
    d/dx = σ(y), d/dy = x·σ(y)(1 − σ(y)).

    >>> import chainrule as cr
    >>> cr.glu(cr.tensor([2.0, 0.0])).tolist()
    [1.0]
    """
    a = _float_input(a, "glu")
    (axis,) = normalize_axis(dim, a.data.ndim, "glu") if a.data.ndim else (None,)
    if axis is None or a.data.shape[axis] % 2:
        size = a.data.shape[axis] if axis is not None else "a 0-d tensor"
        raise ValueError(f"glu: halving dim {dim} needs an even size, got {size} "
                         f"(shape {a.data.shape})")
    x, y = np.split(a.data, 2, axis=axis)
    s = _sigmoid(y)
    return unary(x * s, a, "glu", _glu_backward, (axis,))


def _glu_backward(g, node):
    (axis,) = node._saved
    x, y = np.split(node.parents[0].data, 2, axis=axis)
    s = _sigmoid(y)
    return (np.concatenate([g * s, g * x * s * (1 - s)], axis=axis),)
