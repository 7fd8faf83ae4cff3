"""``cr.utils``: the home of ``chainrule.utils.data``, as ``torch.utils.data`` is PyTorch's.

>>> from chainrule.utils.data import DataLoader, TensorDataset
>>> import chainrule as cr
>>> len(DataLoader(TensorDataset(cr.zeros(5, 2)), batch_size=2))
3
"""

from chainrule.utils import data

__all__ = ["data"]
