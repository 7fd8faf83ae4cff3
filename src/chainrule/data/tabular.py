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


def read_rows(path, delimiter: str = ",", header: bool = True, where: str = "load_csv"):
    """The non-blank rows of a CSV file: ``(names, rows, lines)``; ``names`` is the header
    (None when ``header=False``), ``lines`` the 1-based line number of each row.

    Every way a file can fail to be a table is a ValueError naming the file and the line: not
    UTF-8 text (a binary file, another encoding), a NUL byte, a row shorter or longer than the
    header, column names that repeat.
    """
    rows, lines, names = [], [], None
    for line, row in iter_rows(path, delimiter, where):
        if header and names is None:
            names = [c.strip() for c in row]
            _check_names(names, path, line, where)
            continue
        width = len(names) if names is not None else len(rows[0]) if rows else None
        if width is not None and len(row) != width:
            what = "header" if names is not None else "first row"
            raise ValueError(f"{where}: line {line} of {path} has {len(row)} cells, expected "
                             f"{width} (as many as the {what} has)")
        rows.append(row)
        lines.append(line)
    return names, rows, lines


def iter_rows(path, delimiter: str = ",", where: str = "load_csv"):
    """``(line number, cells)`` of each non-blank CSV row, with the errors of `read_rows`."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: drop an Excel BOM
            reader = csv.reader(f, delimiter=delimiter)
            for row in reader:
                if any("\x00" in cell for cell in row):  # Python >= 3.11's csv lets NUL pass
                    raise csv.Error(f"line {reader.line_num} contains NUL")
                if any(cell.strip() for cell in row):
                    yield reader.line_num, row
    except UnicodeDecodeError as e:
        raise ValueError(f"{where}: {path} is not UTF-8 text (byte 0x{e.object[e.start]:02x} at "
                         f"offset {e.start}): a binary file, or text in another encoding; "
                         "save it as UTF-8 CSV") from None
    except csv.Error as e:
        kind = "a binary file, not CSV text" if "NUL" in str(e) else "not readable as CSV"
        raise ValueError(f"{where}: {path} is {kind} ({e})") from None


def _check_names(names, path, line, where):
    seen, repeated = set(), []
    for name in names:
        if name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    if repeated:
        raise ValueError(f"{where}: line {line} of {path}: the header repeats the column "
                         f"name(s) {repeated}; every column needs its own name")


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def parse_numbers(cells, lines, names, columns, path, dtype=np.float32, where="load_csv"):
    """cells: (rows, cols) array of str -> ``dtype``, or a ValueError naming the file, line and
    column of the first bad cell: not a number (a quoted number is named as such), or a value
    too large for float32."""
    try:
        values = cells.astype(np.float64)  # vectorised; only on failure do we search the cell
    except ValueError:
        values = None
    if values is None:
        for i, row in enumerate(cells):
            for j, cell in enumerate(row):
                try:
                    float(cell)
                except ValueError:
                    what = _describe_cell(cell)
                    raise ValueError(
                        f"{where}: cannot read {what} as a number at line {lines[i]}, column "
                        f"{names[columns[j]]!r} (index {columns[j]}) of {path}"
                        if where == "load_csv" else
                        f"line {lines[i]}, column {names[columns[j]]!r} of {path}: {what} is "
                        "not a number") from None
        raise AssertionError("unreachable")  # pragma: no cover
    _check_float32(values, cells, lines, [names[c] for c in columns], path, dtype, where)
    return values.astype(dtype)


def _check_float32(values, cells, lines, column_names, path, dtype, where):
    """ValueError for a finite value that would become inf in float32 (NaN and inf cells are
    left to the caller, which names them as missing or infinite)."""
    if np.dtype(dtype) != np.float32:
        return
    values = values.reshape(len(values), -1)
    big = np.isfinite(values) & (np.abs(values) > _FLOAT32_MAX)
    if big.any():
        i, j = np.argwhere(big)[0]
        cell = np.asarray(cells).reshape(len(values), -1)[i, j].strip()
        raise ValueError(
            f"{where}: {cell} at line {lines[i]}, column {column_names[j]!r} of {path} is too "
            f"large for float32 (largest {_FLOAT32_MAX:.4g}); rescale the column")


def _describe_cell(cell):
    cell = str(cell)
    text = cell.strip()
    if not text:
        return "an empty cell"
    unquoted = text.strip("'\"‘’“” ")
    if unquoted != text:
        try:
            float(unquoted)
        except ValueError:
            pass
        else:
            return f"the quoted number {cell!r} (remove the quotes around it)"
    return repr(cell)


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
    if np.all(np.isfinite(values)) and np.all(values == np.round(values)) \
            and np.all(np.abs(values) < 2.0 ** 62):
        return values.astype(np.int64), None  # integer labels: ready for CrossEntropyLoss
    _check_float32(values, stripped, lines, [name], path, dtype, "load_csv")
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
    names, rows, lines = read_rows(path, delimiter, header)
    if names is None and rows:  # header=False: the first row fixes the width
        names = [f"column_{i}" for i in range(len(rows[0]))]
    if names is None or not rows:
        raise ValueError(f"load_csv: {path} holds no data rows")
    if isinstance(target, str) and not header:
        raise ValueError(f"load_csv: target={target!r} is a column name but header=False; "
                         "pass the column index instead")

    cells = np.array(rows, dtype=str)
    t = _resolve_target(target, names, path)
    columns = [j for j in range(len(names)) if j != t]
    X = parse_numbers(cells[:, columns], lines, names, columns, path, dtype)
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
