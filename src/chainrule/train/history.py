"""History: what `fit` returns — one row of numbers per epoch.

>>> h = History()
>>> h.append(1, {"loss": 0.9, "accuracy": 0.5, "lr": 0.01, "seconds": 0.2})
>>> h.append(2, {"loss": 0.4, "accuracy": 0.8, "lr": 0.01, "seconds": 0.2})
>>> h.epochs, h.history["loss"], h["accuracy"][-1]
([1, 2], [0.9, 0.4], 0.8)

Files are written atomically (a temporary file in the same folder, flushed, fsynced and
renamed over the target), so a crash mid-write never leaves a half-written history.
"""

from __future__ import annotations

import csv
import io
import json
import math

from chainrule._atomic import atomic_write_text as _atomic_write_text


def atomic_write_text(path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: the file is either the old one or the new one.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.txt"); atomic_write_text(p, "hi")
    >>> open(p).read()
    'hi'
    """
    _atomic_write_text(path, text, "write")


def _clean(value):
    # JSON has no NaN/inf: write them as null rather than as invalid JSON.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class History:
    """Per-epoch logs of a training run.

    Attributes:
        epochs: the epoch numbers (1-based) that were run, e.g. ``[1, 2, 3]``.
        history: ``{name: [value per epoch]}`` with ``loss``, each metric, ``val_loss`` and
            ``val_<metric>`` (when validation data was given), ``lr`` (the learning rate at
            the end of the epoch's training; with per-batch scheduling, the rate after its
            last step) and ``seconds`` (wall time of the epoch). A value missing in an epoch
            is ``None``.

    ``history["loss"]`` and ``len(history)`` work directly on the object.

    >>> h = History(); h.append(1, {"loss": 1.0}); h.append(2, {"loss": 0.5, "val_loss": 0.7})
    >>> h.history["val_loss"], len(h)
    ([None, 0.7], 2)
    """

    def __init__(self):
        self.epochs: list[int] = []
        self.history: dict[str, list] = {}

    def append(self, epoch: int, logs: dict) -> None:
        """Add the logs of ``epoch`` (a dict of numbers); new keys are back-filled with None."""
        n = len(self.epochs)
        self.epochs.append(int(epoch))
        for key, value in logs.items():
            column = self.history.setdefault(key, [None] * n)
            column.append(None if value is None else float(value))
        for column in self.history.values():
            if len(column) == n:
                column.append(None)

    def __len__(self) -> int:
        return len(self.epochs)

    def __getitem__(self, key: str) -> list:
        try:
            return self.history[key]
        except KeyError:
            raise KeyError(f"History: no column {key!r}; it has {list(self.history)}") from None

    def __contains__(self, key: str) -> bool:
        return key in self.history

    @property
    def last(self) -> dict:
        """The logs of the latest epoch as a dict (empty before the first epoch)."""
        return {k: v[-1] for k, v in self.history.items()} if self.epochs else {}

    def to_dict(self) -> dict:
        """``{"epochs": [...], "history": {...}}`` (JSON-friendly; inverse of `from_dict`)."""
        return {"epochs": list(self.epochs),
                "history": {k: [_clean(v) for v in col] for k, col in self.history.items()}}

    @classmethod
    def from_dict(cls, state: dict) -> History:
        """Rebuild a History from `to_dict` output (or a loaded ``history.json``).

        >>> History.from_dict({"epochs": [1], "history": {"loss": [0.5]}}).history
        {'loss': [0.5]}
        """
        h = cls()
        h.epochs = [int(e) for e in state.get("epochs", [])]
        h.history = {k: [None if v is None else float(v) for v in col]
                     for k, col in state.get("history", {}).items()}
        if any(len(col) != len(h.epochs) for col in h.history.values()):
            raise ValueError("History.from_dict: every column needs one value per epoch")
        return h

    def to_json(self, path) -> None:
        """Write ``{"epochs": ..., "history": ...}`` to ``path`` as JSON (atomic)."""
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n")

    @classmethod
    def from_json(cls, path) -> History:
        """Read a file written by `to_json`."""
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def to_csv(self, path) -> None:
        """Write one row per epoch (``epoch, loss, ...``) to ``path`` as CSV (atomic).
        Missing values are empty cells."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        keys = list(self.history)
        writer.writerow(["epoch", *keys])
        for i, epoch in enumerate(self.epochs):
            row = [self.history[k][i] for k in keys]
            writer.writerow([epoch, *("" if v is None else repr(v) for v in row)])
        atomic_write_text(path, buf.getvalue())

    def __repr__(self) -> str:
        if not self.epochs:
            return "History(no epochs)"
        last = ", ".join(f"{k}={v:.4g}" for k, v in self.last.items() if v is not None)
        return f"History({len(self.epochs)} epochs; last: {last})"
