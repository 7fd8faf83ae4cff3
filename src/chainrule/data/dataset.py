"""Datasets: the indexable collections a `DataLoader` draws batches from.

A dataset answers ``len(ds)`` and ``ds[i]`` (one sample). In-memory datasets also answer
``ds.__getitems__(indices)`` with a whole batch fetched by one fancy-indexing slice per array;
the `DataLoader` uses that fast path when it exists (the same protocol as PyTorch's).
"""

from __future__ import annotations

import numbers

import numpy as np


class Dataset:
    """Base class: subclass it and define ``__len__`` and ``__getitem__(i)``.

    ``__getitem__`` returns one sample: an array, a number, or a tuple of them (e.g.
    ``(features, label)``). The `DataLoader` stacks samples into batches.

    >>> class Squares(Dataset):
    ...     def __len__(self): return 4
    ...     def __getitem__(self, i): return np.float32(i), i * i
    >>> Squares()[3]
    (np.float32(3.0), 9)
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


def _to_array(x):
    # A chainrule Tensor is unwrapped; lists become arrays. No dtype change: what you stored
    # is what the loader gives back.
    data = getattr(x, "data", None)
    if isinstance(data, np.ndarray):
        return data
    return np.asarray(x)


class TensorDataset(Dataset):
    """Samples are the rows of one or more arrays (or Tensors) with the same first dimension.

    ``ds[i]`` is a tuple ``(a[i], b[i], ...)``; ``ds[idx]`` with an integer array or a slice
    returns the whole batch ``(a[idx], b[idx], ...)`` in one fancy-indexing step per array.
    Arrays are kept as given (no copy, no dtype change): float64 stays float64.

    >>> ds = TensorDataset(np.zeros((5, 3), np.float32), np.arange(5))
    >>> len(ds), ds[np.array([4, 0])][1].tolist()
    (5, [4, 0])
    """

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset: needs at least one array")
        arrays = tuple(_to_array(a) for a in arrays)
        for a in arrays:
            if a.ndim == 0:
                raise ValueError("TensorDataset: arrays must have a first (sample) dimension, "
                                 f"got a 0-d array; shapes are {[x.shape for x in arrays]}")
        n = arrays[0].shape[0]
        if any(a.shape[0] != n for a in arrays):
            raise ValueError(
                "TensorDataset: all arrays need the same first dimension (number of samples), "
                f"got shapes {', '.join(str(a.shape) for a in arrays)}"
            )
        self.arrays = arrays

    @property
    def tensors(self):
        """The stored arrays (PyTorch's name for the same attribute)."""
        return self.arrays

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)

    def __getitems__(self, indices):
        """A batch: ``indices`` is an int array (or a slice); one slice per array."""
        return tuple(a[indices] for a in self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{a.dtype}{list(a.shape)}" for a in self.arrays)
        return f"TensorDataset({shapes})"


class Subset(Dataset):
    """The samples ``indices`` of ``dataset``, in that order (what `random_split` returns).

    Batches stay fast: when ``dataset`` has ``__getitems__``, a batch of the subset is one fancy
    index into the original arrays.

    >>> sub = Subset(TensorDataset(np.arange(10)), [7, 2])
    >>> len(sub), sub[0][0].item()
    (2, 7)
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(f"Subset: indices must lie in [0, {n}) for a dataset of {n} "
                             f"samples, got range [{self.indices.min()}, {self.indices.max()}]")

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, numbers.Integral):
            return self.dataset[int(self.indices[index])]
        return self.__getitems__(self.indices[index])

    def __getitems__(self, indices):
        # Only defined usefully when the base dataset batches; else collate sample by sample.
        base = self.indices[indices]
        if hasattr(self.dataset, "__getitems__"):
            return self.dataset.__getitems__(base)
        from chainrule.data.loader import collate

        return collate([self.dataset[int(i)] for i in base])

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {self.dataset!r})"


def _split_lengths(lengths, n):
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    if all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in lengths):
        if any(x < 0 for x in lengths) or sum(lengths) != n:
            raise ValueError(f"random_split: lengths {lengths} must be >= 0 and sum to the "
                             f"dataset size {n} (they sum to {sum(lengths)})")
        return [int(x) for x in lengths]
    fractions = np.asarray(lengths, dtype=np.float64)
    if np.any(~(fractions >= 0)) or np.any(fractions > 1) or \
            not np.isclose(fractions.sum(), 1.0, atol=1e-6):
        raise ValueError(f"random_split: fractions {lengths} must lie in [0, 1] and sum to 1 "
                         f"(they sum to {fractions.sum():.6g})")
    counts = np.floor(fractions * n).astype(np.int64)
    # Hand the samples lost to flooring out one at a time, first split first (as PyTorch).
    for i in range(n - int(counts.sum())):
        counts[i % len(counts)] += 1
    return counts.tolist()


def random_split(dataset, lengths, seed=None, *, generator=None):
    """Split ``dataset`` into disjoint random `Subset` s that together cover it.

    ``lengths`` are sample counts summing to ``len(dataset)`` or fractions summing to 1
    (``[0.8, 0.2]``; the remainder of rounding down goes to the first splits). ``seed`` fixes
    the permutation; ``None`` draws it from ``generator`` (a `cr.Generator`, PyTorch's way) or
    else from the library generator (see `cr.manual_seed`).

    >>> train, val = random_split(TensorDataset(np.arange(10)), [0.8, 0.2], seed=0)
    >>> len(train), len(val)
    (8, 2)
    """
    n = len(dataset)
    counts = _split_lengths(lengths, n)
    if seed is None:
        from chainrule.backend import rng_of

        rng = rng_of(generator, "random_split")
    else:
        rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    bounds = np.cumsum([0] + counts)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
