"""Real data shipped inside the package: 8x8 handwritten digits and Fisher's iris.

The arrays live in ``chainrule/data/_data/*.npz`` (about 46 kB together), so they load offline
on a NumPy-only install. Origin and licences: ``_data/LICENSE.txt`` (UCI ML repository,
CC BY 4.0, converted from scikit-learn's BSD-3 redistribution).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from chainrule.data.bunch import Bunch

_DATA = Path(__file__).resolve().parent / "_data"

_DIGITS_DESCRIPTION = """\
Optical recognition of handwritten digits (UCI ML repository, E. Alpaydin & C. Kaynak, 1998).
1,797 images of 8x8 pixels, 10 classes (the digits 0..9, about 180 each). Each pixel counts
the "on" pixels in a 4x4 block of a 32x32 bitmap, so values are integers 0..16: divide X by
16 to scale to [0, 1]; X.reshape(-1, 8, 8) gives the images. Licence CC BY 4.0."""

_IRIS_DESCRIPTION = """\
Iris plants (R. A. Fisher, 1936; UCI ML repository). 150 flowers, 3 species of 50 (setosa,
versicolor, virginica), 4 measurements in cm. Setosa is linearly separable from the other two;
versicolor and virginica are not separable from each other. Values as in Fisher's paper (and R,
scikit-learn). Licence CC BY 4.0."""


@cache
def _load(name):
    # Cached: the files are tiny but the tests and examples ask for them often.
    path = _DATA / f"{name}.npz"
    try:
        with np.load(path) as f:
            return {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise FileNotFoundError(
            f"chainrule.datasets: the embedded data file {path} is missing; "
            "reinstall chainrule (the package data under chainrule/data/_data/ was not installed)"
        ) from None


def digits(dtype=np.float32) -> Bunch:
    """The 1,797 8x8 handwritten digits: ``X`` (1797, 64) in 0..16, ``y`` int64 in 0..9.

    ``X`` has the float ``dtype`` (float32 by default) and is not scaled: divide by 16 for
    [0, 1]. Fresh arrays on every call (safe to modify).

    >>> X, y = digits()
    >>> X.shape, y.shape, int(X.max()), len(set(y.tolist()))
    ((1797, 64), (1797,), 16, 10)
    """
    raw = _load("digits")
    return Bunch(
        X=raw["X"].astype(dtype),
        y=raw["y"].astype(np.int64),
        description=_DIGITS_DESCRIPTION,
        feature_names=[f"pixel_{r}_{c}" for r in range(8) for c in range(8)],
        target_names=[str(d) for d in range(10)],
    )


def iris(dtype=np.float32) -> Bunch:
    """Fisher's iris: ``X`` (150, 4) measurements in cm, ``y`` int64 species 0, 1, 2 (50 each).

    >>> data = iris()
    >>> data.feature_names[0], data.target_names[data.y[0]], np.bincount(data.y).tolist()
    ('sepal length (cm)', 'setosa', [50, 50, 50])
    """
    raw = _load("iris")
    # Stored as integer tenths of a cm, so the division rounds to the nearest float exactly once.
    return Bunch(
        X=(raw["X_tenths"].astype(np.float64) / 10).astype(dtype),
        y=raw["y"].astype(np.int64),
        description=_IRIS_DESCRIPTION,
        feature_names=["sepal length (cm)", "sepal width (cm)", "petal length (cm)",
                       "petal width (cm)"],
        target_names=[str(t) for t in raw["target_names"]],
    )
