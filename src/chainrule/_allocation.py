"""An allocation budget: while a crafted file is turned into a model, every array that becomes
a Tensor is charged against the bytes the file actually holds, so an architecture that claims
a 100,000 x 100,000 layer is refused before its weights are initialised (np.empty only reserves
address space; the initialiser would write it).

>>> import numpy as np
>>> from chainrule.tensor import Tensor
>>> with allocation_budget(64, "demo"):
...     Tensor(np.empty(100, np.float32))
Traceback (most recent call last):
...
chainrule._allocation.AllocationBudgetError: demo: the architecture needs more than 64 bytes of \
tensors (an array of 400 bytes, 400 in all)
"""

import contextlib

active = False  # read by tensor._as_array on every Tensor: one global lookup when off
_state = {"limit": 0, "used": 0, "what": ""}


class AllocationBudgetError(ValueError):
    """More memory was asked for than the budget allows."""


def charge(array) -> None:
    """Count ``array``'s bytes against the active budget (AllocationBudgetError past it)."""
    _state["used"] += int(array.nbytes)
    if _state["used"] > _state["limit"]:
        raise AllocationBudgetError(
            f"{_state['what']}: the architecture needs more than {_state['limit']} bytes of "
            f"tensors (an array of {array.nbytes} bytes, {_state['used']} in all)")


def reserve(nbytes: int) -> None:
    """Check, before allocating, that ``nbytes`` more would fit the active budget (a layer
    calls this ahead of ``np.empty``, which `charge` only sees afterwards)."""
    if active and _state["used"] + int(nbytes) > _state["limit"]:
        raise AllocationBudgetError(
            f"{_state['what']}: the architecture needs more than {_state['limit']} bytes of "
            f"tensors (an array of {int(nbytes)} bytes, {_state['used'] + int(nbytes)} in all)")


@contextlib.contextmanager
def allocation_budget(limit: int, what: str):
    """Within the block, Tensors made from arrays totalling more than ``limit`` bytes raise
    AllocationBudgetError (not re-entrant: the library uses it around one model build)."""
    global active
    saved = (active, dict(_state))
    _state.update(limit=int(limit), used=0, what=what)
    active = True
    try:
        yield
    finally:
        active = saved[0]
        _state.update(saved[1])
