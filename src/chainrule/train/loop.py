"""fit / evaluate / predict: the training loop and its batched, no-grad companions.

>>> import numpy as np, chainrule as cr
>>> X, y = cr.datasets.moons(200, noise=0.1, seed=0)
>>> cr.manual_seed(0)
>>> model = cr.nn.Sequential(cr.nn.Linear(2, 16), cr.nn.Tanh(), cr.nn.Linear(16, 2))
>>> opt = cr.optim.Adam(model.parameters(), lr=0.05)
>>> hist = cr.train.fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=30,
...                     progress=False, seed=0)
>>> hist.history["accuracy"][-1] > 0.95
True

One epoch is one pass over the training data in minibatches. Each step is the five lines every
PyTorch user knows: ``optimizer.zero_grad(); out = model(xb); loss = loss_fn(out, yb);
loss.backward(); optimizer.step()``. Everything else here is bookkeeping around that step:
logs, validation, the scheduler, callbacks, checkpoints and the divergence check.

The learning-rate scheduler steps once per epoch (``scheduler_interval="epoch"``, the default)
or once per batch, right after ``optimizer.step()`` (``scheduler_interval="batch"``: a warm-up
or a cosine over every step of the run):

>>> cr.manual_seed(0)
>>> model = cr.nn.Sequential(cr.nn.Linear(2, 16), cr.nn.Tanh(), cr.nn.Linear(16, 2))
>>> opt = cr.optim.SGD(model.parameters(), lr=0.1)
>>> steps = 5 * 7  # 5 epochs of ceil(200 / 32) = 7 batches
>>> sched = cr.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
>>> hist = cr.train.fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=5,
...                     scheduler=sched, scheduler_interval="batch", progress=False, seed=0)
>>> hist["lr"][-1] < 1e-12  # the lr at the end of the run: the bottom of the cosine
True
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time

import numpy as np

from chainrule.autograd import no_grad
from chainrule.data.dataset import Dataset, TensorDataset
from chainrule.data.loader import DataLoader
from chainrule.tensor import Tensor
from chainrule.train.callbacks import Callback
from chainrule.train.history import History
from chainrule.train.metrics import get_metric
from chainrule.train.progress import make_reporter


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite: training stopped.

    Attributes: ``epoch`` and ``batch`` (1-based) where it happened, ``loss`` (the bad value),
    ``history`` (the completed epochs) and ``checkpoint`` (path of the last good checkpoint
    file, or None when `fit` was not checkpointing or no epoch had finished).
    """

    def __init__(self, message, epoch, batch, loss, history=None, checkpoint=None):
        super().__init__(message)
        self.epoch, self.batch, self.loss = epoch, batch, loss
        self.history, self.checkpoint = history, checkpoint


class TrainingInterrupted(KeyboardInterrupt):
    """Training was interrupted (Ctrl-C, or SIGTERM where the caller turns it into one).

    A KeyboardInterrupt, so code that catches those still does. Attributes: ``epoch`` (the
    epoch in progress, 1-based; its partial work is discarded), ``history`` (the completed
    epochs) and ``checkpoint`` (path of the newest complete checkpoint file, or None): resume
    with ``fit(..., resume=checkpoint)``.
    """

    def __init__(self, message, epoch, history=None, checkpoint=None):
        super().__init__(message)
        self.epoch, self.history, self.checkpoint = epoch, history, checkpoint


class Run:
    """The state of one `fit` call, handed to every callback hook.

    Attributes: ``model, loss_fn, optimizer, scheduler, loader, history, epochs`` (the epoch
    count of the run), ``scheduler_interval`` (``"epoch"`` or ``"batch"``), ``epoch`` (the
    current epoch, 1-based), ``lr`` (the learning rate of the first param group: set when an
    epoch begins and after every per-batch scheduler step), ``stop_training`` (set it to
    True to stop after the current epoch) and ``messages`` (lines printed at the end).
    """

    def __init__(self, model, loss_fn, optimizer, scheduler, loader, history, epochs,
                 scheduler_interval="epoch"):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.scheduler, self.loader, self.history = scheduler, loader, history
        self.epochs = epochs
        self.scheduler_interval = scheduler_interval
        self.epoch = 0
        self.lr = None        # the optimiser's learning rate now (updated by per-batch steps)
        self.started = 0.0    # perf_counter() at the start of the current epoch
        self.stop_training = False
        self.messages: list[str] = []


