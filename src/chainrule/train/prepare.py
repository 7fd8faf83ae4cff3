"""Ready-to-train tables for the `chainrule` command: data specs, splits, scaling, MLPs.

A *data spec* names a data set in one word: ``digits``, ``iris``, a logic gate (``xor``,
``and``, ...), a toy cloud (``circles``, ``moons``, ``spirals``, ``blobs``), ``mnist:DIR``,
``fashion_mnist:DIR`` or ``csv:PATH`` (with a target column).

>>> spec = parse_data_spec("digits")
>>> table = load_table(spec)
>>> table.X.shape, table.task, len(table.class_names)
((1797, 64), 'classification', 10)
>>> train_idx, test_idx = split_indices(table.y, 0.2, seed=0, stratify=True)
>>> len(train_idx), len(test_idx)
(1438, 359)

The scaling the model is trained with (standardised features, and for regression a
standardised target) is folded into the first and last `Linear` layers afterwards
(`fold_scaling`), so the saved model takes raw features and returns predictions in the
data's own units: no separate preprocessing file to lose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

GATES = ("and", "or", "nand", "nor", "xor", "xnor")
TOYS = ("circles", "moons", "spirals", "blobs")
EMBEDDED = ("digits", "iris")
IDX = ("mnist", "fashion_mnist")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "leaky_relu", "elu")
LR_SCHEDULES = ("none", "cosine", "step")


@dataclass(frozen=True)
class DataSpec:
    """A parsed data spec: ``kind`` (e.g. ``"digits"``, ``"csv"``) and ``arg`` (a path or None).

    >>> parse_data_spec("csv:data/houses.csv")
    DataSpec(kind='csv', arg='data/houses.csv')
    """

    kind: str
    arg: str | None = None

    def __str__(self) -> str:
        return self.kind if self.arg is None else f"{self.kind}:{self.arg}"

    @property
    def short_name(self) -> str:
        """A name for run folders: the kind, or the CSV file's stem."""
        return Path(self.arg).stem if self.kind == "csv" else self.kind


def parse_data_spec(text: str) -> DataSpec:
    """Parse ``digits``, ``xor``, ``mnist:DIR``, ``csv:PATH`` ...; ValueError if unknown."""
    kind, sep, arg = str(text).partition(":")
    kind = kind.strip().lower().replace("-", "_")
    if kind in EMBEDDED + GATES + TOYS:
        if sep:
            raise ValueError(f"data {kind!r} takes no ':' argument, got {text!r}")
        return DataSpec(kind)
    if kind in IDX + ("csv",):
        if not arg:
            what = "folder of IDX files" if kind in IDX else "CSV file"
            raise ValueError(f"data {kind!r} needs a {what}: {kind}:PATH")
        return DataSpec(kind, arg)
    raise ValueError(f"unknown data {text!r}; choose one of {', '.join(EMBEDDED + GATES + TOYS)}, "
                     "mnist:DIR, fashion_mnist:DIR or csv:PATH")


@dataclass
class Table:
    """Features, targets and what they mean, ready for `split_indices` and training.

    ``y`` is int64 class indices ``0..C-1`` for classification (``class_names[y[i]]`` names
    the class) and float32 ``(N, K)`` for regression. ``test`` holds a separate test table
    when the data comes with one (MNIST's t10k files); ``split`` is False for data too small
    to split (a logic gate's four rows: train and test on all of them).
    """

    X: np.ndarray
    y: np.ndarray
    task: str
    class_names: list | None = None
    feature_names: list | None = None
    target_name: str | None = None
    description: str = ""
    test: Table | None = None
    split: bool = True
    extra: dict = field(default_factory=dict)


def _labels(raw_y, target_names):
    """Class indices 0..C-1 and the class names, for labels that may be any integers."""
    y = np.asarray(raw_y).reshape(len(raw_y), -1)
    if y.shape[1] != 1:
        raise ValueError(f"expected one label per row, got targets of shape {np.shape(raw_y)}")
    y = y[:, 0]
    if y.dtype.kind == "f":
        if not np.all(y == np.round(y)):
            raise ValueError("classification needs integer or text labels, got fractional "
                             "targets (use --task regression)")
        y = y.astype(np.int64)
    if target_names is not None and y.min() >= 0 and y.max() < len(target_names):
        return y.astype(np.int64), [str(n) for n in target_names]
    values, index = np.unique(y, return_inverse=True)
    return index.astype(np.int64), [str(v) for v in values]


def _classification(bunch, **kw):
    y, names = _labels(bunch.y, bunch.target_names)
    return Table(np.asarray(bunch.X, np.float32), y, "classification", names,
                 bunch.feature_names, description=bunch.description, **kw)


