"""Multi-head attention (PyTorch's ``nn.MultiheadAttention``), composed from ``linear`` and the
fused attention primitives of :mod:`chainrule.ops.attention`.

With ``E = embed_dim``, ``H = num_heads`` and ``D = E / H``::

    Q = query W_qᵀ + b_q,  K = key W_kᵀ + b_k,  V = value W_vᵀ + b_v     (split into H heads)
    head_h = softmax(Q_h K_hᵀ / √D + mask) V_h
    out = concat(head_1 .. head_H) W_oᵀ + b_o

Parameters and ``state_dict`` keys are PyTorch's: ``in_proj_weight (3E, E)`` stacking
``W_q, W_k, W_v`` (or ``q_proj_weight, k_proj_weight, v_proj_weight`` when ``kdim``/``vdim``
differ from ``E``), ``in_proj_bias (3E,)``, ``out_proj.weight (E, E)``, ``out_proj.bias``.

Masks follow *MultiheadAttention's* convention, the opposite of
``F.scaled_dot_product_attention``'s: a boolean ``attn_mask`` or ``key_padding_mask`` is True
where attention is **not** allowed; float masks are added to the scores.

>>> import chainrule as cr
>>> _ = cr.manual_seed(0)
>>> mha = cr.nn.MultiheadAttention(8, 2, batch_first=True)
>>> out, weights = mha(cr.ones(3, 5, 8), cr.ones(3, 5, 8), cr.ones(3, 5, 8))
>>> out.shape, weights.shape
((3, 5, 8), (3, 5, 5))
"""

import numpy as np

from chainrule.nn import init
from chainrule.nn.linear import Linear
from chainrule.nn.module import Module, _dtype_config, _resolve_dtype
from chainrule.nn.parameter import Parameter
from chainrule.ops.arithmetic import linear as _linear
from chainrule.ops.arithmetic import matmul as _matmul
from chainrule.ops.attention import attention_weights, packed_attention
from chainrule.ops.attention import scaled_dot_product_attention as _sdpa
from chainrule.ops.reduction import mean as _mean
from chainrule.ops.shape import reshape as _reshape
from chainrule.ops.shape import squeeze as _squeeze
from chainrule.ops.shape import swapaxes as _swapaxes
from chainrule.ops.shape import unsqueeze as _unsqueeze
from chainrule.tensor import Tensor

__all__ = ["MultiheadAttention", "merge_masks"]


def _mask_array(mask, dtype, what, op):
    """A boolean mask (True = blocked) as a float one (-inf = blocked); floats kept as they are."""
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype == np.bool_:
        return np.where(m, dtype.type(-np.inf), dtype.type(0))
    if m.dtype.kind != "f":
        raise TypeError(f"{op}: {what} must be boolean or floating point, got dtype {m.dtype}")
    return m.astype(dtype, copy=False)