# ------------------------------------------------------------------------------ data handling
def _as_loader(data, batch_size, shuffle, seed, where):
    """A DataLoader for ``data``: (X, y) arrays, a Bunch, a Dataset or a DataLoader."""
    if isinstance(data, DataLoader):
        if seed is not None:
            raise ValueError(f"{where}: seed= only applies to the loader {where} builds; a "
                             "DataLoader you pass in keeps its own seed (DataLoader(..., seed=))")
        return data
    if hasattr(data, "as_dataset") and hasattr(data, "X"):  # a cr.datasets Bunch
        data = data.as_dataset()
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise ValueError(f"{where}: data given as a tuple must be (X, y), got "
                             f"{len(data)} items")
        data = TensorDataset(*data)
    if not isinstance(data, Dataset) and not (hasattr(data, "__len__")
                                              and hasattr(data, "__getitem__")):
        raise TypeError(f"{where}: data must be an (X, y) pair of arrays, a Dataset or a "
                        f"DataLoader, got {type(data).__name__}")
    if len(data) == 0:
        raise ValueError(f"{where}: the data set is empty")
    return DataLoader(data, batch_size=batch_size, shuffle=shuffle, seed=seed)


def _split_batch(batch, where):
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch
    n = len(batch) if isinstance(batch, (tuple, list)) else 1
    raise ValueError(f"{where}: each batch must be (inputs, targets), got {n} field(s); "
                     "build the data as (X, y) or TensorDataset(X, y)")


def _loss_value(loss, where):
    if not isinstance(loss, Tensor) or loss.data.size != 1:
        shape = getattr(loss, "shape", type(loss).__name__)
        raise ValueError(f"{where}: loss_fn must return a one-element Tensor (use "
                         f"reduction='mean' or 'sum'), got {shape}")
    return float(loss.data)


@contextlib.contextmanager
def eval_mode(model):
    """Put ``model`` in eval mode for a ``with`` block and restore its previous mode after.

    >>> import chainrule as cr
    >>> net = cr.nn.Sequential(cr.nn.Dropout(0.5))
    >>> with eval_mode(net):
    ...     net.training
    False
    >>> net.training
    True
    """
    was_training = getattr(model, "training", True)
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def _metric_fns(metrics):
    if metrics is None:
        return []
    if isinstance(metrics, str) or callable(metrics):
        metrics = (metrics,)
    fns = [get_metric(m) for m in metrics]
    names = [n for n, _ in fns]
    if len(set(names)) != len(names):
        raise ValueError(f"metrics: each metric may appear once, got {names}")
    return fns


# What a loss expects of its target decides how fit matches targets to outputs and which
# metrics suit it: "regression" and "binary" losses compare element by element (a 1-D target
# of a one-output model is reshaped to (N, 1)); "classes" losses take class indices.
_FUNCTION_KINDS = {
    "mse_loss": "regression", "l1_loss": "regression", "huber_loss": "regression",
    "smooth_l1_loss": "regression", "binary_cross_entropy": "binary",
    "binary_cross_entropy_with_logits": "binary", "cross_entropy": "classes",
    "nll_loss": "classes",
}


def loss_kind(loss_fn):
    """``"regression"``, ``"binary"``, ``"classes"`` or None (unknown) for a loss module or
    function.

    >>> import chainrule as cr
    >>> loss_kind(cr.nn.MSELoss()), loss_kind(cr.nn.CrossEntropyLoss()), loss_kind(len)
    ('regression', 'classes', None)
    """
    kind = getattr(loss_fn, "target_kind", None)
    if kind is None and callable(loss_fn):
        kind = _FUNCTION_KINDS.get(getattr(loss_fn, "__name__", None))
    return kind


def match_target(out, target, kind):
    """The target reshaped to the output's shape where that is unambiguous: a 1-D target
    ``(N,)`` of a one-output model ``(N, 1)`` under an element-wise loss (which would otherwise
    broadcast to ``(N, N)``). Anything else is returned as it is.

    >>> import numpy as np, chainrule as cr
    >>> match_target(cr.zeros(4, 1), cr.zeros(4), "regression").shape
    (4, 1)
    """
    if kind not in ("regression", "binary"):
        return target
    out_shape, t_shape = getattr(out, "shape", None), getattr(target, "shape", None)
    if out_shape is None or t_shape is None or len(out_shape) != len(t_shape) + 1:
        return target
    if out_shape[-1] != 1 or tuple(out_shape[:-1]) != tuple(t_shape):
        return target
    return target.reshape(*t_shape, 1) if isinstance(target, Tensor) else \
        np.reshape(target, (*t_shape, 1))


