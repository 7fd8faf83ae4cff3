"""The lecture notes' examples, runnable: ``chainrule demo NAME`` or ``chainrule.demos.run(NAME)``.

Each demo is a module with ``main(out_dir=None) -> dict``: it prints its walk-through and
returns the numbers it showed, so the tests can check them. Pictures go to ``out_dir``
(a temporary folder when None is given and a picture is needed).

>>> from chainrule import demos
>>> "autograd" in demos.DEMOS and "circle" in demos.DEMOS
True
"""

from importlib import import_module

DEMOS = {
    "logic": "AND, OR, NAND as single sigmoid neurons with the notes' weights",
    "xor": "XOR by hand from AND/OR/NAND, learned by a hidden layer, impossible for a perceptron",
    "autograd": "a=4, b=3, c=a+b, d=a*c: explain() shows dd/da = 7 + 4 = 11, plus a graph drawing "
                "(--html: a page that steps through the backward pass)",
    "circle": "learn the centre and radius of a circular decision boundary with autograd",
    "tutorial": "the notes' PyTorch two-layer example, written with chainrule tensors",
    "jacobian": "y = W x and its Jacobian, which equals W",
    "classic": "layer-by-layer delta-rule backprop beside autograd: the same gradients",
    "transformer": "a small decoder-only Transformer learns to write like Hamlet (loss curve, "
                   "samples before and after)",
}
DEMOS["cnn"] = "a LeNet-style CNN on the 8x8 digits (>= 0.98 test accuracy): filters, feature maps"
DEMOS["charlstm"] = "a character LSTM learns to write like Hamlet: samples before and after"


def run(name, out_dir=None, **options):
    """Run demo ``name``; returns the dict of results it printed. ``options`` go to the
    demo's ``main`` (e.g. ``html=True`` for the autograd demo's interactive page).

    >>> run("jacobian")["equal"]  # doctest: +ELLIPSIS
    y = W x ...
    True
    """
    if name not in DEMOS:
        raise KeyError(f"unknown demo {name!r}; choose from: {', '.join(DEMOS)}")
    module = import_module(f"chainrule.demos.{name}_demo")
    return module.main(out_dir=out_dir, **options)


def output_dir(out_dir, name):
    """The folder a demo writes its pictures to (created), ``out_dir`` or ``./demo-<name>``."""
    from pathlib import Path

    path = Path(out_dir) if out_dir is not None else Path.cwd() / f"demo-{name}"
    path.mkdir(parents=True, exist_ok=True)
    return path
