"""Gradient clipping and flattening parameters into one vector (``torch.nn.utils``).

>>> import chainrule as cr
>>> w = cr.nn.Parameter(cr.zeros(2)); w.grad = cr.tensor([3.0, 4.0])
>>> float(clip_grad_norm_([w], max_norm=1.0))
5.0
>>> [round(v, 4) for v in w.grad.tolist()]
[0.6, 0.8]
"""

import math

import numpy as np

from chainrule.ops.shape import concat as _concat
from chainrule.ops.shape import reshape as _reshape
from chainrule.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def _param_list(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def _scale_grad(p, factor):
    g = p.grad.data
    if g.flags.writeable:
        g *= factor
    else:
        p.grad.data = g * factor


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Rescale the gradients in place so that their joint ``norm_type``-norm is at most
    ``max_norm``; returns the norm before clipping (a 0-d Tensor), as PyTorch does.

    ``total = ‖(‖g_1‖, ‖g_2‖, ...)‖``; every gradient is multiplied by
    ``min(1, max_norm / (total + 1e-6))``.

    >>> import chainrule as cr
    >>> w = cr.nn.Parameter(cr.zeros(2)); w.grad = cr.tensor([3.0, 4.0])
    >>> float(clip_grad_norm_([w], 10.0)), w.grad.tolist()
    (5.0, [3.0, 4.0])
    """
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float, np.number)) \
            or not max_norm >= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be a number >= 0, got {max_norm!r}")
    params = [p for p in _param_list(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not params:
        return Tensor(np.zeros((), dtype=np.float32))
    grads = [p.grad.data for p in params]
    dtype = np.result_type(*grads)
    if math.isinf(norm_type):
        norms = [np.abs(g).max() if g.size else dtype.type(0) for g in grads]
        total = np.max(norms).astype(dtype)
    else:
        norms = np.array([np.linalg.norm(g.ravel(), ord=norm_type) for g in grads], dtype=dtype)
        total = np.linalg.norm(norms, ord=norm_type).astype(dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"{float(total)}; set error_if_nonfinite=False to clip anyway"
        )
    coef = min(float(max_norm) / (float(total) + 1e-6), 1.0)
    for p in params:
        _scale_grad(p, p.grad.data.dtype.type(coef))
    return Tensor(np.asarray(total))


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element to ``[−clip_value, clip_value]`` in place.

    >>> import chainrule as cr
    >>> w = cr.nn.Parameter(cr.zeros(2)); w.grad = cr.tensor([-3.0, 0.5])
    >>> clip_grad_value_([w], 1.0); w.grad.tolist()
    [-1.0, 0.5]
    """
    clip_value = float(clip_value)
    for p in _param_list(parameters):
        if p.grad is None:
            continue
        g = p.grad.data
        if g.flags.writeable:
            np.clip(g, -clip_value, clip_value, out=g)
        else:
            p.grad.data = np.clip(g, -clip_value, clip_value)


def parameters_to_vector(parameters):
    """All parameters flattened and joined into one 1-D Tensor (differentiable).

    >>> import chainrule as cr
    >>> parameters_to_vector(cr.nn.Linear(3, 2).parameters()).shape
    (8,)
    """
    params = _param_list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return _concat([_reshape(p, -1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in place.

    >>> import chainrule as cr
    >>> layer = cr.nn.Linear(2, 1)
    >>> vector_to_parameters(cr.tensor([1.0, 2.0, 3.0]), layer.parameters())
    >>> layer.weight.tolist(), layer.bias.tolist()
    ([[1.0, 2.0]], [3.0])
    """
    v = vec.data if isinstance(vec, Tensor) else np.asarray(vec)
    if v.ndim != 1:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector, got shape {v.shape}")
    params = _param_list(parameters)
    needed = sum(p.data.size for p in params)
    if v.size != needed:
        raise ValueError(
            f"vector_to_parameters: the vector has {v.size} elements but the parameters "
            f"need {needed}"
        )
    start = 0
    for p in params:
        n = p.data.size
        np.copyto(p.data, v[start:start + n].reshape(p.data.shape), casting="unsafe")
        start += n