def _auto_metrics(loss_fn, loader):
    """fit's default metrics: accuracy for classification losses (or integer targets under an
    unknown loss), none for regression."""
    kind = loss_kind(loss_fn)
    if kind in ("classes", "binary"):
        return ("accuracy",)
    if kind == "regression":
        return ()
    dataset = getattr(loader, "dataset", None)
    try:
        first = dataset[0] if dataset is not None and len(dataset) else None
    except Exception:  # a dataset that cannot be indexed: no guess
        return ()
    target = first[1] if isinstance(first, (tuple, list)) and len(first) == 2 else None
    if isinstance(target, Tensor):
        target = target.data
    dtype = getattr(target, "dtype", None)
    return ("accuracy",) if dtype is not None and dtype.kind in "iu" else ()


def _compute_metrics(fns, outputs, targets, prefix="", kind=None):
    if not fns:
        return {}
    y_pred = np.concatenate(outputs)
    y_true = np.concatenate(targets)
    if kind == "classes" and y_pred.ndim == 2 and y_pred.shape[1] == 1:
        # One class: its score is one column, which the metrics would read as a binary
        # logit. Give them the (N, C >= 2) score form they read as classes, in which the
        # only class always wins.
        with np.errstate(invalid="ignore"):
            y_pred = np.concatenate([y_pred, np.full_like(y_pred, -np.inf)], axis=1)
    return {prefix + name: float(fn(y_true, y_pred)) for name, fn in fns}


# ------------------------------------------------------------------------- evaluate / predict
def evaluate(model, loss_fn, data, metrics=(), batch_size: int = 256) -> dict:
    """Loss and metrics of ``model`` on ``data``, batched, without gradients, in eval mode.

    ``data`` is an ``(X, y)`` pair, a Bunch, a Dataset or a DataLoader. ``loss_fn`` may be None
    (metrics only). ``metrics="auto"`` picks them as `fit` does (accuracy for classification).
    Targets are matched to the outputs as in `fit` (a 1-D target of a one-output model under
    an element-wise loss is used as a column). The loss is the mean over samples (batch losses
    weighted by batch size; for ``reduction='sum'`` the total). The model's previous
    train/eval mode is restored.

    >>> import numpy as np, chainrule as cr
    >>> net = cr.nn.Linear(2, 1)
    >>> out = evaluate(net, cr.nn.MSELoss(), (np.zeros((4, 2), np.float32),
    ...                np.zeros((4, 1), np.float32)), metrics=["mae"])
    >>> sorted(out)
    ['loss', 'mae']
    """
    loader = _as_loader(data, batch_size, shuffle=False, seed=None, where="evaluate")
    if isinstance(metrics, str) and metrics == "auto":
        metrics = _auto_metrics(loss_fn, loader)
    return _evaluate(model, loss_fn, loader, _metric_fns(metrics), batch_size)


def _evaluate(model, loss_fn, data, fns, batch_size):
    loader = _as_loader(data, batch_size, shuffle=False, seed=None, where="evaluate")
    total, count, outputs, targets = 0.0, 0, [], []
    summed = getattr(loss_fn, "reduction", "mean") == "sum"
    kind = loss_kind(loss_fn)
    with eval_mode(model), no_grad():
        for batch in loader:
            xb, yb = _split_batch(batch, "evaluate")
            out = model(xb)
            yb = match_target(out, yb, kind)
            n = len(xb)
            if loss_fn is not None:
                value = _loss_value(loss_fn(out, yb), "evaluate")
                total += value if summed else value * n
            count += n
            if fns:
                outputs.append(out.data)
                targets.append(yb.data)
    results = {}
    if loss_fn is not None:
        results["loss"] = total if summed else total / count
    results.update(_compute_metrics(fns, outputs, targets, kind=kind))
    return results


