"""MSE versus cross-entropy for a sigmoid output that starts confidently wrong.

The notes (004): "As we have seen MSE is not a good choice; cross entropy is better
(corresponds to finding the MLE)." With p = σ(z), MSE's gradient carries the sigmoid's slope,
∂(p − y)²/∂z = 2(p − y)·p(1 − p), which vanishes when the unit saturates (p ≈ 0 or 1) even if
it is completely wrong; cross-entropy's is ∂/∂z = p − y, as large as the mistake. The experiment
trains one sigmoid unit p = σ(w·x + b) on two separated clusters from a badly wrong start
(w = ``w0`` < 0: every point confidently misclassified), with the same SGD step size for both
losses, and counts the steps until every point is classified correctly.

>>> r = losses(max_steps=400)
>>> r["steps"]["cross-entropy"] < r["steps"]["MSE"]
True
"""

import numpy as np

from chainrule import nn, optim
from chainrule.autograd import no_grad
from chainrule.teach.lab._common import figure, fmt, save, seeded, show, steps_text
from chainrule.tensor import Tensor

CLAIM = ("Claim (notes 004): MSE is not a good choice; cross entropy is better (corresponds "
         "to finding the MLE) — from a saturated, wrong start MSE's gradient all but vanishes.")

LOSSES = ("MSE", "cross-entropy")


def _loss(name, z, y):
    if name == "MSE":
        return nn.functional.mse_loss(z.sigmoid(), y)
    return nn.functional.binary_cross_entropy_with_logits(z, y)


def losses(w0=-4.0, b0=0.0, lr=0.5, max_steps=3000, n_per_class=20, seed=0):
    """Train the same sigmoid unit with MSE and with cross-entropy; the numbers plotted.

    Returns a dict: ``steps`` (per loss: SGD steps until all points are right, None if never
    within ``max_steps``), ``grad_at_start`` (per loss: |∂L/∂w| at the wrong start),
    ``loss_curves`` and ``accuracy_curves`` (per loss, one value per step), ``landscape``
    (``w``, and per loss L(w) with b = b0: the plateau MSE sits on), ``x``, ``y`` (the data).

    >>> r = losses(max_steps=5); r["grad_at_start"]["MSE"] < r["grad_at_start"]["cross-entropy"]
    True
    """
    if max_steps < 1 or lr <= 0:
        raise ValueError(f"losses: need max_steps >= 1 and lr > 0, got {max_steps}, {lr}")
    rng = seeded(seed)
    x = np.concatenate([rng.uniform(-3, -1, n_per_class), rng.uniform(1, 3, n_per_class)])
    y = np.concatenate([np.zeros(n_per_class), np.ones(n_per_class)])
    X = Tensor(x.reshape(-1, 1).astype(np.float32))
    Y = Tensor(y.reshape(-1, 1).astype(np.float32))
    steps, grad0, loss_curves, acc_curves = {}, {}, {}, {}
    for name in LOSSES:
        unit = nn.Linear(1, 1)
        unit.weight.data[...] = w0
        unit.bias.data[...] = b0
        opt = optim.SGD(unit.parameters(), lr=lr)
        steps[name], curve, acc = None, [], []
        for t in range(max_steps):
            z = unit(X)
            correct = float(np.mean((z.data[:, 0] > 0) == (y > 0.5)))
            acc.append(correct)
            if correct == 1.0 and steps[name] is None:
                steps[name] = t
            loss = _loss(name, z, Y)
            opt.zero_grad()
            loss.backward()
            if t == 0:
                grad0[name] = abs(float(unit.weight.grad.data.reshape(-1)[0]))
            curve.append(loss.item())
            opt.step()
        loss_curves[name], acc_curves[name] = np.array(curve), np.array(acc)
    w = np.linspace(-6, 6, 241)
    landscape = {"w": w}
    with no_grad():
        for name in LOSSES:
            z = Tensor((w[:, None] * x[None, :] + b0).reshape(-1, 1).astype(np.float32))
            yy = Tensor(np.broadcast_to(y, (len(w), len(y))).reshape(-1, 1).astype(np.float32))
            per_w = _loss_rows(name, z, yy, len(w))
            landscape[name] = per_w
    return {"steps": steps, "grad_at_start": grad0, "loss_curves": loss_curves,
            "accuracy_curves": acc_curves, "landscape": landscape, "w0": w0, "x": x, "y": y,
            "max_steps": max_steps, "lr": lr}


