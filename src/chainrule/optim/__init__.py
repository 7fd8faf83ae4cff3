"""chainrule.optim: optimisers that update parameters in place from their ``.grad``.

Same names, arguments and update formulas as ``torch.optim`` (so the same run gives the same
numbers): :class:`SGD`, :class:`Adam`, :class:`AdamW`, :class:`RMSprop`, :class:`Adagrad`, and
learning-rate schedules in :mod:`chainrule.optim.lr_scheduler`.

>>> import numpy as np, chainrule as cr
>>> w = cr.tensor(np.array([3.0]), requires_grad=True)
>>> opt = cr.optim.SGD([w], lr=0.25)
>>> for _ in range(3):
...     opt.zero_grad(); ((w - 1.0) ** 2).sum().backward(); opt.step()
>>> w   # each step halves the distance to the minimum at 1
tensor([1.25], dtype=float64, requires_grad=True)
"""

from chainrule.optim import lr_scheduler
from chainrule.optim.adagrad import Adagrad
from chainrule.optim.adam import Adam, AdamW
from chainrule.optim.optimizer import Optimizer
from chainrule.optim.rmsprop import RMSprop
from chainrule.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
