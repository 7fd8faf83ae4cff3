"""`run`: one complete, resumable training job, the one ``chainrule train`` performs.

It loads the data a spec names, splits and standardises it, builds the model, trains it with
`fit` while checkpointing into its run folder, folds the scaling into the model and writes the
run folder: ``model.safetensors``, ``history.json``/``.csv``, plots and ``run.json``, which
records every option (the seed included) so that ``run(resume=folder)`` can continue it.

>>> import tempfile, chainrule as cr
>>> result = cr.train.run(RunOptions(data="xor", epochs=5, plots=False),
...                       out=tempfile.mkdtemp(), progress=False, say=lambda line: None)
>>> result.status, sorted(result.test)
('finished', ['accuracy', 'loss'])

What it promises about files and interruptions:

- Nothing is half-written: every file goes through `chainrule._atomic` (a temporary file,
  fsynced, renamed over the target); temporary files of killed saves are swept by the next save.
- The checkpoint (``checkpoint.safetensors``) is written every ``checkpoint_every`` epochs and
  after the last; it holds the model, the optimiser, the scheduler, the random state and the
  history so far. ``kill -9`` loses at most the epochs since then (one, by default).
- Ctrl-C and SIGTERM (in the main thread) stop at the next batch boundary: the history of the
  completed epochs is written, ``run.json`` says ``"status": "interrupted"``, and
  `TrainingInterrupted` is raised. A second signal stops at once.
- ``run(resume=folder)`` rebuilds the run from ``run.json`` and continues from the checkpoint;
  it ends with exactly (bit for bit) the weights of an uninterrupted run with the same seed.
- Everything that can fail before training is checked before training: the options, the data,
  the installed extras and that the folder is writable.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import signal
import sys
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chainrule.train import runfolder
from chainrule.train.callbacks import Callback
from chainrule.train.loop import TrainingDivergedError, TrainingInterrupted
from chainrule.train.runfolder import CHECKPOINT, RUN_FILE, RunFolderError

__all__ = ["OPTIMIZERS", "PRESETS", "RunError", "RunOptions", "RunResult", "run"]

# Defaults per data set: what the network needs to learn it in seconds. Options given
# explicitly override them.
PRESETS = {
    "digits": {"hidden": (256,), "epochs": 30, "lr": 1e-3, "batch_size": 32},
    "iris": {"hidden": (16,), "epochs": 100, "lr": 1e-2, "batch_size": 16},
    "gate": {"hidden": (8,), "activation": "tanh", "epochs": 300, "lr": 0.05, "batch_size": 4},
    "toy": {"hidden": (64, 64), "epochs": 100, "lr": 1e-2, "batch_size": 32},
    "spirals": {"hidden": (64, 64), "epochs": 200, "lr": 1e-2, "batch_size": 32},
    "idx": {"hidden": (128,), "epochs": 10, "lr": 1e-3, "batch_size": 128},
    "csv": {"hidden": (64,), "epochs": 100, "lr": 3e-3, "batch_size": 32},
}
# Learning rates for the optimisers that do not share Adam's scale.
OTHER_LR = {"sgd": 0.05, "adagrad": 0.05}
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
TASKS = ("auto", "classification", "regression")
ARCHS = ("mlp", "cnn")
# What each extra is needed for, with the pip command that installs it.
_EXTRA = "pip install 'chainrule[train]'"


class RunError(Exception):
    """A problem with the run's options, data or folder, found before or during the run: one
    line for the user (the CLI prints it and exits with code 1)."""


@dataclass
class RunOptions:
    """Every option of a run; ``None`` means the data set's preset (see `PRESETS`).

    >>> RunOptions(data="iris").resolved().hidden
    (16,)
    """

    data: str = "digits"
    target: str | None = None
    task: str = "auto"
    hidden: tuple | None = None
    activation: str | None = None
    arch: str = "mlp"
    optimizer: str = "adam"
    lr: float | None = None
    lr_schedule: str = "none"
    epochs: int | None = None
    batch_size: int | None = None
    test_size: float = 0.2
    seed: int = 0
    checkpoint_every: int = 1
    plots: bool = True
    compile: bool = False  # each step under cr.compile (issue 13): the same numbers, replayed
    # A new option is a field here (recorded in run.json, so --resume repeats it), a line in
    # cli.TRAIN_OPTIONS and an argparse argument; model options are read by build_model.

    def spec(self):
        """The parsed data spec (RunError if unknown)."""
        from chainrule.train.prepare import parse_data_spec

        try:
            return parse_data_spec(self.data)
        except ValueError as e:
            raise RunError(str(e)) from None

    def resolved(self) -> RunOptions:
        """A copy with the presets filled in and every value checked."""
        spec = self.spec()
        preset = _preset(spec)
        opts = dataclasses.replace(self)
        opts.data = str(spec)
        opts.hidden = tuple(preset["hidden"] if self.hidden is None else self.hidden)
        opts.activation = self.activation or preset.get("activation", "relu")
        opts.epochs = self.epochs or preset["epochs"]
        opts.batch_size = self.batch_size or preset["batch_size"]
        opts.lr = self.lr or OTHER_LR.get(self.optimizer, preset["lr"])
        opts._check(spec)
        return opts

    def _check(self, spec):
        from chainrule.train.prepare import ACTIVATIONS, LR_SCHEDULES

        def positive_int(name):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise RunError(f"{name} must be a positive integer, got {value!r}")

        for name in ("epochs", "batch_size", "checkpoint_every"):
            positive_int(name)
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) \
                or self.seed < 0:
            raise RunError(f"seed must be an integer >= 0, got {self.seed!r}")
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) or not self.lr > 0:
            raise RunError(f"lr must be a positive number, got {self.lr!r}")
        if not isinstance(self.test_size, (int, float)) or not 0 < self.test_size < 1:
            raise RunError(f"test_size must be between 0 and 1, got {self.test_size!r}")
        for name, value, choices in (("optimizer", self.optimizer, OPTIMIZERS),
                                     ("task", self.task, TASKS),
                                     ("activation", self.activation, ACTIVATIONS),
                                     ("lr_schedule", self.lr_schedule, LR_SCHEDULES)):
            if value not in choices:
                raise RunError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        if any(isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1
               for h in self.hidden):
            raise RunError(f"hidden sizes must be positive integers, got {self.hidden!r}")
        if self.target is not None and spec.kind != "csv":
            raise RunError("--target only applies to csv:PATH data")
        if self.arch not in ARCHS:
            raise RunError(f"arch must be one of {', '.join(ARCHS)}, got {self.arch!r}")

    def to_dict(self) -> dict:
        """JSON-friendly (tuples as lists); inverse of `from_dict`."""
        d = dataclasses.asdict(self)
        d["hidden"] = None if self.hidden is None else list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> RunOptions:
        """Options recorded in a ``run.json`` (unknown keys are refused: a newer chainrule)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise RunError(f"run.json records options this chainrule does not know: {unknown}")
        d = dict(d)
        if d.get("hidden") is not None:
            d["hidden"] = tuple(d["hidden"])
        return cls(**d)