def load_table(spec: DataSpec, target=None, task: str = "auto", n_points: int = 1000) -> Table:
    """Load the data a spec names (see the module docstring).

    ``target`` picks the CSV target column (a name or an index; default the last column).
    ``task`` is ``"auto"``, ``"classification"`` or ``"regression"``; auto makes text labels
    and integer targets with at most 50 distinct values a classification, anything else a
    regression. Toy clouds have ``n_points`` points (seed 0, so every run sees the same data).
    Missing files raise FileNotFoundError; malformed ones ValueError.
    """
    from chainrule.data import datasets

    kind = spec.kind
    if kind == "digits":
        return _classification(datasets.digits())
    if kind == "iris":
        return _classification(datasets.iris())
    if kind in GATES:
        return _classification(datasets.logic_gate(kind), split=False)
    if kind == "spirals":
        return _classification(datasets.spirals(n_points, noise=0.05, n_classes=3, seed=0))
    if kind == "circles":
        return _classification(datasets.circles(n_points, noise=0.08, seed=0))
    if kind == "moons":
        return _classification(datasets.moons(n_points, noise=0.15, seed=0))
    if kind == "blobs":
        return _classification(datasets.blobs(n_points, seed=0))
    if kind in IDX:
        load = getattr(datasets, kind)
        test = _classification(load(spec.arg, kind="test"))
        return _classification(load(spec.arg, kind="train"), test=test, split=False)
    if kind == "csv":
        return _csv_table(spec.arg, target, task)
    raise ValueError(f"unknown data kind {kind!r}")  # parse_data_spec prevents this


def _csv_table(path, target, task):
    from chainrule.data import datasets

    if target is None:
        target = -1
    elif isinstance(target, str) and target.lstrip("-").isdigit():
        target = int(target)
    header = _has_header(path)
    if isinstance(target, str) and not header:
        raise ValueError(f"{path} has no header row, so --target must be a column index")
    bunch = datasets.load_csv(path, target=target, header=header)
    if bunch.X.ndim != 2 or bunch.X.shape[1] == 0:
        raise ValueError(f"{path} has no feature columns besides the target (is it "
                         "comma-separated?)")
    _check_finite(bunch.X, bunch.feature_names, path, header)
    if bunch.target_names is None:
        _check_finite(np.asarray(bunch.y, np.float64).reshape(len(bunch.y), -1), None, path,
                      header, what="target")
    y = bunch.y
    if task == "auto":
        if bunch.target_names is not None:
            task = "classification"
        elif y.dtype.kind in "iu" and len(np.unique(y)) <= 50:
            task = "classification"
        else:
            task = "regression"
    target_index = target if isinstance(target, int) else None
    names = bunch.feature_names
    if isinstance(target, str):
        target_name = target
    else:
        # load_csv dropped the target column from the names; recover it for the metadata.
        all_names = _header_names(path) if header else None
        target_name = all_names[target_index] if all_names else None
    if task == "classification":
        y, class_names = _labels(y, bunch.target_names)
        return Table(bunch.X.astype(np.float32), y, task, class_names, names, target_name,
                     bunch.description)
    if bunch.target_names is not None:
        raise ValueError(f"the target column of {path} holds text, which cannot be a "
                         "regression target")
    y = np.asarray(y, np.float32).reshape(len(y), -1)
    return Table(bunch.X.astype(np.float32), y, "regression", None, names, target_name,
                 bunch.description)


def _check_finite(values, names, path, header, what="feature"):
    """ValueError naming the first NaN or infinite cell (a model cannot learn from it)."""
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        column = f"column {names[col]!r}" if names is not None else f"the {what} column"
        raise ValueError(f"{path}: data row {row + 1} (line {row + 1 + bool(header)}), {column} "
                         f"holds {values[row, col]}; remove or fill in missing and infinite "
                         "values")


def _first_row(path):
    from chainrule.data.tabular import iter_rows

    for _, row in iter_rows(path, where="csv"):
        return row
    raise ValueError(f"{path} is empty")


def _has_header(path) -> bool:
    """A first row with any cell that is not a number is a header."""
    for cell in _first_row(path):
        try:
            float(cell)
        except ValueError:
            return True
    return False


def _header_names(path):
    return [c.strip() for c in _first_row(path)]


