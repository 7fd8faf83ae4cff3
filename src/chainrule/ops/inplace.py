"""In-place operations: recorded on the graph when a gradient needs them, real writes otherwise.

PyTorch's rule, kept here: an in-place op on a tensor that is part of the graph (a non-leaf that
requires grad, or any tensor receiving a value that requires grad) is *recorded*. The tensor
keeps its identity (``c`` is still ``c`` after ``c += c + 1``) but becomes the output of the
in-place op; its old history moves into a hidden tensor, the op's first parent. Nodes recorded
earlier that name ``c`` as an input are pointed back at that old version by the engine
(``autograd._redirect``). The recorded op computes its result out of place and rebinds
``c.data``, so arrays saved by earlier nodes stay intact.

Everything else (under ``no_grad``, e.g. optimiser updates; tensors that need no gradient) is a
real write into the array, stamped so that backward can refuse a node whose saved input was
overwritten after the node was recorded (the "version counter").

An in-place change of a leaf that requires grad refuses, as in PyTorch.

Two differences from PyTorch, both because chainrule's tensors share memory only as an
implementation detail: a *recorded* in-place change rebinds the tensor's array, so another
tensor sharing the old memory (a slice or reshape taken earlier) does not see it; and the
version check sees writes made through the Tensor API only (``x.data[...] = ...``,
``p.data -= ...`` or a write through such a view are not tracked). Where PyTorch would refuse a
recorded in-place change because an earlier node saved the old value (``y = x.exp(); y += 1``),
chainrule gives the true gradient, since the old value is kept.

>>> import chainrule as cr
>>> a = cr.tensor([1.0, 2.0], requires_grad=True)
>>> c = a * 1
>>> c += c + 1
>>> c.sum().backward(); a.grad.tolist()
[2.0, 2.0]
"""

import numpy as np

from chainrule.autograd import GradMode, InplaceLog, reads
from chainrule.ops import base as _base
from chainrule.ops.base import as_tensor, node, unbroadcast
from chainrule.tensor import Tensor

_new = object.__new__
_HISTORY = ("data", "requires_grad", "op", "parents", "_backward", "_saved", "name", "_seq")


def records(t, other=None):
    """True when an in-place change of ``t`` (with right-hand side ``other``) must be recorded."""
    if not GradMode.enabled:
        return False
    return t.requires_grad or (isinstance(other, Tensor) and other.requires_grad)


def refuse_leaf(t, what):
    if t.requires_grad and t._backward is None:
        raise RuntimeError(
            f"{what}: in-place change of a tensor that requires grad would corrupt the graph; "
            "do weight updates inside `with cr.no_grad():` (or change .data)"
        )


def mark_written(t, what):
    """Stamp a real write into ``t.data`` (the version counter read by backward)."""
    stamp = _base._next_seq()
    t._modified = (stamp, what)
    InplaceLog.last_write = stamp


def _history(t):
    """A fresh hidden tensor holding ``t``'s current value and node."""
    old = _new(Tensor)
    for slot in _HISTORY:
        setattr(old, slot, getattr(t, slot))
    old.grad = None
    old._retain = False
    stamp = getattr(t, "_modified", None)
    if stamp is not None:
        old._modified = stamp
    return old


def _passthrough_backward(g, node):
    return None, g


reads(_passthrough_backward)


def record(t, fn, what, *args):
    """Record ``t = fn(old_t, *args)`` in place: ``t`` keeps its identity, gets the new node."""
    refuse_leaf(t, what)
    old = _history(t)
    result = fn(old, *args)
    if not isinstance(result, Tensor):
        result = as_tensor(result)
    if result.data.shape != old.data.shape:
        raise ValueError(
            f"{what}: the result has shape {result.data.shape}, which does not fit this tensor's "
            f"shape {old.data.shape} (an in-place op cannot change the shape)"
        )
    if result.data.dtype != old.data.dtype:
        if not np.can_cast(result.data.dtype, old.data.dtype, "same_kind"):
            raise TypeError(
                f"{what}: result type {result.data.dtype} cannot be cast to this tensor's "
                f"dtype {old.data.dtype} in place"
            )
        result = result.astype(old.data.dtype)
    if np.may_share_memory(result.data, old.data):  # the old value must stay intact
        result.data = result.data.copy()
    if not result.requires_grad:  # nothing the result depends on needs a gradient
        t.data = result.data
        mark_written(t, what)
        return t
    if not result.parents or result.parents[0] is not old:
        # The engine finds old versions through the first parent: add a pass-through node.
        result = node(result.data, (old, result), what, _passthrough_backward, ())
    t.data = result.data
    t.requires_grad = True
    t.op = result.op
    t.parents = result.parents
    t._backward = result._backward
    t._saved = result._saved
    t._seq = result._seq
    InplaceLog.last_rebase = result._seq
    return t


