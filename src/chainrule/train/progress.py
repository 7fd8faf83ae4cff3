"""What `fit` shows while it trains.

- ``progress=True`` and stdout is a terminal (and ``rich`` is installed): a live bar for the
  current epoch (batch i/n, running loss and metrics) and one kept line per finished epoch.
- ``progress=True`` and stdout is not a terminal (a pipe, a log file, a notebook capture
  without a tty): just the one line per finished epoch, no control characters.
- ``progress=False``: nothing.

>>> r = make_reporter(False); r.epoch_end(1, {"loss": 0.5})   # silent
>>> print(format_logs({"loss": 0.51234, "accuracy": 0.9, "lr": 0.001, "seconds": 0.25}))
loss 0.5123  accuracy 0.9000  lr 0.001  0.25s
"""

from __future__ import annotations

import sys


def _fmt(key, value):
    if key == "lr":
        return f"lr {value:.3g}"
    if key == "seconds":
        return f"{value:.2f}s"
    return f"{key} {value:.4f}"


def format_logs(logs: dict) -> str:
    """One line for the numbers of an epoch: metrics first, then ``lr`` and the seconds."""
    keys = [k for k in logs if k not in ("lr", "seconds")] + \
        [k for k in ("lr", "seconds") if k in logs]
    return "  ".join(_fmt(k, logs[k]) for k in keys if logs[k] is not None)


class Reporter:
    """The silent reporter; the others override the hooks they need."""

    def train_begin(self, epochs: int, steps: int) -> None:
        """Called once: total epochs of the run and batches per epoch."""

    def epoch_begin(self, epoch: int) -> None:
        """Called before each epoch (1-based)."""

    def batch_end(self, batch: int, running: dict) -> None:
        """Called after each batch (1-based) with the running averages of the epoch."""

    def epoch_end(self, epoch: int, logs: dict) -> None:
        """Called after each epoch with its complete logs."""

    def message(self, text: str) -> None:
        """A line of text (e.g. an early-stopping note)."""

    def train_end(self) -> None:
        """Called once at the end (also when training fails)."""


class LineReporter(Reporter):
    """One line per epoch on ``stream`` (stdout by default): for logs and pipes."""

    def __init__(self, stream=None):
        self.stream = stream
        self.epochs = 0

    def _print(self, text):
        print(text, file=self.stream or sys.stdout, flush=True)

    def train_begin(self, epochs, steps):
        self.epochs = epochs

    def epoch_end(self, epoch, logs):
        width = len(str(self.epochs))
        self._print(f"epoch {epoch:>{width}}/{self.epochs}  {format_logs(logs)}")

    def message(self, text):
        self._print(text)


class RichReporter(LineReporter):
    """A live rich progress bar for the running epoch above the kept per-epoch lines.

    ``console`` is a ``rich.console.Console`` (a default one writes to the terminal).
    """

    def __init__(self, console=None):
        super().__init__()
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = console or Console()
        self.progress = Progress(
            TextColumn("epoch {task.fields[epoch]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[stats]}"),
            console=self.console,
            transient=True,  # the bar disappears at the end; the epoch lines stay
        )
        self.task = None
        self.steps = 0

    def _print(self, text):
        # soft_wrap: long lines wrap in the terminal, not at a width rich guesses
        self.progress.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def train_begin(self, epochs, steps):
        super().train_begin(epochs, steps)
        self.steps = steps
        self.progress.start()
        self.task = self.progress.add_task("train", total=steps, epoch="", stats="")

    def epoch_begin(self, epoch):
        self.progress.reset(self.task, total=self.steps, epoch=f"{epoch}/{self.epochs}",
                            stats="")

    def batch_end(self, batch, running):
        self.progress.update(self.task, completed=batch, stats=format_logs(running))

    def train_end(self):
        self.progress.stop()


def make_reporter(progress, stream=None) -> Reporter:
    """The reporter for ``fit(progress=...)``: see the module docstring for the rule.

    ``progress`` may also be a `Reporter` instance, used as it is.
    """
    if isinstance(progress, Reporter):
        return progress
    if not progress:
        return Reporter()
    out = stream or sys.stdout
    isatty = getattr(out, "isatty", None)
    if isatty is not None and isatty():
        try:
            return RichReporter()
        except ImportError:  # rich is optional: fall back to plain lines
            pass
    return LineReporter(stream)
