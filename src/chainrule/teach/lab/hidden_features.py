"""What do hidden layers do? They learn features in which the classes become linearly separable.

The notes (001, 003): the perceptron cannot learn XOR (it is not linearly separable, Minsky &
Papert); a hidden layer can, and "representation learning" is the view that the hidden layer
learns a new representation of the input. The experiment trains a 2-H-1 tanh network on a
noisy XOR (four clusters at the corners of the unit square) and looks at the points in
hidden-unit space before and after training (drawn directly for H = 2; for H > 2 along the
perceptron's normal, its signed distance to the perceptron's plane, against the main other
direction). Rosenblatt's perceptron rule
(:class:`chainrule.classic.Perceptron`), run on the raw inputs, keeps making mistakes; run on
the trained hidden activations, it converges: the hidden layer made the problem separable.

>>> r = features(steps=300)
>>> r["perceptron_raw"] <= 0.75, r["perceptron_hidden_after"], r["network_accuracy"]
(True, 1.0, 1.0)
"""

import numpy as np

from chainrule import nn, optim
from chainrule.autograd import no_grad
from chainrule.classic import Perceptron
from chainrule.teach.lab._common import figure, fmt, save, seeded, show
from chainrule.tensor import Tensor

CLAIM = ("Claim (notes 001/003): a perceptron cannot learn XOR (not linearly separable); a "
         "hidden layer learns a representation in which the classes are linearly separable "
         "(representation learning).")


def _xor_clouds(rng, per_corner, spread):
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    X = np.repeat(corners, per_corner, axis=0) + spread * rng.standard_normal((4 * per_corner, 2))
    y = np.repeat([0, 1, 1, 0], per_corner)
    return X, y