def write(t, value, what):
    """A real write of ``value`` (broadcast, cast same-kind) into ``t.data``."""
    try:
        np.copyto(t.data, value, casting="same_kind")
    except ValueError as err:
        _raise_write_error(t, value, what, err)
    except TypeError:
        raise TypeError(
            f"{what}: a value of dtype {np.asarray(value).dtype} cannot be written in place "
            f"into a tensor of dtype {t.data.dtype}"
        ) from None
    mark_written(t, what)
    return t


def _raise_write_error(t, value, what, err):
    if not t.data.flags.writeable:
        raise ValueError(
            f"{what}: this tensor's array is read-only (an expand/broadcast_to view shares one "
            "element among many positions); write into a .clone() of it"
        ) from None
    raise ValueError(
        f"{what}: a value of shape {np.shape(value)} cannot be broadcast into this "
        f"tensor's shape {t.data.shape}"
    ) from None


def ufunc_(t, ufunc, op, other, what):
    """``t <ufunc>= other``: recorded as ``op(old, other)`` or written with ``out=``."""
    if records(t, other):
        return record(t, op, what, other)
    value = other.data if isinstance(other, Tensor) else other
    try:
        ufunc(t.data, value, out=t.data, casting="same_kind")
    except ValueError as err:
        _raise_write_error(t, value, what, err)
    except TypeError:  # NumPy's UFuncOutputCastingError
        raise TypeError(
            f"{what}: the result of dtype {np.result_type(t.data, value)} cannot be written in "
            f"place into a tensor of dtype {t.data.dtype}"
        ) from None
    mark_written(t, what)
    return t


def apply_(t, fn, what, *args, other=None):
    """``t = fn(t, *args)`` in place, for any differentiable ``fn``."""
    if records(t, other):
        return record(t, fn, what, *args)
    with _NoGrad():
        value = fn(t, *args)
    return write(t, value.data if isinstance(value, Tensor) else value, what)


class _NoGrad:
    def __enter__(self):
        self.previous = GradMode.enabled
        GradMode.enabled = False

    def __exit__(self, *exc):
        GradMode.enabled = self.previous


# --------------------------------------------------------------------------- primitives
def _plain(index):
    from chainrule.ops.shape import _plain_index

    return _plain_index(index)[0]


def index_put(a, index, value):
    """``a`` with ``a[index] = value`` (out of place): the primitive behind ``x[idx] = v``.

    The gradient of ``a`` is the incoming gradient with the overwritten entries zeroed; ``value``
    gets the gradient of the entries it filled (summed over broadcasting).

    >>> import chainrule as cr
    >>> v = cr.tensor(2.0, requires_grad=True)
    >>> y = index_put(cr.zeros(3), slice(0, 2), v); y.tolist()
    [2.0, 2.0, 0.0]
    >>> (y * cr.tensor([1.0, 10.0, 100.0])).sum().backward(); v.grad.item()
    11.0
    """
    a = as_tensor(a)
    value = as_tensor(value, a)
    index = _plain(index)
    out = a.data.copy()
    try:
        out[index] = value.data
    except (ValueError, IndexError) as err:
        raise type(err)(
            f"setitem: cannot assign a value of shape {value.data.shape} to index {index!r} of "
            f"a tensor of shape {a.data.shape} ({err})"
        ) from None
    return node(out, (a, value), "index_put", _index_put_backward, (index,))