def merge_masks(attn_mask, key_padding_mask, batch, heads, L, S, dtype,
                op="MultiheadAttention"):
    """``attn_mask`` ((L, S) or (batch·heads, L, S)) and ``key_padding_mask`` ((batch, S))
    as one additive float mask broadcasting to ``(batch, heads, L, S)`` (or None).

    >>> merge_masks(None, np.array([[False, True]]), 1, 2, 1, 2, np.dtype(np.float32)).tolist()
    [[[[0.0, -inf]]]]
    """
    merged = None
    if attn_mask is not None:
        m = _mask_array(attn_mask, dtype, "attn_mask", op)
        if m.ndim == 2:
            if m.shape != (L, S):
                raise ValueError(f"{op}: the 2-D attn_mask has shape {m.shape}, expected "
                                 f"(L, S) = {(L, S)}")
            merged = m
        elif m.ndim == 3:
            if m.shape != (batch * heads, L, S):
                raise ValueError(f"{op}: the 3-D attn_mask has shape {m.shape}, expected "
                                 f"(batch * num_heads, L, S) = {(batch * heads, L, S)}")
            merged = m.reshape(batch, heads, L, S)
        else:
            raise ValueError(f"{op}: attn_mask must be 2-D or 3-D, got shape {m.shape}")
    if key_padding_mask is not None:
        kp = _mask_array(key_padding_mask, dtype, "key_padding_mask", op)
        if kp.shape != (batch, S):
            raise ValueError(f"{op}: key_padding_mask has shape {kp.shape}, expected "
                             f"(batch, S) = {(batch, S)}")
        kp = kp.reshape(batch, 1, 1, S)
        merged = kp if merged is None else merged + kp
    return merged


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads of size ``embed_dim / num_heads`` (PyTorch's API).

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` returns ``(attn_output, attn_weights)``.
    Shapes: query ``(L, N, E)`` (``(N, L, E)`` when ``batch_first``; ``(L, E)`` unbatched),
    key ``(S, N, kdim)``, value ``(S, N, vdim)``; output like the query; weights ``(N, L, S)``
    averaged over heads, or ``(N, H, L, S)`` with ``average_attn_weights=False``; None when
    ``need_weights=False`` (then the fused attention primitive runs). ``dropout`` drops
    attention weights in training. ``is_causal`` is a hint, as in PyTorch: it needs the
    causal ``attn_mask`` too. A query whose every key is masked gets NaN weights and output
    with ``need_weights=True`` and a zero attention output with ``need_weights=False``,
    exactly as PyTorch 2.13 (explicit softmax vs. its fused kernel's "safe softmax").

    Initialisation as PyTorch: Xavier-uniform input projections, zero biases, the output
    projection a default ``Linear``.

    >>> import chainrule as cr
    >>> mha = cr.nn.MultiheadAttention(6, 3)
    >>> [(name, p.shape) for name, p in mha.named_parameters()]  # doctest: +NORMALIZE_WHITESPACE
    [('in_proj_weight', (18, 6)), ('in_proj_bias', (18,)),
     ('out_proj.weight', (6, 6)), ('out_proj.bias', (6,))]
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, dtype=None):
        super().__init__()
        op = "MultiheadAttention"
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"{op}: embed_dim and num_heads must be positive, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"{op}: embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads})")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError(f"{op}: add_bias_kv=True and add_zero_attn=True are not "
                                      "supported (append the extra key/value yourself)")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{op}: dropout must be between 0 and 1, got {dropout}")
        dtype = _resolve_dtype(dtype, op)
        self.embed_dim = int(embed_dim)
        self.num_heads = int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        self.kdim = self.embed_dim if kdim is None else int(kdim)
        self.vdim = self.embed_dim if vdim is None else int(vdim)
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.dropout = float(dropout)
        self.batch_first = bool(batch_first)
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * E, E), dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = Parameter(np.empty((E, E), dtype=dtype))
            self.k_proj_weight = Parameter(np.empty((E, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(np.empty((E, self.vdim), dtype=dtype))
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * E, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            self.in_proj_bias.data.fill(0)
            self.out_proj.bias.data.fill(0)

    # ----------------------------------------------------------------- forward
    def _check_inputs(self, query, key, value):
        op = "MultiheadAttention"
        shapes = [getattr(t, "shape", None) for t in (query, key, value)]
        ndim = len(shapes[0]) if shapes[0] is not None else 0
        if ndim not in (2, 3) or any(s is None or len(s) != ndim for s in shapes):
            raise ValueError(f"{op}: query, key and value must all be 2-D (unbatched) or 3-D, "
                             f"got shapes {shapes[0]}, {shapes[1]} and {shapes[2]}")
        for s, size, name in zip(shapes, (self.embed_dim, self.kdim, self.vdim),
                                 ("query", "key", "value")):
            if s[-1] != size:
                raise ValueError(f"{op}: expected {name} with last dimension {size}, got shape "
                                 f"{s}")
        seq_axis = 1 if (self.batch_first and ndim == 3) else 0
        if shapes[1][seq_axis] != shapes[2][seq_axis]:
            raise ValueError(f"{op}: key of shape {shapes[1]} and value of shape {shapes[2]} "
                             "must have the same sequence length")
        if ndim == 3:
            batch_axis = 1 - seq_axis
            if not shapes[0][batch_axis] == shapes[1][batch_axis] == shapes[2][batch_axis]:
                raise ValueError(f"{op}: query, key and value must have the same batch size, "
                                 f"got shapes {shapes[0]}, {shapes[1]} and {shapes[2]}")
        return ndim == 3

    def _project(self, query, key, value):
        """The input projections ``(N, L, E)`` of query, key and value."""
        E = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            wq, wk, wv = w[:E], w[E:2 * E], w[2 * E:]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return _linear(query, wq, bq), _linear(key, wk, bk), _linear(value, wv, bv)

    def _heads(self, x):
        """``(N, L, E)`` -> ``(N, H, L, D)``."""
        n, length = x.shape[0], x.shape[1]
        return _swapaxes(_reshape(x, n, length, self.num_heads, self.head_dim), 1, 2)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        op = "MultiheadAttention"
        batched = self._check_inputs(query, key, value)
        if is_causal and attn_mask is None:
            raise ValueError(f"{op}: is_causal=True is a hint that attn_mask is the causal "
                             "mask; pass the mask too (e.g. nn.Transformer."
                             "generate_square_subsequent_mask(L))")
        self_attention = query is key and key is value
        if not batched:  # one sequence: add a batch axis of 1
            query, key, value = (_unsqueeze(t, 0) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = _as_array(key_padding_mask)[None]
        elif not self.batch_first:  # work batch first: (N, L, E)
            query = _swapaxes(query, 0, 1)
            key = query if self_attention else _swapaxes(key, 0, 1)
            value = query if self_attention else _swapaxes(value, 0, 1)
        if self_attention:
            key = value = query
        n, L, S = query.shape[0], query.shape[1], key.shape[1]
        dtype = _float_dtype(query)
        mask = merge_masks(attn_mask, key_padding_mask, n, self.num_heads, L, S, dtype, op)
        p = self.dropout if self.training else 0.0
        weights = None
        if not need_weights and self_attention and self._qkv_same_embed_dim:
            # one projection to (N, L, 3E), then one node for all heads (no split/merge nodes)
            qkv = _linear(query, self.in_proj_weight, self.in_proj_bias)
            heads = packed_attention(qkv, self.num_heads, attn_mask=mask, dropout_p=p)
        else:
            q, k, v = (self._heads(t) for t in self._project(query, key, value))
            if need_weights:  # PyTorch computes the weights explicitly: NaN where all masked
                w = attention_weights(q, k, attn_mask=mask, dropout_p=p, safe=False)
                o = _matmul(w, v)
                weights = _mean(w, axis=1) if average_attn_weights else w
            else:
                o = _sdpa(q, k, v, attn_mask=mask, dropout_p=p)
            heads = _reshape(_swapaxes(o, 1, 2), n, L, self.embed_dim)
        out = self.out_proj(heads)
        if not batched:
            out = _squeeze(out, 0)
            weights = None if weights is None else _squeeze(weights, 0)
        elif not self.batch_first:
            out = _swapaxes(out, 0, 1)
        return out, weights

    def get_config(self):
        config = {"embed_dim": self.embed_dim, "num_heads": self.num_heads,
                  "dropout": self.dropout, "bias": self.in_proj_bias is not None,
                  "batch_first": self.batch_first}
        if not self._qkv_same_embed_dim:
            config.update(kdim=self.kdim, vdim=self.vdim)
        config.update(_dtype_config(self.out_proj.weight.data))
        return config

    def extra_repr(self):
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}")


def _as_array(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _float_dtype(x):
    dtype = _as_array(x).dtype
    return dtype if dtype.kind == "f" else np.dtype(np.float32)
