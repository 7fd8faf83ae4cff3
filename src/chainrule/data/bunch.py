"""Bunch: what every `cr.datasets` function returns.

A dataset function returns NumPy arrays plus the words that explain them. A plain tuple loses
the words; a dict loses tab-completion. `Bunch` is a small dataclass with named fields that
also unpacks like the tuple ``(X, y)``, so both styles work::

    >>> import chainrule as cr
    >>> X, y = cr.datasets.iris()          # tuple style
    >>> data = cr.datasets.iris()          # named style
    >>> data.X.shape, data.target_names
    ((150, 4), ['setosa', 'versicolor', 'virginica'])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(repr=False, eq=False)
class Bunch:
    """Arrays of a dataset with their description.

    Fields:
        X: features, shape ``(n_samples, ...)``.
        y: targets, shape ``(n_samples,)`` (class labels, int64) or as documented by the
            function that made it; ``None`` for an unlabelled table.
        description: a few lines on the origin and meaning of the data.
        feature_names: a name per column of ``X`` (or ``None``).
        target_names: a name per class: ``target_names[y[i]]`` names sample ``i`` (or ``None``).

    ``X, y = bunch`` unpacks the two arrays (iteration yields exactly ``X`` then ``y``).

    >>> b = Bunch(np.zeros((3, 2)), np.array([0, 1, 1]), "three points")
    >>> X, y = b
    >>> X.shape, b.n_classes
    ((3, 2), 2)
    """

    X: np.ndarray
    y: np.ndarray | None
    description: str = ""
    feature_names: list[str] | None = field(default=None)
    target_names: list[str] | None = field(default=None)

    def __iter__(self):
        # Only the two arrays, so that `X, y = bunch` works like a returned tuple.
        yield self.X
        yield self.y

    @property
    def n_classes(self) -> int | None:
        """Number of classes: ``len(target_names)``, else ``max(y) + 1`` for integer labels."""
        if self.target_names is not None:
            return len(self.target_names)
        if self.y is not None and np.issubdtype(self.y.dtype, np.integer) and self.y.size:
            return int(self.y.max()) + 1
        return None

    def as_dataset(self):
        """The arrays as a `chainrule.data.TensorDataset` ready for a `DataLoader`.

        >>> ds = Bunch(np.zeros((3, 2)), np.array([0, 1, 1])).as_dataset()
        >>> len(ds)
        3
        """
        from chainrule.data.dataset import TensorDataset

        if self.y is None:
            return TensorDataset(self.X)
        return TensorDataset(self.X, self.y)

    def __repr__(self) -> str:
        def shape(a):
            return "None" if a is None else f"{a.dtype}{list(a.shape)}"

        first = self.description.strip().splitlines()[0] if self.description.strip() else ""
        parts = [f"X={shape(self.X)}", f"y={shape(self.y)}"]
        if self.target_names is not None:
            parts.append(f"target_names={list(self.target_names)}")
        if first:
            parts.append(f"description={first!r}")
        return f"Bunch({', '.join(parts)})"
