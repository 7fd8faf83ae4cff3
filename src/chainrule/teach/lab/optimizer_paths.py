"""Optimisers on 2-D surfaces, and what the learning rate α decides.

The notes (003, 004): gradient descent θ_{t+1} = θ_t − α∇L(θ_t) "for some … learning rate
α > 0"; heuristics speed it up: "dynamically vary step size" (RMSprop, Adagrad, Adam divide by
a running gradient size) and "dampen positive-negative oscillations" (momentum and Nesterov
average successive steps, so the zig-zag across a narrow valley cancels while the steps along
it add up). The experiment runs the library's own optimisers on three surfaces, an
ill-conditioned quadratic, Rosenbrock's banana valley and a saddle, and counts the steps until
each is within ``tol`` of a minimum; then it sweeps α for plain gradient descent on the
quadratic: too small, right, too large (oscillating) and divergent.

>>> r = optimizers(surfaces=("quadratic",), max_steps=600)
>>> r["steps"]["quadratic"]["momentum"] < r["steps"]["quadratic"]["GD"]
True
"""

import numpy as np

from chainrule import optim
from chainrule.nn import Parameter
from chainrule.teach.lab._common import figure, fmt, save, show, steps_text

CLAIM = ("Claim (notes 003/004): gradient descent moves by −α∇L with a learning rate α; "
         "optimisers 'dynamically vary step size' and 'dampen positive-negative "
         "oscillations', reaching the minimum in fewer steps.")

KAPPA = 100.0  # the quadratic's condition number: curvature 100× larger along y than along x


def _quadratic(x, y):
    return 0.5 * (x * x + KAPPA * (y * y))


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def _saddle(x, y):  # a saddle at the origin between two minima at (±1, 0)
    return 0.25 * (x * x - 1) ** 2 + 0.5 * (y * y)


# name: (function, start, minima, plotting window (x0, x1, y0, y1), formula)
SURFACES = {
    "quadratic": (_quadratic, (-4.0, 1.0), [(0.0, 0.0)], (-5, 5, -1.5, 1.5),
                  f"½(x² + {KAPPA:g}·y²)"),
    "rosenbrock": (_rosenbrock, (-1.5, 2.0), [(1.0, 1.0)], (-2, 2, -1, 3),
                   "(1 − x)² + 100(y − x²)²"),
    "saddle": (_saddle, (1e-6, 2.0), [(1.0, 0.0), (-1.0, 0.0)], (-1.6, 1.6, -1, 2.2),
               "¼(x² − 1)² + ½y²"),
}

SWEEP_CURVATURE = 4.0  # the α sweep runs on ½(x² + 4y²): stable for α < 2/4, best at 2/5


def _sweep_surface(x, y):
    return 0.5 * (x * x + SWEEP_CURVATURE * (y * y))


SWEEP = (_sweep_surface, (-4.0, 1.5), [(0.0, 0.0)], (-5, 5, -2, 2),
         f"½(x² + {SWEEP_CURVATURE:g}·y²)")

# name: (optimizer class, keyword arguments per surface); hand-picked, stable step sizes.
OPTIMIZERS = {
    "GD": (optim.SGD, {"quadratic": {"lr": 0.018}, "rosenbrock": {"lr": 1e-3},
                       "saddle": {"lr": 0.1}}),
    "momentum": (optim.SGD, {"quadratic": {"lr": 0.018, "momentum": 0.9},
                             "rosenbrock": {"lr": 1e-3, "momentum": 0.9},
                             "saddle": {"lr": 0.1, "momentum": 0.9}}),
    "Nesterov": (optim.SGD, {"quadratic": {"lr": 0.01, "momentum": 0.9, "nesterov": True},
                             "rosenbrock": {"lr": 1e-3, "momentum": 0.9, "nesterov": True},
                             "saddle": {"lr": 0.1, "momentum": 0.9, "nesterov": True}}),
    "RMSprop": (optim.RMSprop, {"quadratic": {"lr": 0.01}, "rosenbrock": {"lr": 1e-3},
                                "saddle": {"lr": 0.01}}),
    "Adam": (optim.Adam, {"quadratic": {"lr": 0.1}, "rosenbrock": {"lr": 0.05},
                          "saddle": {"lr": 0.1}}),
    "Adagrad": (optim.Adagrad, {"quadratic": {"lr": 1.0}, "rosenbrock": {"lr": 0.5},
                                "saddle": {"lr": 0.5}}),
}

LEARNING_RATES = {"too small": 0.05, "right": 0.4, "too large": 0.48, "divergent": 0.52}


