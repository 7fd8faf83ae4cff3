"""Universal approximation: more hidden units, smaller error.

The notes (003): "Given enough neurons in a hidden layer, and a non-linear increasing activation
function, one can approximate any Borel measurable function." The experiment fits a 1-D target
with one hidden tanh layer of width 1, 2, 4, …, 64 (same data, same optimiser, same number of
steps) and measures the mean squared error against the target on a fine grid.

>>> r = approximation(widths=(1, 8), steps=150)
>>> r["widths"], r["errors"][1] < r["errors"][0]
([1, 8], True)
"""

import numpy as np

from chainrule import nn, optim
from chainrule.teach.lab._common import figure, fmt, save, seeded, show
from chainrule.tensor import Tensor

CLAIM = ("Claim (notes 003): given enough neurons in a hidden layer, and a non-linear "
         "increasing activation, one can approximate any Borel measurable function.")

TARGETS = {
    "sin": ("sin(2πx)", lambda x: np.sin(2 * np.pi * x)),
    "step": ("step(x)", lambda x: (x > 0).astype(np.float64)),
    "abs": ("|x|", np.abs),
}


def approximation(widths=(1, 2, 4, 8, 16, 32, 64), target="sin", steps=1500, lr=0.02,
                  n_points=200, seed=0):
    """Fit ``target`` on [-1, 1] with one hidden tanh layer of each width; the numbers plotted.

    Every width trains full-batch with Adam for ``steps`` steps from its own seeded start.
    Returns a dict: ``widths``, ``errors`` (final MSE against the target, per width), ``x``,
    ``y`` (the target on the grid), ``fits`` (each width's curve on the grid), ``target`` (its
    formula), ``loss_curves`` (MSE per step, per width).

    >>> approximation(widths=(2,), steps=5)["fits"].shape
    (1, 200)
    """
    if target not in TARGETS:
        raise ValueError(f"approximation: unknown target {target!r}; choose from "
                         f"{', '.join(TARGETS)}")
    if steps < 1 or not widths or min(widths) < 1:
        raise ValueError(f"approximation: need steps >= 1 and widths >= 1, got steps={steps}, "
                         f"widths={widths}")
    formula, f = TARGETS[target]
    x = np.linspace(-1, 1, n_points)
    y = f(x)
    X = Tensor(x.reshape(-1, 1).astype(np.float32))
    Y = Tensor(y.reshape(-1, 1).astype(np.float32))
    errors, fits, curves = [], [], []
    for k, width in enumerate(widths):
        seeded(seed + k)
        model = nn.Sequential(nn.Linear(1, width), nn.Tanh(), nn.Linear(width, 1))
        opt = optim.Adam(model.parameters(), lr=lr)
        curve = []
        for t in range(steps):  # the step size decays to zero: the error is the fit's, not noise
            opt.param_groups[0]["lr"] = lr * (1 - t / steps)
            loss = nn.functional.mse_loss(model(X), Y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            curve.append(loss.item())
        fit = model(X).data.reshape(-1).astype(np.float64)
        fits.append(fit)
        errors.append(float(np.mean((fit - y) ** 2)))
        curves.append(curve)
    return {"widths": [int(w) for w in widths], "errors": errors, "x": x, "y": y,
            "fits": np.array(fits), "target": formula, "loss_curves": np.array(curves)}


def report(result, echo=True):
    """Print the claim and the error per width; returns the text.

    >>> "hidden units" in report(approximation(widths=(1, 2), steps=3), echo=False)
    True
    """
    e = result["errors"]
    rows = [[str(w), fmt(err), fmt(err / e[0])] for w, err in zip(result["widths"], e)]
    finding = (f"Measured: the error falls from {fmt(e[0])} with {result['widths'][0]} unit(s) "
               f"to {fmt(e[-1])} with {result['widths'][-1]} ({fmt(e[0] / max(e[-1], 1e-300))}× "
               "smaller).")
    return show(CLAIM, ["hidden units", f"MSE vs {result['target']}", "relative to width 1"],
                rows, finding, echo)


def plot(result, folder):
    """``approximation.png``: the fitted curves (left) and the error versus width (right)."""
    fig = figure(11, 4.2)
    left, right = fig.subplots(1, 2, width_ratios=[1.4, 1])
    left.plot(result["x"], result["y"], color="black", lw=3, label=f"target {result['target']}")
    widths = result["widths"]
    shown = sorted(set(np.linspace(0, len(widths) - 1, min(4, len(widths))).round().astype(int)))
    colors = ["#d62728", "#ff7f0e", "#2ca02c", "#1f77b4"]
    for color, i in zip(colors, shown):
        left.plot(result["x"], result["fits"][i], color=color, lw=1.8,
                  label=f"{widths[i]} hidden unit{'s' if widths[i] != 1 else ''}")
    left.set_title("One hidden tanh layer fitting a function")
    left.set_xlabel("x")
    left.set_ylabel("network output")
    left.legend(loc="best", fontsize=9)
    right.loglog(widths, result["errors"], "o-", color="#1f77b4", lw=2)
    right.set_xscale("log", base=2)
    right.set_xticks(widths, [str(w) for w in widths])
    right.set_title("More units, smaller error")
    right.set_xlabel("hidden units (width)")
    right.set_ylabel(f"mean squared error vs {result['target']}")
    right.grid(True, which="both", alpha=0.3)
    return [save(fig, folder / "approximation.png", "lab approximation")]
