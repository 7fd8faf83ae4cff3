"""Metrics: plain functions of NumPy arrays, ``metric(y_true, y_pred) -> float``.

The argument order is scikit-learn's and Keras's: targets first, model outputs second.
Tensors are accepted too (their ``.data`` is used). `get_metric` turns a name such as
``"accuracy"`` or ``"top3_accuracy"`` into ``(name, function)``; `fit` and `evaluate` use it.

>>> import numpy as np
>>> accuracy(np.array([0, 1, 1]), np.array([[2.0, 0.1], [0.0, 1.0], [3.0, -1.0]]))
0.6666666666666666
>>> mse(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
2.0

The accuracy rule (what counts as a prediction):

- ``y_pred`` of shape ``(N, C)`` with ``C >= 2``: scores (logits or probabilities), the
  predicted class is the argmax of each row. ``y_true`` is ``(N,)`` integer labels or
  ``(N, C)`` one-hot rows (argmax taken).
- ``y_pred`` of shape ``(N,)`` or ``(N, 1)`` with a float dtype: one binary score per sample.
  ``from_logits=None`` (the default) decides by the values: if every score lies in ``[0, 1]``
  they are probabilities (class 1 when ``p >= 0.5``), otherwise logits (class 1 when
  ``z >= 0``). Pass ``from_logits=True/False`` to fix it (a batch of logits that happen to lie
  in ``[0, 1]`` would otherwise be read as probabilities). ``y_true`` is 0/1, rounded.
- ``y_pred`` with an integer or bool dtype: already class labels, compared as they are.
"""

from __future__ import annotations

import re

import numpy as np


def _array(x) -> np.ndarray:
    data = getattr(x, "data", None)  # a chainrule Tensor
    return data if isinstance(data, np.ndarray) else np.asarray(x)


def _same_length(fn, y_true, y_pred):
    if y_true.shape[:1] != y_pred.shape[:1]:
        raise ValueError(f"{fn}: y_true and y_pred need the same number of samples, got shapes "
                         f"{y_true.shape} and {y_pred.shape}")
    if y_true.shape[0] == 0:
        raise ValueError(f"{fn}: no samples (empty arrays)")


def predicted_labels(y_pred, from_logits=None) -> np.ndarray:
    """Class labels from model outputs, following the accuracy rule of this module.

    >>> predicted_labels(np.array([[0.1, 2.0], [3.0, 0.0]])).tolist()
    [1, 0]
    >>> predicted_labels(np.array([-0.3, 1.7])).tolist()   # logits: threshold 0
    [0, 1]
    >>> predicted_labels(np.array([0.2, 0.7])).tolist()    # probabilities: threshold 0.5
    [0, 1]
    """
    y_pred = _array(y_pred)
    if y_pred.dtype.kind in "iub":  # already labels; an (N, 1) column is flattened
        if y_pred.ndim == 2 and y_pred.shape[1] == 1:
            y_pred = y_pred[:, 0]
        return y_pred.astype(np.int64)
    if y_pred.ndim == 2 and y_pred.shape[1] >= 2:
        return y_pred.argmax(axis=1)
    if y_pred.ndim == 1 or (y_pred.ndim == 2 and y_pred.shape[1] == 1):
        scores = y_pred.reshape(-1)
        if from_logits is None:
            from_logits = not bool(np.all((scores >= 0) & (scores <= 1)))
        return (scores >= (0.0 if from_logits else 0.5)).astype(np.int64)
    raise ValueError(f"accuracy: y_pred must be (N, C) scores or (N,)/(N, 1) binary scores, "
                     f"got shape {y_pred.shape}")


def _true_labels(y_true, n_classes=None) -> np.ndarray:
    if y_true.ndim == 2 and y_true.shape[1] >= 2:  # one-hot rows
        return y_true.argmax(axis=1)
    flat = y_true.reshape(y_true.shape[0], -1)
    if flat.shape[1] != 1:
        raise ValueError(f"accuracy: y_true must be (N,) labels, (N, 1) or one-hot (N, C), "
                         f"got shape {y_true.shape}")
    flat = flat[:, 0]
    return np.rint(flat).astype(np.int64) if flat.dtype.kind == "f" else flat.astype(np.int64)


def accuracy(y_true, y_pred, from_logits=None) -> float:
    """Fraction of samples whose predicted class equals the true one (see the module rule).

    >>> accuracy(np.array([1, 0]), np.array([[0.2, 0.8], [0.4, 0.6]]))
    0.5
    >>> accuracy(np.array([[1.0], [0.0]]), np.array([[2.5], [-1.0]]))  # binary logits
    1.0
    """
    y_true, y_pred = _array(y_true), _array(y_pred)
    _same_length("accuracy", y_true, y_pred)
    return float(np.mean(predicted_labels(y_pred, from_logits) == _true_labels(y_true)))