def _index_put_backward(g, node):
    (index,) = node._saved
    a, value = node.parents
    ga = None
    if a.requires_grad:
        ga = g.copy()
        ga[index] = 0
    gv = None
    if value.requires_grad:
        gv = g[index]
        shape = value.data.shape
        if gv.ndim < len(shape):  # NumPy lets a value carry extra leading ones
            gv = gv.reshape((1,) * (len(shape) - gv.ndim) + gv.shape)
        gv = unbroadcast(gv, shape).astype(value.data.dtype, copy=False)
    return ga, gv


reads(_index_put_backward)


def setitem(t, index, value):
    """``t[index] = value``: recorded (``index_put``) when a gradient needs it, else a write."""
    if records(t, value):
        return record(t, index_put, "setitem", index, value)
    index = _plain(index)
    raw = value.data if isinstance(value, Tensor) else value
    try:
        t.data[index] = raw
    except ValueError as err:
        if not t.data.flags.writeable:
            _raise_write_error(t, raw, "setitem", err)
        raise ValueError(
            f"setitem: cannot assign a value of shape {np.shape(raw)} to index {index!r} of a "
            f"tensor of shape {t.data.shape}"
        ) from None
    except IndexError as err:
        raise IndexError(f"setitem: {err} (tensor shape {t.data.shape})") from None
    mark_written(t, "setitem")
    return t


def copy(a, src):
    """``src`` broadcast to ``a``'s shape and dtype (the out-of-place form of ``a.copy_(src)``);
    ``a`` gets no gradient, ``src`` the summed one."""
    src = as_tensor(src, a)
    try:
        out = np.broadcast_to(src.data, a.data.shape).astype(a.data.dtype)
    except ValueError:
        raise ValueError(
            f"copy_: a source of shape {src.data.shape} cannot be broadcast into this tensor's "
            f"shape {a.data.shape}"
        ) from None
    return node(out, (a, src), "copy", _copy_backward)


def _copy_backward(g, node):
    src = node.parents[1]
    gs = unbroadcast(g, src.data.shape).astype(src.data.dtype, copy=False)
    return None, gs


reads(_copy_backward)


def _declare_shape_only_backwards():
    """Backward functions of existing ops that read shapes only, never values."""
    from chainrule.ops import arithmetic, reduction, shape

    for fn in (arithmetic._add_backward, arithmetic._sub_backward, arithmetic._neg_backward,
               arithmetic._astype_backward, reduction._sum_backward, reduction._mean_backward,
               shape._reshape_backward, shape._transpose_backward,
               shape._broadcast_to_backward, shape._getitem_backward, shape._concat_backward,
               shape._stack_backward):
        reads(fn)


_declare_shape_only_backwards()


# Unary ops that get an in-place method ``name_``; names the ops do not define are skipped, so
# ops added later (sin, floor, ...) gain theirs by being listed here.
UNARY_INPLACE = (
    "exp", "log", "sqrt", "abs", "neg", "tanh", "sigmoid", "relu", "sin", "cos", "tan", "asin",
    "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "log2", "log10", "log1p", "expm1",
    "exp2", "rsqrt", "square", "sign", "floor", "ceil", "round", "trunc", "frac", "erf", "erfc",
    "reciprocal", "sigmoid", "silu", "nan_to_num", "leaky_relu", "elu", "gelu", "softplus",
    "hardtanh", "relu6", "selu", "celu", "tril", "triu",
)


def _unary_method(fn, what):
    def method(self, *args, **kwargs):
        return apply_(self, lambda t: fn(t, *args, **kwargs), what)

    method.__name__ = what
    method.__doc__ = (f"In place: ``self = {fn.__name__}(self, ...)``, recorded when it needs "
                      "a gradient.")
    return method


def install_inplace_methods(cls):
    """Add ``name_`` for every op of :data:`UNARY_INPLACE` that ``cls`` has as a method."""
    for name in UNARY_INPLACE:
        fn = getattr(cls, name, None)
        if fn is not None and not hasattr(cls, name + "_"):
            setattr(cls, name + "_", _unary_method(fn, name + "_"))
