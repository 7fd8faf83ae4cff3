"""DataLoader: mini-batches of a dataset as chainrule Tensors, shuffled reproducibly.

Speed: for in-memory datasets (anything with ``__getitems__``, e.g. `TensorDataset` and its
`Subset` s) a batch is one fancy-indexing slice of each array by a run of a permutation — no
Python loop over samples. Unshuffled batches of a `TensorDataset` are even plain views
(contiguous slices, no copy), marked read-only so that an in-place edit cannot silently change
the dataset. Other datasets are read sample by sample and stacked with `collate`.

Reproducible shuffling: with ``seed`` given, epoch ``k`` is shuffled by a generator seeded with
``(seed, k)``: every epoch differs, reruns are identical, and a run resumed from
`state_dict` continues with exactly the shuffles it would have had. With ``seed=None`` each
epoch draws its permutation from the library generator (`chainrule.backend.get_rng`,
reseeded by `cr.manual_seed`), so the whole run is repeatable after ``cr.manual_seed(n)``
but a resumed run only replays the same shuffles if it was given a ``seed``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from chainrule.data.dataset import _to_array
from chainrule.tensor import Tensor


def collate(samples):
    """Stack a list of samples into one batch, field by field (``np.stack``).

    Samples may be arrays, numbers, Tensors, or tuples / dicts of them. Dtypes follow NumPy:
    Python ints become int64 and Python floats float64 (give float32 arrays to get float32).

    >>> a, b = collate([(np.zeros(2, np.float32), 1), (np.ones(2, np.float32), 0)])
    >>> a.shape, a.dtype, b.tolist()
    ((2, 2), dtype('float32'), [1, 0])
    """
    first = samples[0]
    if isinstance(first, (tuple, list)):
        width = len(first)
        if any(len(s) != width for s in samples):
            raise ValueError("collate: samples have different numbers of fields: "
                             f"{sorted({len(s) for s in samples})}")
        return tuple(collate([s[i] for s in samples]) for i in range(width))
    if isinstance(first, dict):
        return {k: collate([s[k] for s in samples]) for k in first}
    try:
        return np.stack([_to_array(s) for s in samples])
    except ValueError as e:
        shapes = sorted({str(np.shape(_to_array(s))) for s in samples})
        raise ValueError(f"collate: cannot stack samples of shapes {', '.join(shapes)}: {e}") \
            from None


def _to_tensors(batch):
    if isinstance(batch, tuple):
        return tuple(_to_tensors(b) for b in batch)
    if isinstance(batch, list):
        return [_to_tensors(b) for b in batch]
    if isinstance(batch, dict):
        return {k: _to_tensors(v) for k, v in batch.items()}
    if isinstance(batch, Tensor):
        return batch
    return Tensor(batch)


def _view_readonly(batch):
    # Unshuffled batches are views of the dataset's arrays; protect the dataset from edits.
    if isinstance(batch, tuple):
        return tuple(_view_readonly(b) for b in batch)
    if isinstance(batch, np.ndarray) and batch.base is not None:
        batch = batch.view()
        batch.flags.writeable = False
    return batch


class DataLoader:
    """Iterate over ``dataset`` in mini-batches of chainrule Tensors.

    Args:
        dataset: a `Dataset` (``len`` and ``[i]``); datasets with ``__getitems__`` (such as
            `TensorDataset`) are batched by slicing, the others sample by sample.
        batch_size: samples per batch; the last batch may be smaller unless ``drop_last``.
        shuffle: visit the samples in a new random order every epoch.
        drop_last: drop the last, incomplete batch.
        seed: fixes the shuffles: epoch ``k`` uses a generator seeded with ``(seed, k)``.
            ``None``: draw from the library generator (`cr.manual_seed` controls it).
        generator: a `cr.Generator` to draw the shuffles from (PyTorch's way; used when
            ``seed`` is None).
        num_workers, pin_memory: accepted for PyTorch code and ignored (batches are made in
            this process, on the CPU).

    Each ``for`` loop over the loader is one epoch and visits every sample exactly once
    (``drop_last`` aside). A batch is what the dataset's sample is: for
    ``TensorDataset(X, y)`` a tuple ``(xb, yb)`` of Tensors. Dtypes are kept: float32 stays
    float32, integer labels int64, and float64 features stay float64 — nothing is converted
    silently, so store float32 features if the model is float32. ``len(loader)`` is the number
    of batches per epoch. `state_dict` / `load_state_dict` save and restore the position (epoch
    and batch) so a resumed run continues with the same shuffles (given a ``seed``).

    >>> from chainrule.data import TensorDataset
    >>> X = np.arange(10, dtype=np.float32).reshape(5, 2); y = np.arange(5)
    >>> loader = DataLoader(TensorDataset(X, y), batch_size=2, shuffle=True, seed=0)
    >>> len(loader), [yb.shape for xb, yb in loader]
    (3, [(2,), (2,), (1,)])
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed=None, *, generator=None, num_workers=0,
                 pin_memory=False):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, "
                             f"got {batch_size!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                                 or seed < 0):
            raise ValueError(f"DataLoader: seed must be a non-negative integer or None, "
                             f"got {seed!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = None if seed is None else int(seed)
        self.generator = generator
        self._next_epoch = 0     # index of the epoch the next `for` loop starts
        self._resume = None      # (epoch, batch) set by load_state_dict, used by the next loop
        self._active = None      # [epoch, batches yielded] of the latest loop

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    @property
    def epoch(self) -> int:
        """Number of epochs started so far (the index of the next one)."""
        return self._next_epoch

    def _order(self, epoch):
        """The sample order of ``epoch``: None (0, 1, 2, ...) or a permutation."""
        if not self.shuffle:
            return None
        n = len(self.dataset)
        if self.seed is None:
            from chainrule.backend import rng_of

            return rng_of(self.generator, "DataLoader").permutation(n)
        # SeedSequence([seed, epoch]) gives independent streams per epoch.
        return np.random.default_rng([self.seed, epoch]).permutation(n)

    def __iter__(self):
        if self._resume is not None:
            epoch, start = self._resume
            self._resume = None
            self._next_epoch = epoch + 1
        else:
            epoch, start = self._next_epoch, 0
            self._next_epoch += 1
        # Bookkeeping happens here, not in the generator, so even a loop that stops early
        # counts as an epoch (as in PyTorch) and state_dict sees it at once.
        progress = [epoch, start]
        self._active = progress
        return self._batches(self._order(epoch), start, progress)

    def _batches(self, order, start, progress):
        dataset, bs, n = self.dataset, self.batch_size, len(self.dataset)
        fast = hasattr(dataset, "__getitems__")
        for b in range(start, len(self)):
            lo, hi = b * bs, min((b + 1) * bs, n)
            if fast:
                if order is None:
                    batch = _view_readonly(dataset.__getitems__(slice(lo, hi)))
                else:
                    batch = dataset.__getitems__(order[lo:hi])
            else:
                ids = range(lo, hi) if order is None else order[lo:hi].tolist()
                batch = collate([dataset[i] for i in ids])
            progress[1] = b + 1  # counted before the yield: the caller now holds batch b
            yield _to_tensors(batch)

    def state_dict(self) -> dict:
        """The loader's position: ``{"epoch", "batch", "batch_size", "seed"}`` (JSON-friendly).

        ``epoch``/``batch`` name the next batch to produce: after a finished epoch ``k`` it is
        ``(k + 1, 0)``; inside epoch ``k`` after ``b`` batches, ``(k, b)``.

        >>> from chainrule.data import TensorDataset
        >>> loader = DataLoader(TensorDataset(np.arange(6)), batch_size=2, seed=1)
        >>> for _ in loader: pass
        >>> loader.state_dict()["epoch"]
        1
        """
        if self._resume is not None:
            epoch, batch = self._resume
        elif self._active is not None and self._active[1] < len(self):
            epoch, batch = self._active
        else:
            epoch, batch = self._next_epoch, 0
        return {"epoch": int(epoch), "batch": int(batch), "batch_size": self.batch_size,
                "seed": self.seed}

    def load_state_dict(self, state: dict) -> None:
        """Resume from `state_dict`: the next ``for`` loop continues at the saved batch.

        >>> from chainrule.data import TensorDataset
        >>> loader = DataLoader(TensorDataset(np.arange(6)), batch_size=2)
        >>> loader.load_state_dict({"epoch": 3, "batch": 0}); loader.epoch
        3
        """
        try:
            epoch, batch = int(state["epoch"]), int(state.get("batch", 0))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"DataLoader.load_state_dict: expected a dict with an integer "
                             f"'epoch' (and 'batch'), got {state!r}") from None
        if epoch < 0 or not 0 <= batch <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: epoch {epoch} / batch {batch} out of "
                             f"range ({len(self)} batches per epoch)")
        saved_bs = state.get("batch_size", self.batch_size)
        if batch and saved_bs != self.batch_size:
            raise ValueError(f"DataLoader.load_state_dict: the state was saved mid-epoch with "
                             f"batch_size={saved_bs}, this loader has {self.batch_size}")
        if batch >= len(self):  # the saved epoch was complete
            epoch, batch = epoch + 1, 0
        self._next_epoch = epoch
        self._resume = (epoch, batch) if batch else None
        self._active = None

    def __repr__(self) -> str:
        return (f"DataLoader({self.dataset!r}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed})")