def _circles(rng, n, spread):
    """A disc (class 0) inside a ring (class 1): no line separates them either."""
    radius = np.where(np.arange(n) < n // 2, 0.45, 1.0) + spread * rng.standard_normal(n)
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return X, (np.arange(n) >= n // 2).astype(np.int64)


DATASETS = {"xor": "XOR", "circles": "circles"}


def _perceptron(X, y, epochs, seed):
    p = Perceptron(X.shape[1], seed=seed)
    p.fit(X, y, epochs=epochs)
    return p, p.score(X, y)


def features(hidden=4, steps=600, lr=0.05, per_corner=30, spread=0.12, epochs=100,
             dataset="xor", seed=0):
    """Train a 2-``hidden``-1 tanh network on noisy XOR (or ``dataset="circles"``: a disc
    inside a ring, 4 × ``per_corner`` points); the representations and scores plotted.
    (Four hidden units train reliably; with two or three, some seeds stall in a
    local minimum, a classic XOR trap.)

    Returns a dict: ``X``, ``y`` (the data), ``hidden_before`` and ``hidden_after`` (the
    hidden activations tanh(W₁x + b₁), N × H), ``network_accuracy`` (the trained network's),
    ``perceptron_raw`` (the best accuracy the perceptron rule reaches on the raw inputs),
    ``perceptron_hidden_before`` / ``perceptron_hidden_after`` (the same on the hidden
    activations), ``perceptrons`` (the three fitted :class:`Perceptron` objects, for their
    lines), ``loss_curve``.

    >>> r = features(hidden=2, steps=5, epochs=5); r["hidden_after"].shape
    (120, 2)
    """
    if steps < 1 or epochs < 1 or hidden < 1:
        raise ValueError(f"features: need hidden, steps and epochs >= 1, got {hidden}, {steps}, "
                         f"{epochs}")
    if dataset not in DATASETS:
        raise ValueError(f"features: unknown dataset {dataset!r}; choose from "
                         f"{', '.join(DATASETS)}")
    rng = seeded(seed)
    if dataset == "xor":
        X, y = _xor_clouds(rng, per_corner, spread)
    else:
        X, y = _circles(rng, 4 * per_corner, spread / 2)
    Xt = Tensor(X.astype(np.float32))
    Yt = Tensor(y.reshape(-1, 1).astype(np.float32))
    layer = nn.Sequential(nn.Linear(2, hidden), nn.Tanh())
    head = nn.Linear(hidden, 1)
    with no_grad():
        before = layer(Xt).data.astype(np.float64)
    opt = optim.Adam(list(layer.parameters()) + list(head.parameters()), lr=lr)
    curve = []
    for _ in range(steps):
        loss = nn.functional.binary_cross_entropy_with_logits(head(layer(Xt)), Yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        curve.append(loss.item())
    with no_grad():
        after_t = layer(Xt)
        logits = head(after_t).data[:, 0]
    after = after_t.data.astype(np.float64)
    p_raw, raw = _perceptron(X, y, epochs, seed)
    p_before, hb = _perceptron(before, y, epochs, seed)
    p_after, ha = _perceptron(after, y, epochs, seed)
    return {"X": X, "y": y, "hidden_before": before, "hidden_after": after,
            "network_accuracy": float(np.mean((logits > 0) == (y == 1))),
            "perceptron_raw": raw, "perceptron_hidden_before": hb,
            "perceptron_hidden_after": ha, "perceptrons": (p_raw, p_before, p_after),
            "loss_curve": np.array(curve), "epochs": epochs, "dataset": DATASETS[dataset]}


def report(result, echo=True):
    """Print the claim and the perceptron's accuracy on each representation.

    >>> "raw inputs" in report(features(steps=3, epochs=2), echo=False)
    True
    """
    raw, before, after = result["perceptrons"]
    rows = [["raw inputs (x₁, x₂)", fmt(result["perceptron_raw"]),
             "yes" if raw.converged else "no (mistakes every epoch)"],
            ["hidden layer before training", fmt(result["perceptron_hidden_before"]),
             "yes" if before.converged else "no"],
            [f"hidden layer after training ({result['hidden_after'].shape[1]} units)",
             fmt(result["perceptron_hidden_after"]),
             "yes" if after.converged else "no"]]
    finding = (f"Measured: the perceptron reaches {fmt(result['perceptron_raw'])} on raw "
               f"{result['dataset']}, "
               f"{fmt(result['perceptron_hidden_after'])} on the learned hidden features (the "
               f"network itself: {fmt(result['network_accuracy'])}).")
    return show(CLAIM, ["perceptron trained on", f"accuracy ({result['epochs']} epochs)",
                        "converged (no mistakes)"], rows, finding, echo)


def _scatter(ax, P, y, name):
    for label, color, marker in ((0, "#1f77b4", "o"), (1, "#d62728", "^")):
        sel = y == label
        ax.scatter(P[sel, 0], P[sel, 1], c=color, marker=marker, s=22, edgecolors="white",
                   linewidths=0.4, label=f"{name}: class {label}")


def _line(ax, perceptron, P):
    """The perceptron's decision line w·p + b = 0 across the panel."""
    w, b = perceptron.w, perceptron.b
    lo, hi = P.min(axis=0) - 0.3, P.max(axis=0) + 0.3
    if abs(w[1]) > 1e-12:
        xs = np.linspace(lo[0], hi[0], 50)
        ax.plot(xs, -(w[0] * xs + b) / w[1], "k--", lw=1.5, label="perceptron's line")
    elif abs(w[0]) > 1e-12:
        ax.axvline(-b / w[0], color="k", ls="--", lw=1.5, label="perceptron's line")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])


def _view(P, perceptron):
    """2-D coordinates of the points and the perceptron's line in them.

    Two units are drawn as they are. More are drawn along the perceptron's normal (its signed
    distance to the separating plane, so the line is x = 0) against the main direction of the
    rest (principal component of the points projected onto the plane).
    """
    if P.shape[1] == 2:
        return P, perceptron.w, perceptron.b, ("h₁", "h₂")
    w = perceptron.w
    norm = np.linalg.norm(w)
    if norm == 0:
        u = np.eye(P.shape[1])[0]
        dist = P @ u
    else:
        u = w / norm
        dist = (P @ w + perceptron.b) / norm
    rest = P - np.outer(P @ u, u)
    rest = rest - rest.mean(axis=0)
    v = np.linalg.svd(rest, full_matrices=False)[2][0] if np.any(rest) else np.eye(len(u))[-1]
    return (np.column_stack([dist, rest @ v]), np.array([1.0, 0.0]), 0.0,
            ("distance to the perceptron's plane", "main other direction"))


class _Line:  # the perceptron's line in the drawn coordinates
    def __init__(self, w, b):
        self.w, self.b = w, b


def plot(result, folder):
    """``features.png``: input space, hidden space before and after training."""
    fig = figure(13, 4.4)
    axes = fig.subplots(1, 3)
    raw, before, after = result["perceptrons"]
    units = result["hidden_after"].shape[1]
    panels = [(result["X"], raw, f"Input space: perceptron {fmt(result['perceptron_raw'])}",
               ("x₁", "x₂")),
              (result["hidden_before"], before, f"{units} hidden units before training: "
               f"perceptron {fmt(result['perceptron_hidden_before'])}", None),
              (result["hidden_after"], after, f"{units} hidden units after training: "
               f"perceptron {fmt(result['perceptron_hidden_after'])}", None)]
    for ax, (P, perceptron, title, labels) in zip(axes, panels):
        if labels is None:
            P, w, b, labels = _view(P, perceptron)
            perceptron = _Line(w, b)
        _scatter(ax, P, result["y"], result["dataset"])
        _line(ax, perceptron, P)
        ax.set_title(title, fontsize=11)
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=8, loc="center")
    fig.suptitle(f"{result['dataset']} is not linearly separable in the inputs; the trained "
                 "hidden layer makes it so (accuracy of Rosenblatt's perceptron rule)")
    return [save(fig, folder / "features.png", "lab features")]
