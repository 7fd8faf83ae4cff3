"""Primitives used by ``chainrule.nn`` that the core does not have: the negative log-likelihood
loss on log-probabilities (the second half of cross-entropy).

>>> import chainrule as cr
>>> logp = cr.log_softmax(cr.tensor([[2.0, 0.0], [0.0, 2.0]]), axis=1)
>>> round(nll_loss(logp, cr.tensor([0, 1])).item(), 4)
0.1269
"""

import numpy as np

from chainrule.ops.base import as_tensor, node
from chainrule.tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood ``loss_i = −w[t_i] · input[i, t_i]`` for log-probabilities
    ``input`` of shape ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)`` (classes on axis 1) and class
    indices ``target`` of shape ``(N,)``, ``()`` or ``(N, d1, ...)``.

    ``reduction='mean'`` divides by ``Σ w[t_i]`` over non-ignored targets (PyTorch's rule);
    targets equal to ``ignore_index`` contribute nothing. Backward: ``d/dinput[i, t_i] = −w[t_i]``
    times the upstream factor, zero elsewhere.

    >>> import chainrule as cr
    >>> nll_loss(cr.tensor([[-1.0, -2.0]]), cr.tensor([1])).item()
    2.0
    """
    op = "nll_loss"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    input = as_tensor(input)
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    x = input.data
    if x.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a scalar")
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {t.dtype}")
    unbatched = x.ndim == 1
    xr = x[None, :] if unbatched else np.moveaxis(x, 1, -1)  # classes last
    rows_shape = xr.shape[:-1]
    n_classes = xr.shape[-1]
    expected = () if unbatched else rows_shape
    if t.shape != expected:
        raise ValueError(
            f"{op}: target must have shape {expected} for input of shape {x.shape}, got {t.shape}"
        )
    w = weight.data if isinstance(weight, Tensor) else weight
    w = None if w is None else np.asarray(w)
    if w is not None and w.shape != (n_classes,):
        raise ValueError(f"{op}: weight must have shape ({n_classes},), got {w.shape}")
    t1 = t.reshape(-1)
    valid = t1 != ignore_index
    bad = valid & ((t1 < 0) | (t1 >= n_classes))
    if bad.any():
        raise IndexError(f"{op}: target {t1[bad][0]} is out of range for {n_classes} classes")
    safe_t = np.where(valid, t1, 0)
    rows = np.arange(t1.size)
    w_row = (np.ones(t1.size, dtype=x.dtype) if w is None else w[safe_t].astype(x.dtype)) * valid
    values = -xr.reshape(-1, n_classes)[rows, safe_t] * w_row
    if reduction == "none":
        out = values.reshape(expected)
        denom = None
    else:
        total = values.sum()
        denom = w_row.sum() if reduction == "mean" else None
        with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: nan, as in PyTorch
            out = np.asarray(total / denom if reduction == "mean" else total, dtype=x.dtype)
    saved = (rows, safe_t, w_row, reduction, denom, xr.shape, unbatched)
    return node(out.astype(x.dtype, copy=False), (input,), op, _nll_loss_backward, saved)


def _nll_loss_backward(g, node):
    rows, safe_t, w_row, reduction, denom, xr_shape, unbatched = node._saved
    up = g.reshape(-1) if reduction == "none" else g
    with np.errstate(invalid="ignore", divide="ignore"):  # denom 0: every target ignored
        if reduction == "mean":
            up = up / denom
        picked = np.where(w_row != 0, -w_row * up, 0)  # ignored targets get no gradient
    dtype = node.parents[0].data.dtype
    grad = np.zeros((rows.size, xr_shape[-1]), dtype=dtype)
    grad[rows, safe_t] = picked
    grad = grad.reshape(xr_shape)
    return (grad[0] if unbatched else np.moveaxis(grad, -1, 1),)


__all__ = ["nll_loss"]
