"""``cr.backends``: PyTorch's backend switches, answered for a NumPy-only library.

>>> import chainrule as cr
>>> cr.backends.mps.is_available(), cr.backends.cudnn.is_available()
(False, False)
"""

from chainrule.backends import cudnn, mps

__all__ = ["cudnn", "mps"]
