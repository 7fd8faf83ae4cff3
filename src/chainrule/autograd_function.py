"""``cr.autograd.Function``: write your own primitive, PyTorch's way.

Subclass it with two static methods: ``forward(ctx, *args)`` computes the output from tensors
(graph recording is off inside), ``backward(ctx, *grad_outputs)`` returns one gradient per
argument of ``forward`` (None for arguments that are not tensors or need no gradient). Call it
through ``Function.apply(*args)``. The output is one node of the graph, named after the class,
so ``backward()``, ``explain()`` and the graph drawer see it like a built-in op.

>>> import chainrule as cr
>>> class Cube(cr.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, grad_output):
...         (x,) = ctx.saved_tensors
...         return grad_output * 3 * x ** 2
>>> x = cr.tensor([1.0, 2.0], requires_grad=True)
>>> y = Cube.apply(x); y.sum().backward(); y.op, x.grad.tolist()
('Cube', [3.0, 12.0])
"""

import numpy as np

from chainrule.autograd import GradMode, no_grad
from chainrule.ops.base import _next_seq, unbroadcast
from chainrule.tensor import Tensor, _wrap


class FunctionCtx:
    """The ``ctx`` handed to ``forward`` and ``backward``: save tensors with
    ``save_for_backward`` and read them back from ``saved_tensors``; ``needs_input_grad`` tells,
    per argument of ``forward``, whether its gradient is needed. Any other attribute
    (``ctx.scale = 2``) may be set freely."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        self._non_differentiable = set()
        self.materialize_grads = True

    def save_for_backward(self, *tensors):
        """Keep ``tensors`` (or None) for ``backward``."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward: expected tensors or None, got {type(t).__name__}; "
                    "store other values as attributes of ctx (ctx.value = ...)"
                )
        self._saved = tensors

    @property
    def saved_tensors(self):
        """The tensors given to ``save_for_backward``, as a tuple."""
        if self._saved is None:
            raise RuntimeError(
                "saved_tensors: the saved tensors were freed after the first backward; pass "
                "retain_graph=True to the first backward() to run it again"
            )
        return self._saved

    def mark_non_differentiable(self, *outputs):
        """Outputs (e.g. indices) that carry no gradient: they come back as plain tensors."""
        self._non_differentiable.update(id(o) for o in outputs)

    def mark_dirty(self, *tensors):
        """Accepted for compatibility; in-place changes in ``forward`` are not tracked."""

    def set_materialize_grads(self, value):
        """With False, ``backward`` receives None (instead of zeros) for outputs with no
        incoming gradient."""
        self.materialize_grads = bool(value)


class Function:
    """Base class of user-defined differentiable operations; see the module docstring.

    ``backward`` receives and returns tensors. A returned gradient whose shape can be
    broadcast to its input's shape is summed down to it; any other shape is an error naming the
    Function and the argument.
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("Function.forward: define a static forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("Function.backward: define a static backward(ctx, *grads)")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch 2's alternative: ``forward(*args)`` without ctx, then this fills ctx."""
        raise NotImplementedError

    def __init__(self, *args, **kwargs):
        raise RuntimeError(
            f"{type(self).__name__}: call {type(self).__name__}.apply(...) instead of "
            "instantiating the Function"
        )

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` and, when an argument requires grad, record one graph node."""
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        separate_setup = cls.setup_context is not Function.setup_context
        with no_grad():
            if separate_setup:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        multiple = isinstance(output, tuple)
        outputs = output if multiple else (output,)
        for i, out in enumerate(outputs):
            if not isinstance(out, (Tensor, np.ndarray)):
                raise TypeError(
                    f"{cls.__name__}.forward: output {i} is a {type(out).__name__}; "
                    "return tensors (or a tuple of tensors)"
                )
        record = GradMode.enabled and any(ctx.needs_input_grad)
        parents = tuple(a for a in args if isinstance(a, Tensor))
        positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        shared = _Call(cls, ctx, positions, len(args),
                       tuple(_array(o).shape for o in outputs),
                       tuple(_array(o).dtype for o in outputs))
        results = []
        for i, out in enumerate(outputs):
            data = _array(out)
            if (not record or id(out) in ctx._non_differentiable or data.dtype.kind not in "fc"):
                results.append(out if isinstance(out, Tensor) and out.op is None else _wrap(data))
                continue
            results.append(_record(data, cls.__name__, parents, (shared, i)))
        return tuple(results) if multiple else results[0]


class _Call:
    """What one ``apply`` call keeps for backward, shared by all its outputs."""

    __slots__ = ("fn", "ctx", "positions", "n_args", "shapes", "dtypes")

    def __init__(self, fn, ctx, positions, n_args, shapes, dtypes):
        self.fn, self.ctx, self.positions, self.n_args = fn, ctx, positions, n_args
        self.shapes, self.dtypes = shapes, dtypes


def _array(out):
    return out.data if isinstance(out, Tensor) else np.asarray(out)


def _record(data, op, parents, saved):
    t = object.__new__(Tensor)
    t.data = data
    t.grad = None
    t.requires_grad = True
    t.op = op
    t.parents = parents
    t._backward = _function_backward
    t._saved = saved
    t._retain = False
    t.name = None
    t._seq = _next_seq()
    return t


def _function_backward(g, node):
    """Call the user's backward with this output's gradient (zeros, or None, for the others:
    the other outputs' nodes call it with theirs, and the engine adds the results up)."""
    call, index = node._saved
    ctx = call.ctx
    grads = []
    for i, (shape, dtype) in enumerate(zip(call.shapes, call.dtypes)):
        if i == index:
            grads.append(_wrap(np.asarray(g)))
        elif ctx.materialize_grads:
            grads.append(_wrap(np.zeros(shape, dtype=dtype)))
        else:
            grads.append(None)
    with no_grad():
        returned = call.fn.backward(ctx, *grads)
    if not isinstance(returned, tuple):
        returned = (returned,)
    name = call.fn.__name__
    if len(returned) != call.n_args:
        raise RuntimeError(
            f"{name}.backward returned {len(returned)} gradients, but forward took "
            f"{call.n_args} arguments: return one per argument (None where there is none)"
        )
    out = []
    for position, parent in zip(call.positions, node.parents):
        r = returned[position]
        if r is None or not parent.requires_grad:
            out.append(None)
            continue
        arr = r.data if isinstance(r, Tensor) else np.asarray(r)
        shape = parent.data.shape
        if arr.shape != shape:
            try:
                np.broadcast_shapes(arr.shape, shape)
                arr = unbroadcast(np.broadcast_to(arr, np.broadcast_shapes(arr.shape, shape)),
                                  shape)
            except ValueError:
                raise RuntimeError(
                    f"{name}.backward returned a gradient of shape {arr.shape} for argument "
                    f"{position}, which has shape {shape}"
                ) from None
        out.append(arr)
    return tuple(out)


def once_differentiable(fn):
    """Accepted for compatibility: backward already runs without recording a graph."""
    return fn


def Variable(data, requires_grad=False):  # noqa: N802  (PyTorch's old name)
    """PyTorch's old ``Variable(tensor, requires_grad=...)``: now simply a tensor."""
    data = data.data if isinstance(data, Tensor) else data
    return Tensor(data, requires_grad=requires_grad)
