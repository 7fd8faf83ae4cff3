"""Minibatch noise helps to escape saddle points (and poor minima).

The notes (003): "The noise resulting from working with minibatches actually helps on avoiding
bad minimas and to escape saddle points." The experiment builds a data set whose loss is a
surface with a saddle: each sample i contributes ℓᵢ(θ) = f(θ) + aᵢ·θ with zero-mean aᵢ, so the
full-data loss L(θ) = (1/N) Σ ℓᵢ(θ) is exactly f, and a minibatch S sees f plus the noise
(1/S) Σ_{i∈S} aᵢ·θ. Starting on the saddle's ridge, full-batch gradient descent slides into
the saddle and stays; minibatch SGD, with the same step size, is pushed off. Over several
seeds it counts how often each method reaches a minimum.

>>> r = minibatch(n_seeds=3, steps=150)
>>> r["escaped"]["minibatch SGD"] > r["escaped"]["full-batch GD"]
True
"""

import numpy as np

from chainrule import optim
from chainrule.nn import Parameter
from chainrule.teach.lab._common import figure, fmt, save, seeded, show, steps_text
from chainrule.tensor import Tensor

CLAIM = ("Claim (notes 003): the noise resulting from working with minibatches actually helps "
         "on avoiding bad minima and to escape saddle points.")

METHODS = ("full-batch GD", "minibatch SGD")
FORMULA = "¼(θ₁² − 1)² + ½θ₂²"


def _surface(x, y):
    """A saddle at (0, 0) between the minima (±1, 0)."""
    return 0.25 * (x * x - 1) ** 2 + 0.5 * (y * y)


def minibatch(n_seeds=10, steps=300, lr=0.05, batch_size=8, n_samples=256, noise=1.0,
              start=(0.0, 1.5), seed=0):
    """Full-batch GD versus minibatch SGD from the saddle's ridge, over ``n_seeds`` seeds.

    Each seed draws the data's zero-mean terms aᵢ (scale ``noise``), a start a hair off
    ``start`` (1e-9 · N(0, 1) in θ₁, so that neither method is exactly on the ridge) and, for
    SGD, the minibatches. Returns a dict: ``escaped`` (method → number of seeds that ended
    within 0.1 of a minimum), ``escape_steps`` (method → per seed, the first step with
    |θ₁| > 0.5, None if never), ``paths`` (method → per seed, the points visited),
    ``final_loss`` (method → per seed, the full-data loss at the end).

    >>> r = minibatch(n_seeds=1, steps=10); sorted(r["escaped"])
    ['full-batch GD', 'minibatch SGD']
    """
    if n_seeds < 1 or steps < 1 or not 1 <= batch_size <= n_samples:
        raise ValueError(f"minibatch: need n_seeds >= 1, steps >= 1 and 1 <= batch_size <= "
                         f"n_samples, got {n_seeds}, {steps}, {batch_size}, {n_samples}")
    escaped = {m: 0 for m in METHODS}
    escape_steps = {m: [] for m in METHODS}
    paths = {m: [] for m in METHODS}
    final = {m: [] for m in METHODS}
    for k in range(n_seeds):
        rng = seeded(seed + k)
        a = rng.standard_normal((n_samples, 2)) * noise
        a -= a.mean(axis=0)  # the full-data loss is exactly the surface
        A = Tensor(a)
        origin = np.array(start, dtype=np.float64) + np.array([1e-9 * rng.standard_normal(), 0])
        for method in METHODS:
            theta = Parameter(origin.copy())
            opt = optim.SGD([theta], lr=lr)
            path, first = [theta.data.copy()], None
            for t in range(steps):
                if method == "minibatch SGD":
                    batch = A[rng.choice(n_samples, batch_size, replace=False)]
                else:
                    batch = A
                loss = _surface(theta[0], theta[1]) + (batch @ theta).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                path.append(theta.data.copy())
                if first is None and abs(theta.data[0]) > 0.5:
                    first = t + 1
            x, y = theta.data
            at_minimum = min(np.hypot(x - 1, y), np.hypot(x + 1, y)) < 0.1
            escaped[method] += int(at_minimum)
            escape_steps[method].append(first)
            paths[method].append(np.array(path))
            final[method].append(float(_surface(x, y)))
    return {"escaped": escaped, "escape_steps": escape_steps, "paths": paths,
            "final_loss": final, "n_seeds": n_seeds, "steps": steps, "batch_size": batch_size,
            "lr": lr}


