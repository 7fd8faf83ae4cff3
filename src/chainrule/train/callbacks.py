"""Callbacks: code that `fit` runs at fixed points of training.

A callback subclasses `Callback` and overrides the hooks it needs. Every hook receives the
``run`` (a `chainrule.train.loop.Run`: ``run.model``, ``run.optimizer``, ``run.scheduler``,
``run.history``, ``run.epoch``); setting ``run.stop_training = True`` ends training after the
current epoch, and ``run.messages`` collects lines that `fit` prints at the end.

>>> class PrintLoss(Callback):
...     def on_epoch_end(self, run, epoch, logs):
...         print(epoch, round(logs["loss"], 3))

Epoch numbers are 1-based, as printed by the progress display. ``logs`` of an epoch hold
``loss``, the metrics, ``val_loss`` / ``val_<metric>`` (with validation data), ``lr`` and
``seconds``.
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.train.metrics import higher_is_better


class Callback:
    """Base class: every hook does nothing. Override the ones you need.

    ``state_dict`` / ``load_state_dict`` let a checkpoint carry the callback's state, so a
    resumed run behaves like an uninterrupted one (anything `chainrule.io.save` stores:
    numbers, strings, lists, dicts, arrays).
    """

    def on_train_begin(self, run) -> None:
        """Before the first epoch (also of a resumed run, before its state is restored)."""

    def on_epoch_begin(self, run, epoch: int) -> None:
        """Before each epoch."""

    def on_batch_end(self, run, batch: int, logs: dict) -> None:
        """After each optimiser step; ``logs`` holds the batch ``loss`` and ``size``."""

    def on_epoch_end(self, run, epoch: int, logs: dict) -> None:
        """After each epoch, with its complete logs (validation included)."""

    def on_train_end(self, run) -> None:
        """After the last epoch (or an early stop)."""

    def state_dict(self) -> dict:
        """The state to keep in a checkpoint."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore `state_dict`."""


def _resolve_mode(owner, monitor, mode):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        mode = "max" if higher_is_better(monitor) else "min"
    return mode


def _monitored(owner, monitor, logs):
    value = logs.get(monitor)
    if value is None:
        hint = " (pass val_data to fit, or monitor a training quantity such as 'loss')" \
            if monitor.startswith("val_") else ""
        raise KeyError(f"{owner}: monitor {monitor!r} is not in the epoch logs "
                       f"{sorted(k for k, v in logs.items() if v is not None)}{hint}")
    return float(value)


def _copy_state(model):
    # Arrays copied, so later in-place updates of the parameters do not change the snapshot.
    return {k: np.array(getattr(v, "data", v), copy=True) for k, v in model.state_dict().items()}


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    Args:
        monitor: the logged quantity to watch, e.g. ``"val_loss"`` or ``"val_accuracy"``.
        patience: stop after this many epochs in a row without improvement (0: at the first).
        min_delta: an improvement must beat the best value by more than this.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracies and R^2, min otherwise).
        restore_best_weights: at the end of training (early stop or not), load the weights of
            the best epoch back into the model. The snapshot is kept in memory and in `fit`'s
            checkpoints, so a resumed run restores the same weights.

    After training, ``best``, ``best_epoch`` and ``stopped_epoch`` (0 if it never stopped) tell
    what happened.

    >>> stop = EarlyStopping(monitor="val_loss", patience=3)
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = True):
        if isinstance(patience, bool) or int(patience) != patience or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an integer >= 0, got {patience!r}")
        if not min_delta >= 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta!r}")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.mode = _resolve_mode("EarlyStopping", monitor, mode)
        self.restore_best_weights = bool(restore_best_weights)
        self._reset()

    def _reset(self):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None

    def _improved(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, run):
        self._reset()

    def on_epoch_end(self, run, epoch, logs):
        value = _monitored("EarlyStopping", self.monitor, logs)
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = _copy_state(run.model)
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            run.stop_training = True
            run.messages.append(
                f"EarlyStopping: {self.monitor} has not improved for {self.wait} epochs; "
                f"stopped after epoch {epoch} (best {self.monitor}={self.best:.6g} "
                f"at epoch {self.best_epoch})")

    def on_train_end(self, run):
        if not self.restore_best_weights or self.best_weights is None:
            return
        last = run.history.epochs[-1] if run.history.epochs else None
        if last != self.best_epoch:
            run.model.load_state_dict(self.best_weights)
            run.messages.append(f"EarlyStopping: restored the weights of epoch "
                                f"{self.best_epoch} ({self.monitor}={self.best:.6g})")

    def state_dict(self):
        return {"best": None if math.isinf(self.best) else self.best,
                "best_epoch": self.best_epoch, "wait": self.wait,
                "best_weights": self.best_weights}

    def load_state_dict(self, state):
        if state.get("best") is not None:
            self.best = float(state["best"])
        self.best_epoch = int(state.get("best_epoch", 0))
        self.wait = int(state.get("wait", 0))
        self.best_weights = state.get("best_weights")