@dataclass
class RunResult:
    """What `run` returns: the folder, ``status`` ("finished"), the trained ``model`` (taking
    raw features), its ``test`` metrics, the ``history`` and the ``files`` written."""

    out: Path
    status: str
    model: object
    test: dict
    history: object
    files: list
    seconds: float
    summary: str


def _preset(spec):
    from chainrule.train.prepare import GATES, IDX, TOYS

    if spec.kind in GATES:
        return PRESETS["gate"]
    if spec.kind == "spirals":
        return PRESETS["spirals"]
    if spec.kind in TOYS:
        return PRESETS["toy"]
    if spec.kind in IDX:
        return PRESETS["idx"]
    return PRESETS.get(spec.kind, PRESETS["csv"])


def describe_error(e) -> str:
    """One line for an OSError/ValueError/KeyError a user's file or option caused."""
    if isinstance(e, OSError) and e.filename is not None:
        reason = e.strerror or str(e)
        return f"{reason}: {e.filename}"
    text = str(e)
    return text.strip("'\"") if isinstance(e, KeyError) else text


# ------------------------------------------------------------------------------- pre-flight
def check_extras(plots: bool) -> None:
    """RunError naming the extra when saving (safetensors) or plotting (matplotlib) would fail
    at the end of the run."""
    if importlib.util.find_spec("safetensors") is None:
        raise RunError(f"saving the run needs safetensors, which is not installed: {_EXTRA}")
    if plots and importlib.util.find_spec("matplotlib") is None:
        raise RunError(f"the plots need matplotlib, which is not installed: {_EXTRA} "
                       "(or run without plots: --no-plots)")


