"""Toy data sets made on the spot: logic-gate truth tables and seeded 2-D point clouds.

All generators are pure NumPy. They return a `Bunch` with ``X`` float32 of shape ``(n, 2)``
(``dtype=`` changes that) and ``y`` int64 class labels of shape ``(n,)``, rows shuffled.
With ``seed=None`` they draw from the library generator (`cr.manual_seed` makes them
repeatable); with an integer seed they use their own generator and never touch the library's.
"""

from __future__ import annotations

import numpy as np

from chainrule.data.bunch import Bunch

_GATES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
    "xor": (0, 1, 1, 0),
    "xnor": (1, 0, 0, 1),
}


def _rng(seed):
    if seed is None:
        from chainrule.backend import get_rng

        return get_rng()
    return np.random.default_rng(seed)


def _check_n(fn, n, minimum):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise ValueError(f"{fn}: n must be an integer >= {minimum}, got {n!r}")


def _check_noise(fn, noise):
    if noise is None:
        return 0.0
    if not noise >= 0:  # also rejects NaN
        raise ValueError(f"{fn}: noise must be >= 0 (a standard deviation), got {noise!r}")
    return float(noise)


def _finish(X, y, rng, dtype, description, n_classes):
    # Shuffle so that the first k rows are a fair sample of every class.
    order = rng.permutation(len(y))
    return Bunch(
        X=np.ascontiguousarray(X[order], dtype=dtype),
        y=y[order].astype(np.int64),
        description=description,
        feature_names=[f"x{i + 1}" for i in range(X.shape[1])],
        target_names=[str(k) for k in range(n_classes)],
    )


def _split_evenly(n, k):
    # n samples over k classes; the first n % k classes get one extra.
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def logic_gate(name: str, dtype=np.float32) -> Bunch:
    """Truth table of a two-input logic gate: and, or, nand, nor, xor, xnor.

    Returns ``X`` of shape ``(4, 2)`` holding the inputs (0,0), (0,1), (1,0), (1,1) and ``y``
    of shape ``(4, 1)`` and the same float dtype: the gate's output as a column, so it is the
    target of a network ending in one sigmoid unit (``nn.BCELoss()(model(X), y)`` without
    broadcasting surprises). Use ``y.ravel().astype(int)`` for integer class labels.

    >>> X, y = logic_gate("xor")
    >>> y.ravel().tolist()
    [0.0, 1.0, 1.0, 0.0]
    """
    key = str(name).lower()
    if key not in _GATES:
        raise ValueError(f"logic_gate: unknown gate {name!r}; choose one of {sorted(_GATES)}")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=dtype)
    y = np.array(_GATES[key], dtype=dtype).reshape(4, 1)
    rows = ", ".join(f"{int(a)}{int(b)}->{int(t)}" for (a, b), t in zip(X, y.ravel()))
    linear = "not linearly separable" if key in ("xor", "xnor") else "linearly separable"
    return Bunch(
        X=X,
        y=y,
        description=f"Truth table of {key.upper()} ({rows}); {linear}.",
        feature_names=["x1", "x2"],
        target_names=["false", "true"],
    )


def circles(n: int = 200, noise: float = 0.05, factor: float = 0.5, seed=None,
            dtype=np.float32) -> Bunch:
    """Two concentric circles: class 0 on the unit circle, class 1 on radius ``factor``.

    ``n // 2`` points lie on the outer circle, the rest on the inner one, evenly spaced in angle,
    then Gaussian noise of standard deviation ``noise`` is added to each coordinate (like
    scikit-learn's ``make_circles``). Not linearly separable: a classic for hidden layers.

    >>> X, y = circles(100, noise=0.0, factor=0.3, seed=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((100, 2), [0, 1])
    """
    _check_n("circles", n, 2)
    noise = _check_noise("circles", noise)
    if not 0 < factor < 1:
        raise ValueError(f"circles: factor must be in (0, 1), got {factor!r}")
    rng = _rng(seed)
    n_out, n_in = _split_evenly(n, 2)
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate([
        np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
        factor * np.stack([np.cos(t_in), np.sin(t_in)], axis=1),
    ])
    X += rng.normal(0.0, noise, size=X.shape) if noise else 0.0
    y = np.repeat([0, 1], [n_out, n_in])
    desc = f"{n} points on two concentric circles (radius 1 and {factor}), noise std {noise}."
    return _finish(X, y, rng, dtype, desc, 2)


