"""Fused scaled dot-product attention: one graph node with a closed-form backward.

For queries ``Q: (..., L, E)``, keys ``K: (..., S, E)`` and values ``V: (..., S, Ev)``::

    A = Q Kᵀ · scale + M            scale = 1/√E unless given; M the additive mask
    P = softmax(A) along S          max-shifted, so it never overflows
    P̃ = P ⊙ D / (1 − p)             dropout on the weights (training only)
    O = P̃ V

Backward, from the saved ``P`` (and the dropout mask ``D``)::

    dV = P̃ᵀ dO
    dP = (dO Vᵀ) ⊙ D / (1 − p)
    dA = P ⊙ (dP − Σ_S dP ⊙ P)
    dQ = dA K · scale,   dK = dAᵀ Q · scale,   dM = dA (un-broadcast)

Masks follow PyTorch: a boolean mask is True where a query *may* attend, a float mask is added
to the scores; ``is_causal=True`` lets query ``i`` see keys ``0..i`` (top-left aligned). A query
that may attend to no key at all gets all-zero weights and a zero output (PyTorch 2.x's "safe
softmax" in ``F.scaled_dot_product_attention``), not NaN. Batch and head dims broadcast.

Composing the same computation from ``matmul``, ``softmax`` and ``mul`` records five nodes and
keeps four (L, S) intermediates alive; the fused node keeps one (P) and was faster in our
measurement (see the benchmark notes in the README).

>>> import chainrule as cr
>>> q = cr.ones(1, 2, 4); k = cr.ones(1, 3, 4); v = cr.tensor([[[1.0], [2.0], [3.0]]])
>>> scaled_dot_product_attention(q, k, v).tolist()  # equal scores: the mean of the values
[[[2.0], [2.0]]]
"""

import math

import numpy as np

from chainrule.backend import get_rng
from chainrule.ops.base import as_tensor, needs_grad, node, unbroadcast
from chainrule.tensor import Tensor

__all__ = ["attention_weights", "packed_attention", "scaled_dot_product_attention"]


def _check_qkv(q, k, v, op):
    qs, ks = q.data.shape, k.data.shape
    if q.data.ndim < 2 or k.data.ndim < 2 or (v is not None and v.data.ndim < 2):
        shapes = [qs, ks] + ([v.data.shape] if v is not None else [])
        raise ValueError(f"{op}: query, key and value need at least 2 dims (..., L, E), got "
                         f"shapes {' , '.join(map(str, shapes))}")
    if qs[-1] != ks[-1]:
        raise ValueError(f"{op}: query of shape {qs} and key of shape {ks} must share the last "
                         f"(embedding) size, got {qs[-1]} and {ks[-1]}")
    if v is not None and v.data.shape[-2] != ks[-2]:
        raise ValueError(f"{op}: key of shape {ks} and value of shape {v.data.shape} must have "
                         f"the same number of positions (dim -2)")
    for t, name in ((q, "query"), (k, "key")) + (((v, "value"),) if v is not None else ()):
        if t.data.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be floating point, got dtype {t.data.dtype}")


def _scores_mask(attn_mask, is_causal, L, S, dtype, op):
    """The mask as (kind, array): kind is None, 'bool' (True = may attend) or 'float'."""
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{op}: pass either attn_mask or is_causal=True, not both")
        return "bool", np.tri(L, S, dtype=bool)
    if attn_mask is None:
        return None, None
    m = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
    if m.dtype == np.bool_:
        return "bool", m
    if m.dtype.kind != "f":
        raise TypeError(f"{op}: attn_mask must be boolean or floating point, got dtype {m.dtype}")
    return "float", m.astype(dtype, copy=False)