def load_data(opts, spec):
    """The run's table (RunError for a missing or malformed file, or a --task the data set
    contradicts)."""
    from chainrule.train.prepare import load_table

    try:
        table = load_table(spec, target=opts.target, task=opts.task)
    except (OSError, ValueError, KeyError) as e:
        raise RunError(describe_error(e)) from None
    if opts.task != "auto" and table.task != opts.task:
        raise RunError(f"--task {opts.task} contradicts the data: {spec} is a "
                       f"{table.task} data set")
    return table


def _fingerprint(table) -> str:
    """CRC-32 of the features and targets: a resumed run must see the same data."""
    crc = zlib.crc32(np.ascontiguousarray(table.X).view(np.uint8).reshape(-1))
    crc = zlib.crc32(np.ascontiguousarray(table.y).view(np.uint8).reshape(-1), crc)
    return f"{crc:08x}"


# ---------------------------------------------------------------------------- preparation
@dataclass
class _Prepared:
    X_tr: np.ndarray
    y_tr: np.ndarray
    X_te: np.ndarray
    y_te: np.ndarray
    split_note: str
    classify: bool
    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: np.ndarray | None
    y_std: np.ndarray | None


def _split(opts, table) -> _Prepared:
    from chainrule.train.prepare import split_indices, standardizer

    if opts.arch == "cnn":  # before any work: the features must form square images
        from chainrule.train import cnn

        try:
            cnn.image_side(table.X.shape[1])
        except ValueError as e:
            raise RunError(str(e)) from None

    classify = table.task == "classification"
    if table.test is not None:
        X_tr, y_tr, X_te, y_te = table.X, table.y, table.test.X, table.test.y
        note = "the data's own test set"
    elif not table.split:
        X_tr, y_tr, X_te, y_te = table.X, table.y, table.X, table.y
        note = f"all {len(table.y)} rows (too few to hold any out)"
    else:
        tr, te = split_indices(table.y if classify else np.zeros(len(table.y)),
                               opts.test_size, opts.seed, stratify=classify)
        X_tr, y_tr, X_te, y_te = table.X[tr], table.y[tr], table.X[te], table.y[te]
        note = (f"{'stratified ' if classify else ''}{1 - opts.test_size:.0%}/"
                f"{opts.test_size:.0%} split, seed {opts.seed}")
        if len(te) == 0:  # e.g. one row per class: nothing can be held out
            table.split = False
            X_tr, y_tr, X_te, y_te = table.X, table.y, table.X, table.y
            note = f"all {len(table.y)} rows (too few to hold any out)"
    if opts.arch == "cnn":  # one mean and std for all pixels (see train/cnn.py)
        x_mean, x_std = cnn.image_standardizer(X_tr)
    else:
        x_mean, x_std = standardizer(X_tr)
    y_mean = y_std = None
    if not classify:
        y_mean, y_std = standardizer(y_tr)
    return _Prepared(X_tr, y_tr, X_te, y_te, note, classify, x_mean, x_std, y_mean, y_std)


