"""Functions that create tensors. Floats default to float32 (``cr.set_default_dtype``);
random draws come from the library generator that ``cr.manual_seed`` seeds.

>>> import chainrule as cr
>>> cr.zeros(2, 3).shape, cr.ones(2).dtype
((2, 3), dtype('float32'))
"""

import numpy as np

from chainrule.backend import get_default_dtype, get_rng
from chainrule.tensor import Tensor


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(n) for n in shape)


def _dtype(dtype):
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def tensor(data, dtype=None, requires_grad=False, name=None):
    """A tensor from a number, (nested) list, ndarray or tensor (data is copied).

    Python floats become float32 by default, integers int64; ndarrays keep their float dtype.

    >>> tensor([1.0, 2.0]).dtype, tensor([1, 2]).dtype
    (dtype('float32'), dtype('int64'))
    """
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        data = data.copy()
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def zeros(*shape, dtype=None, requires_grad=False):
    """A tensor of zeros. ``zeros(2, 3)`` or ``zeros((2, 3))``.

    >>> zeros(2).tolist()
    [0.0, 0.0]
    """
    return Tensor(np.zeros(_shape(shape), dtype=_dtype(dtype)), requires_grad=requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    """A tensor of ones.

    >>> ones(2).tolist()
    [1.0, 1.0]
    """
    return Tensor(np.ones(_shape(shape), dtype=_dtype(dtype)), requires_grad=requires_grad)


def empty(*shape, dtype=None, requires_grad=False):
    """An uninitialised tensor (contents arbitrary)."""
    return Tensor(np.empty(_shape(shape), dtype=_dtype(dtype)), requires_grad=requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False):
    """A tensor filled with ``fill_value``.

    >>> full((2,), 7.0).tolist()
    [7.0, 7.0]
    """
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return Tensor(np.full(shape, fill_value, dtype=_dtype(dtype)), requires_grad=requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    """The identity matrix.

    >>> eye(2).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    return Tensor(np.eye(n, m, dtype=_dtype(dtype)), requires_grad=requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad=False):
    """Evenly spaced values in ``[start, stop)``; integer arguments give int64.

    >>> arange(3).tolist()
    [0, 1, 2]
    """
    values = np.arange(start, stop, step) if stop is not None else np.arange(start)
    if dtype is None and values.dtype.kind == "f":
        dtype = get_default_dtype()
    return Tensor(values, dtype=dtype, requires_grad=requires_grad)


def linspace(start, stop, num, dtype=None, requires_grad=False):
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive.

    Integer dtypes truncate toward zero, as PyTorch does (NumPy floors). Tensor endpoints that
    require grad give a differentiable result ``start + (stop − start) · k/(num − 1)``.

    >>> linspace(0, 1, 3).tolist(), linspace(-5, 5, 4, dtype=np.int64).tolist()
    ([0.0, 0.5, 1.0], [-5, -1, 1, 5])
    """
    num = int(num)
    if num < 0:
        raise ValueError(f"linspace: num must be non-negative, got {num}")
    if any(isinstance(e, Tensor) and e.requires_grad for e in (start, stop)):
        return _linspace_graph(start, stop, num, dtype)
    lo = start.item() if isinstance(start, Tensor) else start
    hi = stop.item() if isinstance(stop, Tensor) else stop
    dtype = _dtype(dtype)
    values = np.linspace(lo, hi, num, dtype=np.float64)
    if dtype.kind in "iu":
        values = np.trunc(values)
    return Tensor(values.astype(dtype), requires_grad=requires_grad)


def _linspace_graph(start, stop, num, dtype):
    from chainrule.ops.arithmetic import add, mul, sub

    like = start if isinstance(start, Tensor) and start.requires_grad else stop
    dtype = like.data.dtype if dtype is None else np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"linspace: endpoints that require grad need a float dtype, got {dtype}")
    for name, e in (("start", start), ("stop", stop)):
        if isinstance(e, Tensor) and e.data.size != 1:
            raise ValueError(f"linspace: {name} must be a scalar, got shape {e.data.shape}")
    steps = np.arange(num, dtype=dtype) / dtype.type(max(num - 1, 1))
    s = start.reshape(()) if isinstance(start, Tensor) else start
    e = stop.reshape(()) if isinstance(stop, Tensor) else stop
    out = add(s, mul(sub(e, s), Tensor(steps)))
    return out if out.data.shape == (num,) else out.reshape(num)


def rand(*shape, dtype=None, requires_grad=False):
    """Uniform samples from [0, 1) drawn from the library generator.

    >>> rand(2, 2).shape
    (2, 2)
    """
    values = get_rng().random(_shape(shape), dtype=np.float64).astype(_dtype(dtype))
    return Tensor(values, requires_grad=requires_grad)


def randn(*shape, dtype=None, requires_grad=False):
    """Standard normal samples drawn from the library generator.

    >>> randn(3).shape
    (3,)
    """
    values = get_rng().standard_normal(_shape(shape)).astype(_dtype(dtype))
    return Tensor(values, requires_grad=requires_grad)


def randint(low, high, shape, dtype=np.int64):
    """Random integers in ``[low, high)``.

    >>> randint(0, 1, (3,)).tolist()
    [0, 0, 0]
    """
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return Tensor(get_rng().integers(low, high, shape).astype(dtype))


def zeros_like(t, dtype=None, requires_grad=False):
    """Zeros with ``t``'s shape and dtype.

    >>> zeros_like(ones(2)).tolist()
    [0.0, 0.0]
    """
    data = t.data if isinstance(t, Tensor) else np.asarray(t)
    return Tensor(np.zeros_like(data, dtype=dtype), requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    """Ones with ``t``'s shape and dtype.

    >>> ones_like(zeros(2)).tolist()
    [1.0, 1.0]
    """
    data = t.data if isinstance(t, Tensor) else np.asarray(t)
    return Tensor(np.ones_like(data, dtype=dtype), requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False):
    """``fill_value`` with ``t``'s shape and dtype."""
    data = t.data if isinstance(t, Tensor) else np.asarray(t)
    return Tensor(np.full_like(data, fill_value, dtype=dtype), requires_grad=requires_grad)
