"""Functional helpers composed from primitives (no backward of their own): ``normalize``.

>>> import chainrule as cr
>>> normalize(cr.tensor([[3.0, 4.0]])).tolist()
[[0.6000000238418579, 0.800000011920929]]
"""

from chainrule.ops.arithmetic import div
from chainrule.ops.base import as_tensor
from chainrule.ops.elementwise import clip
from chainrule.ops.reduction import norm


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """``input / max(‖input‖_p, eps)`` along ``dim`` (PyTorch's ``F.normalize``); the gradient
    is the composition's.

    >>> import chainrule as cr
    >>> normalize(cr.tensor([[0.0, 2.0]]), dim=1).tolist()
    [[0.0, 1.0]]
    """
    x = as_tensor(input)
    return div(x, clip(norm(x, p, dim, keepdim=True), min=eps))