def build_model(opts, n_in: int, n_out: int):
    """The network a run trains: `build_mlp` with the run's hidden sizes and activation, or
    for ``arch="cnn"`` the small convolutional network of `chainrule.train.cnn` (``hidden`` is
    then not used). Seeded by the caller (``cr.manual_seed(opts.seed)``)."""
    if opts.arch == "cnn":
        from chainrule.train.cnn import build_cnn

        return build_cnn(n_in, n_out, opts.activation)
    from chainrule.train.prepare import build_mlp

    return build_mlp(n_in, opts.hidden, n_out, opts.activation)


def _describe_model(opts, model, n_in, n_out):
    if opts.arch == "cnn":
        from chainrule.train.cnn import image_side

        side = image_side(n_in)
        return f"CNN on {side}x{side} images, {model.num_parameters():,} parameters"
    hidden = "-".join(map(str, opts.hidden)) + "-" if opts.hidden else ""
    return f"MLP {n_in}-{hidden}{n_out}"


def make_optimizer(name, params, lr):
    """The optimiser ``name`` (SGD with momentum 0.9; the others with their defaults)."""
    from chainrule import optim

    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9)
    return {"adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop,
            "adagrad": optim.Adagrad}[name](params, lr=lr)


# ----------------------------------------------------------------------- signals and saving
class _Signals:
    """SIGINT and SIGTERM, while training: the first asks training to stop at the next batch
    boundary (so no state is left half-updated), a second stops at once. Only in the main
    thread (elsewhere signals cannot be handled; Ctrl-C then arrives as usual)."""

    def __init__(self):
        self.received = None
        self._saved = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    self._saved[sig] = signal.signal(sig, self._handle)
                except (ValueError, OSError):  # pragma: no cover - exotic platforms
                    pass
        return self

    def _handle(self, signum, frame):
        if self.received is not None:
            raise KeyboardInterrupt
        self.received = signum

    def check(self):
        if self.received is not None:
            raise KeyboardInterrupt

    def __exit__(self, *exc):
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)
        return False


class _StopOnSignal(Callback):
    def __init__(self, signals):
        self.signals = signals

    def on_epoch_begin(self, run, epoch):
        self.signals.check()

    def on_batch_end(self, run, batch, logs):
        self.signals.check()


def _write_history(folder, history):
    history.to_json(folder / "history.json")
    history.to_csv(folder / "history.csv")


def _write_record(folder, record):
    from chainrule._atomic import atomic_write_text

    atomic_write_text(folder / RUN_FILE, json.dumps(record, indent=2, default=str) + "\n",
                      "run.json")


