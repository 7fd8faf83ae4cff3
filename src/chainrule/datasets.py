"""``chainrule.datasets``: the ready-made data sets of :mod:`chainrule.data.datasets` under
their short import path (``import chainrule.datasets``, ``from chainrule.datasets import moons``).

>>> from chainrule.datasets import moons
>>> moons(10, seed=0).X.shape
(10, 2)
"""

from chainrule.data.datasets import *  # noqa: F403
from chainrule.data.datasets import __all__  # noqa: F401
