"""``chainrule.utils.data``: PyTorch's import path for the data pipeline of
:mod:`chainrule.data` (``from chainrule.utils.data import DataLoader, TensorDataset, Dataset``).

>>> from chainrule.utils.data import TensorDataset, random_split
>>> import chainrule as cr
>>> [len(s) for s in random_split(TensorDataset(cr.zeros(10, 1)), [7, 3], seed=0)]
[7, 3]
"""

from chainrule.data.dataset import Dataset, Subset, TensorDataset, random_split
from chainrule.data.loader import DataLoader, collate

default_collate = collate  # PyTorch's name

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "collate", "default_collate",
           "random_split"]