def predict(model, X, batch_size: int = 256) -> np.ndarray:
    """The model's outputs for the inputs ``X`` as one NumPy array, batched, without
    gradients, in eval mode (the previous mode is restored).

    ``X`` is an array or Tensor of inputs, an ``(X, y)`` pair or Bunch (``y`` is ignored), a
    Dataset or a DataLoader. For a classifier the outputs are the raw scores (logits): take
    ``.argmax(axis=1)`` for labels.

    >>> import numpy as np, chainrule as cr
    >>> predict(cr.nn.Linear(3, 2), np.ones((5, 3), np.float32), batch_size=2).shape
    (5, 2)
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"predict: batch_size must be a positive integer, got {batch_size!r}")
    outputs = []
    with eval_mode(model), no_grad():
        if isinstance(X, (np.ndarray, Tensor)):
            array = X.data if isinstance(X, Tensor) else X
            if array.ndim == 0:
                raise ValueError("predict: X must have a sample dimension, got a 0-d array")
            for lo in range(0, len(array), batch_size):
                outputs.append(model(Tensor(array[lo:lo + batch_size])).data)
        else:
            loader = _as_loader(X, batch_size, shuffle=False, seed=None, where="predict")
            for batch in loader:
                xb = batch[0] if isinstance(batch, (tuple, list)) else batch
                outputs.append(model(xb).data)
    if not outputs:
        raise ValueError("predict: X holds no samples")
    return np.concatenate(outputs)


# -------------------------------------------------------------------------------------- fit
def _current_lr(optimizer):
    groups = getattr(optimizer, "param_groups", None)
    if groups:
        lr = groups[0].get("lr")
        if lr is not None:
            return float(lr)
    return None


def _is_plateau(scheduler):
    try:
        from chainrule.optim.lr_scheduler import ReduceLROnPlateau
    except ImportError:  # pragma: no cover - optim without schedulers
        return type(scheduler).__name__ == "ReduceLROnPlateau"
    return isinstance(scheduler, ReduceLROnPlateau)


def _check_epochs(epochs):
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"fit: epochs must be an integer >= 0, got {epochs!r}")
    return int(epochs)


SCHEDULER_INTERVALS = ("epoch", "batch")


def _check_scheduler_interval(interval, scheduler):
    if interval not in SCHEDULER_INTERVALS:
        raise ValueError(f"fit: scheduler_interval must be 'epoch' or 'batch', got {interval!r}")
    if interval == "batch" and scheduler is not None and _is_plateau(scheduler):
        raise ValueError("fit: ReduceLROnPlateau cannot be stepped per batch: it watches an "
                         "epoch's loss (val_loss, or loss without validation data); use "
                         "scheduler_interval='epoch'")
    return interval


def _check_callbacks(callbacks):
    callbacks = list(callbacks or ())
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"fit: callbacks must be chainrule.train.Callback instances, got "
                            f"{type(cb).__name__}")
    return callbacks


def _save_checkpoint(path, run, callbacks):
    from chainrule import io

    io.save_checkpoint(
        path, model=run.model, optimizer=run.optimizer, scheduler=run.scheduler,
        epoch=run.epoch,
        extra={
            # One JSON string, not a tree of floats: encoding stays cheap as the history grows.
            "history": json.dumps(run.history.to_dict(), allow_nan=False),
            "loader": run.loader.state_dict(),
            "callbacks": [[type(cb).__name__, cb.state_dict()] for cb in callbacks],
            "stopped": bool(run.stop_training),
            "scheduler_interval": run.scheduler_interval,
        },
    )


def _resume(path, run, callbacks):
    """Load a `fit` checkpoint into the run; returns the number of completed epochs."""
    from chainrule import io

    if not os.path.exists(os.fspath(path)):
        raise FileNotFoundError(f"fit: resume checkpoint '{os.fspath(path)}' does not exist")
    ckpt = io.load_checkpoint(path, model=run.model, optimizer=run.optimizer,
                              scheduler=run.scheduler)
    extra = ckpt.get("extra")
    if not isinstance(extra, dict) or "history" not in extra or "loader" not in extra:
        raise io.CheckpointError(f"fit: '{os.fspath(path)}' is a checkpoint but not one written "
                                 "by fit(checkpoint=...): it has no history/loader state")
    # Checkpoints from before per-batch scheduling stepped per epoch.
    saved = extra.get("scheduler_interval", "epoch")
    if run.scheduler is not None and saved != run.scheduler_interval:
        raise ValueError(f"fit: '{os.fspath(path)}' was written by a run that stepped its "
                         f"scheduler per {saved}; resume it with scheduler_interval={saved!r} "
                         f"(got {run.scheduler_interval!r}), or the schedule would change")
    saved_history = extra["history"]
    if isinstance(saved_history, str):
        saved_history = json.loads(saved_history)
    run.history = History.from_dict(saved_history)
    run.loader.load_state_dict(extra["loader"])
    # Callback states are matched by position and class name: a callback list that changed
    # between the runs restores what still lines up and starts the rest fresh.
    for cb, saved in zip(callbacks, extra.get("callbacks") or []):
        if isinstance(saved, (list, tuple)) and len(saved) == 2 and saved[0] == type(cb).__name__:
            cb.load_state_dict(saved[1])
    return int(ckpt["epoch"]), bool(extra.get("stopped", False))


def _check_checkpoint(checkpoint, every):
    """Pre-flight: the checkpoint's folder exists (not discovered after the first epoch)."""
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ValueError(f"fit: checkpoint_every must be a positive integer, got {every!r}")
    if checkpoint is not None:
        folder = os.path.dirname(os.path.abspath(os.fspath(checkpoint)))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"fit: the folder of the checkpoint "
                                    f"'{os.fspath(checkpoint)}' does not exist ({folder})")
        if os.path.isdir(os.fspath(checkpoint)):
            raise IsADirectoryError(f"fit: checkpoint '{os.fspath(checkpoint)}' is a folder; "
                                    "give a file path such as run/checkpoint.safetensors")
    return int(every)