def _softmax_weights(qd, kd, attn_mask, is_causal, scale, safe, op):
    """Scores, masking and a stable softmax of the arrays ``qd``, ``kd``: returns (P, scale,
    mask kind, mask array)."""
    L, S, E = qd.shape[-2], kd.shape[-2], qd.shape[-1]
    dtype = np.result_type(qd.dtype, kd.dtype)
    scale = 1.0 / math.sqrt(E) if scale is None else float(scale)
    kind, m = _scores_mask(attn_mask, is_causal, L, S, dtype, op)
    scores = np.matmul(qd, np.swapaxes(kd, -1, -2))
    if scale != 1.0:
        scores *= dtype.type(scale)
    try:
        if kind == "float":
            if np.broadcast_shapes(scores.shape, m.shape) == scores.shape:
                scores += m
            else:  # the mask has more batch dims than the scores
                scores = scores + m
        elif kind == "bool":
            scores = np.where(m, scores, dtype.type(-np.inf))
    except ValueError:
        raise ValueError(f"{op}: attn_mask of shape {m.shape} cannot be broadcast to the "
                         f"attention scores of shape {scores.shape} (query {qd.shape}, key "
                         f"{kd.shape})") from None
    with np.errstate(invalid="ignore"):  # a fully masked row: max is -inf, -inf - -inf = nan
        peak = np.max(scores, axis=-1, keepdims=True)
        if safe:
            dead = peak == -np.inf
            if dead.any():
                peak = np.where(dead, 0, peak)  # such a row gets exp(-inf) = 0 weights
        scores -= peak
        np.exp(scores, out=scores)
        total = np.add.reduce(scores, axis=-1, keepdims=True)
        if safe and dead.any():
            total[dead] = 1  # 0 / 1: all-zero weights, PyTorch's safe softmax
        scores /= total
    return scores, scale, kind, m


def _dropout_mask(shape, dropout_p, dtype):
    if dropout_p == 1.0:
        return np.zeros(shape, dtype=dtype)
    keep = get_rng().random(shape, dtype=dtype if dtype in (np.float32, np.float64)
                            else np.float32) >= dropout_p
    mask = keep.astype(dtype)
    mask *= dtype.type(1.0 / (1.0 - dropout_p))
    return mask


def _check_dropout(dropout_p, op):
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be between 0 and 1, got {dropout_p}")
    return float(dropout_p)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """``softmax(Q Kᵀ · scale + mask) V`` as one node (PyTorch's
    ``F.scaled_dot_product_attention``; see the module docstring for the formulas).

    Shapes: ``query (..., L, E)``, ``key (..., S, E)``, ``value (..., S, Ev)`` -> ``(..., L,
    Ev)``; the leading (batch, head) dims broadcast. ``attn_mask`` broadcasts to ``(..., L,
    S)``: boolean (True = may attend) or float (added; a float mask that requires grad gets
    its gradient). ``dropout_p`` drops attention weights with the library generator
    (``cr.manual_seed``); pass 0 in evaluation, as in PyTorch.

    >>> import chainrule as cr
    >>> q = k = cr.tensor([[[1.0, 0.0], [0.0, 1.0]]]); v = cr.tensor([[[1.0], [3.0]]])
    >>> out = scaled_dot_product_attention(q, k, v, is_causal=True)  # row 0 sees key 0 only
    >>> [round(x, 4) for x in out.data.ravel().tolist()]
    [1.0, 2.3395]
    """
    op = "scaled_dot_product_attention"
    if enable_gqa:
        raise NotImplementedError(f"{op}: enable_gqa=True (grouped-query attention) is not "
                                  "supported; repeat the key and value heads yourself")
    q, k, v = as_tensor(query), as_tensor(key), as_tensor(value)
    _check_qkv(q, k, v, op)
    p = _check_dropout(dropout_p, op)
    P, scale, kind, m = _softmax_weights(q.data, k.data, attn_mask, is_causal, scale, True, op)
    drop = _dropout_mask(P.shape, p, P.dtype) if p > 0.0 else None
    Pd = P if drop is None else P * drop
    try:
        out = np.matmul(Pd, v.data)
    except ValueError:
        raise ValueError(f"{op}: value of shape {v.data.shape} does not broadcast with the "
                         f"attention weights of shape {P.shape}") from None
    parents = [q, k, v]
    mask_grad = kind == "float" and isinstance(attn_mask, Tensor) and attn_mask.requires_grad
    if mask_grad:
        parents.append(attn_mask)
    if not needs_grad(*parents):
        return as_tensor(out)
    return node(out, parents, op, _sdpa_backward, (P, drop, scale, mask_grad))


