"""Functions that create tensors. Floats default to float32 (``cr.set_default_dtype``);
random draws come from the library generator that ``cr.manual_seed`` seeds.

>>> import chainrule as cr
>>> cr.zeros(2, 3).shape, cr.ones(2).dtype
((2, 3), dtype('float32'))
"""

import functools
import numbers

import numpy as np

from chainrule.backend import get_default_dtype, rng_of
from chainrule.device import check_device
from chainrule.tensor import Tensor


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(n) for n in shape)


def _dtype(dtype):
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def tensor(data, dtype=None, requires_grad=False, name=None, *, device=None, pin_memory=False):
    """A tensor from a number, (nested) list, ndarray or tensor (data is copied).

    Python floats become float32 by default, integers int64; ndarrays keep their float dtype.
    ``device`` may be ``"cpu"`` (the only device; see :mod:`chainrule.device`).

    >>> tensor([1.0, 2.0]).dtype, tensor([1, 2]).dtype
    (dtype('float32'), dtype('int64'))
    """
    check_device(device, "tensor")
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        data = data.copy()
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def zeros(*shape, dtype=None, requires_grad=False, device=None, size=None):
    """A tensor of zeros. ``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))``.

    >>> zeros(2).tolist()
    [0.0, 0.0]
    """
    check_device(device, "zeros")
    shape = _shape(shape if size is None else (size,))
    return Tensor(np.zeros(shape, dtype=_dtype(dtype)), requires_grad=requires_grad)


def ones(*shape, dtype=None, requires_grad=False, device=None, size=None):
    """A tensor of ones.

    >>> ones(2).tolist()
    [1.0, 1.0]
    """
    check_device(device, "ones")
    shape = _shape(shape if size is None else (size,))
    return Tensor(np.ones(shape, dtype=_dtype(dtype)), requires_grad=requires_grad)


