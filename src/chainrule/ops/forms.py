"""PyTorch's function and method forms of the arithmetic operators: ``cr.add(x, y, alpha=2)``,
``x.mul(y)``, ``cr.div(x, y, rounding_mode='floor')``, ``true_divide``, ``neg``, and NumPy's
spellings (``subtract``, ``multiply``, ``divide``, ``negative``).

The operators themselves (``x + y``) call the primitives of :mod:`chainrule.ops.arithmetic`
directly; these forms add the keyword arguments and then call the same primitives, so the graph
and the gradients are the operators'.

>>> import chainrule as cr
>>> cr.add(cr.tensor([1.0]), cr.tensor([2.0]), alpha=10).tolist()
[21.0]
"""

from chainrule.ops import arithmetic as _ar
from chainrule.ops.elementwise import abs as _abs
from chainrule.ops.rounding import rounded_divide


def add(input, other, *, alpha=1):
    """``input + alpha · other``; d/dinput = 1, d/dother = alpha.

    >>> import chainrule as cr
    >>> cr.add(cr.tensor([1.0]), 2.0).tolist()
    [3.0]
    """
    return _ar.add(input, other if alpha == 1 else _ar.mul(other, alpha))


def sub(input, other, *, alpha=1):
    """``input − alpha · other``; d/dinput = 1, d/dother = −alpha.

    >>> import chainrule as cr
    >>> cr.sub(cr.tensor([5.0]), 2.0, alpha=2).tolist()
    [1.0]
    """
    return _ar.sub(input, other if alpha == 1 else _ar.mul(other, alpha))


def mul(input, other):
    """``input · other``; d/dinput = other, d/dother = input.

    >>> import chainrule as cr
    >>> cr.mul(cr.tensor([2.0]), 3.0).tolist()
    [6.0]
    """
    return _ar.mul(input, other)


def div(input, other, *, rounding_mode=None):
    """``input / other``; ``rounding_mode`` None (true division), 'trunc' (toward zero) or
    'floor' (toward −∞; the rounded forms have zero gradient, as in PyTorch).

    >>> import chainrule as cr
    >>> cr.div(cr.tensor([-7.0]), 2.0, rounding_mode="trunc").tolist()
    [-3.0]
    """
    if rounding_mode is None:
        return _ar.div(input, other)
    return rounded_divide(input, other, rounding_mode)


def true_divide(input, other):
    """``input / other`` (always true division; integers give the default float dtype).

    >>> import chainrule as cr
    >>> cr.true_divide(cr.tensor([1, 2]), 2).tolist()
    [0.5, 1.0]
    """
    return _ar.div(input, other)


def neg(input):
    """``−input``; d/dinput = −1.

    >>> import chainrule as cr
    >>> cr.neg(cr.tensor([1.0])).tolist()
    [-1.0]
    """
    return _ar.neg(input)


subtract, multiply, divide, negative = sub, mul, div, neg
absolute = _abs

__all__ = ["add", "div", "divide", "mul", "multiply", "neg", "negative", "sub", "subtract",
           "true_divide"]


def install_tensor_methods(cls):
    """``x.add(y, alpha=)``, ``x.sub``, ``x.mul``, ``x.div(rounding_mode=)``, ``x.neg()`` ..."""
    for name in __all__:
        setattr(cls, name, globals()[name])
    cls.absolute = _abs