def report(result, echo=True):
    """Print the claim and, per method, how many seeds escaped the saddle and how fast.

    >>> "minibatch SGD" in report(minibatch(n_seeds=1, steps=5), echo=False)
    True
    """
    rows = []
    for m in METHODS:
        hits = [s for s in result["escape_steps"][m] if s is not None]
        median = steps_text(int(np.median(hits)), result["steps"]) if hits else (
            f"> {result['steps']}")
        rows.append([m, f"{result['escaped'][m]} / {result['n_seeds']}", median,
                     fmt(np.mean(result["final_loss"][m]))])
    sgd, gd = result["escaped"]["minibatch SGD"], result["escaped"]["full-batch GD"]
    finding = (f"Measured: with the same step size α = {fmt(result['lr'])}, minibatch SGD "
               f"(batches of {result['batch_size']}) reached a minimum in {sgd} of "
               f"{result['n_seeds']} runs, full-batch GD in {gd} (it stays at the saddle, "
               "L = 0.25).")
    return show(CLAIM, ["method", "reached a minimum", "median steps to leave the saddle",
                        "mean final loss"], rows, finding, echo)


def plot(result, folder):
    """``minibatch.png``: the runs over the surface's contours, and θ₁ over the steps."""
    fig = figure(11.5, 4.6)
    left, right = fig.subplots(1, 2)
    gx, gy = np.meshgrid(np.linspace(-1.6, 1.6, 160), np.linspace(-0.8, 1.8, 160))
    z = _surface(gx, gy)
    levels = np.linspace(0, z.max(), 22)
    left.contourf(gx, gy, z, levels=levels, cmap="Blues_r", alpha=0.18)
    left.contour(gx, gy, z, levels=levels, colors="#6b7b8c", linewidths=0.6)
    colors = {"full-batch GD": "#d62728", "minibatch SGD": "#1f77b4"}
    for m in METHODS:
        for k, path in enumerate(result["paths"][m][:5]):
            left.plot(path[:, 0], path[:, 1], color=colors[m], lw=1.3 if m != METHODS[0] else 3,
                      alpha=0.8, label=m if k == 0 else None)
        for k, path in enumerate(result["paths"][m]):
            right.plot(path[:, 0], color=colors[m], lw=1.2, alpha=0.7,
                       label=f"{m}: {result['escaped'][m]}/{result['n_seeds']} reach a minimum"
                       if k == 0 else None)
    left.plot(0, 0, marker="X", color="black", ms=11, ls="none", label="saddle")
    left.plot([-1, 1], [0, 0], marker="*", color="gold", mec="black", ms=16, ls="none",
              label="minima")
    left.set_title(f"Runs from the ridge over L(θ) = {FORMULA}")
    left.set_xlabel("θ₁")
    left.set_ylabel("θ₂")
    left.legend(fontsize=8, loc="upper right")
    right.axhline(1, color="gray", lw=0.8, ls="--")
    right.axhline(-1, color="gray", lw=0.8, ls="--")
    right.set_title(f"θ₁ over {result['n_seeds']} seeds: the saddle is θ₁ = 0, minima ±1")
    right.set_xlabel("step")
    right.set_ylabel("θ₁")
    right.legend(fontsize=9, loc="lower left")
    right.grid(True, alpha=0.3)
    return [save(fig, folder / "minibatch.png", "lab minibatch")]
