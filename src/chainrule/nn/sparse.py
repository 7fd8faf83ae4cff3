"""Embedding: a trainable lookup table of vectors, one row per token id.

>>> import chainrule as cr
>>> cr.nn.Embedding(10, 3, padding_idx=0)
Embedding(10, 3, padding_idx=0)
"""

import numpy as np

from chainrule.nn import init
from chainrule.nn.module import Module, _dtype_config, _resolve_dtype
from chainrule.nn.parameter import Parameter
from chainrule.ops.embedding import embedding as _embedding
from chainrule.tensor import Tensor


class Embedding(Module):
    """``Embedding(num_embeddings, embedding_dim, padding_idx=None)``: maps integer ids of any
    shape ``(*)`` to rows of ``weight`` ``(num_embeddings, embedding_dim)``, giving
    ``(*, embedding_dim)``.

    As in PyTorch: ``weight`` is drawn from N(0, 1); the ``padding_idx`` row starts at zero and
    never receives a gradient; ``_weight`` supplies the table instead. ``max_norm`` is not
    supported.

    >>> import chainrule as cr
    >>> emb = cr.nn.Embedding(5, 2, padding_idx=0)
    >>> emb(cr.tensor([[0, 3], [3, 1]])).shape, emb.weight[0].tolist()
    ((2, 2, 2), [0.0, 0.0])
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, _weight=None,
                 _freeze=False, dtype=None):
        super().__init__()
        if num_embeddings <= 0 or embedding_dim < 0:
            raise ValueError(f"Embedding: num_embeddings must be positive and embedding_dim "
                             f"non-negative, got {num_embeddings} and {embedding_dim}")
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within the "
                                 f"table of {self.num_embeddings} embeddings")
            padding_idx = int(padding_idx) % self.num_embeddings
        self.padding_idx = padding_idx
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            dtype = _resolve_dtype(dtype, "Embedding")
            self.weight = Parameter(np.empty(shape, dtype=dtype))
            self.reset_parameters()
        else:
            table = _weight.data if isinstance(_weight, Tensor) else np.asarray(_weight)
            if table.shape != shape:
                raise ValueError(f"Embedding: _weight has shape {table.shape}, expected {shape}")
            if dtype is not None:
                table = table.astype(_resolve_dtype(dtype, "Embedding"))
            self.weight = Parameter(np.array(table, copy=True))
        self.weight.requires_grad = not _freeze

    def reset_parameters(self):
        """Redraw the table from N(0, 1) and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None):
        """An Embedding holding a copy of the 2-D table ``embeddings``; ``freeze=True`` (the
        default, as in PyTorch) keeps it out of training (``requires_grad=False``).

        >>> import chainrule as cr
        >>> emb = cr.nn.Embedding.from_pretrained(cr.tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> emb(cr.tensor([1])).tolist(), emb.weight.requires_grad
        ([[3.0, 4.0]], False)
        """
        table = embeddings.data if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if table.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape "
                             f"{table.shape}")
        return cls(table.shape[0], table.shape[1], padding_idx=padding_idx, _weight=table,
                   _freeze=freeze)

    def forward(self, input):
        return _embedding(input, self.weight, self.padding_idx)

    def get_config(self):
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim,
                "padding_idx": self.padding_idx, **_dtype_config(self.weight.data)}

    def extra_repr(self):
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
