"""Fused, numerically stable losses: each is one primitive with a closed-form gradient.

Fusing softmax with cross-entropy (and sigmoid with binary cross-entropy) avoids computing
log(softmax) in two steps, which overflows for large logits; the gradient collapses to the
familiar ``prediction − target``.

>>> import chainrule as cr
>>> logits = cr.tensor([[2.0, 0.0], [0.0, 2.0]], requires_grad=True)
>>> loss = cross_entropy(logits, cr.tensor([0, 1])); round(loss.item(), 4)
0.1269
"""

import warnings

import numpy as np

from chainrule.ops.activation import _sigmoid
from chainrule.ops.base import as_tensor, binary, node, shape_error, unbroadcast
from chainrule.tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction, op):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(values, reduction, denom=None):
    if reduction == "none":
        return values
    total = values.sum()
    if reduction == "sum":
        return np.asarray(total)
    n = values.size if denom is None else denom
    # Nothing to average (e.g. every target ignored): NaN as in PyTorch, without a warning.
    return np.asarray(total / n if n else np.nan, dtype=values.dtype)


def _upstream(g, reduction, shape, denom=None):
    """The gradient reaching each element of the unreduced loss (a 0-d array broadcasts)."""
    if reduction == "none" or reduction == "sum":
        return g
    n = _numel(shape) if denom is None else denom
    return g / n if n else g * 0  # nothing averaged: zero gradient, as in PyTorch


def _numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def check_target_size(op, input_shape, target_shape):
    """Warn, in PyTorch's words, when an element-wise loss gets a target whose shape differs
    from the input's but broadcasts with it: ``(N, 1)`` outputs against ``(N,)`` targets give an
    ``(N, N)`` loss that trains a model to learn nothing. Shapes that cannot broadcast are left
    to the loss's own error.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always"); check_target_size("mse_loss", (3, 1), (3,))
    >>> print(w[0].message)  # doctest: +ELLIPSIS
    mse_loss: Using a target size (3,) that is different to the input size (3, 1). ...
    """
    input_shape, target_shape = tuple(input_shape), tuple(target_shape)
    if input_shape == target_shape:
        return
    try:
        np.broadcast_shapes(input_shape, target_shape)
    except ValueError:
        return
    warnings.warn(
        f"{op}: Using a target size {target_shape} that is different to the input size "
        f"{input_shape}. This will likely lead to incorrect results due to broadcasting. "
        "Please ensure they have the same size.", UserWarning, stacklevel=4)


def check_class_labels(op, target, input_shape, probabilities_allowed=True):
    """TypeError when a class-index loss gets float labels: a float target of the input's shape
    is a probability target (where the loss takes one), any other float target was meant as
    class indices and must be converted with ``.long()``.

    >>> check_class_labels("nll_loss", np.zeros(2, np.int64), (2, 3))
    >>> check_class_labels("nll_loss", np.zeros(2), (2, 3))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: nll_loss: class labels must be integers, got a float64 target of shape (2,) ...
    """
    if target.dtype.kind in "iu":
        return
    if probabilities_allowed and target.shape == tuple(input_shape):
        return
    hint = " (or give class probabilities of the input's shape)" if probabilities_allowed else ""
    raise TypeError(
        f"{op}: class labels must be integers, got a {target.dtype} target of shape "
        f"{target.shape} for input of shape {tuple(input_shape)}; convert them with "
        f"target.long() (or np.int64){hint}")


# --------------------------------------------------------------------------- mse
def mse_loss(input, target, reduction="mean"):
    """Mean squared error ``mean((input − target)²)``; d/dinput = 2 (input − target) / N.

    >>> import chainrule as cr
    >>> mse_loss(cr.tensor([1.0, 3.0]), cr.tensor([1.0, 1.0])).item()
    2.0
    """
    _check_reduction(reduction, "mse_loss")
    input, target = as_tensor(input), as_tensor(target)
    check_target_size("mse_loss", input.data.shape, target.data.shape)
    try:
        diff = input.data - target.data
    except ValueError:
        raise shape_error("mse_loss", input.data.shape, target.data.shape) from None
    out = _reduce(diff * diff, reduction).astype(diff.dtype, copy=False)
    return binary(out, input, target, "mse_loss", _mse_backward, (diff, reduction))


def _mse_backward(g, node):
    diff, reduction = node._saved
    input, target = node.parents
    gd = 2 * diff * _upstream(g, reduction, diff.shape)
    return (unbroadcast(gd, input.data.shape) if input.requires_grad else None,
            unbroadcast(-gd, target.data.shape) if target.requires_grad else None)


