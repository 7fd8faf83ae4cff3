"""Activation primitives: relu, leaky_relu, elu, sigmoid, tanh, gelu, softplus, step,
softmax, log_softmax. All are numerically stable for inputs as large as ±1e4.

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
    return (g * (node.data > 0),)


def leaky_relu(a, negative_slope=0.01):
    """``a`` where a > 0, else ``negative_slope · a``.

    >>> import chainrule as cr
    >>> cr.leaky_relu(cr.tensor([-1.0, 2.0]), 0.1).tolist()
    [-0.10000000149011612, 2.0]
    """
    a = as_tensor(a)
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
    a = as_tensor(a)
    x = a.data
    out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)
    return unary(out, a, "elu", _elu_backward, (alpha,))


def _elu_backward(g, node):
    (alpha,) = node._saved
    return (np.where(node.parents[0].data > 0, g, g * (node.data + alpha)),)


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
    return unary(_sigmoid(a.data), a, "sigmoid", _sigmoid_backward)


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
    return unary(np.tanh(a.data), a, "tanh", _tanh_backward)


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
    a = as_tensor(a)
    x = a.data
    if approximate == "none":
        out = 0.5 * x * (1 + erf(x * _SQRT_HALF))
    elif approximate == "tanh":
        inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
        out = 0.5 * x * (1 + np.tanh(inner))
    else:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return unary(out.astype(x.dtype, copy=False), a, "gelu", _gelu_backward, (approximate,))


def _gelu_backward(g, node):
    (approximate,) = node._saved
    x = node.parents[0].data
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
    a = as_tensor(a)
    x = a.data
    bx = x * beta if beta != 1 else x
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
