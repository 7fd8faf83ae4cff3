"""The ``chainrule`` command: train, evaluate and use small networks from the shell.

    chainrule train                         # an MLP on the 8x8 digits, prints test accuracy
    chainrule train --data moons --hidden 32,32 --epochs 200 --out runs/moons
    chainrule predict runs/moons/model.safetensors points.csv --output predictions.csv
    chainrule evaluate runs/moons/model.safetensors moons
    chainrule demo NAME

Exit codes: 0 success, 1 a user error such as a missing or unreadable file (one line on
stderr, no traceback), 2 wrong arguments (a usage message), 130 interrupted.

`main(argv)` runs the command without leaving the process, so tests and notebooks call it
directly: ``main(["train", "--epochs", "5", "--out", "tmp"])`` returns the exit code.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

PROG = "chainrule"

# Defaults per data set: what the network needs to learn it in seconds. Options given on the
# command line override them.
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


class UserError(Exception):
    """An error caused by the user's input: reported as one line, exit code 1."""


# ---------------------------------------------------------------------------------- arguments
def _data_arg(text):
    from chainrule.train.prepare import parse_data_spec

    try:
        return parse_data_spec(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _hidden_arg(text):
    text = text.strip()
    if text in ("", "none", "0"):
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer sizes such as 64,32, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive, got {text!r}")
    return sizes


def _positive(kind):
    noun = "an integer" if kind is int else "a number"

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``chainrule`` command (subcommands train, predict,
    evaluate, demo)."""
    from chainrule.train.prepare import ACTIVATIONS, LR_SCHEDULES

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Train, evaluate and use small neural networks (chainrule, NumPy only).",
        epilog="Start with: chainrule train",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    data_help = ("digits, iris, xor (or and/or/nand/nor/xnor), circles, moons, spirals, blobs, "
                 "mnist:DIR, fashion_mnist:DIR or csv:PATH")
    train = sub.add_parser(
        "train", help="train an MLP and save it with its history and plots",
        description="Train a multilayer perceptron. With no options: the 8x8 digits, "
                    "a stratified 80/20 split, standardised features, one hidden layer of 256 "
                    "ReLU units, Adam and 30 epochs; prints the test accuracy.")
    train.add_argument("--data", type=_data_arg, default="digits", metavar="DATA",
                       help=f"data set: {data_help} (default: digits)")
    train.add_argument("--target", metavar="COL",
                       help="target column of a CSV file: a name or index (default: last)")
    train.add_argument("--task", choices=("auto", "classification", "regression"),
                       default="auto", help="for CSV data: what the target is (default: auto: "
                       "text or integer targets with <= 50 values are classes)")
    train.add_argument("--hidden", type=_hidden_arg, metavar="SIZES",
                       help="hidden layer sizes, e.g. 64,32 (default depends on the data; "
                       "'none' for a linear model)")
    train.add_argument("--activation", choices=ACTIVATIONS,
                       help="hidden activation (default: relu; tanh for logic gates)")
    train.add_argument("--arch", choices=("mlp", "cnn"), default="mlp",
                       help="mlp (default) or cnn: a small convolutional network for square "
                       "grey images (digits, mnist:DIR, fashion_mnist:DIR); --hidden is then "
                       "not used")
    train.add_argument("--optimizer", choices=("sgd", "adam", "adamw", "rmsprop", "adagrad"),
                       default="adam", help="optimiser (default: adam)")
    train.add_argument("--lr", type=_positive(float), help="learning rate")
    train.add_argument("--lr-schedule", choices=LR_SCHEDULES, default="none",
                       help="none: a constant lr (default); cosine: anneal to 0 over all "
                       "batches; step: halve it every third of the epochs")
    train.add_argument("--epochs", type=_positive(int), help="passes over the training data")
    train.add_argument("--batch-size", type=_positive(int), help="samples per step")
    train.add_argument("--test-size", type=_fraction, default=0.2,
                       help="fraction held out for testing (default: 0.2)")
    train.add_argument("--seed", type=_non_negative_int, default=0,
                       help="seed of the split, the initial weights and the shuffles "
                       "(default: 0)")
    train.add_argument("--out", metavar="DIR",
                       help="output folder (default: runs/<data>-<date>-<time>)")
    train.add_argument("--no-progress", action="store_true",
                       help="print nothing while training")
    train.set_defaults(func=cmd_train)

    pred = sub.add_parser("predict", help="write a model's predictions for a CSV file",
                          description="Predict every row of INPUT (a CSV file of features; "
                          "a header naming the training features selects those columns).")
    pred.add_argument("model", metavar="MODEL", help="model file written by chainrule train")
    pred.add_argument("input", metavar="INPUT.csv", help="CSV file of features")
    pred.add_argument("--output", "-o", metavar="OUT.csv",
                      help="where to write the predictions (default: standard output)")
    pred.add_argument("--batch-size", type=_positive(int), default=1024)
    pred.set_defaults(func=cmd_predict)

    ev = sub.add_parser("evaluate", help="print a model's metrics on a data set",
                        description="Evaluate MODEL on DATA. When DATA is what the model was "
                        "trained on, its held-out test split is used (use --all for every "
                        "sample); MNIST uses its test files.")
    ev.add_argument("model", metavar="MODEL", help="model file written by chainrule train")
    ev.add_argument("data", type=_data_arg, metavar="DATA", help=data_help)
    ev.add_argument("--target", metavar="COL", help="target column of a CSV file")
    ev.add_argument("--all", action="store_true", help="evaluate on every sample")
    ev.add_argument("--batch-size", type=_positive(int), default=1024)
    ev.set_defaults(func=cmd_evaluate)

    demo = sub.add_parser("demo", help="run a guided demo of the lecture notes",
                          description="Run the demo NAME; without NAME, list the demos.")
    demo.add_argument("name", metavar="NAME", nargs="?", help="which demo")
    demo.add_argument("--out", metavar="DIR", help="folder for the demo's pictures")
    demo.set_defaults(func=cmd_demo)
    return parser


# ---------------------------------------------------------------------------------- helpers
def _say(text, quiet=False):
    if not quiet:
        print(text, flush=True)


def _load_table(spec, target=None, task="auto"):
    from chainrule.train.prepare import load_table

    try:
        return load_table(spec, target=target, task=task)
    except (OSError, ValueError, KeyError) as e:
        raise UserError(_describe(e)) from None


def _describe(e):
    if isinstance(e, OSError) and e.filename is not None:
        reason = e.strerror or str(e)
        return f"{reason}: {e.filename}"
    text = str(e)
    return text.strip("'\"") if isinstance(e, KeyError) else text


def _load_model(path):
    from chainrule import io

    if not os.path.exists(path):
        raise UserError(f"no such model file: {path}")
    try:
        model = io.load_model(path)
        meta = io.load(path).get("metadata") or {}
    except (OSError, ValueError, TypeError, KeyError) as e:
        raise UserError(f"cannot load the model {path}: {_describe(e)}") from None
    return model, meta if isinstance(meta, dict) else {}


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


def _make_optimizer(name, params, lr):
    from chainrule import optim

    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9)
    return {"adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop,
            "adagrad": optim.Adagrad}[name](params, lr=lr)


def _softmax(z):
    import numpy as np

    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# ------------------------------------------------------------------------------------ train
def cmd_train(args) -> int:
    """``chainrule train``: see `build_parser` for the options."""
    import numpy as np

    import chainrule as cr
    from chainrule.train import fit
    from chainrule.train.history import atomic_write_text
    from chainrule.train.loop import evaluate, predict
    from chainrule.train.prepare import (
        build_mlp,
        fold_scaling,
        make_lr_schedule,
        split_indices,
        standardizer,
    )

    quiet = args.no_progress
    spec = args.data  # argparse runs _data_arg on the default too
    if args.target is not None and spec.kind != "csv":
        raise UserError("--target only applies to csv:PATH data")
    preset = _preset(spec)
    hidden = args.hidden if args.hidden is not None else preset["hidden"]
    activation = args.activation or preset.get("activation", "relu")
    epochs = args.epochs or preset["epochs"]
    batch_size = args.batch_size or preset["batch_size"]
    lr = args.lr or OTHER_LR.get(args.optimizer, preset["lr"])
    out = Path(args.out or Path("runs") / f"{spec.short_name}-{time.strftime('%Y%m%d-%H%M%S')}")

    started = time.perf_counter()
    table = _load_table(spec, args.target, args.task)
    try:  # fail before training, not after, when the folder cannot be made
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create the output folder {out}: {_describe(e)}") from None
    classify = table.task == "classification"
    arch = getattr(args, "arch", "mlp")
    if arch == "cnn":
        from chainrule.train import cnn
        try:
            cnn.image_side(table.X.shape[1])
        except ValueError as e:
            raise UserError(f"{e}") from None
    if table.test is not None:
        X_tr, y_tr, X_te, y_te = table.X, table.y, table.test.X, table.test.y
        split_note = "the data's own test set"
    elif not table.split:
        X_tr, y_tr, X_te, y_te = table.X, table.y, table.X, table.y
        split_note = f"all {len(table.y)} rows (too few to hold any out)"
    else:
        tr, te = split_indices(table.y if classify else np.zeros(len(table.y)),
                               args.test_size, args.seed, stratify=classify)
        X_tr, y_tr, X_te, y_te = table.X[tr], table.y[tr], table.X[te], table.y[te]
        split_note = (f"{'stratified ' if classify else ''}{1 - args.test_size:.0%}/"
                      f"{args.test_size:.0%} split, seed {args.seed}")
        if len(te) == 0:  # e.g. one row per class: nothing can be held out
            table.split = False
            X_tr, y_tr, X_te, y_te = table.X, table.y, table.X, table.y
            split_note = f"all {len(table.y)} rows (too few to hold any out)"
    x_mean, x_std = standardizer(X_tr) if arch == "mlp" else cnn.image_standardizer(X_tr)
    m32, s32 = x_mean.astype(np.float32), x_std.astype(np.float32)
    scale = lambda X: (X - m32) / s32  # noqa: E731  (float32 throughout: no big copies)
    y_mean = y_std = None
    if classify:
        n_out = len(table.class_names)
        loss_fn, metrics = cr.nn.CrossEntropyLoss(), ("accuracy",)
        y_fit_tr, y_fit_te = y_tr, y_te
    else:
        n_out = y_tr.shape[1]
        y_mean, y_std = standardizer(y_tr)
        loss_fn, metrics = cr.nn.MSELoss(), ("mse", "r2")
        y_fit_tr = ((y_tr - y_mean) / y_std).astype(np.float32)
        y_fit_te = ((y_te - y_mean) / y_std).astype(np.float32)

    cr.manual_seed(args.seed)
    if arch == "cnn":
        model = cnn.build_cnn(X_tr.shape[1], n_out, activation)
        side = cnn.image_side(X_tr.shape[1])
        model_note = f"CNN on {side}x{side} images, {model.num_parameters():,} parameters"
    else:
        model = build_mlp(X_tr.shape[1], hidden, n_out, activation)
        model_note = (f"MLP {X_tr.shape[1]}-{'-'.join(map(str, hidden)) + '-' if hidden else ''}"
                      f"{n_out}")
    optimizer = _make_optimizer(args.optimizer, model.parameters(), lr)
    steps_per_epoch = -(-len(y_tr) // batch_size)  # fit's loader keeps the last short batch
    scheduler, interval = make_lr_schedule(args.lr_schedule, optimizer, epochs, steps_per_epoch)
    schedule_note = "" if scheduler is None else f" ({args.lr_schedule} schedule)"
    _say(f"chainrule train: {spec} ({table.task}, {len(y_tr)} train / {len(y_te)} test "
         f"samples, {X_tr.shape[1]} features); {model_note} {activation}, "
         f"{args.optimizer} lr={lr:g}{schedule_note}, {epochs} epochs of batch {batch_size}",
         quiet)
    try:
        history = fit(model, loss_fn, optimizer, (scale(X_tr), y_fit_tr), epochs=epochs,
                      batch_size=batch_size, val_data=(scale(X_te), y_fit_te),
                      metrics=metrics, progress=not quiet, seed=args.seed,
                      scheduler=scheduler, scheduler_interval=interval)
    except cr.train.TrainingDivergedError as e:
        raise UserError(f"{e}") from None
    seconds = time.perf_counter() - started

    # The saved model takes raw features: fold the scaling into its first and last layers.
    if arch == "cnn":
        cnn.fold_image_scaling(model, x_mean, x_std)
    else:
        fold_scaling(model, x_mean, x_std, y_mean, y_std)
    if classify:
        test = evaluate(model, loss_fn, (X_te, y_te), metrics, batch_size=1024)
    else:
        raw = predict(model, X_te, batch_size=1024)
        test = {name: float(cr.train.get_metric(name)[1](y_te, raw))
                for name in ("mse", "mae", "r2")}

    meta = {
        "data": str(spec), "task": table.task, "class_names": table.class_names,
        "feature_names": table.feature_names, "target": table.target_name,
        "n_features": int(X_tr.shape[1]), "split": {"test_size": args.test_size,
                                                    "seed": args.seed} if table.split else None,
        "arch": arch, "hidden": list(hidden) if arch == "mlp" else None,
        "activation": activation, "optimizer": args.optimizer,
        "lr": lr, "lr_schedule": args.lr_schedule, "epochs": epochs,
        "batch_size": batch_size,
        "test": test,
        "notes": ["the model takes raw features: the standardisation of the inputs"
                  + ("" if classify else " and of the target") + " is folded into its layers",
                  "val_* in the history is the held-out test set, watched but never used "
                  "to choose anything"]
                 + ([] if classify else ["the history's loss and mse are in standardised "
                                         "target units; the test numbers in the data's units"]),
    }
    try:
        files = _write_run(out, model, history, meta, X_te, y_te, table, classify)
        atomic_write_text(out / "run.json", json.dumps(
            {**meta, "seconds": seconds, "files": files}, indent=2) + "\n")
    except OSError as e:
        raise UserError(f"cannot write the run to {out}: {_describe(e)}") from None
    if classify:
        print(f"test accuracy: {test['accuracy']:.4f} ({len(y_te)} samples, {split_note}); "
              f"{seconds:.1f} s")
    else:
        print(f"test r2: {test['r2']:.4f}  mse: {test['mse']:.6g}  mae: {test['mae']:.6g} "
              f"({len(y_te)} samples, {split_note}); {seconds:.1f} s")
    print(f"saved to {out}{os.sep}: {', '.join(files)}")
    return 0


def _write_run(out, model, history, meta, X_te, y_te, table, classify):
    import chainrule as cr
    from chainrule.train.loop import predict

    cr.save_model(model, out / "model.safetensors", metadata=meta)
    history.to_json(out / "history.json")
    history.to_csv(out / "history.csv")
    files = ["model.safetensors", "history.json", "history.csv"]
    try:
        from chainrule.teach import plots
    except ImportError as e:  # pragma: no cover - teach is part of the package
        print(f"{PROG}: note: no plots ({e})", file=sys.stderr)
        return files
    curves = {k: v for k, v in history.history.items() if k not in ("lr", "seconds")}
    try:
        plots.plot_history(curves, out / "history.png",
                           title=f"{meta['data']}: training curves")
        files.append("history.png")
        if classify:
            y_pred = predict(model, X_te, batch_size=1024).argmax(axis=1)
            plots.plot_confusion_matrix(y_te, y_pred, out / "confusion_matrix.png",
                                        class_names=table.class_names,
                                        title=f"{meta['data']}: test set ({len(y_te)} samples)")
            files.append("confusion_matrix.png")
            if X_te.shape[1] == 2:
                plots.plot_decision_boundary(model, table.X, table.y,
                                             out / "decision_boundary.png",
                                             title=f"{meta['data']}: decision boundary")
                files.append("decision_boundary.png")
    except ImportError as e:  # matplotlib is optional
        print(f"{PROG}: note: no plots written ({e})", file=sys.stderr)
    return files


# ---------------------------------------------------------------------------------- predict
def cmd_predict(args) -> int:
    """``chainrule predict MODEL INPUT.csv [--output OUT.csv]``."""
    import csv
    import io as textio

    from chainrule.train.history import atomic_write_text
    from chainrule.train.loop import predict
    from chainrule.train.prepare import read_features

    model, meta = _load_model(args.model)
    if not os.path.exists(args.input):
        raise UserError(f"no such input file: {args.input}")
    try:
        X = read_features(args.input, meta.get("feature_names"), meta.get("n_features"))
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read {args.input}: {_describe(e)}") from None
    try:
        out = predict(model, X, batch_size=args.batch_size)
    except ValueError as e:
        raise UserError(f"the model cannot take the rows of {args.input}: {e}") from None
    out = out.reshape(len(out), -1)
    classify = meta.get("task", "classification" if out.shape[1] > 1 else "regression") \
        == "classification"
    buf = textio.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if classify:
        names = meta.get("class_names") or [str(i) for i in range(out.shape[1])]
        probs = _softmax(out.astype("float64"))
        writer.writerow(["prediction", *(f"p_{n}" for n in names)])
        for label, row in zip(out.argmax(axis=1), probs):
            writer.writerow([names[label], *(f"{p:.6f}" for p in row)])
    else:
        cols = ["prediction"] if out.shape[1] == 1 else \
            [f"prediction_{i}" for i in range(out.shape[1])]
        writer.writerow(cols)
        for row in out:
            writer.writerow([repr(float(v)) for v in row])
    if args.output:
        try:
            atomic_write_text(args.output, buf.getvalue())
        except OSError as e:
            raise UserError(f"cannot write {args.output}: {_describe(e)}") from None
        print(f"wrote {len(out)} predictions to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(buf.getvalue())
    return 0


# --------------------------------------------------------------------------------- evaluate
def cmd_evaluate(args) -> int:
    """``chainrule evaluate MODEL DATA``: prints the metrics, one per line."""
    import numpy as np

    import chainrule as cr
    from chainrule.train.loop import evaluate, predict
    from chainrule.train.prepare import encode_labels, split_indices

    model, meta = _load_model(args.model)
    spec = args.data
    target = args.target
    if target is None and spec.kind == "csv":
        target = _model_target(spec.arg, meta.get("target"))
    table = _load_table(spec, target, meta.get("task", "auto"))
    table = _match_features(table, meta.get("feature_names"))
    if table.test is not None and not args.all:
        X, y, note = table.test.X, table.test.y, "the data's test set"
        source = table.test
    else:
        X, y, note, source = table.X, table.y, f"all {len(table.y)} samples", table
        split = meta.get("split")
        if not args.all and split and meta.get("data") == str(spec) and table.split:
            classify = table.task == "classification"
            _, te = split_indices(table.y if classify else np.zeros(len(table.y)),
                                  split["test_size"], split["seed"], stratify=classify)
            X, y = table.X[te], table.y[te]
            note = f"the test split the model was trained with (seed {split['seed']})"
    n_features = meta.get("n_features")
    if n_features is not None and X.shape[1] != n_features:
        raise UserError(f"the model expects {n_features} features, {spec} has {X.shape[1]}")
    try:
        if table.task == "classification":
            names = meta.get("class_names")
            if names is not None:
                y = encode_labels(y, source.class_names, names)
            results = evaluate(model, cr.nn.CrossEntropyLoss(), (X, y), ("accuracy",),
                               batch_size=args.batch_size)
            results = {"accuracy": results["accuracy"], "loss": results["loss"]}
        else:
            raw = predict(model, X, batch_size=args.batch_size)
            results = {name: float(cr.train.get_metric(name)[1](y, raw))
                       for name in ("mse", "mae", "r2")}
    except ValueError as e:
        raise UserError(str(e)) from None
    for name, value in results.items():
        print(f"{name}: {value:.6g}")
    print(f"samples: {len(y)} ({note})")
    return 0


def _model_target(path, name):
    """The model's own target column when the CSV file has it (else None: the last column)."""
    from chainrule.train.prepare import _has_header, _header_names

    if name is None:
        return None
    try:
        return name if _has_header(path) and name in _header_names(path) else None
    except (OSError, ValueError):
        return None  # load_table reports the unreadable file


def _match_features(table, names):
    """The table's feature columns in the order the model was trained with, matched by name."""
    have = table.feature_names
    if not names or not have or list(have) == list(names) or not set(names) <= set(have):
        return table
    columns = [list(have).index(n) for n in names]
    table.X, table.feature_names = table.X[:, columns], list(names)
    return table


# ------------------------------------------------------------------------------------- demo
def cmd_demo(args) -> int:
    """``chainrule demo [NAME]``: hands over to `chainrule.demos.run` (lists the demos
    without NAME)."""
    try:
        from chainrule import demos
    except ModuleNotFoundError as e:
        if e.name not in ("chainrule.demos", "chainrule"):
            raise
        raise UserError("the demos are not available in this installation "
                        "(the module chainrule.demos is missing)") from None
    available = getattr(demos, "DEMOS", None)
    if args.name is None or (available is not None and args.name not in available):
        if args.name is not None:
            print(f"{PROG} demo: error: unknown demo {args.name!r}", file=sys.stderr)
        if available:
            stream = sys.stdout if args.name is None else sys.stderr
            print("demos:", file=stream)
            for name, text in dict(available).items():
                print(f"  {name:<12} {text}", file=stream)
        return 0 if args.name is None else 2
    result = demos.run(args.name) if args.out is None else demos.run(args.name,
                                                                      out_dir=args.out)
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


# ------------------------------------------------------------------------------------- main
def main(argv=None) -> int:
    """Run the ``chainrule`` command with ``argv`` (default: ``sys.argv[1:]``); return the
    exit code.

    >>> main(["--help"])  # doctest: +SKIP
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: --help (0) or a usage error (2)
        return e.code if isinstance(e.code, int) else 0
    if args.command is None:
        parser.print_usage(sys.stderr)
        print(f"{PROG}: error: choose a command: train, predict, evaluate or demo "
              f"(try: {PROG} train)", file=sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as e:
        print(f"{PROG} {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`chainrule predict ... | head`): not an error worth a
        # traceback. Point stdout at devnull so the interpreter's final flush stays quiet.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 141  # 128 + SIGPIPE, what a shell reports for a killed pipe writer


if __name__ == "__main__":  # python -m chainrule.cli
    sys.exit(main())
