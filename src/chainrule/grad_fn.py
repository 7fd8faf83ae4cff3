"""``tensor.grad_fn``: the graph node that made a tensor, as PyTorch shows it.

chainrule keeps the graph on the tensors themselves (``.op``, ``.parents``); ``grad_fn`` is a
read-only view of that for code and tutorials that print or walk PyTorch's nodes
(``z.grad_fn``, ``loss.grad_fn.next_functions``). Leaves have ``grad_fn`` None; a leaf that
requires grad appears among ``next_functions`` as ``AccumulateGrad``, as in PyTorch.

>>> import chainrule as cr
>>> w = cr.tensor([1.0], requires_grad=True)
>>> z = w * 2 + 1
>>> z.grad_fn, z.grad_fn.next_functions
(<AddBackward0>, ((<MulBackward0>, 0), (None, 0)))
>>> z.grad_fn.next_functions[0][0].next_functions
((<AccumulateGrad>, 0), (None, 0))
"""


def _camel(op):
    return "".join(part[:1].upper() + part[1:] for part in str(op).split("_"))


class GradFn:
    """The backward node of a tensor made by an op: ``name()``, ``next_functions`` (the
    nodes of its inputs, each paired with 0) and ``tensor`` (the output it belongs to)."""

    __slots__ = ("tensor",)

    def __init__(self, tensor):
        self.tensor = tensor

    def name(self):
        """``'MulBackward0'`` for a ``mul`` node (PyTorch's naming)."""
        return f"{_camel(self.tensor.op)}Backward0"

    @property
    def next_functions(self):
        return tuple((_node_of(p), 0) for p in self.tensor.parents)

    def __eq__(self, other):
        return isinstance(other, GradFn) and other.tensor is self.tensor

    def __hash__(self):
        return id(self.tensor)

    def __repr__(self):
        return f"<{self.name()}>"


class AccumulateGrad:
    """Where a leaf that requires grad receives its gradient (``.variable`` is the leaf)."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "AccumulateGrad"

    next_functions = ()

    def __eq__(self, other):
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self):
        return id(self.variable)

    def __repr__(self):
        return "<AccumulateGrad>"


def _node_of(t):
    if not t.requires_grad:
        return None
    if t._backward is None:
        return AccumulateGrad(t)
    return GradFn(t)


def grad_fn_of(t):
    """``t.grad_fn``: None for leaves, else the :class:`GradFn` of the op that made ``t``."""
    return None if t._backward is None else GradFn(t)
