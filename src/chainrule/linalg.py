"""``cr.linalg``: PyTorch's ``torch.linalg`` names over chainrule's differentiable primitives.

>>> import chainrule.linalg as LA
>>> import chainrule as cr
>>> LA.norm(cr.tensor([3.0, 4.0])).item()
5.0
"""

from chainrule.ops.arithmetic import matmul
from chainrule.ops.linalg import cross as _cross
from chainrule.ops.linalg import (
    det,
    inv,
    matrix_norm,
    norm,
    slogdet,
    solve,
    vector_norm,
)


def cross(a, b, dim=-1):
    """Cross product along ``dim`` (default -1, as ``torch.linalg.cross``)."""
    return _cross(a, b, dim)


__all__ = ["cross", "det", "inv", "matmul", "matrix_norm", "norm", "slogdet", "solve",
           "vector_norm"]