def _interrupted(run, last_good):
    """The TrainingInterrupted that a Ctrl-C during ``run`` becomes: it carries what survives,
    the completed epochs' history and the newest complete checkpoint."""
    kept = f"; the checkpoint '{last_good[0]}' holds epoch {last_good[1]}" if last_good else ""
    return TrainingInterrupted(f"fit: interrupted in epoch {run.epoch}/{run.epochs}{kept}",
                               epoch=run.epoch, history=run.history,
                               checkpoint=last_good[0] if last_good else None)


def _live(reporter):
    return type(reporter).__name__ == "RichReporter"


def fit(model, loss_fn, optimizer, train_data, epochs: int, batch_size: int = 32,
        val_data=None, metrics="auto", scheduler=None, callbacks=(), progress=True,
        shuffle: bool = True, seed=None, resume=None, checkpoint=None,
        scheduler_interval: str = "epoch", checkpoint_every: int = 1,
        compile: bool = False) -> History:
    """Train ``model`` with minibatch gradient descent and return its `History`.

    Args:
        model: a ``chainrule.nn.Module`` (anything callable on a batch with
            ``train()/eval()/state_dict()``).
        loss_fn: ``loss_fn(outputs, targets) -> scalar Tensor``, e.g. ``nn.CrossEntropyLoss()``.
        optimizer: a ``chainrule.optim`` optimizer over ``model.parameters()``.
        train_data: ``(X, y)`` arrays, a ``cr.datasets`` Bunch, a Dataset or a DataLoader
            (used as it is: ``batch_size``, ``shuffle`` and ``seed`` then do not apply).
        epochs: total number of epochs of the run (a resumed run continues up to it).
        batch_size: samples per step.
        val_data: evaluated after every epoch (same forms as ``train_data``); adds
            ``val_loss`` and ``val_<metric>`` to the logs.
        metrics: names or functions (see `chainrule.train.metrics`); ``()`` for none;
            ``"auto"`` (the default): ``accuracy`` for a classification loss (cross-entropy,
            NLL, binary cross-entropy) or integer targets, none for a regression loss. The
            training metrics of an epoch are computed on the outputs the model gave during
            the epoch (train mode, weights changing), as Keras does; validation metrics use the
            final weights in eval mode.
        scheduler: a learning-rate scheduler, stepped as ``scheduler_interval`` says;
            ``ReduceLROnPlateau`` is stepped once after every epoch with ``val_loss`` (or
            ``loss`` without validation data).
        callbacks: `Callback` instances such as `EarlyStopping` and `ModelCheckpoint`.
        progress: True: a live progress bar on a terminal, one line per epoch otherwise;
            False: silent.
        shuffle: visit the training samples in a new random order every epoch.
        seed: seeds the shuffling (epoch ``k`` uses ``(seed, k)``); None draws the orders
            from the library generator (``cr.manual_seed``). Dropout always draws from the
            library generator.
        resume: path of a checkpoint written by ``fit(checkpoint=...)``: restore the model,
            optimizer, scheduler, history, data order and random state, and continue with the
            next epoch. An interrupted run resumed this way ends with exactly the weights of an
            uninterrupted one.
        checkpoint: path to write such a checkpoint to, atomically, after every
            ``checkpoint_every``-th epoch and after the last one. Its folder must exist
            (checked before the first epoch, FileNotFoundError otherwise).
        checkpoint_every: write the checkpoint every this many epochs (default 1).
        scheduler_interval: ``"epoch"`` (default): ``scheduler.step()`` after every epoch;
            ``"batch"``: after every ``optimizer.step()``, so the scheduler counts steps, not
            epochs (size ``T_max``, ``step_size``, warm-up lengths in batches:
            ``epochs * len(loader)`` for the whole run). ``ReduceLROnPlateau`` only steps per
            epoch (``"batch"`` raises ValueError). A resumed run must use the interval of the
            run that wrote the checkpoint (ValueError otherwise).
        compile: run each training step under ``cr.compile`` (captured once per batch shape,
            then replayed as NumPy kernels into reused buffers; the same numbers as eager).
            Every layer replays (dropout, batch norm, convolutions, recurrent layers,
            attention); a step the capture cannot express trains eagerly after one
            CompileWarning. A non-finite loss is detected after the step, not before it.

    Returns:
        `History` with one entry per epoch (``loss``, metrics, ``val_*``, ``lr``, ``seconds``).
        ``lr`` is the learning rate of the first param group at the end of the epoch's
        training: after its last batch (and that batch's per-batch scheduler step), before the
        per-epoch scheduler step. Per epoch that is the rate the epoch trained with; per
        batch it is the rate the next step would use (the last one of a cosine run is its
        ``eta_min``).

    Targets are matched to the outputs where that is unambiguous: under an element-wise loss
    (MSE, L1, Huber, binary cross-entropy) a 1-D target ``(N,)`` of a one-output model
    ``(N, 1)`` is used as ``(N, 1)``, not broadcast to ``(N, N)``.

    Raises:
        TrainingInterrupted: Ctrl-C (a KeyboardInterrupt) during training; it carries the
            completed epochs' ``history`` and the newest ``checkpoint``, which resumes exactly.
        TrainingDivergedError: the loss became NaN or infinite (its message names the epoch
            and batch). The checkpoint file, if any, still holds the last good epoch.
    """
    epochs = _check_epochs(epochs)
    scheduler_interval = _check_scheduler_interval(scheduler_interval, scheduler)
    checkpoint_every = _check_checkpoint(checkpoint, checkpoint_every)
    callbacks = _check_callbacks(callbacks)
    loader = _as_loader(train_data, batch_size, shuffle, seed, "fit")
    if isinstance(metrics, str) and metrics == "auto":
        metrics = _auto_metrics(loss_fn, loader)
    fns = _metric_fns(metrics)
    val_size = batch_size if isinstance(batch_size, int) and batch_size > 256 else 256
    run = Run(model, loss_fn, optimizer, scheduler, loader, History(), epochs,
              scheduler_interval)
    run.compiled_step = _compiled_step(model, loss_fn, optimizer) if compile else None
    for cb in callbacks:
        cb.on_train_begin(run)
    start, finished = 0, False
    if resume is not None:
        start, finished = _resume(resume, run, callbacks)
    run.epoch = start
    # (path, epoch) of the newest good checkpoint file, named if the loss diverges.
    last_good = (os.fspath(resume), start) if resume is not None else None

    reporter = make_reporter(progress)
    reporter.train_begin(epochs, len(loader))
    live = _live(reporter)
    was_training = getattr(model, "training", True)
    try:
        last = start if finished else epochs  # a run that stopped early stays stopped
        for epoch in range(start + 1, last + 1):
            run.epoch = epoch
            for cb in callbacks:
                cb.on_epoch_begin(run, epoch)
            reporter.epoch_begin(epoch)
            logs = _train_epoch(run, fns, callbacks, reporter, live, last_good)
            run.lr = _current_lr(optimizer)  # the end of the epoch's training (see Returns)
            if val_data is not None:
                val = _evaluate(model, loss_fn, val_data, fns, val_size)
                logs.update({"val_" + k: v for k, v in val.items()})
            logs["lr"] = run.lr
            logs["seconds"] = time.perf_counter() - run.started
            run.history.append(epoch, logs)
            if scheduler is not None and scheduler_interval == "epoch":
                if _is_plateau(scheduler):
                    scheduler.step(logs.get("val_loss", logs["loss"]))
                else:
                    scheduler.step()
            for cb in callbacks:
                cb.on_epoch_end(run, epoch, logs)
            reporter.epoch_end(epoch, {k: v for k, v in logs.items() if v is not None})
            if checkpoint is not None and (epoch % checkpoint_every == 0 or epoch == last
                                           or run.stop_training):
                _save_checkpoint(checkpoint, run, callbacks)
                last_good = (os.fspath(checkpoint), epoch)
            if run.stop_training:
                break
        for cb in callbacks:
            cb.on_train_end(run)
        for line in run.messages:
            reporter.message(line)
    except KeyboardInterrupt as e:
        if isinstance(e, TrainingInterrupted):
            raise
        raise _interrupted(run, last_good) from None
    finally:
        reporter.train_end()
        if hasattr(model, "train"):
            model.train(was_training)
    return run.history


