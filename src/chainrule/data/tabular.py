"""load_csv: a user's numeric table (features + one target column) as a `Bunch`."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from chainrule.data.bunch import Bunch


def _resolve_target(target, names, path):
    n_cols = len(names)
    if target is None:
        return None
    if isinstance(target, str):
        if target not in names:
            raise ValueError(f"load_csv: no column named {target!r} in {path}; "
                             f"columns are {names}")
        return names.index(target)
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not -n_cols <= target < n_cols:
            raise ValueError(f"load_csv: target index {target} is out of range for {n_cols} "
                             f"columns in {path}")
        return int(target) % n_cols
    raise TypeError(f"load_csv: target must be a column name, an integer index or None, "
                    f"got {target!r}")


def _parse_numbers(cells, lines, names, columns, path):
    """cells: (rows, cols) array of str -> float64, or a ValueError naming the bad cell."""
    try:
        return cells.astype(np.float64)  # vectorised; only on failure do we search the cell
    except ValueError:
        pass
    for i, row in enumerate(cells):
        for j, cell in enumerate(row):
            try:
                float(cell)
            except ValueError:
                what = "an empty cell" if not cell.strip() else f"{cell!r}"
                raise ValueError(
                    f"load_csv: cannot read {what} as a number at line {lines[i]}, column "
                    f"{names[columns[j]]!r} (index {columns[j]}) of {path}"
                ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _encode_target(cells, lines, name, index, path, dtype):
    stripped = np.char.strip(cells)
    try:
        values = stripped.astype(np.float64)
    except ValueError:
        # Class names: sorted, so the encoding does not depend on row order.
        if np.any(stripped == ""):
            row = int(np.argmax(stripped == ""))
            raise ValueError(f"load_csv: empty target cell at line {lines[row]}, column "
                             f"{name!r} (index {index}) of {path}") from None
        classes, y = np.unique(stripped, return_inverse=True)
        return y.astype(np.int64), [str(c) for c in classes]
    if np.all(np.isfinite(values)) and np.all(values == np.round(values)):
        return values.astype(np.int64), None  # integer labels: ready for CrossEntropyLoss
    return values.astype(dtype), None


def load_csv(path, target=-1, delimiter: str = ",", header: bool = True,
             dtype=np.float32) -> Bunch:
    """Read a numeric CSV table: every column but ``target`` becomes a feature.

    ``target`` is a column name (needs ``header=True``), an integer index (negative counts from
    the end; default: the last column) or ``None`` (no target, ``y`` is ``None``). Features must
    be numbers; a cell that is not raises ``ValueError`` naming its line, column and the file.
    The target column may hold numbers (all integers -> int64 labels, otherwise floats of
    ``dtype``) or class names (strings), which are encoded as 0..k-1 in sorted order with the
    names in ``target_names``. Blank lines are skipped.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(p, "w").write("a,b,kind\\n1,2,cat\\n3,4,dog\\n5,6,cat\\n")
    >>> data = load_csv(p, target="kind")
    >>> data.X.tolist(), data.y.tolist(), data.target_names
    ([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [0, 1, 0], ['cat', 'dog'])
    """
    path = Path(path)
    rows, lines = [], []
    with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: drop an Excel BOM
        reader = csv.reader(f, delimiter=delimiter)
        names = None
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if header and names is None:
                names = [c.strip() for c in row]
                continue
            if names is not None and len(row) != len(names):
                raise ValueError(f"load_csv: line {reader.line_num} of {path} has {len(row)} "
                                 f"cells, expected {len(names)}")
            if names is None:  # header=False: the first row fixes the width
                names = [f"column_{i}" for i in range(len(row))]
            rows.append(row)
            lines.append(reader.line_num)
    if names is None or not rows:
        raise ValueError(f"load_csv: {path} holds no data rows")
    if isinstance(target, str) and not header:
        raise ValueError(f"load_csv: target={target!r} is a column name but header=False; "
                         "pass the column index instead")

    cells = np.array(rows, dtype=str)
    t = _resolve_target(target, names, path)
    columns = [j for j in range(len(names)) if j != t]
    X = _parse_numbers(cells[:, columns], lines, names, columns, path).astype(dtype)
    y, classes = (None, None) if t is None else _encode_target(cells[:, t], lines, names[t],
                                                               t, path, dtype)
    target_text = "no target" if t is None else f"target column {names[t]!r}"
    return Bunch(
        X=X,
        y=y,
        description=f"{len(rows)} rows x {len(columns)} features read from {path}; "
                    f"{target_text}.",
        feature_names=[names[j] for j in columns],
        target_names=classes,
    )