# -------------------------------------------------------------------------------------- run
def run(options: RunOptions | None = None, out=None, *, resume=None, overwrite: bool = False,
        progress: bool = True, say=print) -> RunResult:
    """Train as ``chainrule train`` does and write the run folder; see the module docstring.

    Args:
        options: a `RunOptions` (default: the digits preset). Not with ``resume``.
        out: the run folder; None: a new folder ``runs/<data>-<date>-<time>[-k]``. A folder
            holding another run is refused unless ``overwrite`` (which removes its files).
        resume: a run folder to continue, with the options its ``run.json`` records.
        progress: print the run's description and fit's progress.
        say: where lines for the user go (``print``).

    Raises:
        RunError: a problem with the options, data, folder or extras (before training), a
            damaged checkpoint to resume from, a full disk, or a diverged loss; one line.
        TrainingInterrupted: SIGINT/SIGTERM; the checkpoint and the history are kept. Its
            ``folder``, ``signal`` and ``checkpoint_epoch`` (0: none yet) say where and what.
    """
    started = time.perf_counter()
    record = None
    if resume is not None:
        if options is not None or out is not None:
            raise RunError("resume continues a run with the options its run.json records; "
                           "give no other options")
        try:
            record = runfolder.read_record(resume)
        except RunFolderError as e:
            raise RunError(str(e)) from None
        opts = RunOptions.from_dict(record["options"]).resolved()
    else:
        opts = (options or RunOptions()).resolved()
    spec = opts.spec()
    check_extras(opts.plots)
    table = load_data(opts, spec)
    fingerprint = _fingerprint(table)
    try:
        if resume is not None:
            folder = Path(resume)
            if record.get("data_crc32") not in (None, fingerprint):
                raise RunError(f"the data {spec} changed since the run in {folder} started; "
                               "it cannot be resumed exactly (start a new run)")
        elif out is None:
            folder = runfolder.claim_default("runs", spec.short_name)
        else:
            folder = runfolder.claim_given(out, overwrite=overwrite)
        runfolder.check_folder(folder)
    except RunFolderError as e:
        raise RunError(str(e)) from None
    except OSError as e:
        raise RunError(f"cannot create the output folder {out}: {describe_error(e)}") from None
    checkpoint = folder / CHECKPOINT
    resume_from = checkpoint if resume is not None and checkpoint.is_file() else None
    if resume is not None and record.get("status") == "finished" and resume_from is not None:
        say(f"{folder}: the run already finished ({opts.epochs} epochs); nothing to resume")

    prep = _split(opts, table)
    resumes = int((record or {}).get("resumes", 0)) + (resume is not None)
    record = {
        "status": "running", "options": opts.to_dict(), "seed": opts.seed,
        "data": str(spec), "data_crc32": fingerprint, "chainrule": _version(),
        "command": _command(opts), "started": time.time(), "resumes": resumes,
    }
    try:
        _write_record(folder, record)
    except OSError as e:
        raise RunError(f"cannot write the run to {folder}: {describe_error(e)}") from None

    model, history, test, loss_fn = _train(opts, spec, table, prep, folder, checkpoint,
                                           resume_from, record, progress, say)
    seconds = time.perf_counter() - started
    meta = _metadata(opts, spec, table, prep, test)
    try:
        files = _write_outputs(folder, model, history, meta, prep, table, opts)
        _write_record(folder, {**record, **meta, "status": "finished", "seconds": seconds,
                               "files": files + [RUN_FILE, CHECKPOINT]})
    except OSError as e:
        raise RunError(f"cannot write the run to {folder}: {describe_error(e)}") from None
    n = len(prep.y_te)
    if prep.classify:
        summary = (f"test accuracy: {test['accuracy']:.4f} ({n} samples, {prep.split_note}); "
                   f"{seconds:.1f} s")
    else:
        summary = (f"test r2: {test['r2']:.4f}  mse: {test['mse']:.6g}  mae: {test['mae']:.6g} "
                   f"({n} samples, {prep.split_note}); {seconds:.1f} s")
    say(summary)
    say(f"saved to {folder}{os.sep}: {', '.join(files)}")
    return RunResult(folder, "finished", model, test, history, files, seconds, summary)


def _version():
    try:
        from chainrule import __version__
    except ImportError:  # pragma: no cover
        return None
    return __version__


def _command(opts) -> list:
    """The ``chainrule train`` arguments that repeat this run."""
    args = ["chainrule", "train", "--data", opts.data, "--task", opts.task,
            "--hidden", ",".join(map(str, opts.hidden)) or "none",
            "--activation", opts.activation, "--arch", opts.arch, "--optimizer", opts.optimizer,
            "--lr", repr(opts.lr), "--lr-schedule", opts.lr_schedule,
            "--epochs", str(opts.epochs), "--batch-size", str(opts.batch_size),
            "--test-size", repr(opts.test_size), "--seed", str(opts.seed),
            "--checkpoint-every", str(opts.checkpoint_every)]
    if opts.target is not None:
        args += ["--target", str(opts.target)]
    if not opts.plots:
        args.append("--no-plots")
    if opts.compile:
        args.append("--compile")
    return args


