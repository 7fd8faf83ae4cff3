"""Data pipeline: datasets, mini-batch loading, and ready-made data sets.

>>> import numpy as np, chainrule as cr
>>> X, y = cr.datasets.moons(100, seed=0)
>>> train, val = cr.data.random_split(cr.data.TensorDataset(X, y), [0.8, 0.2], seed=0)
>>> loader = cr.data.DataLoader(train, batch_size=32, shuffle=True, seed=0)
>>> xb, yb = next(iter(loader)); xb.shape, yb.dtype
((32, 2), dtype('int64'))

- `Dataset`, `TensorDataset`, `Subset`, `random_split` (dataset.py)
- `DataLoader`, `collate` (loader.py)
- `datasets` (= ``cr.datasets``): toy generators, digits, iris, MNIST/IDX, CSV
"""

from chainrule.data import datasets
from chainrule.data.bunch import Bunch
from chainrule.data.dataset import Dataset, Subset, TensorDataset, random_split
from chainrule.data.loader import DataLoader, collate

__all__ = [
    "Bunch",
    "DataLoader",
    "Dataset",
    "Subset",
    "TensorDataset",
    "collate",
    "datasets",
    "random_split",
]