def _loss_rows(name, z, y, rows):
    """The loss of each row of weights (the mean over the data, one w per row)."""
    if name == "MSE":
        err = (z.sigmoid().data - y.data) ** 2
    else:
        zd, yd = z.data.astype(np.float64), y.data
        err = np.maximum(zd, 0) - zd * yd + np.log1p(np.exp(-np.abs(zd)))
    return err.reshape(rows, -1).mean(axis=1)


def report(result, echo=True):
    """Print the claim, the gradient at the wrong start and the steps to escape.

    >>> "cross-entropy" in report(losses(max_steps=3), echo=False)
    True
    """
    rows = [[name, fmt(result["grad_at_start"][name]),
             steps_text(result["steps"][name], result["max_steps"])] for name in LOSSES]
    mse, ce = result["steps"]["MSE"], result["steps"]["cross-entropy"]
    g = result["grad_at_start"]
    finding = (f"Measured: at the start |∂L/∂w| is {fmt(g['cross-entropy'] / g['MSE'])}× larger "
               f"with cross-entropy; it classifies every point after {steps_text(ce, '?')} "
               f"steps, MSE after {steps_text(mse, result['max_steps'])}.")
    return show(CLAIM, ["loss", f"|∂L/∂w| at w = {fmt(result['w0'])}",
                        f"SGD steps (lr {fmt(result['lr'])}) until all correct"],
                rows, finding, echo)


def plot(result, folder):
    """``losses.png``: L(w) for both losses (left), accuracy while training (right)."""
    fig = figure(12, 4.4)
    left, mid, right = fig.subplots(1, 3)
    colors = {"MSE": "#d62728", "cross-entropy": "#1f77b4"}
    land = result["landscape"]
    for name in LOSSES:
        curve = land[name] / land[name].max()
        left.plot(land["w"], curve, color=colors[name], lw=2, label=name)
    left.axvline(result["w0"], color="gray", ls="--", lw=1, label=f"start w = {fmt(result['w0'])}")
    left.set_title("Loss along the weight w (scaled to max 1)")
    left.set_xlabel("weight w of p = σ(w·x)")
    left.set_ylabel("loss / its maximum")
    left.legend(fontsize=9)
    reached = [s for s in result["steps"].values() if s is not None]
    shown = min(result["max_steps"], 2 * max(reached, default=result["max_steps"]) + 20)
    for name in LOSSES:
        mid.semilogy(result["loss_curves"][name][:shown] / result["loss_curves"][name][0],
                     color=colors[name], lw=2, label=name)
        escape = steps_text(result["steps"][name], result["max_steps"])
        right.plot(result["accuracy_curves"][name][:shown], color=colors[name], lw=2,
                   label=f"{name}: all correct after {escape} steps")
    mid.set_title("Training loss (relative to its start)")
    mid.set_xlabel("SGD step")
    mid.set_ylabel("loss / loss at step 0 (log scale)")
    mid.legend(fontsize=9)
    right.set_title("Escaping the saturated, wrong start")
    right.set_xlabel("SGD step")
    right.set_ylabel("fraction of points classified correctly")
    right.set_ylim(-0.03, 1.03)
    right.legend(fontsize=9, loc="center right")
    for ax in (left, mid, right):
        ax.grid(True, alpha=0.3)
    return [save(fig, folder / "losses.png", "lab losses")]