def moons(n: int = 200, noise: float = 0.1, seed=None, dtype=np.float32) -> Bunch:
    """Two interleaving half circles ("moons"), as scikit-learn's ``make_moons``.

    Class 0: ``(cos t, sin t)`` for t in [0, pi]; class 1: ``(1 - cos t, 0.5 - sin t)``;
    Gaussian noise of standard deviation ``noise`` on each coordinate.

    >>> X, y = moons(10, seed=0)
    >>> X.dtype, y.dtype, int(y.sum())
    (dtype('float32'), dtype('int64'), 5)
    """
    _check_n("moons", n, 2)
    noise = _check_noise("moons", noise)
    rng = _rng(seed)
    n_out, n_in = _split_evenly(n, 2)
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    X = np.concatenate([
        np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
        np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1),
    ])
    X += rng.normal(0.0, noise, size=X.shape) if noise else 0.0
    y = np.repeat([0, 1], [n_out, n_in])
    return _finish(X, y, rng, dtype, f"{n} points on two interleaving half moons, "
                   f"noise std {noise}.", 2)


def spirals(n: int = 300, noise: float = 0.05, n_classes: int = 2, seed=None,
            turns: float = 1.0, dtype=np.float32) -> Bunch:
    """Interleaved spiral arms, one per class (the CS231n toy problem).

    Arm ``k`` holds about ``n / n_classes`` points at radius r in [0, 1] and angle
    ``2*pi*(turns*r + k/n_classes)``; Gaussian noise of standard deviation ``noise`` is added to
    each coordinate. More ``turns`` make the problem harder.

    >>> X, y = spirals(300, n_classes=3, seed=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((300, 2), [0, 1, 2])
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) \
            or n_classes < 1:
        raise ValueError(f"spirals: n_classes must be an integer >= 1, got {n_classes!r}")
    _check_n("spirals", n, n_classes)
    noise = _check_noise("spirals", noise)
    rng = _rng(seed)
    counts = _split_evenly(n, n_classes)
    arms = []
    for k, m in enumerate(counts):
        r = np.linspace(0.0, 1.0, m)
        t = 2 * np.pi * (turns * r + k / n_classes)
        arms.append(np.stack([r * np.cos(t), r * np.sin(t)], axis=1))
    X = np.concatenate(arms)
    X += rng.normal(0.0, noise, size=X.shape) if noise else 0.0
    y = np.repeat(np.arange(n_classes), counts)
    desc = (f"{n} points on {n_classes} interleaved spiral arms ({turns} turn(s)), "
            f"noise std {noise}.")
    return _finish(X, y, rng, dtype, desc, n_classes)


def blobs(n: int = 200, centers=3, std=1.0, seed=None, n_features: int = 2,
          box=(-10.0, 10.0), dtype=np.float32) -> Bunch:
    """Isotropic Gaussian blobs, one class per center.

    ``centers`` is a count (centers drawn uniformly in ``box`` per coordinate, as
    scikit-learn's ``make_blobs``) or an array of shape ``(k, n_features)``. ``std`` is one
    standard deviation or one per center. Samples are split evenly over the centers.

    >>> X, y = blobs(90, centers=[[0, 0], [5, 5], [0, 5]], std=0.5, seed=0)
    >>> X.shape, np.bincount(y).tolist()
    ((90, 2), [30, 30, 30])
    """
    rng = _rng(seed)
    if np.ndim(centers) == 0:
        k = int(centers)
        if k < 1:
            raise ValueError(f"blobs: centers must be >= 1, got {centers!r}")
        C = rng.uniform(box[0], box[1], size=(k, n_features))
    else:
        C = np.asarray(centers, dtype=np.float64)
        if C.ndim != 2:
            raise ValueError(f"blobs: centers must have shape (k, n_features), got {C.shape}")
        k = C.shape[0]
    _check_n("blobs", n, k)
    stds = np.broadcast_to(np.asarray(std, dtype=np.float64), (k,))
    if np.any(~(stds >= 0)):
        raise ValueError(f"blobs: std must be >= 0, got {std!r}")
    counts = _split_evenly(n, k)
    y = np.repeat(np.arange(k), counts)
    X = C[y] + rng.normal(size=(n, C.shape[1])) * stds[y, None]
    desc = f"{n} points in {k} Gaussian blobs in {C.shape[1]}-D (std {std})."
    return _finish(X, y, rng, dtype, desc, k)