def read_features(path, feature_names=None, n_features=None, warn=None) -> np.ndarray:
    """The feature matrix of a CSV file for prediction (float32), columns matched by name.

    With a header, it must name every feature of ``feature_names`` (other columns, such as a
    target, may hold anything); those columns are taken in the model's order. A header that
    lacks some of them is a ValueError naming the file, the line and the columns. Without a
    header, the columns are the features by position: their number must equal ``n_features``,
    and ``warn(message)`` (default: `warnings.warn`) says so when the model knows its feature
    names. Rows shorter or longer than the first, repeated column names, non-UTF-8 or binary
    files, cells that are not numbers (a quoted number is named as such) and values too large
    for float32 raise ValueError naming the file and the line.
    """
    from chainrule.data.tabular import parse_numbers, read_rows

    header = _has_header(path)
    names, rows, lines = read_rows(path, header=header, where="predict")
    if not rows:
        raise ValueError(f"{path} has a header but no rows" if names else f"{path} is empty")
    width = len(rows[0])
    known = list(feature_names) if feature_names else None
    if names is not None and known and not _generic(known):
        missing = [n for n in known if n not in names]
        if missing:
            raise ValueError(f"line 1 of {path}: the header has no column(s) {missing} that "
                             f"the model was trained with (it has {names}; the model's features "
                             f"are {known})")
        columns = [names.index(n) for n in known]
    else:
        if n_features is not None and width != n_features:
            raise ValueError(f"the model expects {n_features} features per row, {path} has "
                             f"{width} columns (line {lines[0]})")
        if names is None and known and not _generic(known):
            shown = ", ".join(known[:6]) + (", ..." if len(known) > 6 else "")
            (warn or _warn)(f"{path} has no header: its {width} columns are used by position "
                            f"as the model's features ({shown})")
        columns = list(range(width))
    column_names = names if names is not None else [str(j) for j in range(width)]
    cells = np.array([[row[j] for j in columns] for row in rows], dtype=str)
    X = parse_numbers(cells, lines, [column_names[j] for j in columns], list(range(len(columns))),
                      path, np.float32, where="predict")
    # A NaN row would get a confident-looking prediction of class 0: refuse it instead.
    _check_finite(X, [column_names[j] for j in columns] if names else None, path,
                  names is not None)
    return X


def _generic(names):
    """Names load_csv makes up for a file without a header: they say nothing about order."""
    return all(str(n) == f"column_{i}" for i, n in enumerate(names))


def _warn(message):
    import warnings

    warnings.warn(message, UserWarning, stacklevel=3)


def encode_labels(y, data_class_names, model_class_names) -> np.ndarray:
    """Labels ``y`` (indices into ``data_class_names``) as indices into ``model_class_names``,
    the classes a model learned, matched by name.

    >>> encode_labels(np.array([0, 1]), ["b", "c"], ["a", "b", "c"]).tolist()
    [1, 2]
    """
    if data_class_names is None or list(data_class_names) == list(model_class_names):
        return y
    index = {name: i for i, name in enumerate(model_class_names)}
    unknown = sorted(set(data_class_names[i] for i in np.unique(y)) - set(index))
    if unknown:
        raise ValueError(f"the data has classes {unknown} that the model does not know "
                         f"(it knows {list(model_class_names)})")
    lookup = np.array([index.get(n, -1) for n in data_class_names], dtype=np.int64)
    return lookup[y]


def split_indices(y, test_size: float, seed: int, stratify: bool = True):
    """Seeded train/test index split; stratified (the class mix kept) when asked and possible.

    Each class contributes ``round(test_size * count)`` samples to the test set (at least one
    when it has two or more). Both index arrays are sorted.

    >>> tr, te = split_indices(np.array([0, 0, 0, 0, 1, 1, 1, 1]), 0.25, seed=0)
    >>> np.sort(np.array([0, 0, 0, 0, 1, 1, 1, 1])[te]).tolist()
    [0, 1]
    """
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    n = len(y)
    rng = np.random.default_rng(seed)
    if stratify:
        test = []
        for c in np.unique(y):
            members = np.flatnonzero(y == c)
            k = int(round(test_size * len(members)))
            if len(members) >= 2:
                k = min(max(k, 1), len(members) - 1)
            else:
                k = 0
            test.append(rng.permutation(members)[:k])
        test = np.sort(np.concatenate(test))
    else:
        k = min(max(int(round(test_size * n)), 1), n - 1)
        test = np.sort(rng.permutation(n)[:k])
    train = np.setdiff1d(np.arange(n), test)
    return train, test