# --------------------------------------------------------------------------- binary CE
def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross-entropy on logits, ``−[p·y·log σ(x) + (1−y)·log(1−σ(x))]`` with
    ``p = pos_weight``, computed as ``(1−y)·x + (1+(p−1)y)·softplus(−x)`` so it never overflows.

    d/dx = (1−y) + (1+(p−1)y)(σ(x) − 1), i.e. σ(x) − y when p = 1.

    >>> import chainrule as cr
    >>> round(binary_cross_entropy_with_logits(cr.tensor([0.0]), cr.tensor([1.0])).item(), 6)
    0.693147
    """
    op = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, op)
    input, target = as_tensor(input), as_tensor(target, input)
    x, y = input.data, target.data
    if x.shape != y.shape:
        raise shape_error(op, x.shape, y.shape, detail="must match (input and target)")
    softplus_neg = np.logaddexp(0, -x)  # log(1 + e^-x), stable
    pw = None
    if pos_weight is None:
        scale = None
        values = softplus_neg + x
        values -= x * y
    else:
        pw = pos_weight.data if isinstance(pos_weight, Tensor) else np.asarray(pos_weight)
        scale = 1 + (pw - 1) * y
        values = (1 - y) * x + scale * softplus_neg
    w = None
    if weight is not None:
        w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
        values = values * w
    out = _reduce(values, reduction).astype(x.dtype, copy=False)
    saved = (reduction, scale, w, softplus_neg, pw)
    return binary(out, input, target, op, _bce_logits_backward, saved)


def _sigmoid_fast(x):
    # exp(−softplus(−x)): three ufuncs, never overflows; its absolute error is a few ulps,
    # which is all a gradient σ(x) − y needs (the sigmoid op itself uses the exact form).
    return np.exp(-np.logaddexp(0, -x))


def _bce_logits_backward(g, node):
    reduction, scale, w, softplus_neg, pw = node._saved
    input, target = node.parents
    x, y = input.data, target.data
    up = _upstream(g, reduction, x.shape)
    if w is not None:
        up = up * w
    gx = gy = None
    if input.requires_grad:
        if scale is None:
            gx = _sigmoid_fast(x)
            gx -= y
        else:
            gx = (1 - y) + scale * (_sigmoid(x) - 1)
        gx *= up
    if target.requires_grad:
        if scale is None:
            gy = up * -x
        else:
            gy = up * (-x + (pw - 1) * softplus_neg)
    return gx, gy


def _clamped_logs(p):
    """``log p`` and ``log(1 − p)`` clamped at −100 as PyTorch does, in p's dtype (log 0 is
    −inf before the clamp, hence the silenced divide warning)."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(p), -100), np.maximum(np.log(1 - p), -100)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """Binary cross-entropy on probabilities ``−[y·log p + (1−y)·log(1−p)]`` (logs clamped at
    −100 as in PyTorch, so p = 0 or 1 gives a finite loss). Prefer the ``_with_logits`` form.

    >>> import chainrule as cr
    >>> round(binary_cross_entropy(cr.tensor([0.5]), cr.tensor([1.0])).item(), 6)
    0.693147
    """
    op = "binary_cross_entropy"
    _check_reduction(reduction, op)
    input, target = as_tensor(input), as_tensor(target, input)
    p, y = input.data, target.data
    if p.shape != y.shape:
        raise shape_error(op, p.shape, y.shape, detail="must match (input and target)")
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(
            f"{op}: input values must be probabilities in [0, 1], got range "
            f"[{p.min():.4g}, {p.max():.4g}]; use binary_cross_entropy_with_logits for logits"
        )
    log_p, log_1mp = _clamped_logs(p)
    values = -(y * log_p + (1 - y) * log_1mp)
    w = None
    if weight is not None:
        w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
        values = values * w
    out = _reduce(values, reduction).astype(p.dtype, copy=False)
    return binary(out, input, target, op, _bce_backward, (reduction, w))


def _bce_backward(g, node):
    reduction, w = node._saved
    input, target = node.parents
    p, y = input.data, target.data
    up = _upstream(g, reduction, p.shape)
    if w is not None:
        up = up * w
    gp = gy = None
    if input.requires_grad:
        gp = up * (p - y) / np.maximum((1 - p) * p, 1e-12)
    if target.requires_grad:
        log_p, log_1mp = _clamped_logs(p)
        gy = up * (log_1mp - log_p)
    return gp, gy


# --------------------------------------------------------------------------- cross-entropy
def _logsoftmax_rows(x):
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Softmax cross-entropy fused with log-softmax: ``−Σ_c q_c · log softmax(x)_c``.

    ``input``: logits ``(N, C)``, ``(C,)`` or ``(N, C, d1, ...)`` (classes on axis 1, as in
    PyTorch). ``target``: class indices (int) of shape ``(N, ...)`` or class probabilities of
    the same shape as ``input``. ``weight`` rescales classes; ``ignore_index`` skips targets;
    ``label_smoothing`` mixes the target with the uniform distribution. With coefficients
    ``A`` (loss = −Σ A·log p) the gradient is ``(Σ_c A)·softmax(x) − A``.

    >>> import chainrule as cr
    >>> round(cross_entropy(cr.tensor([[0.0, 0.0]]), cr.tensor([1])).item(), 6)
    0.693147
    """
    op = "cross_entropy"
    _check_reduction(reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    input = as_tensor(input)
    target = target if isinstance(target, Tensor) else as_tensor(np.asarray(target))
    x = input.data
    if x.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a scalar")
    # Bring classes to the last axis and flatten to rows.
    unbatched = x.ndim == 1
    xr = x[None, :] if unbatched else np.moveaxis(x, 1, -1)
    rows_shape = xr.shape[:-1]
    n_classes = xr.shape[-1]
    x2 = xr.reshape(-1, n_classes)
    logp = _logsoftmax_rows(x2)
    t = target.data
    check_class_labels(op, t, x.shape)
    w = weight.data if isinstance(weight, Tensor) else weight
    w = None if w is None else np.asarray(w)
    if w is not None and w.shape != (n_classes,):
        raise ValueError(f"{op}: weight must have shape ({n_classes},), got {w.shape}")

    if t.dtype.kind in "iu":  # class indices
        expected = rows_shape if not unbatched else ()
        if t.shape != expected:
            raise ValueError(
                f"{op}: class-index target must have shape {expected} for input of shape "
                f"{x.shape}, got {t.shape}"
            )
        t1 = t.reshape(-1)
        valid = t1 != ignore_index
        if np.any(valid & ((t1 < 0) | (t1 >= n_classes))):
            bad = t1[valid & ((t1 < 0) | (t1 >= n_classes))][0]
            raise IndexError(f"{op}: target {bad} is out of range for {n_classes} classes")
        rows = np.arange(t1.size)
        safe_t = np.where(valid, t1, 0)
        w_row = (np.ones(t1.size, dtype=x.dtype) if w is None else w[safe_t]) * valid
        denom = w_row.sum()
        if label_smoothing == 0.0 and w is None and valid.all():
            coeffs = None
            values = -logp[rows, safe_t]
        else:
            coeffs = np.zeros_like(x2)
            coeffs[rows, safe_t] = (1 - label_smoothing) * w_row
            if label_smoothing:
                cw = np.ones(n_classes, dtype=x.dtype) if w is None else w
                coeffs += (label_smoothing / n_classes) * cw[None, :] * valid[:, None]
            values = -(coeffs * logp).sum(axis=1)
    else:  # class probabilities
        if t.shape != x.shape:
            raise ValueError(
                f"{op}: probability target must have the input's shape {x.shape}, got {t.shape}"
            )
        q = (t[None, :] if unbatched else np.moveaxis(t, 1, -1)).reshape(-1, n_classes)
        if label_smoothing:
            q = q * (1 - label_smoothing) + label_smoothing / n_classes
        coeffs = q if w is None else q * w[None, :]
        values = -(coeffs * logp).sum(axis=1)
        denom = values.size
        safe_t = rows = None
        # d loss_row / d target_c = −(1 − ε) · w_c · log p_c: soft targets get a gradient too.
        target_scale = (1 - label_smoothing) * (1 if w is None else w[None, :])

    values = values.reshape(rows_shape) if not unbatched else values.reshape(())
    out = _reduce(values, reduction, denom).astype(x.dtype, copy=False)
    if t.dtype.kind in "iu":
        saved = (logp, coeffs, rows, safe_t, reduction, denom, xr.shape, unbatched, None)
        return node(out, (input,), op, _cross_entropy_backward, saved)
    saved = (logp, coeffs, rows, safe_t, reduction, denom, xr.shape, unbatched, target_scale)
    return node(out, (input, target), op, _cross_entropy_backward, saved)


def _cross_entropy_backward(g, node):
    logp, coeffs, rows, safe_t, reduction, denom, xr_shape, unbatched, target_scale = node._saved
    probs = np.exp(logp)
    if coeffs is None:  # plain index targets: softmax − onehot, masked to valid rows
        n = probs.shape[0]
        up = _upstream(g, reduction, (n,) if not unbatched else (), denom)
        grad = probs
        grad[rows, safe_t] -= 1
        grad *= up.reshape(-1, 1) if up.ndim else up
    else:
        n = probs.shape[0]
        up = _upstream(g, reduction, (n,) if not unbatched else (), denom)
        grad = (coeffs.sum(axis=1, keepdims=True) * probs - coeffs)
        grad *= up.reshape(-1, 1) if up.ndim else up
    grad = _input_layout(grad, xr_shape, unbatched)
    if target_scale is None or not node.parents[1].requires_grad:
        return grad, None
    gt = -target_scale * logp
    gt *= up.reshape(-1, 1) if up.ndim else up
    return grad, _input_layout(gt, xr_shape, unbatched)


def _input_layout(rows, xr_shape, unbatched):
    """(rows, C) back to the input's layout (classes on axis 1, or a single row)."""
    rows = rows.reshape(xr_shape)
    return rows[0] if unbatched else np.moveaxis(rows, -1, 1)
