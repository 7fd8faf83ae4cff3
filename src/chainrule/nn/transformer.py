"""The Transformer encoder (PyTorch's ``nn.TransformerEncoderLayer`` and
``nn.TransformerEncoder``), composed from ``MultiheadAttention``, ``Linear``, ``LayerNorm`` and
``Dropout``, with PyTorch's sub-module names, so ``state_dict`` keys match key for key.

One layer, post-norm (``norm_first=False``, the 2017 paper) or pre-norm (``norm_first=True``)::

    post-norm:  x = norm1(x + SA(x));        x = norm2(x + FF(x))
    pre-norm:   x = x + SA(norm1(x));        x = x + FF(norm2(x))
    SA(x) = dropout1(self_attn(x, x, x))     FF(x) = dropout2(linear2(dropout(act(linear1(x)))))

A causal mask (``generate_square_subsequent_mask``) turns the encoder into a decoder-only
language model: position ``i`` attends to positions ``0..i``.

>>> import chainrule as cr
>>> _ = cr.manual_seed(0)
>>> layer = cr.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16,
...                                       batch_first=True)
>>> enc = cr.nn.TransformerEncoder(layer, num_layers=2)
>>> enc(cr.ones(3, 5, 8), mask=generate_square_subsequent_mask(5)).shape
(3, 5, 8)
"""

import copy

import numpy as np

from chainrule.backend import get_default_dtype
from chainrule.nn.attention import MultiheadAttention
from chainrule.nn.containers import ModuleList
from chainrule.nn.dropout import Dropout
from chainrule.nn.linear import Linear
from chainrule.nn.module import Module, _dtype_config, _resolve_dtype
from chainrule.nn.normalization import LayerNorm
from chainrule.ops.activation import gelu as _gelu
from chainrule.ops.activation import relu as _relu
from chainrule.tensor import Tensor

__all__ = ["TransformerEncoder", "TransformerEncoderLayer", "generate_square_subsequent_mask"]

_ACTIVATIONS = {"relu": _relu, "gelu": _gelu}


def generate_square_subsequent_mask(sz, dtype=None):
    """The ``(sz, sz)`` causal float mask: 0 on and below the diagonal, ``-inf`` above
    (PyTorch's ``nn.Transformer.generate_square_subsequent_mask``).

    >>> generate_square_subsequent_mask(3).tolist()
    [[0.0, -inf, -inf], [0.0, 0.0, -inf], [0.0, 0.0, 0.0]]
    """
    dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
    mask = np.triu(np.full((int(sz), int(sz)), -np.inf, dtype=dtype), k=1)
    return Tensor(mask)


class TransformerEncoderLayer(Module):
    """Self-attention then a position-wise feed-forward network, each with a residual
    connection and layer normalisation (PyTorch's arguments and defaults).

    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``: ``src`` is
    ``(S, N, E)`` (``(N, S, E)`` when ``batch_first``, ``(S, E)`` unbatched); the masks are
    those of :class:`MultiheadAttention` (boolean True = blocked, or additive float).
    ``activation`` is ``'relu'``, ``'gelu'`` or a callable.

    >>> import chainrule as cr
    >>> layer = cr.nn.TransformerEncoderLayer(4, 2, dim_feedforward=8)
    >>> [name for name, _ in layer.named_children()]
    ['self_attn', 'linear1', 'dropout', 'linear2', 'norm1', 'norm2', 'dropout1', 'dropout2']
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 dtype=None):
        super().__init__()
        op = "TransformerEncoderLayer"
        dtype = _resolve_dtype(dtype, op)
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(f"{op}: activation should be 'relu', 'gelu' or a callable, got "
                                 f"{activation!r}")
            self._activation_name = activation
            activation_fn = _ACTIVATIONS[activation]
        elif callable(activation):
            self._activation_name = None
            activation_fn = activation
        else:
            raise TypeError(f"{op}: activation should be 'relu', 'gelu' or a callable, got "
                            f"{type(activation).__name__}")
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = activation_fn  # a Module (e.g. nn.GELU()) registers as a child
        self.d_model, self.nhead = int(d_model), int(nhead)
        self.dim_feedforward = int(dim_feedforward)
        self.layer_norm_eps = float(layer_norm_eps)
        self.batch_first = bool(batch_first)

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def get_config(self):
        if self._activation_name is None:
            raise NotImplementedError(
                "TransformerEncoderLayer: a callable activation cannot be saved by architecture; "
                "use activation='relu' or 'gelu', or save the state_dict")
        return {"d_model": self.d_model, "nhead": self.nhead,
                "dim_feedforward": self.dim_feedforward, "dropout": self.dropout.p,
                "activation": self._activation_name, "layer_norm_eps": self.layer_norm_eps,
                "batch_first": self.batch_first, "norm_first": self.norm_first,
                "bias": self.linear1.bias is not None, **_dtype_config(self.linear1.weight.data)}

    def extra_repr(self):
        return f"norm_first={self.norm_first}, activation={self._activation_name or 'custom'}"


class TransformerEncoder(Module):
    """A stack of ``num_layers`` deep copies of ``encoder_layer`` (children ``layers.0``,
    ``layers.1``, ...), then ``norm`` when given (PyTorch's ``nn.TransformerEncoder``).

    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)`` passes the masks to
    every layer. Unlike PyTorch in evaluation mode, no nested-tensor fast path: padded
    positions are computed (and masked), so training and evaluation run the same code.

    >>> import chainrule as cr
    >>> enc = cr.nn.TransformerEncoder(cr.nn.TransformerEncoderLayer(4, 1, 8), 2,
    ...                                norm=cr.nn.LayerNorm(4))
    >>> sorted({name.split(".")[0] + "." + name.split(".")[1] for name in enc.state_dict()})
    ['layers.0', 'layers.1', 'norm.bias', 'norm.weight']
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"TransformerEncoder: encoder_layer must be a Module, got "
                            f"{type(encoder_layer).__name__}")
        if int(num_layers) < 1:
            raise ValueError(f"TransformerEncoder: num_layers must be >= 1, got {num_layers}")
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(int(num_layers))])
        self.num_layers = int(num_layers)
        self.norm = norm

    @classmethod
    def from_config(cls, config):
        """Rebuild from :meth:`get_config` (the layer's and the norm's configs are nested)."""
        from chainrule.nn.serialize import module_from_config

        norm = config.get("norm")
        return cls(module_from_config(config["encoder_layer"]), config["num_layers"],
                   norm=None if norm is None else module_from_config(norm))

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=bool(is_causal))
        if self.norm is not None:
            x = self.norm(x)
        return x

    def get_config(self):
        from chainrule.nn.serialize import module_to_config

        norm = None if self.norm is None else module_to_config(self.norm)
        return {"encoder_layer": module_to_config(self.layers[0]),
                "num_layers": self.num_layers, "norm": norm}
