"""The lectures' claims as experiments: ``chainrule lab NAME`` or ``cr.teach.lab.NAME(...)``.

Each experiment is one module and one function that returns the numbers it plots (a dict); the
module's ``report(result)`` prints the claim, as the notes word it, next to what the run
measured, and ``plot(result, folder)`` writes its PNGs. :func:`run` does all three. Every
experiment is seeded and takes a few seconds.

=================  ===========================================================================
``approximation``  error versus hidden width: universal approximation
``depth``          per-layer gradients of deep stacks: vanishing and exploding gradients
``losses``         MSE versus cross-entropy from a saturated, wrong start
``optimizers``     GD, momentum, Nesterov, RMSprop, Adam, Adagrad on 2-D surfaces; an α sweep
``minibatch``      full-batch GD versus minibatch SGD at a saddle, over seeds
``features``       XOR in hidden-unit space: the perceptron fails on the inputs, not there
=================  ===========================================================================

>>> r = losses(max_steps=300)
>>> r["steps"]["cross-entropy"] < r["steps"]["MSE"]
True
"""

from importlib import import_module
from pathlib import Path

from chainrule.teach.lab.hidden_features import features
from chainrule.teach.lab.loss_saturation import losses
from chainrule.teach.lab.minibatch_noise import minibatch
from chainrule.teach.lab.optimizer_paths import optimizers
from chainrule.teach.lab.universal_approximation import approximation
from chainrule.teach.lab.vanishing_gradients import depth

LABS = {
    "approximation": "more hidden units, smaller error: universal approximation in 1-D",
    "depth": "per-layer gradients of 10-layer stacks: vanishing and exploding gradients",
    "losses": "MSE versus cross-entropy for a sigmoid output stuck saturated and wrong",
    "optimizers": "GD, momentum, Nesterov, RMSprop, Adam, Adagrad on 2-D surfaces; an α sweep",
    "minibatch": "full-batch GD versus minibatch SGD at a saddle point, over seeds",
    "features": "XOR in hidden-unit space: separable there, not for the perceptron on inputs",
}

_MODULES = {
    "approximation": "universal_approximation",
    "depth": "vanishing_gradients",
    "losses": "loss_saturation",
    "optimizers": "optimizer_paths",
    "minibatch": "minibatch_noise",
    "features": "hidden_features",
}


def parse_options(pairs):
    """``["widths=1,2,4", "dataset=circles"]`` as keyword arguments: Python literals where
    they parse (numbers, tuples, True), else strings.

    >>> parse_options(["widths=1,2,4", "dataset=circles", "steps=50"])
    {'widths': (1, 2, 4), 'dataset': 'circles', 'steps': 50}
    """
    import ast

    options = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"lab: expected KEY=VALUE, got {pair!r}")
        try:
            options[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            options[key] = text
    return options


def run(name, out_dir=None, seed=0, echo=True, **options):
    """Run experiment ``name``: compute, print the report, write the PNGs.

    ``out_dir`` is the folder for the pictures (default ``./lab-NAME``, created); ``options``
    go to the experiment's function (e.g. ``widths=(1, 4, 16)`` for ``approximation``).
    Returns the experiment's dict with two more keys: ``report`` (the printed text) and
    ``pictures`` (the paths written).

    >>> import tempfile
    >>> r = run("losses", out_dir=tempfile.mkdtemp(), echo=False, max_steps=300)
    >>> [p.name for p in r["pictures"]], "cross-entropy" in r["report"]
    (['losses.png'], True)
    """
    if name not in LABS:
        raise KeyError(f"lab: unknown experiment {name!r}; choose from: {', '.join(LABS)}")
    module = import_module(f"chainrule.teach.lab.{_MODULES[name]}")
    function = getattr(module, name)
    try:
        result = function(seed=seed, **options)
    except TypeError as e:  # an option the experiment does not take
        if "unexpected keyword" not in str(e):
            raise
        import inspect

        taken = [p for p in inspect.signature(function).parameters if p != "seed"]
        raise TypeError(f"lab {name}: {e}; it takes {', '.join(taken)}") from None
    folder = Path(out_dir) if out_dir is not None else Path.cwd() / f"lab-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    result["report"] = module.report(result, echo=echo)
    result["pictures"] = module.plot(result, folder)
    if echo:
        print("pictures: " + ", ".join(str(p) for p in result["pictures"]))
    return result


__all__ = ["LABS", "approximation", "depth", "features", "losses", "minibatch", "optimizers",
           "parse_options", "run"]
