"""Tensor: one NumPy array (``.data``) plus the links that make it a node of the graph.

A tensor made by an operation records the operation's name (``.op``), its inputs
(``.parents``), the op's backward function and whatever arrays that backward needs
(``_saved``). ``backward()`` hands the tensor to the engine in :mod:`chainrule.autograd`.

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.op, [p.op for p in y.parents]
('sum', ['mul'])
>>> y.backward(); x.grad
tensor([2., 4., 6.])
"""

import numpy as np

from chainrule import autograd
from chainrule.backend import get_default_dtype


def _as_array(data, dtype=None):
    """Convert ``data`` to an ndarray following the library's dtype rules (no needless copy)."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        array = data
    elif isinstance(data, np.generic):  # NumPy scalars keep their dtype, like arrays
        array = np.asarray(data)
    else:
        array = np.asarray(data)
        # Python floats and lists of floats become the default float dtype (float32).
        if array.dtype == np.float64 and dtype is None:
            array = array.astype(get_default_dtype())
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    elif array.dtype.kind in "iu" and array.dtype != np.int64:
        array = array.astype(np.int64)
    return array


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    ``Tensor(data, requires_grad=False, dtype=None, name=None)`` wraps ``data`` (an ndarray is
    used as is when its dtype already fits). ``name`` is a label shown by ``explain`` and the
    graph drawer.

    >>> t = Tensor(np.ones(2, dtype=np.float32), requires_grad=True, name="w")
    >>> t.shape, t.dtype, t.is_leaf
    ((2,), dtype('float32'), True)
    """

    __slots__ = (
        "data", "grad", "requires_grad", "op", "parents", "_backward", "_saved", "_retain",
        "name", "_seq", "__weakref__",
        "_modified",  # (stamp, op) of the latest real in-place write; unset until the first one
    )
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected operator
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        array = _as_array(data, dtype)
        if requires_grad and array.dtype.kind not in "fc":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {array.dtype}; "
                "create it with a float dtype, e.g. cr.tensor(data, dtype=cr.float32)"
            )
        self.data = array
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.op = None
        self.parents = ()
        self._backward = None
        self._saved = None
        self._retain = False
        self.name = name
        self._seq = 0

    # ----------------------------------------------------------------- attributes
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return self.data.size

    @property
    def is_leaf(self):
        """True for tensors not made by a recorded operation (inputs and parameters)."""
        return self._backward is None

    @property
    def T(self):
        """All axes reversed (NumPy's ``.T``)."""
        return _ops.transpose(self)

    def numel(self):
        """Number of elements.

        >>> Tensor(np.zeros((2, 3))).numel()
        6
        """
        return self.data.size

    def dim(self):
        return self.data.ndim

    def item(self):
        """The value of a one-element tensor as a Python number.

        >>> Tensor(np.array([2.5])).item()
        2.5
        """
        if self.data.size != 1:
            raise ValueError(
                f"item: only one-element tensors can be converted to a Python number, "
                f"got shape {self.data.shape}"
            )
        return self.data.item()

    def numpy(self):
        """The underlying ndarray (shared, not copied), like ``torch.Tensor.numpy``."""
        return self.data

    def tolist(self):
        return self.data.tolist()

    def detach(self):
        """A new leaf sharing this tensor's data, cut from the graph.

        >>> a = Tensor(np.ones(2), requires_grad=True)
        >>> (a * 2).detach().requires_grad
        False
        """
        return Tensor(self.data)

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor during backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        self._retain = True
        return self

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` on a leaf in place and return it."""
        if not self.is_leaf:
            raise RuntimeError(
                "requires_grad_: only leaf tensors can change requires_grad; use .detach() first"
            )
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.data.dtype}"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def backward(self, gradient=None, retain_graph=False):
        """Backpropagate from this tensor; see :func:`chainrule.autograd.backward`.

        >>> a = Tensor(np.array(4.0), requires_grad=True); b = Tensor(np.array(3.0))
        >>> d = a * (a + b); d.backward(); a.grad.item()
        11.0
        """
        autograd.backward(self, gradient, retain_graph)

    # ----------------------------------------------------------------- in-place updates
    # Recorded on the graph when a gradient needs them, real writes otherwise (optimiser updates
    # under no_grad stay one NumPy call): see chainrule.ops.inplace.
    def __setitem__(self, index, value):
        """``x[index] = value`` (value: tensor, array or number); recorded when a gradient needs it.

        >>> w = Tensor(np.array(3.0), requires_grad=True)
        >>> x = Tensor(np.zeros(3)); x[1] = w * 2
        >>> x.sum().backward(); w.grad.item()
        2.0
        """
        _inplace.setitem(self, index, value)

    def __iadd__(self, other):
        return _inplace.ufunc_(self, np.add, _ops.add, other, "+=")

    def __isub__(self, other):
        return _inplace.ufunc_(self, np.subtract, _ops.sub, other, "-=")

    def __imul__(self, other):
        return _inplace.ufunc_(self, np.multiply, _ops.mul, other, "*=")

    def __itruediv__(self, other):
        return _inplace.ufunc_(self, np.true_divide, _ops.div, other, "/=")

    def __ipow__(self, other):
        return _inplace.ufunc_(self, np.power, _ops.pow, other, "**=")

    def add_(self, other, alpha=1):
        """In place: ``self += alpha * other``.

        >>> x = Tensor(np.ones(2)); x.add_(Tensor(np.ones(2)), alpha=3).tolist()
        [4.0, 4.0]
        """
        if alpha != 1:
            other = other * alpha if isinstance(other, Tensor) else np.asarray(other) * alpha
        return _inplace.ufunc_(self, np.add, _ops.add, other, "add_")

    def sub_(self, other, alpha=1):
        """In place: ``self -= alpha * other``."""
        if alpha != 1:
            other = other * alpha if isinstance(other, Tensor) else np.asarray(other) * alpha
        return _inplace.ufunc_(self, np.subtract, _ops.sub, other, "sub_")

    def mul_(self, other):
        """In place: ``self *= other``."""
        return _inplace.ufunc_(self, np.multiply, _ops.mul, other, "mul_")

    def div_(self, other):
        """In place: ``self /= other``."""
        return _inplace.ufunc_(self, np.true_divide, _ops.div, other, "div_")

    def pow_(self, exponent):
        """In place: ``self **= exponent``."""
        return _inplace.ufunc_(self, np.power, _ops.pow, exponent, "pow_")

    def clamp_(self, min=None, max=None):
        """In place: limit values to ``[min, max]``.

        >>> Tensor(np.array([-1.0, 2.0])).clamp_(0).tolist()
        [0.0, 2.0]
        """
        other = min if isinstance(min, Tensor) else max
        return _inplace.apply_(self, _ops.clip, "clamp_", min, max, other=other)

    clip_ = clamp_

    def masked_fill_(self, mask, value):
        """In place: ``value`` where ``mask`` is true."""
        return _inplace.apply_(self, _ops.masked_fill, "masked_fill_", mask, value, other=value)

    def index_add_(self, dim, index, source, alpha=1):
        """In place: add ``alpha * source`` slices at ``index`` along ``dim``."""
        return _inplace.apply_(self, _ops.index_add, "index_add_", dim, index, source, alpha,
                               other=source)

    def scatter_(self, dim, index, src=None, value=None, reduce=None):
        """In place: :func:`chainrule.ops.indexing.scatter`."""
        return _inplace.apply_(self, _ops.scatter, "scatter_", dim, index, src, value, reduce,
                               other=src)

    def scatter_add_(self, dim, index, src):
        """In place: :func:`chainrule.ops.indexing.scatter_add`."""
        return _inplace.apply_(self, _ops.scatter_add, "scatter_add_", dim, index, src,
                               other=src)

    def zero_(self):
        """Fill with zeros in place (e.g. ``w.grad.zero_()``)."""
        return self.fill_(0)

    def fill_(self, value):
        """Fill with ``value`` in place (a number, or a one-element tensor)."""
        if _inplace.records(self, value):
            return _inplace.record(self, _inplace.copy, "fill_", value)
        self.data.fill(value.item() if isinstance(value, Tensor) else value)
        _inplace.mark_written(self, "fill_")
        return self

    def copy_(self, src):
        """Copy ``src`` (Tensor or array, broadcastable) into this tensor in place.

        >>> x = Tensor(np.zeros(2)); x.copy_(np.array([1.0, 2.0])).tolist()
        [1.0, 2.0]
        """
        if _inplace.records(self, src):
            return _inplace.record(self, _inplace.copy, "copy_", src)
        return _inplace.write(self, src.data if isinstance(src, Tensor) else src, "copy_")

    # ----------------------------------------------------------------- conversions
    def astype(self, dtype):
        """A cast copy; differentiable between float dtypes."""
        return _ops.astype(self, dtype)

    def float(self):
        return _ops.astype(self, np.float32)

    def double(self):
        return _ops.astype(self, np.float64)

    def long(self):
        return _ops.astype(self, np.int64)

    def argmax(self, axis=None, keepdims=False, dim=None, keepdim=None):
        axis = axis if dim is None else dim
        keepdims = keepdims if keepdim is None else keepdim
        return Tensor(np.argmax(self.data, axis=axis, keepdims=keepdims))

    def argmin(self, axis=None, keepdims=False, dim=None, keepdim=None):
        axis = axis if dim is None else dim
        keepdims = keepdims if keepdim is None else keepdim
        return Tensor(np.argmin(self.data, axis=axis, keepdims=keepdims))

    def __array__(self, dtype=None, copy=None):
        if dtype is not None:
            return self.data.astype(dtype, copy=False)
        return self.data

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only integer one-element tensors can be used as an index")
        return int(self.data)

    def any(self):
        return bool(self.data.any())

    def all(self):
        return bool(self.data.all())

    # comparisons give bool tensors and never carry gradient
    def __eq__(self, other):
        return Tensor(self.data == _raw(other))

    def __ne__(self, other):
        return Tensor(self.data != _raw(other))

    def __lt__(self, other):
        return Tensor(self.data < _raw(other))

    def __le__(self, other):
        return Tensor(self.data <= _raw(other))

    def __gt__(self, other):
        return Tensor(self.data > _raw(other))

    def __ge__(self, other):
        return Tensor(self.data >= _raw(other))

    __hash__ = object.__hash__

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = []
        if self.data.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype={self.data.dtype}")
        if self.op is not None and self.requires_grad:
            extras.append(f"op={self.op}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return f"tensor({body}{''.join(', ' + e for e in extras)})"


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


_new = object.__new__


_ndarray = np.ndarray


def _wrap(array):
    """A leaf tensor around ``array`` without any checks (for internal, trusted arrays)."""
    if array.__class__ is not _ndarray:  # NumPy returns scalars for 0-d results
        array = np.asarray(array)
    t = _new(Tensor)
    t.data = array
    t.grad = None
    t.requires_grad = False
    t.op = None
    t.parents = ()
    t._backward = None
    t._saved = None
    t._retain = False
    t.name = None
    t._seq = 0
    return t


autograd._wrap = _wrap

from chainrule import ops as _ops  # noqa: E402  (ops need Tensor defined first)
from chainrule.ops import inplace as _inplace  # noqa: E402

_ops.install_tensor_methods(Tensor)