def _distance(point, minima):
    return min(float(np.hypot(point[0] - mx, point[1] - my)) for mx, my in minima)


def run_optimizer(surface, make, kwargs, max_steps, tol):
    """One optimiser on one surface: the path (steps+1 × 2) and the steps to reach ``tol``."""
    f, start, minima, _, _ = SURFACES[surface] if isinstance(surface, str) else surface
    p = Parameter(np.array(start, dtype=np.float64))
    opt = make([p], **kwargs)
    path = [p.data.copy()]
    reached = None
    with np.errstate(over="ignore", invalid="ignore"):  # a divergent run overflows: shown
        for t in range(max_steps):
            if _distance(p.data, minima) < tol:
                reached = t
                break
            loss = f(p[0], p[1])
            if not np.isfinite(loss.item()):
                break
            opt.zero_grad()
            loss.backward()
            opt.step()
            path.append(p.data.copy())
    return np.array(path), reached


def optimizers(surfaces=tuple(SURFACES), names=tuple(OPTIMIZERS), max_steps=3000, tol=1e-3,
               sweep_steps=200, seed=0):
    """Paths and steps-to-tolerance of each optimiser on each surface, plus the α sweep.

    Deterministic (``seed`` is accepted for a uniform lab interface; nothing here is random).
    Returns a dict: ``steps`` (surface → optimiser → steps until within ``tol`` of a minimum,
    None if not within ``max_steps``), ``paths`` (the same, arrays of points), ``settings``
    (each optimiser's hyper-parameters per surface), ``sweep`` (α name → (α, loss per step,
    path) of gradient descent on ½(x² + 4y²)), ``sweep_steps`` (α name → steps until
    L < 1e-6, None if never).

    >>> r = optimizers(surfaces=("saddle",), names=("GD", "Adam"), max_steps=300)
    >>> r["steps"]["saddle"]["Adam"] < r["steps"]["saddle"]["GD"]
    True
    """
    del seed
    for s in surfaces:
        if s not in SURFACES:
            raise ValueError(f"optimizers: unknown surface {s!r}; choose from "
                             f"{', '.join(SURFACES)}")
    for n in names:
        if n not in OPTIMIZERS:
            raise ValueError(f"optimizers: unknown optimiser {n!r}; choose from "
                             f"{', '.join(OPTIMIZERS)}")
    steps, paths, settings = {}, {}, {}
    for s in surfaces:
        steps[s], paths[s], settings[s] = {}, {}, {}
        for n in names:
            make, per_surface = OPTIMIZERS[n]
            paths[s][n], steps[s][n] = run_optimizer(s, make, per_surface[s], max_steps, tol)
            settings[s][n] = per_surface[s]
    sweep = {}
    for label, lr in LEARNING_RATES.items():
        path, _ = run_optimizer(SWEEP, optim.SGD, {"lr": lr}, sweep_steps, 0.0)
        with np.errstate(over="ignore", invalid="ignore"):
            sweep[label] = (lr, np.array([SWEEP[0](x, y) for x, y in path]), path)
    sweep_reached = {label: _first_below(curve, 1e-6) for label, (_, curve, _) in sweep.items()}
    return {"steps": steps, "paths": paths, "settings": settings, "sweep": sweep,
            "sweep_steps": sweep_reached, "max_steps": max_steps, "tol": tol}


def _first_below(curve, level):
    with np.errstate(invalid="ignore"):
        below = np.flatnonzero(curve < level)
    return int(below[0]) if below.size else None


def _settings_text(kwargs):
    return ", ".join(f"{k}={v:g}" if not isinstance(v, bool) else k for k, v in kwargs.items()
                     if v is not False)