def top_k_accuracy(y_true, y_pred, k: int = 5) -> float:
    """Fraction of samples whose true class is among the ``k`` highest scores of ``y_pred``.

    ``y_pred`` is ``(N, C)`` scores; with ``k >= C`` every sample counts as a hit. A tie with the
    true class counts in its favour (a hit when fewer than ``k`` classes score strictly higher).

    >>> top_k_accuracy(np.array([2, 0]), np.array([[0.1, 0.5, 0.4], [0.2, 0.3, 0.5]]), k=2)
    0.5
    """
    y_true, y_pred = _array(y_true), _array(y_pred)
    _same_length("top_k_accuracy", y_true, y_pred)
    if y_pred.ndim != 2:
        raise ValueError(f"top_k_accuracy: y_pred must be (N, C) scores, got shape "
                         f"{y_pred.shape}")
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"top_k_accuracy: k must be a positive integer, got {k!r}")
    k = int(k)
    labels = _true_labels(y_true)
    if k >= y_pred.shape[1]:
        return 1.0
    # The true class is in the top k iff fewer than k classes score strictly higher.
    true_score = y_pred[np.arange(len(labels)), labels]
    higher = (y_pred > true_score[:, None]).sum(axis=1)
    return float(np.mean(higher < k))


def _regression_pair(fn, y_true, y_pred):
    y_true, y_pred = _array(y_true), _array(y_pred)
    _same_length(fn, y_true, y_pred)
    if y_true.size == y_pred.size and y_true.shape != y_pred.shape:
        # (N,) against (N, 1): the same numbers, not an (N, N) broadcast.
        y_true = y_true.reshape(y_pred.shape)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{fn}: y_true and y_pred must have the same shape, got "
                         f"{y_true.shape} and {y_pred.shape}")
    return y_true.astype(np.float64), y_pred.astype(np.float64)


def mse(y_true, y_pred) -> float:
    """Mean squared error, ``mean((y_pred - y_true)**2)`` over all elements.

    >>> mse(np.array([0.0, 1.0]), np.array([[1.0], [1.0]]))
    0.5
    """
    y_true, y_pred = _regression_pair("mse", y_true, y_pred)
    return float(np.mean((y_pred - y_true) ** 2))


def mae(y_true, y_pred) -> float:
    """Mean absolute error, ``mean(|y_pred - y_true|)`` over all elements.

    >>> mae(np.array([0.0, 1.0]), np.array([2.0, 1.0]))
    1.0
    """
    y_true, y_pred = _regression_pair("mae", y_true, y_pred)
    return float(np.mean(np.abs(y_pred - y_true)))


def r2(y_true, y_pred) -> float:
    """Coefficient of determination ``R^2 = 1 - SS_res / SS_tot`` (1 is perfect, 0 is as good
    as predicting the mean; it can be negative).

    For several outputs ``(N, K)`` the scores of the columns are averaged (scikit-learn's
    ``multioutput='uniform_average'``). A constant target column scores 1.0 if predicted
    exactly and 0.0 otherwise (scikit-learn's convention).

    >>> r2(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
    0.5
    """
    y_true, y_pred = _regression_pair("r2", y_true, y_pred)
    y_true = y_true.reshape(len(y_true), -1)
    y_pred = y_pred.reshape(len(y_pred), -1)
    ss_res = ((y_true - y_pred) ** 2).sum(axis=0)
    ss_tot = ((y_true - y_true.mean(axis=0)) ** 2).sum(axis=0)
    safe = ss_tot > 0
    scores = np.where(safe, 1.0 - ss_res / np.where(safe, ss_tot, 1.0),
                      np.where(ss_res == 0, 1.0, 0.0))
    return float(scores.mean())


METRICS = {
    "accuracy": accuracy,
    "acc": accuracy,
    "top_k_accuracy": top_k_accuracy,
    "mse": mse,
    "mean_squared_error": mse,
    "mae": mae,
    "mean_absolute_error": mae,
    "r2": r2,
}

# Metrics whose larger values are better (EarlyStopping/ModelCheckpoint mode='auto').
HIGHER_IS_BETTER = ("accuracy", "acc", "r2")

_TOP_K = re.compile(r"^top_?(\d+)_?acc(uracy)?$")


def get_metric(metric):
    """``(name, function)`` for a metric name or a callable ``fn(y_true, y_pred) -> float``.

    Names: ``accuracy`` (``acc``), ``top_k_accuracy`` (k=5), ``top3_accuracy`` /
    ``top_3_accuracy`` (any k), ``mse``, ``mae``, ``r2``. A callable is named by its
    ``__name__``.

    >>> name, fn = get_metric("top3_accuracy")
    >>> name, fn(np.array([0]), np.array([[0.1, 0.9, 0.8, 0.7]]))
    ('top3_accuracy', 0.0)
    """
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    if not isinstance(metric, str):
        raise TypeError(f"get_metric: expected a metric name or a callable, got {metric!r}")
    key = metric.strip().lower()
    if key in METRICS:
        return key, METRICS[key]
    match = _TOP_K.match(key)
    if match:
        k = int(match.group(1))

        def top_k(y_true, y_pred, k=k):
            return top_k_accuracy(y_true, y_pred, k=k)

        top_k.__name__ = key
        return key, top_k
    raise ValueError(f"get_metric: unknown metric {metric!r}; choose one of "
                     f"{sorted(set(METRICS))}, 'topK_accuracy' or pass a function")


def higher_is_better(name: str) -> bool:
    """True when larger values of the logged quantity ``name`` are better.

    ``val_`` prefixes are ignored; accuracies and R^2 are maximised, losses and errors
    minimised.

    >>> higher_is_better("val_accuracy"), higher_is_better("val_loss")
    (True, False)
    """
    key = name[4:] if name.startswith("val_") else name
    return key in HIGHER_IS_BETTER or bool(_TOP_K.match(key)) or key == "top_k_accuracy"
