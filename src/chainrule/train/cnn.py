"""The convolutional model of ``chainrule train --arch cnn``: square grey images given as flat
rows of pixels (the 8×8 digits, MNIST, Fashion-MNIST), so the saved model takes the same raw
feature rows as an MLP does and ``chainrule predict`` / ``evaluate`` work unchanged.

    Unflatten → Conv 3×3 (16, no padding) → BatchNorm → ReLU → Conv 3×3 (32, padding 1) →
    BatchNorm → ReLU → MaxPool 2 → Flatten → Linear 64 → act → Linear out

Inputs are standardised with *one* mean and standard deviation for all pixels (per-pixel
statistics would treat a stroke differently depending on where it is). Because the first
convolution has no padding, that scaling folds exactly into it afterwards
(:func:`fold_image_scaling`): ``W' = W / s``, ``b' = b − (m / s)·Σ W``.

>>> build_cnn(64, 10)(__import__("chainrule").zeros(2, 64)).shape
(2, 10)
"""

import math

import numpy as np

__all__ = ["build_cnn", "fold_image_scaling", "image_side", "image_standardizer"]


def image_side(n_features):
    """The side of the square image with ``n_features`` pixels; ValueError if there is none.

    >>> image_side(784)
    28
    """
    side = math.isqrt(int(n_features))
    if side * side != n_features or side < 4:
        raise ValueError(f"--arch cnn needs square grey images (a square number of features, "
                         f"at least 4x4); this data has {n_features} features per row")
    return side


def build_cnn(n_features, n_out, activation="relu", channels=(16, 32), hidden=64):
    """The network above for flat rows of ``n_features`` pixels.

    >>> build_cnn(784, 10)[1]
    Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1))
    """
    from chainrule import nn
    from chainrule.train.prepare import ACTIVATIONS

    makers = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
              "leaky_relu": nn.LeakyReLU, "elu": nn.ELU}
    if activation not in makers:
        raise ValueError(f"unknown activation {activation!r}; choose one of {list(ACTIVATIONS)}")
    side = image_side(n_features)
    c1, c2 = channels
    pooled = (side - 2) // 2
    return nn.Sequential(
        nn.Unflatten(1, (1, side, side)),
        nn.Conv2d(1, c1, 3), nn.BatchNorm2d(c1), makers[activation](),
        nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), makers[activation](),
        nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(c2 * pooled * pooled, hidden), makers[activation](), nn.Linear(hidden, n_out))


def image_standardizer(X):
    """One mean and standard deviation over all pixels, as per-feature vectors (so they drop
    in where `standardizer`'s are used).

    >>> mean, std = image_standardizer(np.array([[0.0, 2.0], [2.0, 4.0]]))
    >>> mean.tolist(), std.tolist()
    ([2.0, 2.0], [1.4142135623730951, 1.4142135623730951])
    """
    X = np.asarray(X)
    mean = float(X.mean(dtype=np.float64))
    std = float(np.sqrt(((X - mean) ** 2).mean(dtype=np.float64))) or 1.0
    return np.full(X.shape[1], mean), np.full(X.shape[1], std)


def fold_image_scaling(model, x_mean, x_std):
    """Fold the scalar input standardisation into the first (unpadded) convolution in place,
    so the model takes raw pixels.

    >>> import chainrule as cr
    >>> net = build_cnn(16, 2).eval()
    >>> x = np.random.default_rng(0).uniform(0, 9, (3, 16)).astype(np.float32)
    >>> before = net(cr.tensor((x - 4.0) / 2.0)).data
    >>> fold_image_scaling(net, np.full(16, 4.0), np.full(16, 2.0))
    >>> bool(np.allclose(net(cr.tensor(x)).data, before, atol=1e-5))
    True
    """
    from chainrule import nn

    conv = model[1]
    if not isinstance(conv, nn.Conv2d) or any(p for pair in conv._pads for p in pair):
        raise ValueError("fold_image_scaling: the model must start with Unflatten and an "
                         "unpadded Conv2d (as build_cnn makes)")
    mean, std = float(np.mean(x_mean)), float(np.mean(x_std))
    w = conv.weight.data.astype(np.float64) / std
    b = conv.bias.data.astype(np.float64) - mean * w.sum(axis=(1, 2, 3))
    conv.weight.data[...] = w
    conv.bias.data[...] = b