def empty(*shape, dtype=None, requires_grad=False, device=None, size=None):
    """An uninitialised tensor (contents arbitrary)."""
    check_device(device, "empty")
    shape = _shape(shape if size is None else (size,))
    return Tensor(np.empty(shape, dtype=_dtype(dtype)), requires_grad=requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False, device=None):
    """A tensor filled with ``fill_value``.

    >>> full((2,), 7.0).tolist()
    [7.0, 7.0]
    """
    check_device(device, "full")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return Tensor(np.full(shape, fill_value, dtype=_dtype(dtype)), requires_grad=requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False, device=None):
    """The identity matrix.

    >>> eye(2).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    check_device(device, "eye")
    return Tensor(np.eye(n, m, dtype=_dtype(dtype)), requires_grad=requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad=False, device=None):
    """Evenly spaced values in ``[start, stop)``; integer arguments give int64.

    >>> arange(3).tolist()
    [0, 1, 2]
    """
    check_device(device, "arange")
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




# --------------------------------------------------------------------------- random draws
# Every draw comes from the library generator (cr.manual_seed) or from ``generator=``.
def _float_dtype(dtype, op):
    dtype = _dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating dtype, got {dtype}")
    return dtype


def rand(*shape, dtype=None, requires_grad=False, generator=None, device=None, size=None):
    """Uniform samples from [0, 1) drawn from the library generator (or ``generator``).

    >>> rand(2, 2).shape
    (2, 2)
    """
    check_device(device, "rand")
    shape = _shape(shape if size is None else (size,))
    rng = rng_of(generator, "rand")
    values = rng.random(shape, dtype=np.float64).astype(_float_dtype(dtype, "rand"))
    return Tensor(values, requires_grad=requires_grad)


def randn(*shape, dtype=None, requires_grad=False, generator=None, device=None, size=None):
    """Standard normal samples drawn from the library generator (or ``generator``).

    >>> randn(3).shape
    (3,)
    """
    check_device(device, "randn")
    shape = _shape(shape if size is None else (size,))
    values = rng_of(generator, "randn").standard_normal(shape)
    return Tensor(values.astype(_float_dtype(dtype, "randn")), requires_grad=requires_grad)


def randint(low=0, high=None, size=None, dtype=np.int64, *, generator=None, device=None,
            requires_grad=False):
    """Random integers in ``[low, high)``: ``randint(low, high, size)`` or, as in PyTorch,
    ``randint(high, size)``.

    >>> randint(0, 1, (3,)).tolist(), randint(1, (2,)).tolist()
    ([0, 0, 0], [0, 0])
    """
    check_device(device, "randint")
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None and size is not None:  # randint(high, size=...)
        low, high = 0, low
    if high is None or size is None:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    shape = (size,) if isinstance(size, numbers.Integral) else tuple(size)
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low} and high={high}")
    values = rng_of(generator, "randint").integers(low, high, shape)
    return Tensor(values.astype(dtype), dtype=dtype, requires_grad=requires_grad)


def randperm(n, *, generator=None, dtype=np.int64, device=None, requires_grad=False):
    """A random permutation of ``0 .. n-1``.

    >>> sorted(randperm(4).tolist())
    [0, 1, 2, 3]
    """
    check_device(device, "randperm")
    if n < 0:
        raise ValueError(f"randperm: n must be non-negative, got {n}")
    values = rng_of(generator, "randperm").permutation(int(n))
    return Tensor(values.astype(dtype), dtype=dtype, requires_grad=requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):
    """Normal samples with the given ``mean`` and ``std`` (numbers or tensors, broadcast
    together as in ``torch.normal``); with numbers, ``size`` gives the shape.

    >>> normal(zeros(3), 1.0).shape, normal(2.0, 0.5, (2, 2)).shape
    ((3,), (2, 2))
    """
    check_device(device, "normal")
    m = mean.data if isinstance(mean, Tensor) else np.asarray(mean)
    s = std.data if isinstance(std, Tensor) else np.asarray(std)
    if np.any(s < 0):
        raise ValueError("normal: std must be >= 0")
    if size is not None:
        shape = (size,) if isinstance(size, numbers.Integral) else tuple(size)
    else:
        try:
            shape = np.broadcast_shapes(m.shape, s.shape)
        except ValueError:
            raise ValueError(
                f"normal: mean of shape {m.shape} and std of shape {s.shape} cannot be broadcast"
            ) from None
    if dtype is None:
        floats = [v.data.dtype for v in (mean, std)
                  if isinstance(v, Tensor) and v.data.dtype.kind == "f"]
        dtype = np.result_type(*floats) if floats else get_default_dtype()
    draw = rng_of(generator, "normal").standard_normal(shape)
    return Tensor((m + s * draw).astype(dtype), requires_grad=requires_grad)


def bernoulli(input, p=None, *, generator=None):  # noqa: A002  (PyTorch's argument name)
    """0/1 draws: each entry is 1 with probability ``input`` (or ``p``), as ``torch.bernoulli``;
    the result has ``input``'s dtype.

    >>> bernoulli(ones(3)).tolist(), bernoulli(zeros(2)).tolist()
    ([1.0, 1.0, 1.0], [0.0, 0.0])
    """
    probs = input.data if isinstance(input, Tensor) else np.asarray(input, get_default_dtype())
    if p is not None:
        probs = np.full(probs.shape, p, dtype=probs.dtype)
    if probs.size and (np.min(probs) < 0 or np.max(probs) > 1):
        raise ValueError("bernoulli: probabilities must be in [0, 1]")
    draws = rng_of(generator, "bernoulli").random(probs.shape) < probs
    return Tensor(draws.astype(probs.dtype if probs.dtype.kind == "f" else get_default_dtype()))


def multinomial(input, num_samples, replacement=False, *, generator=None):  # noqa: A002
    """Category indices drawn with probabilities proportional to the rows of ``input`` (1-D:
    one distribution; 2-D: one per row), as ``torch.multinomial``. Without replacement each
    category is drawn at most once per row (sampled by the Gumbel top-k trick).

    >>> multinomial(tensor([0.0, 1.0, 0.0]), 2, replacement=True).tolist()
    [1, 1]
    >>> sorted(multinomial(tensor([1.0, 1.0, 1.0]), 3).tolist())
    [0, 1, 2]
    """
    w = input.data if isinstance(input, Tensor) else np.asarray(input, dtype=np.float64)
    if w.ndim not in (1, 2):
        raise ValueError(
            f"multinomial: expected a 1-D or 2-D tensor of weights, got shape {w.shape}"
        )
    rows = w.reshape(1, -1) if w.ndim == 1 else w
    n_rows, n_cat = rows.shape
    if n_cat == 0:
        raise ValueError("multinomial: the weights have no categories")
    if not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise ValueError("multinomial: weights must be finite and non-negative")
    totals = rows.sum(axis=1, dtype=np.float64)
    if np.any(totals <= 0):
        raise ValueError("multinomial: every row of weights must have a positive sum")
    k = int(num_samples)
    if k <= 0:
        raise ValueError(f"multinomial: num_samples must be positive, got {num_samples}")
    rng = rng_of(generator, "multinomial")
    if replacement:
        # Inverse CDF for all rows at once: offset row r's CDF and draws by r, search once.
        cdf = np.cumsum(rows, axis=1, dtype=np.float64) / totals[:, None]
        cdf[:, -1] = 1.0
        offsets = np.arange(n_rows)[:, None]
        u = rng.random((n_rows, k))
        flat = np.searchsorted((cdf + offsets).ravel(), (u + offsets).ravel(), side="right")
        samples = flat.reshape(n_rows, k) - offsets * n_cat
        np.minimum(samples, n_cat - 1, out=samples)
    else:
        nonzero = np.count_nonzero(rows, axis=1)
        if k > n_cat or np.any(nonzero < k):
            raise ValueError(
                f"multinomial: cannot draw {k} samples without replacement from "
                f"{int(nonzero.min())} categories with non-zero weight"
            )
        with np.errstate(divide="ignore"):
            keys = np.log(rows.astype(np.float64)) + rng.gumbel(size=rows.shape)
        samples = np.argsort(-keys, axis=1, kind="stable")[:, :k]
    samples = samples.astype(np.int64)
    return Tensor(samples[0] if w.ndim == 1 else samples)


# --------------------------------------------------------------------------- *_like
def _like_data(t):
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def zeros_like(t, dtype=None, requires_grad=False, device=None):
    """Zeros with ``t``'s shape and dtype.

    >>> zeros_like(ones(2)).tolist()
    [0.0, 0.0]
    """
    check_device(device, "zeros_like")
    values = np.zeros_like(_like_data(t), dtype=dtype)
    return Tensor(values, dtype=values.dtype, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False, device=None):
    """Ones with ``t``'s shape and dtype.

    >>> ones_like(zeros(2)).tolist()
    [1.0, 1.0]
    """
    check_device(device, "ones_like")
    values = np.ones_like(_like_data(t), dtype=dtype)
    return Tensor(values, dtype=values.dtype, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False, device=None):
    """``fill_value`` with ``t``'s shape and dtype.

    >>> full_like(zeros(2), 3).tolist()
    [3.0, 3.0]
    """
    check_device(device, "full_like")
    values = np.full_like(_like_data(t), fill_value, dtype=dtype)
    return Tensor(values, dtype=values.dtype, requires_grad=requires_grad)


def empty_like(t, dtype=None, requires_grad=False, device=None):
    """A tensor with ``t``'s shape and dtype (zero-filled here, so runs are repeatable)."""
    check_device(device, "empty_like")
    values = np.zeros_like(_like_data(t), dtype=dtype)
    return Tensor(values, dtype=values.dtype, requires_grad=requires_grad)