def standardizer(X, eps: float = 1e-8, chunk: int = 8192):
    """Column means and standard deviations of ``X`` (float64); constant columns get std 1.

    Accumulated in float64 over row chunks, so a 60,000 x 784 float32 table needs no float64
    copy.

    >>> mean, std = standardizer(np.array([[1.0, 5.0], [3.0, 5.0]]))
    >>> mean.tolist(), std.tolist()
    ([2.0, 5.0], [1.0, 1.0])
    """
    X = np.asarray(X)
    n = len(X)
    mean = np.zeros(X.shape[1:], dtype=np.float64)
    for lo in range(0, n, chunk):
        mean += X[lo:lo + chunk].sum(axis=0, dtype=np.float64)
    mean /= n
    var = np.zeros_like(mean)
    for lo in range(0, n, chunk):  # two passes: no cancellation as in E[x^2] - E[x]^2
        var += ((X[lo:lo + chunk] - mean) ** 2).sum(axis=0)
    std = np.sqrt(var / n)
    return mean, np.where(std > eps, std, 1.0)


def build_mlp(n_in: int, hidden, n_out: int, activation: str = "relu", dropout: float = 0.0):
    """``Sequential(Linear, act, [Dropout,] ..., Linear)`` with the given hidden sizes (may be
    empty); ``dropout > 0`` adds a Dropout after each hidden activation.

    >>> import chainrule as cr
    >>> build_mlp(4, (8,), 3)
    Sequential(
      (0): Linear(in_features=4, out_features=8, bias=True)
      (1): ReLU()
      (2): Linear(in_features=8, out_features=3, bias=True)
    )
    """
    from chainrule import nn

    makers = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
              "leaky_relu": nn.LeakyReLU, "elu": nn.ELU}
    if activation not in makers:
        raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(makers)}")
    layers, width = [], n_in
    for h in hidden:
        layers += [nn.Linear(width, h), makers[activation]()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def make_lr_schedule(name: str, optimizer, epochs: int, steps_per_epoch: int):
    """The learning-rate schedule ``name`` for a run: ``(scheduler, scheduler_interval)`` to
    hand to `fit`.

    ``"none"``: ``(None, "epoch")``. ``"cosine"``: `CosineAnnealingLR` from the optimiser's lr
    down to 0 over all ``epochs * steps_per_epoch`` batches, stepped per batch. ``"step"``:
    `StepLR` halving the lr every ``ceil(epochs / 3)`` epochs (twice in a run of 3+ epochs),
    stepped per epoch.

    >>> import numpy as np, chainrule as cr
    >>> opt = cr.optim.SGD([cr.tensor(np.zeros(1), requires_grad=True)], lr=0.1)
    >>> sched, interval = make_lr_schedule("step", opt, epochs=30, steps_per_epoch=10)
    >>> type(sched).__name__, sched.step_size, sched.gamma, interval
    ('StepLR', 10, 0.5, 'epoch')
    """
    from chainrule.optim import lr_scheduler

    if name == "none":
        return None, "epoch"
    if name == "cosine":
        total = max(1, int(epochs) * int(steps_per_epoch))
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=total), "batch"
    if name == "step":
        step_size = max(1, -(-int(epochs) // 3))
        return lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=0.5), "epoch"
    raise ValueError(f"unknown lr schedule {name!r}; choose one of {list(LR_SCHEDULES)}")


def _linears(model):
    from chainrule import nn

    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def fold_scaling(model, x_mean, x_std, y_mean=None, y_std=None) -> None:
    """Fold input standardisation (and a target standardisation) into ``model`` in place.

    A model trained on ``(x - x_mean) / x_std`` predicting ``(y - y_mean) / y_std`` becomes one
    that takes raw ``x`` and returns raw ``y``: with the first layer ``W x + b``,
    ``W' = W / x_std`` and ``b' = b - W' x_mean``; with the last, ``W'' = y_std W`` and
    ``b'' = y_std b + y_mean``. The model must be a chain whose first and last modules are
    ``Linear`` layers (as `build_mlp` makes). Computed in float64, stored in the layers' dtype.
    """
    layers = _linears(model)
    children = list(model.children())
    if not layers or children[0] is not layers[0] or children[-1] is not layers[-1]:
        raise ValueError("fold_scaling: the model must start and end with a Linear layer")
    first, last = layers[0], layers[-1]
    w = first.weight.data.astype(np.float64) / np.asarray(x_std, np.float64)[None, :]
    b = first.bias.data.astype(np.float64) - w @ np.asarray(x_mean, np.float64)
    first.weight.data[...] = w
    first.bias.data[...] = b
    if y_mean is not None:
        scale = np.asarray(y_std, np.float64).reshape(-1)
        last.weight.data[...] = last.weight.data.astype(np.float64) * scale[:, None]
        last.bias.data[...] = last.bias.data.astype(np.float64) * scale + \
            np.asarray(y_mean, np.float64).reshape(-1)
