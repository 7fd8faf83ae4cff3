"""``Size``: a tensor's shape as PyTorch returns it from ``x.size()`` (a tuple subclass).

``x.size`` serves both habits: used as a number it is NumPy's element count (``x.size == 6``);
called, it is PyTorch's method (``x.size()`` is the shape, ``x.size(0)`` one dimension).

>>> import chainrule as cr
>>> x = cr.zeros(2, 3)
>>> x.size(), x.size(0), x.size(-1), x.size == 6
(chainrule.Size([2, 3]), 2, 3, True)
"""


class Size(tuple):
    """A shape: a tuple of ints with ``numel()``, printed as ``chainrule.Size([2, 3])``.

    >>> Size((2, 3)).numel(), Size((2, 3)) == (2, 3)
    (6, True)
    """

    __slots__ = ()

    def numel(self):
        """The number of elements a tensor of this shape holds."""
        n = 1
        for d in self:
            n *= d
        return n

    def __repr__(self):
        return f"chainrule.Size({list(self)})"

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item


class SizeAttr(int):
    """The value of ``x.size``: the element count (an int) that can also be called as PyTorch's
    ``x.size(dim=None)``."""

    # int subclasses cannot have non-empty __slots__: the shape lives in the instance __dict__.

    def __call__(self, dim=None):
        shape = self._shape
        if dim is None:
            return Size(shape)
        ndim = len(shape)
        try:
            d = dim.__index__()
        except AttributeError:
            raise TypeError(f"size: dim must be an integer, got {dim!r}") from None
        if not -ndim <= d < ndim:
            raise IndexError(
                f"size: dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}],"
                f" but got {dim})" if ndim else f"size: a 0-d tensor has no dimension {dim}"
            )
        return shape[d]


def size_attr(array):
    """``x.size`` for the ndarray ``array``: its element count, callable for the shape."""
    s = SizeAttr(array.size)
    s._shape = array.shape
    return s