class ModelCheckpoint(Callback):
    """Save the model at the end of each epoch (or only when ``monitor`` improves).

    Args:
        path: file to write; may contain ``{epoch}`` and logged names, e.g.
            ``"ckpt/model-{epoch:02d}-{val_loss:.3f}.safetensors"``.
        monitor: the logged quantity deciding "best" (used with ``save_best_only``).
        save_best_only: write only when ``monitor`` improves on the best so far.
        mode: ``"min"``, ``"max"`` or ``"auto"``.
        save_weights_only: write ``model.state_dict()`` with `chainrule.io.save` instead of the
            whole model (architecture + weights) with `chainrule.io.save_model`; needed for
            models whose architecture `save_model` cannot describe.

    Files are written by `chainrule.io`, atomically: a crash mid-save leaves the previous file.
    ``last_saved`` is the path of the latest file written (or None).

    >>> ckpt = ModelCheckpoint("best.safetensors", monitor="val_accuracy", save_best_only=True)
    """

    def __init__(self, path, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto", save_weights_only: bool = False):
        self.path = str(path)
        self.monitor = monitor
        self.save_best_only = bool(save_best_only)
        self.mode = _resolve_mode("ModelCheckpoint", monitor, mode)
        self.save_weights_only = bool(save_weights_only)
        self.best = math.inf if self.mode == "min" else -math.inf
        self.last_saved = None

    def on_train_begin(self, run):
        # Pre-flight: a missing folder is found now, not after the first epoch.
        import os

        folder = os.path.dirname(os.path.abspath(self.path))
        if "{" not in folder and not os.path.isdir(folder):
            raise FileNotFoundError(f"ModelCheckpoint: the folder of {self.path!r} does not "
                                    f"exist ({folder})")

    def _target(self, epoch, logs):
        if "{" not in self.path:
            return self.path
        try:
            return self.path.format(epoch=epoch, **{k: v for k, v in logs.items()
                                                    if v is not None})
        except (KeyError, IndexError, ValueError) as e:
            raise ValueError(f"ModelCheckpoint: cannot fill in the path {self.path!r} with "
                             f"epoch and {sorted(logs)}: {e}") from None

    def on_epoch_end(self, run, epoch, logs):
        if self.save_best_only:
            value = _monitored("ModelCheckpoint", self.monitor, logs)
            better = value < self.best if self.mode == "min" else value > self.best
            if not better:
                return
            self.best = value
        from chainrule import io

        path = self._target(epoch, logs)
        if self.save_weights_only:
            io.save(run.model.state_dict(), path)
        else:
            io.save_model(run.model, path)
        self.last_saved = path

    def state_dict(self):
        return {"best": None if math.isinf(self.best) else self.best}

    def load_state_dict(self, state):
        if state.get("best") is not None:
            self.best = float(state["best"])