def _sdpa_backward(g, node):
    P, drop, scale, mask_grad = node._saved
    q, k, v = node.parents[:3]
    Pd = P if drop is None else P * drop
    gv = unbroadcast(np.matmul(np.swapaxes(Pd, -1, -2), g), v.data.shape) \
        if v.requires_grad else None
    del Pd
    gq = gk = gm = None
    if q.requires_grad or k.requires_grad or mask_grad:
        gA = _softmax_scores_grad(np.matmul(g, np.swapaxes(v.data, -1, -2)), P, drop)
        gq, gk = _scores_input_grads(gA, q, k, scale)
        if mask_grad:
            gm = unbroadcast(gA, node.parents[3].data.shape)
    grads = (gq, gk, gv)
    return grads + (gm,) if mask_grad else grads


def _softmax_scores_grad(gP, P, drop):
    """dA = P ⊙ (dP − Σ dP ⊙ P), from dP̃ (the gradient of the weights after dropout); in place
    in ``gP``. Rows that were fully masked have P = 0 and get a zero gradient."""
    if drop is not None:
        gP *= drop
    row = np.einsum("...ij,...ij->...i", gP, P)[..., None]
    gP -= row
    gP *= P
    return gP


def _scores_input_grads(gA, q, k, scale):
    gq = gk = None
    if q.requires_grad:
        gq = np.matmul(gA, k.data)
        if scale != 1.0:
            gq *= gq.dtype.type(scale)
        gq = unbroadcast(gq, q.data.shape)
    if k.requires_grad:
        gk = np.matmul(np.swapaxes(gA, -1, -2), q.data)
        if scale != 1.0:
            gk *= gk.dtype.type(scale)
        gk = unbroadcast(gk, k.data.shape)
    return gq, gk


def attention_weights(query, key, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                      safe=True):
    """The attention weights ``dropout(softmax(Q Kᵀ · scale + mask))`` of shape ``(..., L, S)``
    as one node: the first half of :func:`scaled_dot_product_attention`, for callers that
    also return the weights (``nn.MultiheadAttention(need_weights=True)``). ``safe=False``
    gives NaN rows where a query may attend to nothing (as PyTorch's MultiheadAttention does
    when it returns the weights); ``safe=True`` gives zeros.

    >>> import chainrule as cr
    >>> attention_weights(cr.ones(1, 2, 3), cr.ones(1, 2, 3), is_causal=True).tolist()
    [[[1.0, 0.0], [0.5, 0.5]]]
    """
    op = "attention_weights"
    q, k = as_tensor(query), as_tensor(key)
    _check_qkv(q, k, None, op)
    p = _check_dropout(dropout_p, op)
    P, scale, kind, m = _softmax_weights(q.data, k.data, attn_mask, is_causal, scale, safe, op)
    drop = _dropout_mask(P.shape, p, P.dtype) if p > 0.0 else None
    out = P if drop is None else P * drop
    parents = [q, k]
    mask_grad = kind == "float" and isinstance(attn_mask, Tensor) and attn_mask.requires_grad
    if mask_grad:
        parents.append(attn_mask)
    if not needs_grad(*parents):
        return as_tensor(out)
    if out is P:
        out = P.copy()  # the output must not alias the saved weights
    return node(out, parents, op, _attention_weights_backward, (P, drop, scale, mask_grad))


def _attention_weights_backward(g, node):
    P, drop, scale, mask_grad = node._saved
    q, k = node.parents[:2]
    with np.errstate(invalid="ignore"):  # NaN rows (unsafe, fully masked) stay NaN
        gA = _softmax_scores_grad(g.copy(), P, drop)
    gq, gk = _scores_input_grads(gA, q, k, scale)
    if mask_grad:
        return gq, gk, unbroadcast(gA, node.parents[2].data.shape)
    return gq, gk


