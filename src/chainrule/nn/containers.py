"""Containers: Sequential (a chain), ModuleList (a registered list) and Concat (branches whose
outputs are joined: the lectures' f(x) = f1(x) ⊕ f2(x)).

>>> import chainrule as cr
>>> net = cr.nn.Sequential(cr.nn.Linear(4, 3), cr.nn.ReLU(), cr.nn.Linear(3, 1))
>>> len(net), net(cr.ones(2, 4)).shape
(3, (2, 1))
"""

import operator
from collections import OrderedDict

from chainrule.nn.module import Module
from chainrule.ops.shape import concat as _concat


def _as_module(module, owner, position):
    if not isinstance(module, Module):
        raise TypeError(
            f"{owner}: item {position} must be a Module, got {type(module).__name__} "
            "(wrap functions in a Module subclass)"
        )
    return module


class _IndexedContainer(Module):
    """Shared list-like behaviour of containers whose children are named ``0, 1, 2, ...``."""

    _config_children = True  # serialize records the children, in order

    def _index(self, idx):
        n = len(self._modules)
        idx = operator.index(idx)
        if not -n <= idx < n:
            raise IndexError(f"{type(self).__name__}: index {idx} is out of range for {n} modules")
        return idx % n

    def _reset(self, modules):
        """Re-register ``modules`` under the names 0..n-1 (after an insert)."""
        for name in list(self._modules):
            del self.__dict__[name]
        self._modules.clear()
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __setitem__(self, idx, module):
        name = list(self._modules)[self._index(idx)]
        setattr(self, name, _as_module(module, type(self).__name__, idx))

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self._modules)), _as_module(module, type(self).__name__, "append"))
        return self

    def extend(self, modules):
        """Append every module of ``modules``; returns self."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index`` (children are renumbered)."""
        modules = list(self._modules.values())
        modules.insert(index, _as_module(module, type(self).__name__, "insert"))
        self._reset(modules)
        return self

    def get_config(self):
        return {}


class Sequential(_IndexedContainer):
    """Apply modules one after another: ``Sequential(f1, f2, f3)(x) = f3(f2(f1(x)))``.

    ``Sequential(OrderedDict([("fc", Linear(2, 2)), ("act", ReLU())]))`` names the children.
    Indexing gives a module, slicing a new Sequential sharing the same modules.

    >>> import chainrule as cr
    >>> net = cr.nn.Sequential(cr.nn.Linear(2, 2), cr.nn.Tanh())
    >>> type(net[0]).__name__, len(net[:1])
    ('Linear', 1)
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], (dict, OrderedDict)):
            for name, m in args[0].items():
                self.add_module(name, _as_module(m, "Sequential", repr(name)))
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), _as_module(m, "Sequential", i))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[self._index(idx)]

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x


class ModuleList(_IndexedContainer):
    """A list of modules whose parameters are registered (a plain Python list would hide them).

    >>> import chainrule as cr
    >>> layers = cr.nn.ModuleList([cr.nn.Linear(2, 2) for _ in range(3)])
    >>> len(list(layers.parameters()))
    6
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return list(self._modules.values())[self._index(idx)]


class Concat(_IndexedContainer):
    """Run every branch on the same input and join the outputs along ``axis``:
    ``Concat(f1, f2)(x) = f1(x) ⊕ f2(x)`` (the lectures' concatenation of layers).

    >>> import chainrule as cr
    >>> both = cr.nn.Concat(cr.nn.Linear(4, 3), cr.nn.Linear(4, 2))
    >>> both(cr.ones(5, 4)).shape
    (5, 5)
    """

    def __init__(self, *branches, axis=-1):
        super().__init__()
        if not branches:
            raise ValueError("Concat: needs at least one branch")
        for i, m in enumerate(branches):
            self.add_module(str(i), _as_module(m, "Concat", i))
        self.axis = int(axis)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Concat(*list(self._modules.values())[idx], axis=self.axis)
        return list(self._modules.values())[self._index(idx)]

    def forward(self, x):
        return _concat([m(x) for m in self._modules.values()], axis=self.axis)

    def get_config(self):
        return {"axis": self.axis}

    def extra_repr(self):
        return f"axis={self.axis}"
