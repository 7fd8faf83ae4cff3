"""Figures for teaching, written straight to files: decision boundaries, training curves and
confusion matrices.

Matplotlib is used through its object API (``Figure`` + the Agg canvas), never ``pyplot``: no
window opens, no global backend is switched, and nothing is left in pyplot's figure list.
Each function writes atomically (temporary file, then ``os.replace``) and returns the path;
the format comes from the suffix (``.png``, ``.svg`` or ``.pdf``).

>>> import tempfile, os
>>> path = plot_history({"loss": [1.0, 0.5, 0.25]}, os.path.join(tempfile.mkdtemp(), "h.png"))
>>> path.read_bytes()[:4]
b'\\x89PNG'
"""

from collections.abc import Mapping

import numpy as np

from chainrule.autograd import no_grad
from chainrule.teach._files import atomic_write, suffix_format
from chainrule.tensor import Tensor

_FORMATS = ("png", "svg", "pdf")


def _figure(figsize):
    """A matplotlib Figure on the Agg canvas (no display needed)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "chainrule.teach plots need matplotlib: pip install 'chainrule[teach]'"
        ) from None
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path, op):
    fmt = suffix_format(path, _FORMATS, op)
    return atomic_write(path, lambda f: fig.savefig(f, format=fmt, dpi=100, bbox_inches="tight"))


def _array(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


# --------------------------------------------------------------------------- decision boundary
def _predict_grid(model, points, dtype, chunk=8192):
    """Run ``model`` on the grid in chunks, under no_grad and in eval mode (restored after)."""
    was_training = getattr(model, "training", None)
    if callable(getattr(model, "eval", None)):
        model.eval()
    try:
        with no_grad():
            outs = [_array(model(Tensor(points[i:i + chunk].astype(dtype, copy=False))))
                    for i in range(0, len(points), chunk)]
    finally:
        if was_training and callable(getattr(model, "train", None)):
            model.train(True)
    return np.concatenate([o.reshape(o.shape[0], -1) if o.ndim else o.reshape(1, 1)
                           for o in outs])


def _classes_from_output(out, output, op):
    """Class ids and, for binary models, the probability of class 1."""
    if out.shape[1] > 1:
        return out.argmax(axis=1), None
    z = out[:, 0].astype(np.float64)
    if output == "auto":
        output = "probabilities" if z.min() >= 0 and z.max() <= 1 else "logits"
    if output == "probabilities":
        return (z >= 0.5).astype(np.int64), z
    if output == "logits":
        p = 1 / (1 + np.exp(-np.clip(z, -500, 500)))
        return (z > 0).astype(np.int64), p
    raise ValueError(f"{op}: output must be 'auto', 'logits' or 'probabilities', got {output!r}")


def plot_decision_boundary(model, X, y, path, resolution=200, title=None, output="auto"):
    """Colour the plane by the class ``model`` predicts and scatter the points ``(X, y)``.

    ``model`` is any callable taking a Tensor of shape (N, 2) and returning shape (N,), (N, 1)
    or (N, C). With C ≥ 2 the class is the argmax. With one output column the model is binary:
    ``output="probabilities"`` thresholds at 0.5, ``output="logits"`` at 0 (σ(z) = 0.5), and
    ``"auto"`` (default) treats outputs all inside [0, 1] as probabilities, others as logits.
    The model runs under ``cr.no_grad()`` and, if it has ``.eval()``, in eval mode (its
    training flag is restored afterwards). Returns the path written.

    >>> import numpy as np, tempfile, os
    >>> X = np.array([[0., 0.], [1., 1.]]); y = np.array([0, 1])
    >>> p = plot_decision_boundary(lambda t: t.sum(axis=1) - 1, X, y,
    ...                            os.path.join(tempfile.mkdtemp(), "b.png"), resolution=20)
    >>> p.suffix
    '.png'
    """
    op = "plot_decision_boundary"
    suffix_format(path, _FORMATS, op)
    X = _array(X)
    y = _array(y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{op}: X must have shape (N, 2), got {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"{op}: X has {len(X)} rows but y has {len(y)} labels")
    if resolution < 2:
        raise ValueError(f"{op}: resolution must be at least 2, got {resolution}")
    finite = np.all(np.isfinite(X), axis=1)
    if not finite.all():  # NaN/inf points cannot be drawn, nor set the plotted area
        if not finite.any():
            raise ValueError(f"{op}: X has no finite points to plot")
        X, y = X[finite], y[finite]
    if len(X) == 0:
        raise ValueError(f"{op}: X holds no points")
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = np.where(hi > lo, 0.1 * (hi - lo), 0.5)
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    points = np.column_stack([gx.ravel(), gy.ravel()])
    dtype = X.dtype if X.dtype.kind == "f" else np.float32
    out = _predict_grid(model, points, dtype)
    if out.shape[0] != len(points):
        raise ValueError(f"{op}: model returned {out.shape[0]} rows for {len(points)} inputs")
    classes, prob = _classes_from_output(out, output, op)

    fig = _figure((6, 5))
    ax = fig.add_subplot()
    labels = np.unique(y)
    n_classes = int(max(classes.max(initial=0), labels.max(initial=0) if labels.size else 0)) + 1
    cmap = "tab10" if n_classes <= 10 else "tab20"
    if prob is not None:  # binary: shade the probability, draw the 0.5 contour
        filled = ax.contourf(gx, gy, prob.reshape(gx.shape), levels=np.linspace(0, 1, 11),
                             cmap="RdBu_r", alpha=0.6)
        fig.colorbar(filled, ax=ax, label="P(class 1)")
        if 0 < classes.sum() < classes.size:
            ax.contour(gx, gy, prob.reshape(gx.shape), levels=[0.5], colors="k", linewidths=1.5)
        point_colors = {"c": y, "cmap": "RdBu_r", "vmin": 0, "vmax": 1}
    else:
        ax.contourf(gx, gy, classes.reshape(gx.shape), levels=np.arange(n_classes + 1) - 0.5,
                    cmap=cmap, vmin=-0.5, vmax=(10 if n_classes <= 10 else 20) - 0.5, alpha=0.35)
        point_colors = {"c": y, "cmap": cmap, "vmin": -0.5,
                        "vmax": (10 if n_classes <= 10 else 20) - 0.5}
    ax.scatter(X[:, 0], X[:, 1], edgecolors="k", linewidths=0.6, s=28, **point_colors)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title(title or "Decision boundary")
    return _save(fig, path, op)


# --------------------------------------------------------------------------- history
def _history_dict(history, op):
    """Accept {'loss': [...]}, an object with ``.history``, or per-epoch records."""
    if hasattr(history, "history") and isinstance(history.history, Mapping):
        history = history.history
    elif hasattr(history, "epochs") and not isinstance(history, Mapping):
        history = history.epochs
    if isinstance(history, (list, tuple)) and all(isinstance(r, Mapping) for r in history):
        keys = list(dict.fromkeys(k for r in history for k in r))
        history = {k: [r.get(k) for r in history] for k in keys}
    if not isinstance(history, Mapping):
        raise TypeError(f"{op}: expected a dict of lists (e.g. {{'loss': [...]}}), an object "
                        f"with a .history dict, or a list of per-epoch dicts; got "
                        f"{type(history).__name__}")
    series = {}
    for key, values in history.items():
        if key == "epoch" or isinstance(values, (str, bytes)):
            continue
        try:
            arr = np.array([np.nan if v is None else float(_array(v)) for v in values])
        except (TypeError, ValueError):
            continue  # not a numeric series (e.g. a list of timestamps as strings)
        if arr.size and not np.all(np.isnan(arr)):
            series[str(key)] = arr
    if not series:
        raise ValueError(f"{op}: no numeric series to plot in keys {list(history)}")
    epochs = history.get("epoch")
    return series, (None if epochs is None else np.asarray(epochs, dtype=np.float64))


def _base_name(key):
    for prefix in ("val_", "valid_", "validation_", "test_", "train_"):
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def plot_history(history, path, title=None):
    """Training curves: a loss panel (keys containing 'loss') and a metrics panel (the rest).

    ``history`` is a dict of per-epoch lists such as ``{'loss': [...], 'val_loss': [...],
    'accuracy': [...]}``, an object with a ``.history`` dict (``cr.train.History``), or a
    list of per-epoch dicts (also as ``.epochs``). ``None`` entries are gaps. A training curve
    and its ``val_`` twin share a colour; validation is dashed. Returns the path written.

    >>> import tempfile, os
    >>> h = {"loss": [1.0, 0.6], "val_loss": [1.1, 0.8], "accuracy": [0.5, 0.8]}
    >>> plot_history(h, os.path.join(tempfile.mkdtemp(), "h.svg")).suffix
    '.svg'
    """
    op = "plot_history"
    suffix_format(path, _FORMATS, op)
    series, epochs = _history_dict(history, op)
    losses = {k: v for k, v in series.items() if "loss" in k.lower()}
    metrics = {k: v for k, v in series.items() if k not in losses}
    panels = [(name, group) for name, group in (("loss", losses), ("metric", metrics)) if group]
    fig = _figure((5.5 * len(panels), 4))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    colors = {}
    for ax, (name, group) in zip(axes, panels):
        for key, values in group.items():
            x = epochs if epochs is not None and len(epochs) == len(values) else (
                np.arange(1, len(values) + 1))
            base = _base_name(key)
            color = colors.setdefault(base, f"C{len(colors) % 10}")
            dashed = key != base and not key.startswith("train_")
            ax.plot(x, values, color=color, linestyle="--" if dashed else "-",
                    marker="o" if len(values) <= 30 else None, markersize=3, label=key)
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel(name if len(group) > 1 else next(iter(group)))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title or "Training history")
    return _save(fig, path, op)


# --------------------------------------------------------------------------- confusion matrix
def _labels(values, name, op):
    a = _array(values)
    if a.dtype.kind in "USO":
        raise ValueError(
            f"{op}: {name} holds {a.dtype.kind == 'O' and 'objects' or 'strings'}; pass integer "
            "class indices (e.g. classes, codes = np.unique(y, return_inverse=True)) and the "
            "names as class_names="
        )
    if a.ndim == 2 and a.shape[1] > 1:  # scores / one-hot rows: the class is the argmax
        # (a single column is a column vector of labels, not scores)
        a = a.argmax(axis=1)
    a = a.reshape(-1)
    if a.size and (a.dtype.kind not in "iub" and not np.all(a == np.round(a))):
        raise ValueError(f"{op}: {name} must hold integer class labels, got dtype {a.dtype}")
    a = a.astype(np.int64)
    if a.size and a.min() < 0:
        raise ValueError(f"{op}: {name} has a negative class label {a.min()}")
    return a


def confusion_matrix(y_true, y_pred, n_classes=None):
    """Counts ``C[i, j]`` of samples with true class i predicted as j.

    >>> confusion_matrix([0, 1, 1], [0, 1, 0]).tolist()
    [[1, 0], [1, 1]]
    """
    op = "confusion_matrix"
    t, p = _labels(y_true, "y_true", op), _labels(y_pred, "y_pred", op)
    if t.shape != p.shape:
        raise ValueError(f"{op}: y_true has {t.size} labels but y_pred has {p.size}")
    k = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    if n_classes is not None:
        if k > n_classes:
            raise ValueError(f"{op}: label {k - 1} is out of range for {n_classes} classes")
        k = n_classes
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (t, p), 1)
    return matrix


def plot_confusion_matrix(y_true, y_pred, path, class_names=None, normalize=False, title=None):
    """Draw the confusion matrix (rows: true class, columns: predicted) and return
    ``(path, matrix)``.

    ``y_true``/``y_pred`` are integer labels (or score rows, reduced by argmax).
    ``normalize``: False (counts), True or ``'true'`` (each row sums to 1: recall per class),
    ``'pred'`` (columns sum to 1: precision) or ``'all'``. The returned matrix is the one drawn.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "c.png")
    >>> _, m = plot_confusion_matrix([0, 1, 1], [0, 1, 0], path)
    >>> m.tolist()
    [[1, 0], [1, 1]]
    """
    op = "plot_confusion_matrix"
    suffix_format(path, _FORMATS, op)
    n = None if class_names is None else len(class_names)
    counts = confusion_matrix(y_true, y_pred, n)
    if normalize is True:
        normalize = "true"
    if normalize is False or normalize is None:
        matrix = counts
    elif normalize in ("true", "pred", "all"):
        axis = {"true": 1, "pred": 0, "all": None}[normalize]
        totals = counts.sum(axis=axis, keepdims=axis is not None)
        with np.errstate(invalid="ignore", divide="ignore"):
            matrix = np.where(totals > 0, counts / np.where(totals > 0, totals, 1), 0.0)
    else:
        raise ValueError(f"{op}: normalize must be False, True, 'true', 'pred' or 'all', "
                         f"got {normalize!r}")
    k = len(matrix)
    names = [str(c) for c in class_names] if class_names is not None else [str(i) for i in range(k)]
    size = max(4.0, 0.6 * k + 2)
    fig = _figure((size + 1, size))
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax)
    ax.set_xticks(range(k), names, rotation=45 if max(map(len, names), default=0) > 3 else 0)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if k <= 30:  # numbers in the cells while they still fit
        top = matrix.max() if matrix.size else 0
        for i in range(k):
            for j in range(k):
                v = matrix[i, j]
                text = f"{v:d}" if matrix.dtype.kind == "i" else f"{v:.2f}"
                ax.text(j, i, text, ha="center", va="center", fontsize=9,
                        color="white" if top and v > 0.6 * top else "black")
    ax.set_title(title or ("Confusion matrix" + (f" (normalized: {normalize})"
                                                 if matrix is not counts else "")))
    return _save(fig, path, op), matrix
