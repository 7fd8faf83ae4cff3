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

from chainrule import _allocation, autograd
from chainrule.autograd import GradMode
from chainrule.backend import get_default_dtype
from chainrule.device import CPU, check_device, is_device_like
from chainrule.size import Size, size_attr


def _as_array(data, dtype=None):
    """Convert ``data`` to an ndarray following the library's dtype rules (no needless copy)."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        array = data
    elif isinstance(data, np.generic):  # NumPy scalars keep their dtype, like arrays
        array = np.asarray(data)
    else:
        if data is None or isinstance(data, (str, bytes)):
            raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__} "
                            f"{data!r}; give numbers, a (nested) list of numbers or an array")
        array = np.asarray(data)
        if array.dtype.kind in "OUSV" and dtype is None:  # objects, strings, bytes, records
            raise TypeError(f"tensor: could not infer a numeric dtype from {_preview(data)} "
                            f"(NumPy made it {array.dtype}); give numbers only")
        # Python floats and lists of floats become the default float dtype (float32).
        if array.dtype == np.float64 and dtype is None:
            array = array.astype(get_default_dtype())
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    elif array.dtype.kind in "iu" and array.dtype != np.int64:
        array = array.astype(np.int64)
    if _allocation.active:  # loading an untrusted model: bounded by the file's size
        _allocation.charge(array)
    return array


def _preview(data, limit=60):
    text = repr(data)
    return text if len(text) <= limit else text[:limit - 3] + "..."


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
        """NumPy's element count (``x.size == 6``) that is also PyTorch's method: ``x.size()``
        is the shape as a ``cr.Size``, ``x.size(dim)`` one dimension (negative dims count from
        the end).

        >>> x = Tensor(np.zeros((2, 3))); x.size, x.size(), x.size(-1)
        (6, chainrule.Size([2, 3]), 3)
        """
        return size_attr(self.data)

    @property
    def device(self):
        """Always the CPU (``device(type='cpu')``): chainrule computes with NumPy."""
        return CPU

    @property
    def is_cuda(self):
        return False

    @property
    def grad_fn(self):
        """The node that made this tensor, as PyTorch prints it (``<MulBackward0>``); None for
        leaves. See :mod:`chainrule.grad_fn`."""
        from chainrule.grad_fn import grad_fn_of

        return grad_fn_of(self)

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

    def numpy(self, force=False):
        """The underlying ndarray (shared, not copied), like ``torch.Tensor.numpy``
        (``force=`` is accepted: there is never a device copy to force)."""
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

    # PyTorch's casts return the tensor itself when it already has the dtype (as .to does)
    def float(self):
        return self if self.data.dtype == np.float32 else _ops.astype(self, np.float32)

    def double(self):
        return self if self.data.dtype == np.float64 else _ops.astype(self, np.float64)

    def long(self):
        return self if self.data.dtype == np.int64 else _ops.astype(self, np.int64)

    def half(self):
        return self if self.data.dtype == np.float16 else _ops.astype(self, np.float16)

    def int(self):
        return self if self.data.dtype == np.int32 else _ops.astype(self, np.int32)

    def bool(self):
        return self if self.data.dtype == np.bool_ else _ops.astype(self, np.bool_)

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False):
        """Move and/or cast, as ``torch.Tensor.to``: ``x.to(dtype)``, ``x.to(device)``,
        ``x.to(device, dtype)``, ``x.to(other)`` (other's dtype). The only device is the CPU;
        a CUDA device raises. Returns ``self`` when nothing changes (unless ``copy=True``); float
        casts are differentiable.

        >>> x = Tensor(np.ones(2, dtype=np.float32))
        >>> x.to("cpu") is x, x.to(np.float64).dtype
        (True, dtype('float64'))
        """
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.data.dtype if dtype is None else dtype
            elif is_device_like(arg):
                device = arg
            elif arg is not None:
                dtype = arg
        check_device(device, "to")
        if dtype is None or np.dtype(dtype) == self.data.dtype:
            return _ops.clone(self) if copy else self
        return _ops.astype(self, dtype)

    def type(self, dtype=None, non_blocking=False):
        """Without an argument, the type string (``'chainrule.FloatTensor'``); with a dtype or a
        type string (``'torch.DoubleTensor'`` is accepted), the cast tensor.

        >>> Tensor(np.ones(1, dtype=np.float32)).type()
        'chainrule.FloatTensor'
        """
        from chainrule.tensor_types import TypedTensor, dtype_of_type_string, type_string

        if dtype is None:
            return type_string(self.data.dtype)
        if isinstance(dtype, str):
            dtype = dtype_of_type_string(dtype)
        elif isinstance(dtype, TypedTensor):  # x.type(cr.FloatTensor)
            dtype = dtype.dtype
        return self.to(dtype)

    def type_as(self, other):
        """Cast to ``other``'s dtype."""
        return self.to(other.data.dtype)

    def cpu(self):
        """``self``: tensors always live on the CPU."""
        return self

    def cuda(self, device=None, non_blocking=False):
        """Raises: chainrule has no GPU backend."""
        check_device("cuda" if device is None else device, "cuda")

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    def is_contiguous(self):
        """True when the array is C-contiguous (row-major, no gaps)."""
        return self.data.flags.c_contiguous

    def data_ptr(self):
        """The address of the first element (equal for tensors that share memory)."""
        return self.data.__array_interface__["data"][0]

    def element_size(self):
        """Bytes per element."""
        return self.data.itemsize

    def nelement(self):
        """Number of elements (PyTorch's alias of ``numel``)."""
        return self.data.size

    def t(self):
        """Transpose of a matrix (a 0-d or 1-D tensor is returned as is), as
        ``torch.Tensor.t``."""
        if self.data.ndim > 2:
            raise ValueError(f"t: expects a tensor with <= 2 dims, got shape {self.data.shape}; "
                             "use transpose(dim0, dim1)")
        return _ops.transpose(self) if self.data.ndim == 2 else self

    def view_as(self, other):
        """``self.view(other.shape)``."""
        return _ops.reshape(self, other.data.shape)

    def reshape_as(self, other):
        """``self.reshape(other.shape)``."""
        return _ops.reshape(self, other.data.shape)

    def expand_as(self, other):
        """Broadcast to ``other``'s shape (differentiable; backward sums over the new axes)."""
        return _ops.broadcast_to(self, other.data.shape)

    # new_* create tensors with this tensor's dtype unless given another (as PyTorch's do)
    def _new(self, array, dtype, device, requires_grad, op):
        check_device(device, op)
        dtype = self.data.dtype if dtype is None else dtype
        return Tensor(np.asarray(array, dtype=dtype), dtype=dtype, requires_grad=requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A copy of ``data`` as a tensor with this tensor's dtype (by default).

        >>> Tensor(np.ones(1, dtype=np.float64)).new_tensor([1, 2]).dtype
        dtype('float64')
        """
        data = data.data if isinstance(data, Tensor) else data
        return self._new(np.array(data), dtype, device, requires_grad, "new_tensor")

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        """Zeros of shape ``size`` with this tensor's dtype."""
        return self._new(np.zeros(_size_args(size)), dtype, device, requires_grad, "new_zeros")

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        """Ones of shape ``size`` with this tensor's dtype."""
        return self._new(np.ones(_size_args(size)), dtype, device, requires_grad, "new_ones")

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        """A tensor of shape ``size`` with this tensor's dtype (zero-filled: repeatable)."""
        return self._new(np.zeros(_size_args(size)), dtype, device, requires_grad, "new_empty")

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        """``fill_value`` in shape ``size`` with this tensor's dtype."""
        return self._new(np.full(_size_args((size,)), fill_value), dtype, device, requires_grad,
                         "new_full")

    # in-place random fills (``torch.empty(3).uniform_(-1, 1)``), drawn like cr.rand
    def _random_fill(self, what, values):
        if self.requires_grad and GradMode.enabled:
            raise RuntimeError(
                f"{what}: in-place change of a tensor that requires grad; do it inside "
                "`with cr.no_grad():` or use cr.nn.init"
            )
        np.copyto(self.data, values, casting="unsafe")
        return self

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        """Fill in place with draws from U(a, b).

        >>> bool((Tensor(np.zeros(50)).uniform_(2, 3).data >= 2).all())
        True
        """
        from chainrule.backend import rng_of

        return self._random_fill("uniform_", rng_of(generator).uniform(a, b, self.data.shape))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill in place with draws from N(mean, std²)."""
        from chainrule.backend import rng_of

        return self._random_fill("normal_", rng_of(generator).normal(mean, std, self.data.shape))

    def bernoulli_(self, p=0.5, *, generator=None):
        """Fill in place with 0/1 draws that are 1 with probability ``p``."""
        from chainrule.backend import rng_of

        draws = rng_of(generator).random(self.data.shape) < np.asarray(getattr(p, "data", p))
        return self._random_fill("bernoulli_", draws)

    def __format__(self, spec):
        # f"{loss:.4f}" works on one-element tensors, as in PyTorch
        if not spec:
            return str(self)
        if self.data.size == 1:
            return format(self.data.item(), spec)
        raise TypeError(
            f"unsupported format string {spec!r} passed to a tensor with {self.data.size} "
            "elements; format a one-element tensor or x.item()"
        )

    # ----------------------------------------------------------------- NumPy interoperability
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """``np.exp(t)``, ``array + t`` and the other ufuncs run chainrule's differentiable
        op of the same name (see :mod:`chainrule.numpy_interop`)."""
        return _interop.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        """``np.sum(t)``, ``np.concatenate([t, u])`` and the other NumPy functions run chainrule's
        op of the same name (see :mod:`chainrule.numpy_interop`)."""
        return _interop.array_function(func, args, kwargs)

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

    # any, all, argmax, argmin: installed from chainrule.ops.reduction (they return tensors)

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

    def eq(self, other):
        return Tensor(self.data == _raw(other))

    def ne(self, other):
        return Tensor(self.data != _raw(other))

    def lt(self, other):
        return Tensor(self.data < _raw(other))

    def le(self, other):
        return Tensor(self.data <= _raw(other))

    def gt(self, other):
        return Tensor(self.data > _raw(other))

    def ge(self, other):
        return Tensor(self.data >= _raw(other))

    def equal(self, other):
        """True when ``other`` has the same shape and values (``torch.equal``)."""
        return _ops.equal(self, other)

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


def _size_args(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        return tuple(size[0])
    return tuple(size)


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

from chainrule import numpy_interop as _interop  # noqa: E402
from chainrule import ops as _ops  # noqa: E402  (ops need Tensor defined first)
from chainrule.ops import inplace as _inplace  # noqa: E402

_ops.install_tensor_methods(Tensor)