def _train(opts, spec, table, prep, folder, checkpoint, resume_from, record, progress, say):
    import chainrule as cr
    from chainrule import io
    from chainrule.train.loop import evaluate, fit, predict
    from chainrule.train.prepare import fold_scaling, make_lr_schedule

    m32, s32 = prep.x_mean.astype(np.float32), prep.x_std.astype(np.float32)
    scale = lambda X: (X - m32) / s32  # noqa: E731  (float32 throughout: no big copies)
    if prep.classify:
        n_out = len(table.class_names)
        loss_fn, metrics = cr.nn.CrossEntropyLoss(), ("accuracy",)
        y_fit_tr, y_fit_te = prep.y_tr, prep.y_te
    else:
        n_out = prep.y_tr.shape[1]
        loss_fn, metrics = cr.nn.MSELoss(), ("mse", "r2")
        y_fit_tr = ((prep.y_tr - prep.y_mean) / prep.y_std).astype(np.float32)
        y_fit_te = ((prep.y_te - prep.y_mean) / prep.y_std).astype(np.float32)

    n_in = prep.X_tr.shape[1]
    cr.manual_seed(opts.seed)
    model = build_model(opts, n_in, n_out)
    optimizer = make_optimizer(opts.optimizer, model.parameters(), opts.lr)
    steps_per_epoch = -(-len(prep.y_tr) // opts.batch_size)  # fit keeps the last short batch
    scheduler, interval = make_lr_schedule(opts.lr_schedule, optimizer, opts.epochs,
                                           steps_per_epoch)
    if progress:
        schedule = "" if scheduler is None else f" ({opts.lr_schedule} schedule)"
        say(f"chainrule train: {spec} ({table.task}, {len(prep.y_tr)} train / "
            f"{len(prep.y_te)} test samples, {n_in} features); "
            f"{_describe_model(opts, model, n_in, n_out)} "
            f"{opts.activation}, {opts.optimizer} lr={opts.lr:g}{schedule}, {opts.epochs} "
            f"epochs of batch {opts.batch_size}")
        if resume_from is not None:
            say(f"resuming from {resume_from}")
    if resume_from is not None:
        _check_checkpoint(resume_from)
    signals = _Signals()
    callbacks = [_StopOnSignal(signals)]
    try:
        with signals:
            history = fit(model, loss_fn, optimizer, (scale(prep.X_tr), y_fit_tr),
                          epochs=opts.epochs, batch_size=opts.batch_size,
                          val_data=(scale(prep.X_te), y_fit_te), metrics=metrics,
                          progress=progress, seed=opts.seed, scheduler=scheduler,
                          scheduler_interval=interval, callbacks=callbacks,
                          checkpoint=checkpoint, checkpoint_every=opts.checkpoint_every,
                          resume=resume_from, compile=bool(opts.compile))
    except TrainingInterrupted as e:
        e.signal = signals.received or signal.SIGINT
        e.folder = folder
        _keep_interrupted(folder, record, e)
        raise
    except io.CheckpointError as e:
        raise RunError(f"cannot resume from {checkpoint}: {e}") from None
    except TrainingDivergedError as e:
        _keep(folder, {**record, "status": "diverged"}, e.history)
        raise RunError(str(e)) from None
    except OSError as e:  # a full disk or a folder gone mid-run
        raise RunError(f"cannot write the run to {folder}: {describe_error(e)}; the last "
                       f"complete checkpoint is kept in {checkpoint}") from None

    # The saved model takes raw features: fold the scaling into its first and last layers.
    if opts.arch == "cnn":
        from chainrule.train.cnn import fold_image_scaling

        fold_image_scaling(model, prep.x_mean, prep.x_std)
    else:
        fold_scaling(model, prep.x_mean, prep.x_std, prep.y_mean, prep.y_std)
    if prep.classify:
        test = evaluate(model, loss_fn, (prep.X_te, prep.y_te), ("accuracy",), batch_size=1024)
    else:
        raw = predict(model, prep.X_te, batch_size=1024)
        test = {name: float(cr.train.get_metric(name)[1](prep.y_te, raw))
                for name in ("mse", "mae", "r2")}
    return model, history, test, loss_fn


def _check_checkpoint(path):
    """RunError for a checkpoint that cannot be resumed from (damaged, or not fit's)."""
    from chainrule import io

    try:
        ckpt = io.load(path)
    except (OSError, ValueError) as e:
        raise RunError(f"cannot resume from {path}: {describe_error(e)}; start the run "
                       "again with --out and --overwrite") from None
    if not isinstance(ckpt, dict) or ckpt.get("kind") != "checkpoint":
        raise RunError(f"cannot resume from {path}: it is not a training checkpoint")


def _keep(folder, record, history):
    """Write what survives a stopped run (best effort: the disk may be the reason)."""
    try:
        if history is not None:
            _write_history(folder, history)
        _write_record(folder, record)
    except OSError:
        pass


def _keep_interrupted(folder, record, e):
    from chainrule import io

    done = 0
    if e.checkpoint is not None:
        try:
            done = int(io.load(e.checkpoint)["epoch"])
        except (OSError, ValueError, KeyError, TypeError):
            done = 0
    e.checkpoint_epoch = done
    _keep(folder, {**record, "status": "interrupted", "checkpoint_epoch": done,
                   "resume": f"chainrule train --resume {folder}"}, e.history)


def _metadata(opts, spec, table, prep, test):
    return {
        "data": str(spec), "task": table.task, "class_names": table.class_names,
        "feature_names": table.feature_names, "target": table.target_name,
        "n_features": int(prep.X_tr.shape[1]),
        "split": {"test_size": opts.test_size, "seed": opts.seed} if table.split else None,
        "arch": opts.arch, "hidden": list(opts.hidden) if opts.arch == "mlp" else None,
        "activation": opts.activation,
        "optimizer": opts.optimizer, "lr": opts.lr, "lr_schedule": opts.lr_schedule,
        "epochs": opts.epochs, "batch_size": opts.batch_size,
        "test": test,
        "notes": ["the model takes raw features: the standardisation of the inputs"
                  + ("" if prep.classify else " and of the target") + " is folded into its "
                  "layers",
                  "val_* in the history is the held-out test set, watched but never used "
                  "to choose anything"]
                 + ([] if prep.classify else ["the history's loss and mse are in standardised "
                                              "target units; the test numbers in the data's "
                                              "units"]),
    }


def _write_outputs(folder, model, history, meta, prep, table, opts):
    import chainrule as cr
    from chainrule.train.loop import predict

    cr.save_model(model, folder / "model.safetensors", metadata=meta)
    _write_history(folder, history)
    files = ["model.safetensors", "history.json", "history.csv"]
    if not opts.plots:
        return files
    from chainrule.teach import plots

    curves = {k: v for k, v in history.history.items() if k not in ("lr", "seconds")}
    plots.plot_history(curves, folder / "history.png", title=f"{meta['data']}: training curves")
    files.append("history.png")
    if prep.classify:
        y_pred = predict(model, prep.X_te, batch_size=1024).argmax(axis=1)
        plots.plot_confusion_matrix(prep.y_te, y_pred, folder / "confusion_matrix.png",
                                    class_names=table.class_names,
                                    title=f"{meta['data']}: test set ({len(prep.y_te)} samples)")
        files.append("confusion_matrix.png")
        if prep.X_te.shape[1] == 2:
            plots.plot_decision_boundary(model, table.X, table.y,
                                         folder / "decision_boundary.png",
                                         title=f"{meta['data']}: decision boundary")
            files.append("decision_boundary.png")
    return files


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: chainrule train")