def _compiled_step(model, loss_fn, optimizer):
    """fit's training step under cr.compile: returns (loss, outputs, matched targets)."""
    from chainrule.jit import compile as compile_step

    kind = loss_kind(loss_fn)

    def training_step(xb, yb):
        optimizer.zero_grad()
        out = model(xb)
        yb = match_target(out, yb, kind)
        loss = loss_fn(out, yb)
        loss.backward()
        optimizer.step()
        return loss, out, yb

    return compile_step(training_step)


def _train_epoch(run, fns, callbacks, reporter, live, last_good):
    """One pass over the training data; returns the epoch's ``loss`` and metrics."""
    model, loss_fn, optimizer = run.model, run.loss_fn, run.optimizer
    run.lr = _current_lr(optimizer)
    run.started = time.perf_counter()
    model.train()
    total, count, outputs, targets = 0.0, 0, [], []
    running_metrics = {}
    steps = len(run.loader)
    # Per-batch scheduling steps right after optimizer.step(), as in PyTorch.
    batch_scheduler = run.scheduler if run.scheduler_interval == "batch" else None
    kind = loss_kind(loss_fn)
    compiled = getattr(run, "compiled_step", None)
    for b, batch in enumerate(run.loader, 1):
        xb, yb = _split_batch(batch, "fit")
        if compiled is not None:  # the same step, replayed (fit(compile=True))
            loss, out, yb = compiled(xb, yb)
            value = _loss_value(loss, "fit")
            if not math.isfinite(value):
                _diverged(run, b, steps, value, last_good)
        else:
            optimizer.zero_grad()
            out = model(xb)
            yb = match_target(out, yb, kind)
            loss = loss_fn(out, yb)
            value = _loss_value(loss, "fit")
            if not math.isfinite(value):
                _diverged(run, b, steps, value, last_good)
            loss.backward()
            optimizer.step()
        if batch_scheduler is not None:
            batch_scheduler.step()
            run.lr = _current_lr(optimizer)
        n = len(xb)
        total += value * n
        count += n
        if fns:
            outputs.append(out.data)
            targets.append(yb.data)
        for cb in callbacks:
            cb.on_batch_end(run, b, {"loss": value, "size": n})
        if live:
            running = {"loss": total / count}
            for name, fn in fns:  # running means of the batch metrics, for display only
                running_metrics[name] = running_metrics.get(name, 0.0) + \
                    float(fn(yb.data, out.data)) * n
                running[name] = running_metrics[name] / count
            reporter.batch_end(b, running)
    if count == 0:
        raise ValueError("fit: the training loader produced no batches (drop_last with fewer "
                         "samples than batch_size?)")
    logs = {"loss": total / count}
    logs.update(_compute_metrics(fns, outputs, targets, kind=kind))
    return logs


def _diverged(run, batch, steps, value, last_good):
    where = f"epoch {run.epoch}/{run.epochs}, batch {batch}/{steps}"
    kept = (f" The checkpoint '{last_good[0]}' still holds the last good epoch "
            f"({last_good[1]}); resume from it with a smaller learning rate."
            if last_good is not None else "")
    raise TrainingDivergedError(
        f"fit: the loss became {value} at {where}; training stopped. Lower the learning rate "
        f"or check the data for NaN/inf values.{kept}",
        epoch=run.epoch, batch=batch, loss=value, history=run.history,
        checkpoint=None if last_good is None else last_good[0])