def _split_packed(qkvd, num_heads, op):
    n, length, three_e = qkvd.shape
    if three_e % (3 * num_heads):
        raise ValueError(f"{op}: the last size of qkv ({three_e}) must be 3 * num_heads * "
                         f"head_dim (num_heads={num_heads})")
    d = three_e // (3 * num_heads)
    # (N, L, 3, H, D) -> (3, N, H, L, D): strided views; matmul reads them without copies
    return qkvd.reshape(n, length, 3, num_heads, d).transpose(2, 0, 3, 1, 4)


def packed_attention(qkv, num_heads, attn_mask=None, dropout_p=0.0, is_causal=False,
                     scale=None):
    """Self-attention over ``num_heads`` heads from the packed projections ``qkv`` of shape
    ``(N, L, 3·E)`` (queries, keys and values side by side, as ``nn.MultiheadAttention``'s
    ``in_proj_weight`` makes them) to the merged heads ``(N, L, E)``: splitting into heads,
    :func:`scaled_dot_product_attention` and merging the heads back, as one node.

    The split and merge are views and reshapes, so the node costs what the attention costs;
    the backward writes dQ, dK, dV straight into one ``(N, L, 3·E)`` gradient.

    >>> import chainrule as cr
    >>> packed_attention(cr.ones(2, 5, 12), num_heads=2, is_causal=True).shape
    (2, 5, 4)
    """
    op = "packed_attention"
    x = as_tensor(qkv)
    if x.data.ndim != 3:
        raise ValueError(f"{op}: qkv must have shape (N, L, 3 * E), got {x.data.shape}")
    if x.data.dtype.kind != "f":
        raise TypeError(f"{op}: qkv must be floating point, got dtype {x.data.dtype}")
    p = _check_dropout(dropout_p, op)
    q, k, v = _split_packed(x.data, int(num_heads), op)
    P, scale, kind, m = _softmax_weights(q, k, attn_mask, is_causal, scale, True, op)
    drop = _dropout_mask(P.shape, p, P.dtype) if p > 0.0 else None
    o = np.matmul(P if drop is None else P * drop, v)  # (N, H, L, D)
    n, length = x.data.shape[:2]
    out = o.transpose(0, 2, 1, 3).reshape(n, length, -1)  # merge the heads: (N, L, E)
    mask_grad = kind == "float" and isinstance(attn_mask, Tensor) and attn_mask.requires_grad
    parents = [x, attn_mask] if mask_grad else [x]
    if not needs_grad(*parents):
        return as_tensor(out)
    return node(out, parents, op, _packed_attention_backward,
                (P, drop, scale, int(num_heads), mask_grad))


def _packed_attention_backward(g, node):
    P, drop, scale, num_heads, mask_grad = node._saved
    x = node.parents[0]
    q, k, v = _split_packed(x.data, num_heads, "packed_attention")
    n, length, three_e = x.data.shape
    d = three_e // (3 * num_heads)
    gO = g.reshape(n, length, num_heads, d).transpose(0, 2, 1, 3)  # (N, H, L, D) view
    grad = np.empty((n, length, 3, num_heads, d), dtype=x.data.dtype)
    gq_view, gk_view, gv_view = grad.transpose(2, 0, 3, 1, 4)  # (N, H, L, D) views
    Pd = P if drop is None else P * drop
    np.matmul(np.swapaxes(Pd, -1, -2), gO, out=gv_view)
    del Pd
    gA = _softmax_scores_grad(np.matmul(gO, np.swapaxes(v, -1, -2)), P, drop)
    np.matmul(gA, k, out=gq_view)
    np.matmul(np.swapaxes(gA, -1, -2), q, out=gk_view)
    if scale != 1.0:
        grad[:, :, :2] *= grad.dtype.type(scale)
    grad = grad.reshape(n, length, three_e)
    if mask_grad:
        return grad, unbroadcast(gA, node.parents[1].data.shape)
    return (grad,)
