"""Parameter: a leaf Tensor that a Module registers as learnable.

>>> import numpy as np
>>> p = Parameter(np.zeros(2))
>>> p.requires_grad, p.is_leaf
(True, True)
"""

from chainrule.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that requires grad by default and that a :class:`Module` collects in
    ``parameters()`` when it is assigned as an attribute.

    ``Parameter(data, requires_grad=True)``: ``data`` is an ndarray (used as is, no copy), a
    Tensor (its array is shared) or anything ``cr.tensor`` accepts.

    >>> import chainrule as cr
    >>> w = Parameter(cr.ones(2, 3))
    >>> w.shape, w.requires_grad
    ((2, 3), True)
    """

    # The dotted path under the module that registered it ("0.weight"), set by Module on
    # registration (never per op) so that explain() and the graph drawings can name it.
    __slots__ = ("_module_path",)

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = []
        super().__init__(data, requires_grad=requires_grad)
        self._module_path = None

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        # Rebuild through __init__ so copies and pickles stay Parameters with fresh .grad.
        return (_rebuild_parameter,
                (self.data, self.requires_grad, self.grad, self._module_path))


def _rebuild_parameter(data, requires_grad, grad, module_path=None):
    p = Parameter(data, requires_grad=requires_grad)
    p.grad = grad
    p._module_path = module_path
    return p
