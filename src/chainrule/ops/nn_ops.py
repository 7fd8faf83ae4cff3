"""Primitives used by ``chainrule.nn`` that the core does not have: the negative log-likelihood
loss on log-probabilities (the second half of cross-entropy) and fused batch normalisation.

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
    from chainrule.ops.loss import check_class_labels

    check_class_labels(op, t, x.shape, probabilities_allowed=False)
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


# --------------------------------------------------------------------------- batch_norm
def _as_array(v):
    return v.data if isinstance(v, Tensor) else np.asarray(v)


def _channel_param(p, channels, bshape, what):
    """A ``(C,)`` weight/bias/statistic as an array shaped to broadcast over N (and L)."""
    a = _as_array(p)
    if a.shape != (channels,):
        raise ValueError(f"batch_norm: {what} has shape {a.shape}, expected ({channels},)")
    return a.reshape(bshape)


def _channel_dot(a, b):
    """``Σ a·b`` per channel (axis 1), as a ``(C,)`` array, without an ``a·b`` temporary."""
    if a.ndim == 2:
        return np.einsum("nc,nc->c", a, b)
    return np.add.reduce(a * b, axis=(0, 2))  # einsum is slow on this strided pattern


def batch_norm(input, weight=None, bias=None, running_mean=None, running_var=None,
               training=True, eps=1e-5, return_stats=False):
    """Fused batch normalisation of an ``(N, C)`` or ``(N, C, L)`` input, channels on axis 1.

    Per channel, over the ``M`` values of the batch (and length) axes::

        x̂ = (x − μ) · r,   r = 1/√(σ² + eps),   y = γ · x̂ + β

    ``training=True`` uses the batch mean ``μ`` and the *biased* batch variance ``σ²``;
    ``training=False`` uses the given ``running_mean`` / ``running_var`` (constants). ``weight``
    (γ) and ``bias`` (β) are optional ``(C,)`` tensors. One graph node; its backward, from the
    saved ``x̂`` and ``r`` (sums over the batch axes, Σ)::

        dβ = Σ g,   dγ = Σ g·x̂
        dx = γ·r · (g − dβ/M − x̂ · dγ/M)     (training: μ and σ² depend on x)
        dx = γ·r · g                          (eval)

    The running statistics are not updated here (that is the caller's bookkeeping, outside the
    graph); ``return_stats=True`` returns ``(y, μ, σ²)`` with the ``(C,)`` statistics used.

    >>> import chainrule as cr
    >>> y = batch_norm(cr.tensor([[0.0, 1.0], [2.0, 5.0]]))
    >>> [[round(v, 3) for v in row] for row in y.tolist()]
    [[-1.0, -1.0], [1.0, 1.0]]
    """
    x = as_tensor(input)
    xd = x.data
    shape = xd.shape
    if xd.ndim not in (2, 3):
        raise ValueError(f"batch_norm: expected a 2-D (N, C) or 3-D (N, C, L) input, got {shape}")
    channels = shape[1]
    if xd.ndim == 2:
        axes, bshape = 0, (1, channels)
    else:
        axes, bshape = (0, 2), (1, channels, 1)  # broadcasts over N and L
    if xd.dtype.kind != "f":
        raise TypeError(f"batch_norm: expected a floating-point input, got dtype {xd.dtype}")
    if training:
        count = xd.size // channels if channels else 0
        if count <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input "
                f"of shape {shape}"
            )
        # add.reduce then divide is what ndarray.mean does, without its per-call overhead
        mean = np.add.reduce(xd, axis=axes, keepdims=True)
        mean /= count
        xhat = xd - mean
        var = _channel_dot(xhat, xhat).reshape(bshape)
        var /= count  # biased: normalising uses it
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed in eval mode")
        mean = _channel_param(running_mean, channels, bshape, "running_mean")
        var = _channel_param(running_var, channels, bshape, "running_var")
        xhat = xd - mean
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat *= inv_std  # xhat is a fresh array: normalise it in place
    parents = [x]
    w = b = None
    out = xhat
    if weight is not None:
        w = _channel_param(weight, channels, bshape, "weight")
        parents.append(weight)
        out = xhat * w
    if bias is not None:
        b = _channel_param(bias, channels, bshape, "bias")
        parents.append(bias)
        if out is not xhat and out.dtype == np.result_type(out, b):
            out += b  # a fresh array: add in place
        else:
            out = out + b
    if out is xhat:
        out = xhat.copy()  # the output must not alias the saved x̂
    saved = (xhat, inv_std, w, weight is not None, bias is not None, axes, training)
    y = node(out, parents, "batch_norm", _batch_norm_backward, saved)
    if return_stats:
        return y, mean.reshape(channels), var.reshape(channels)
    return y


def _batch_norm_backward(g, node):
    xhat, inv_std, w, has_weight, has_bias, axes, training = node._saved
    parents = node.parents
    x = parents[0]
    gx = gw = gb = None
    need_w = has_weight and parents[1].requires_grad
    need_b = has_bias and parents[-1].requires_grad
    if need_w or (training and x.requires_grad):
        gw = _channel_dot(g, xhat)  # dγ = Σ g·x̂, shape (C,)
    if need_b or (training and x.requires_grad):
        gb = np.add.reduce(g, axis=axes)  # dβ = Σ g
    if x.requires_grad:
        scale = inv_std if w is None else w * inv_std
        if training:
            bshape = inv_std.shape
            m = xhat.size // xhat.shape[1]
            # dx = γ·r·(g − dβ/M − x̂·dγ/M), built in tmp to allocate one array only
            tmp = xhat * (gw.reshape(bshape) / m)
            tmp += gb.reshape(bshape) / m
            np.subtract(g, tmp, out=tmp)
            tmp *= scale
            gx = tmp
        else:
            gx = g * scale
    grads = [gx]
    if has_weight:
        grads.append(gw if need_w else None)
    if has_bias:
        grads.append(gb if need_b else None)
    return tuple(grads)


__all__ = ["batch_norm", "nll_loss"]
