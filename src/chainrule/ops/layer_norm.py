"""Fused layer normalisation: one graph node with a closed-form backward.

Each sample is normalised over its last ``k`` axes (``normalized_shape``), unlike batch
normalisation, which normalises each channel over the batch. With ``N`` the number of
normalised values per sample::

    μ = mean(x),   σ² = mean((x − μ)²),   r = 1/√(σ² + eps)
    x̂ = (x − μ) · r,   y = γ ⊙ x̂ + β

Backward, from the saved ``x̂`` and ``r`` (means over the normalised axes)::

    ĝ  = g ⊙ γ
    dx = r · (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂))
    dγ = Σ_samples g ⊙ x̂,   dβ = Σ_samples g

>>> import chainrule as cr
>>> y = layer_norm(cr.tensor([[1.0, 3.0], [0.0, 10.0]]), 2)
>>> [[round(v, 3) for v in row] for row in y.tolist()]
[[-1.0, 1.0], [-1.0, 1.0]]
"""

import numpy as np

from chainrule.ops.base import as_tensor, needs_grad, node
from chainrule.tensor import Tensor

__all__ = ["layer_norm"]


def normalized_shape_tuple(normalized_shape, op):
    """``normalized_shape`` (an int or a sequence of ints) as a tuple of positive ints."""
    if isinstance(normalized_shape, (int, np.integer)):
        shape = (int(normalized_shape),)
    else:
        try:
            shape = tuple(int(n) for n in normalized_shape)
        except TypeError:
            raise TypeError(f"{op}: normalized_shape must be an int or a sequence of ints, got "
                            f"{normalized_shape!r}") from None
    if not shape or any(n <= 0 for n in shape):
        raise ValueError(f"{op}: normalized_shape must be non-empty positive sizes, got {shape}")
    return shape


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise ``input`` over its trailing ``normalized_shape`` axes, then scale by
    ``weight`` (γ) and shift by ``bias`` (β), both of shape ``normalized_shape`` when given
    (PyTorch's ``F.layer_norm``). The variance is the biased one (divide by ``N``).

    >>> import chainrule as cr
    >>> x = cr.tensor([[0.0, 2.0, 4.0]], requires_grad=True)
    >>> y = layer_norm(x, (3,), weight=cr.tensor([1.0, 1.0, 2.0]))
    >>> [round(v, 4) for v in y.data[0].tolist()]
    [-1.2247, 0.0, 2.4495]
    """
    op = "layer_norm"
    x = as_tensor(input)
    xd = x.data
    shape = normalized_shape_tuple(normalized_shape, op)
    k = len(shape)
    if xd.ndim < k or xd.shape[xd.ndim - k:] != shape:
        raise ValueError(f"{op}: input of shape {xd.shape} does not end with normalized_shape "
                         f"{shape}")
    if xd.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got dtype {xd.dtype}")
    n = int(np.prod(shape))
    rows = xd.reshape(-1, n)  # one row per sample: every reduction runs along axis 1
    mean = np.add.reduce(rows, axis=1, keepdims=True)
    mean /= n
    xhat = rows - mean
    var = np.einsum("ij,ij->i", xhat, xhat)[:, None]
    var /= n
    inv_std = var
    inv_std += eps
    np.sqrt(inv_std, out=inv_std)
    np.reciprocal(inv_std, out=inv_std)
    xhat *= inv_std
    parents = [x]
    w = b = None
    out = xhat
    if weight is not None:
        w = _param(weight, shape, n, "weight", xd.dtype)
        parents.append(weight)
        out = xhat * w
    if bias is not None:
        b = _param(bias, shape, n, "bias", xd.dtype)
        parents.append(bias)
        if out is xhat:
            out = xhat + b
        else:
            out += b
    if out is xhat:
        out = xhat.copy()  # the output must not alias the saved x̂
    out = out.reshape(xd.shape)
    if not needs_grad(*parents):
        return node(out, parents, op, None)
    saved = (xhat, inv_std, w, weight is not None, bias is not None)
    return node(out, parents, op, _layer_norm_backward, saved)


def _param(p, shape, n, what, dtype):
    a = p.data if isinstance(p, Tensor) else np.asarray(p)
    if a.shape != shape:
        raise ValueError(f"layer_norm: {what} has shape {a.shape}, expected {shape}")
    return a.reshape(n).astype(dtype, copy=False)


def _layer_norm_backward(g, node):
    xhat, inv_std, w, has_weight, has_bias = node._saved
    parents = node.parents
    x = parents[0]
    n = xhat.shape[1]
    g2 = g.reshape(xhat.shape)
    gx = gw = gb = None
    if has_weight and parents[1].requires_grad:
        gw = np.einsum("ij,ij->j", g2, xhat).reshape(parents[1].data.shape)
    if has_bias and parents[-1].requires_grad:
        gb = np.add.reduce(g2, axis=0).reshape(parents[-1].data.shape)
    if x.requires_grad:
        gh = g2 * w if w is not None else g2.copy()
        # dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ⊙x̂)), built in gh to allocate one array only
        mean_g = np.add.reduce(gh, axis=1, keepdims=True)
        mean_g /= n
        mean_gx = np.einsum("ij,ij->i", gh, xhat)[:, None]
        mean_gx /= n
        gh -= mean_g
        gh -= xhat * mean_gx
        gh *= inv_std
        gx = gh.reshape(x.data.shape)
    grads = [gx]
    if has_weight:
        grads.append(gw)
    if has_bias:
        grads.append(gb)
    return tuple(grads)