def report(result, echo=True):
    """Print the claim, the steps to tolerance per surface and the α sweep.

    >>> r = optimizers(surfaces=("quadratic",), names=("GD",), max_steps=5, sweep_steps=5)
    >>> "GD α=0.4 (right)" in report(r, echo=False)
    True
    """
    surfaces = list(result["steps"])
    names = list(result["steps"][surfaces[0]])
    rows = []
    for n in names:
        rows.append([n] + [f"{steps_text(result['steps'][s][n], result['max_steps'])} "
                           f"({_settings_text(result['settings'][s][n])})" for s in surfaces])
    for label, (lr, curve, _) in result["sweep"].items():
        end = curve[-1]
        n = result["sweep_steps"][label]
        verdict = (f"L < 1e-6 after {n} steps" if n is not None else
                   "diverges" if not np.isfinite(end) or end > curve[0] else
                   f"L = {fmt(end)} after {len(curve) - 1} steps")
        rows.append([f"GD α={lr:g} ({label})", f"{SWEEP[4]}: {verdict}"]
                    + [""] * (len(surfaces) - 1))
    parts = []
    if "quadratic" in result["steps"]:
        q = result["steps"]["quadratic"]
        parts.append(f"on the quadratic GD needs {steps_text(q.get('GD'), result['max_steps'])}"
                     f" steps, momentum {steps_text(q.get('momentum'), result['max_steps'])}")
    sw = result["sweep_steps"]
    parts.append("GD's α sweep, steps to L < 1e-6: " + ", ".join(
        f"{k} {'never' if v is None else v}" for k, v in sw.items()))
    if "saddle" in result["steps"]:
        sd = result["steps"]["saddle"]
        parts.append(f"near the saddle GD needs {steps_text(sd.get('GD'), result['max_steps'])}"
                     f", Adam {steps_text(sd.get('Adam'), result['max_steps'])}")
    finding = "Measured: " + "; ".join(parts) + "." if parts else None
    header = ["optimiser"] + [f"{s}: steps to ‖θ − θ*‖ < {result['tol']:g}" for s in surfaces]
    return show(CLAIM, header, rows, finding, echo)


def _contours(ax, surface):
    f, start, minima, (x0, x1, y0, y1), formula = (
        SURFACES[surface] if isinstance(surface, str) else surface)
    gx, gy = np.meshgrid(np.linspace(x0, x1, 160), np.linspace(y0, y1, 160))
    z = f(gx, gy) - min(f(mx, my) for mx, my in minima)
    levels = np.geomspace(max(z.min(), 1e-3), z.max(), 18)
    ax.contourf(gx, gy, np.maximum(z, 1e-3), levels=levels, cmap="Blues_r", alpha=0.18)
    ax.contour(gx, gy, np.maximum(z, 1e-3), levels=levels, colors="#6b7b8c", linewidths=0.6)
    for mx, my in minima:
        ax.plot(mx, my, marker="*", color="gold", mec="black", ms=16, zorder=5)
    ax.plot(*start, marker="o", color="black", ms=6, zorder=5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("θ₁ (x)")
    ax.set_ylabel("θ₂ (y)")
    return formula


_COLORS = {"GD": "#d62728", "momentum": "#1f77b4", "Nesterov": "#17becf", "RMSprop": "#ff7f0e",
           "Adam": "#2ca02c", "Adagrad": "#9467bd"}


def plot(result, folder):
    """``optimizers.png`` (paths over contours) and ``learning_rate.png`` (the α sweep)."""
    surfaces = list(result["paths"])
    fig = figure(5.2 * len(surfaces), 5.0)
    axes = np.atleast_1d(fig.subplots(1, len(surfaces)))
    for ax, s in zip(axes, surfaces):
        formula = _contours(ax, s)
        for n, path in result["paths"][s].items():
            ax.plot(path[:, 0], path[:, 1], "-", color=_COLORS.get(n), lw=2, alpha=0.9,
                    label=f"{n}: {steps_text(result['steps'][s][n], result['max_steps'])} steps")
        ax.set_title(f"{s}: {formula}")
        ax.legend(fontsize=8, loc="upper right", framealpha=0.9)
    fig.suptitle("Paths of the optimisers from ● to ★ (steps until within "
                 f"{result['tol']:g} of a minimum)")
    out = [save(fig, folder / "optimizers.png", "lab optimizers")]

    fig = figure(11, 4.4)
    left, right = fig.subplots(1, 2)
    _contours(right, SWEEP)
    sweep_colors = ["#9467bd", "#2ca02c", "#ff7f0e", "#d62728"]
    for color, (label, (lr, curve, path)) in zip(sweep_colors, result["sweep"].items()):
        name = f"α = {lr:g} ({label})"
        left.semilogy(np.where(np.isfinite(curve), curve, np.nan), color=color, lw=2, label=name)
        path = path[:31]
        right.plot(path[:, 0], path[:, 1], ".-", color=color, lw=1.2, ms=4, label=name)
    left.set_ylim(1e-12, 1e6)
    left.set_title(f"Gradient descent on {SWEEP[4]}: α decides")
    left.set_xlabel("step t")
    left.set_ylabel("L(θ_t) (log scale)")
    left.grid(True, alpha=0.3)
    left.legend(fontsize=9)
    right.set_title(f"The first 30 steps (stable only for α < 2/{SWEEP_CURVATURE:g})")
    right.legend(fontsize=8, loc="lower right")
    out.append(save(fig, folder / "learning_rate.png", "lab optimizers"))
    return out