def _like_float(t, dtype, op):
    data = _like_data(t)
    dtype = data.dtype if dtype is None else np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating dtype, got {dtype}; pass dtype=")
    return data.shape, dtype


def rand_like(t, dtype=None, requires_grad=False, device=None, *, generator=None):
    """Uniform [0, 1) samples with ``t``'s shape and (float) dtype.

    >>> rand_like(zeros(2, 3)).shape
    (2, 3)
    """
    check_device(device, "rand_like")
    shape, dtype = _like_float(t, dtype, "rand_like")
    values = rng_of(generator, "rand_like").random(shape).astype(dtype)
    return Tensor(values, requires_grad=requires_grad)


def randn_like(t, dtype=None, requires_grad=False, device=None, *, generator=None):
    """Standard normal samples with ``t``'s shape and (float) dtype.

    >>> randn_like(zeros(4)).dtype
    dtype('float32')
    """
    check_device(device, "randn_like")
    shape, dtype = _like_float(t, dtype, "randn_like")
    values = rng_of(generator, "randn_like").standard_normal(shape).astype(dtype)
    return Tensor(values, requires_grad=requires_grad)


def randint_like(t, low=0, high=None, *, dtype=None, device=None, generator=None):
    """Random integers in ``[low, high)`` (or ``[0, low)`` given one bound) in ``t``'s shape."""
    check_device(device, "randint_like")
    if high is None:
        low, high = 0, low
    data = _like_data(t)
    values = rng_of(generator, "randint_like").integers(low, high, data.shape)
    dtype = data.dtype if dtype is None else dtype
    return Tensor(values.astype(dtype), dtype=dtype)


# --------------------------------------------------------------------------- NumPy bridges
def from_numpy(array):
    """A tensor that shares memory with ``array`` and keeps its dtype (int32 stays int32, as in
    ``torch.from_numpy``): writing to one changes the other.

    >>> a = np.zeros(2, dtype=np.int32); t = from_numpy(a); a[0] = 5
    >>> t.tolist(), t.dtype
    ([5, 0], dtype('int32'))
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array, dtype=array.dtype)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor without copying when it can: a tensor is returned as is, an ndarray
    of the requested dtype is shared (keeping its dtype, like :func:`from_numpy`); anything else
    becomes ``cr.tensor(data, dtype)``.

    >>> a = np.ones(2); as_tensor(a).data is a, as_tensor([1, 2]).dtype
    (True, dtype('int64'))
    """
    check_device(device, "as_tensor")
    if isinstance(data, Tensor):
        return data if dtype is None or np.dtype(dtype) == data.data.dtype else data.to(dtype)
    if isinstance(data, np.ndarray):
        return Tensor(data, dtype=data.dtype if dtype is None else dtype)
    return tensor(data, dtype=dtype)


# linspace also takes device= (PyTorch programs pass it); wrapped so its body stays as it is.
def _with_device(fn):
    @functools.wraps(fn)
    def accepts_device(*args, device=None, **kwargs):
        check_device(device, fn.__name__)
        return fn(*args, **kwargs)

    return accepts_device


linspace = _with_device(linspace)
