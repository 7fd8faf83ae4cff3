"""The ``chainrule`` command: train, evaluate and use small networks from the shell.

    chainrule train                         # an MLP on the 8x8 digits, prints test accuracy
    chainrule train --data moons --hidden 32,32 --epochs 200 --out runs/moons
    chainrule train --resume runs/moons        # continue a run that was interrupted
    chainrule predict runs/moons/model.safetensors points.csv --output predictions.csv
    chainrule evaluate runs/moons/model.safetensors moons
    chainrule demo NAME

Exit codes: 0 success, 1 a user error such as a missing or unreadable file (one line on
stderr, no traceback), 2 wrong arguments (a usage message), 130 interrupted (Ctrl-C), 143
stopped by SIGTERM; an interrupted ``train`` keeps its checkpoint and history and says how to
resume it.

The command line only parses arguments and reports: the training job is
`chainrule.train.run` (in ``train/job.py``), which Python users can call too.

`main(argv)` runs the command without leaving the process, so tests and notebooks call it
directly: ``main(["train", "--epochs", "5", "--out", "tmp"])`` returns the exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

PROG = "chainrule"


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
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    data_help = ("digits, iris, xor (or and/or/nand/nor/xnor), circles, moons, spirals, blobs, "
                 "mnist:DIR, fashion_mnist:DIR or csv:PATH")
    train = sub.add_parser(
        "train", help="train an MLP and save it with its history and plots",
        description="Train a multilayer perceptron. With no options: the 8x8 digits, "
                    "a stratified 80/20 split, standardised features, one hidden layer of 256 "
                    "ReLU units, Adam and 30 epochs; prints the test accuracy.")
    # Defaults are None (filled in by chainrule.train.RunOptions and the data set's preset),
    # so that --resume can tell which options were given.
    train.add_argument("--data", type=_data_arg, metavar="DATA",
                       help=f"data set: {data_help} (default: digits)")
    train.add_argument("--target", metavar="COL",
                       help="target column of a CSV file: a name or index (default: last)")
    train.add_argument("--task", choices=("auto", "classification", "regression"),
                       help="what the target is (default: auto: text or integer targets with "
                       "<= 50 values are classes); must agree with a built-in data set")
    train.add_argument("--hidden", type=_hidden_arg, metavar="SIZES",
                       help="hidden layer sizes, e.g. 64,32 (default depends on the data; "
                       "'none' for a linear model)")
    train.add_argument("--activation", choices=ACTIVATIONS,
                       help="hidden activation (default: relu; tanh for logic gates)")
    train.add_argument("--arch", choices=("mlp", "cnn"),
                       help="mlp (default) or cnn: a small convolutional network for square "
                       "grey images (digits, mnist:DIR, fashion_mnist:DIR); --hidden is then "
                       "not used")
    train.add_argument("--optimizer", choices=("sgd", "adam", "adamw", "rmsprop", "adagrad"),
                       help="optimiser (default: adam)")
    train.add_argument("--lr", type=_positive(float), help="learning rate")
    train.add_argument("--lr-schedule", choices=LR_SCHEDULES,
                       help="none: a constant lr (default); cosine: anneal to 0 over all "
                       "batches; step: halve it every third of the epochs")
    train.add_argument("--epochs", type=_positive(int), help="passes over the training data")
    train.add_argument("--batch-size", type=_positive(int), help="samples per step")
    train.add_argument("--test-size", type=_fraction,
                       help="fraction held out for testing (default: 0.2)")
    train.add_argument("--seed", type=_non_negative_int,
                       help="seed of the split, the initial weights and the shuffles "
                       "(default: 0)")
    train.add_argument("--checkpoint-every", type=_positive(int), metavar="N",
                       help="write the checkpoint every N epochs (default: 1; always after "
                       "the last)")
    train.add_argument("--no-plots", action="store_true",
                       help="write no pictures (no matplotlib needed)")
    train.add_argument("--compile", action="store_true", default=None,
                       help="capture each training step once and replay it as NumPy kernels "
                       "into reused buffers (cr.compile; the same numbers as eager)")
    train.add_argument("--out", metavar="DIR",
                       help="output folder (default: a new runs/<data>-<date>-<time>); one "
                       "that holds another run is refused without --overwrite")
    train.add_argument("--overwrite", action="store_true",
                       help="replace the run in --out DIR (its files are removed first)")
    train.add_argument("--resume", metavar="DIR",
                       help="continue the interrupted run in DIR with the options it "
                       "recorded; ends with exactly the weights of an uninterrupted run")
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
    demo.add_argument("--html", action="store_true",
                      help="autograd demo: also write backprop.html, an interactive page that "
                           "steps through the backward pass")
    demo.set_defaults(func=cmd_demo)

    lab = sub.add_parser("lab", help="run an experiment that tests a claim of the lectures",
                         description="Run the experiment NAME (seeded, a few seconds): it "
                                     "prints the claim and what was measured and writes its "
                                     "pictures. Without NAME, list the experiments.")
    lab.add_argument("name", metavar="NAME", nargs="?", help="which experiment")
    lab.add_argument("--out", metavar="DIR", help="folder for the pictures (default ./lab-NAME)")
    lab.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    lab.add_argument("--set", metavar="KEY=VALUE", action="append", default=[],
                     help="an argument of the experiment's function, e.g. --set "
                          "dataset=circles or --set widths=1,2,4 (repeatable)")
    lab.set_defaults(func=cmd_lab)
    return parser


# ---------------------------------------------------------------------------------- helpers
def _say(text, quiet=False):
    if not quiet:
        print(text, flush=True)


def _version():
    from chainrule import __version__

    return __version__


def _load_table(spec, target=None, task="auto"):
    from chainrule.train.prepare import load_table

    try:
        return load_table(spec, target=target, task=task)
    except (OSError, ValueError, KeyError) as e:
        raise UserError(_describe(e)) from None


def _describe(e):
    from chainrule.train.job import describe_error

    return describe_error(e)


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


def _softmax(z):
    import numpy as np

    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# ------------------------------------------------------------------------------------ train
# Options of `chainrule train` that map one to one onto chainrule.train.RunOptions fields.
TRAIN_OPTIONS = ("data", "target", "task", "hidden", "activation", "arch", "optimizer", "lr",
                 "lr_schedule", "epochs", "batch_size", "test_size", "seed", "checkpoint_every",
                 "compile")


def train_options(args):
    """The `RunOptions` the parsed ``chainrule train`` arguments ask for."""
    from chainrule.train.job import RunOptions

    given = {name: getattr(args, name) for name in TRAIN_OPTIONS
             if getattr(args, name, None) is not None}
    if "data" in given:
        given["data"] = str(given["data"])
    return RunOptions(**given, plots=not args.no_plots)


def cmd_train(args) -> int:
    """``chainrule train``: hands the options to `chainrule.train.run` (see `build_parser`)."""
    import signal

    from chainrule.train import job
    from chainrule.train.loop import TrainingInterrupted

    kwargs = {"progress": not args.no_progress, "say": lambda line: print(line, flush=True)}
    if args.resume is not None:
        given = [f"--{n.replace('_', '-')}" for n in TRAIN_OPTIONS + ("out",)
                 if getattr(args, n, None) is not None]
        given += [flag for flag, on in (("--no-plots", args.no_plots),
                                        ("--overwrite", args.overwrite)) if on]
        if given:
            raise UserError(f"--resume takes the options recorded in {args.resume}/run.json; "
                            f"drop {' '.join(given)}")
        kwargs["resume"] = args.resume
    else:
        kwargs.update(options=train_options(args), out=args.out, overwrite=args.overwrite)
    try:
        job.run(**kwargs)
    except job.RunError as e:
        raise UserError(str(e)) from None
    except TrainingInterrupted as e:
        folder = getattr(e, "folder", None)
        name = "SIGTERM" if getattr(e, "signal", None) == signal.SIGTERM else "interrupted"
        kept = getattr(e, "checkpoint_epoch", 0)
        print(f"{PROG} train: {name} in epoch {e.epoch}; "
              + (f"the checkpoint keeps epoch {kept} and the history so far is in {folder}; "
                 f"resume with: {PROG} train --resume {folder}" if kept else
                 f"no epoch had finished; start again, or: {PROG} train --resume {folder}"),
              file=sys.stderr)
        return 143 if getattr(e, "signal", None) == signal.SIGTERM else 130
    return 0


# ---------------------------------------------------------------------------------- predict
def cmd_predict(args) -> int:
    """``chainrule predict MODEL INPUT.csv [--output OUT.csv]``."""
    import csv
    import io as textio

    from chainrule.train.history import atomic_write_text
    from chainrule.train.loop import predict
    from chainrule.train.prepare import read_features

    if args.output:
        _refuse_own_files(args.output, {"model": args.model, "input": args.input})
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


def _refuse_own_files(output, inputs):
    """predict -o must not write over the files it reads (the model, the input)."""
    for what, path in inputs.items():
        same = False
        try:
            same = os.path.exists(output) and os.path.samefile(output, path)
        except OSError:
            pass
        if same or os.path.realpath(output) == os.path.realpath(path):
            raise UserError(f"--output {output} is the {what} file; write the predictions to "
                            "another file")


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
    from chainrule.train.prepare import _generic

    have = table.feature_names
    if not names or not have or list(have) == list(names) or _generic(names) or _generic(have):
        return table
    missing = [n for n in names if n not in have]
    if missing:
        raise UserError(f"the data has no column(s) {missing} that the model was trained with "
                        f"(it has {list(have)}; the model's features are {list(names)})")
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
    options = {"html": True} if getattr(args, "html", False) else {}
    if options and args.name != "autograd":
        raise UserError(f"--html is for the autograd demo, not {args.name!r}")
    result = demos.run(args.name, **options) if args.out is None else demos.run(
        args.name, out_dir=args.out, **options)
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


# ------------------------------------------------------------------------------------- lab
def cmd_lab(args) -> int:
    """``chainrule lab [NAME]``: hands over to `chainrule.teach.lab.run` (lists the
    experiments without NAME)."""
    from chainrule.teach import lab

    if args.name is None or args.name not in lab.LABS:
        if args.name is not None:
            print(f"{PROG} lab: error: unknown experiment {args.name!r}", file=sys.stderr)
        stream = sys.stdout if args.name is None else sys.stderr
        print("experiments:", file=stream)
        for name, text in lab.LABS.items():
            print(f"  {name:<14} {text}", file=stream)
        return 0 if args.name is None else 2
    try:
        options = lab.parse_options(args.set)
        lab.run(args.name, out_dir=args.out, seed=args.seed, **options)
    except (TypeError, ValueError) as e:
        raise UserError(str(e)) from None
    return 0


# ------------------------------------------------------------------------------------- main
def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"{PROG}: warning: {message}", file=sys.stderr if file is None else file)


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
        with warnings.catch_warnings():
            # A warning reaches the user as one line, never with a source line under it.
            warnings.showwarning = _show_warning
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
