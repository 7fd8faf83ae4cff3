"""Deeper networks are harder to train: vanishing (and exploding) gradients, made visible.

The notes (004): "Vanishing gradient problem: cascading derivatives make gradients in initial
layers very small, convergence is slow. In rare cases, exploding gradient also occurs." By the
chain rule the gradient reaching layer ℓ is a product of one factor per later layer (the
activation's slope times the weights); with sigmoid (slope ≤ 1/4) and small weights the product
shrinks geometrically, with too large weights it grows. The experiment builds stacks of
``depth`` linear layers with sigmoid, tanh or ReLU, initialised by the library default, Xavier,
He or badly scaled weights, or with batch norm, and records for every layer, over a few
training steps, the norm of the notes' δ_ℓ = ∂L/∂h⁽ℓ⁾ (the gradient reaching layer ℓ's output,
which the backward recursion δ_ℓ = δ_ℓ₊₁ ∂h⁽ℓ⁺¹⁾/∂h⁽ℓ⁾ multiplies down) and of ∂L/∂W_ℓ.

>>> r = depth(depth=4, steps=2, configs=("sigmoid, default init", "ReLU, He init"))
>>> r["delta"].shape  # configs × steps × layers
(2, 2, 4)
"""

import numpy as np

from chainrule import nn, optim
from chainrule.teach.lab._common import figure, fmt, save, seeded, show
from chainrule.tensor import Tensor

CLAIM = ("Claim (notes 004): vanishing gradient problem: cascading derivatives make gradients "
         "in initial layers very small, convergence is slow; in rare cases, exploding gradient "
         "also occurs.")

# name: (activation, initialisation, batch norm)
CONFIGS = {
    "sigmoid, default init": ("sigmoid", "default", False),
    "sigmoid, Xavier init": ("sigmoid", "xavier", False),
    "sigmoid + batch norm": ("sigmoid", "default", True),
    "tanh, default init": ("tanh", "default", False),
    "tanh, Xavier init": ("tanh", "xavier", False),
    "ReLU, default init": ("relu", "default", False),
    "ReLU, He init": ("relu", "he", False),
    "ReLU, He init × 2.5 (too large)": ("relu", "large", False),
}

_ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}


def _stack(activation, init, batch_norm, depth, width, n_in):
    layers, linears = [], []
    for k in range(depth):
        last = k == depth - 1
        lin = nn.Linear(n_in if k == 0 else width, 1 if last else width)
        if init == "xavier":
            nn.init.xavier_normal_(lin.weight, gain=nn.init.calculate_gain(activation))
        elif init in ("he", "large"):
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
            if init == "large":
                lin.weight.data *= 2.5
        if init != "default":
            nn.init.zeros_(lin.bias)
        layers.append(lin)
        linears.append(lin)
        if not last:
            if batch_norm:
                layers.append(nn.BatchNorm1d(width))
            layers.append(_ACTIVATIONS[activation]())
    return nn.Sequential(*layers), linears


def _forward(model, X):
    """The output, and every linear layer's output kept with retain_grad (the δ's)."""
    outs, h = [], X
    for layer in model:
        h = layer(h)
        if isinstance(layer, nn.Linear):
            outs.append(h.retain_grad())
    return h, outs


def depth(depth=10, width=32, steps=30, lr=0.01, n_samples=128, n_in=16, configs=None,
          seed=0):
    """Per-layer gradient norms of deep stacks over ``steps`` SGD steps; the numbers plotted.

    All stacks see the same regression data (``n_samples`` × ``n_in`` Gaussian inputs) and
    start from the same seed. Returns a dict: ``configs`` (names, see :data:`CONFIGS`),
    ``delta`` (array configs × steps × layers of ‖δ_ℓ‖ = ‖∂L/∂h⁽ℓ⁾‖, layer 1 = the input
    layer), ``weight_grad`` (the same for ‖∂L/∂W_ℓ‖), ``ratio`` (‖δ₁‖ / ‖δ_last‖ at step 0,
    per config: ≪ 1 vanishing, ≫ 1 exploding), ``losses`` (configs × steps; NaN once a run
    diverged).

    >>> r = depth(depth=3, steps=1, configs=("tanh, default init",)); len(r["ratio"])
    1
    """
    names = list(CONFIGS if configs is None else configs)
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        raise ValueError(f"depth: unknown configuration {unknown[0]!r}; choose from "
                         f"{', '.join(CONFIGS)}")
    if depth < 2 or steps < 1:
        raise ValueError(f"depth: need depth >= 2 and steps >= 1, got {depth}, {steps}")
    rng = seeded(seed)
    x = rng.standard_normal((n_samples, n_in))
    y = np.tanh(x[:, :3].sum(axis=1, keepdims=True))
    X, Y = Tensor(x.astype(np.float32)), Tensor(y.astype(np.float32))
    delta = np.full((len(names), steps, depth), np.nan)
    weight_grad = np.full((len(names), steps, depth), np.nan)
    losses = np.full((len(names), steps), np.nan)
    for c, name in enumerate(names):
        seeded(seed)
        model, linears = _stack(*CONFIGS[name], depth, width, n_in)
        opt = optim.SGD(model.parameters(), lr=lr)
        # A badly scaled stack overflows once it diverges: that is what it shows, not an error.
        with np.errstate(over="ignore", invalid="ignore"):
            for t in range(steps):
                out, hs = _forward(model, X)
                loss = nn.functional.mse_loss(out, Y)
                if not np.isfinite(loss.item()):
                    break
                opt.zero_grad()
                loss.backward()
                delta[c, t] = [np.linalg.norm(h.grad.data) for h in hs]
                weight_grad[c, t] = [np.linalg.norm(lin.weight.grad.data) for lin in linears]
                losses[c, t] = loss.item()
                opt.step()
    ratio = delta[:, 0, 0] / delta[:, 0, -1]
    return {"configs": names, "delta": delta, "weight_grad": weight_grad, "ratio": ratio,
            "losses": losses, "depth": depth}


def report(result, echo=True):
    """Print the claim and, per stack, the first and last layers' gradient norms at step 0.

    >>> "‖δ₁‖" in report(depth(depth=3, steps=1, configs=("tanh, default init",)), echo=False)
    True
    """
    rows = []
    for name, delta, loss in zip(result["configs"], result["delta"], result["losses"]):
        end = fmt(loss[-1]) if np.isfinite(loss[-1]) else "diverged"
        rows.append([name, fmt(delta[0, 0]), fmt(delta[0, -1]), fmt(delta[0, 0] / delta[0, -1]),
                     f"{fmt(loss[0])} → {end}"])
    by = dict(zip(result["configs"], result["ratio"]))
    finding = "Measured: ‖δ₁‖ / ‖δ_last‖ at the start"
    parts = [f"{n}: {fmt(by[n])}" for n in ("sigmoid, default init", "ReLU, He init",
                                            "ReLU, He init × 2.5 (too large)") if n in by]
    finding += (" — " + "; ".join(parts)) if parts else ""
    d = result["depth"]
    return show(CLAIM, ["stack", "‖δ₁‖", f"‖δ_{d}‖", "‖δ₁‖/‖δ_last‖", "loss: start → end"],
                rows, finding + ".", echo)


def plot(result, folder):
    """``depth.png``: ‖δ_ℓ‖ per layer at the start (left), ‖δ₁‖/‖δ_last‖ over training."""
    fig = figure(12, 4.6)
    left, right = fig.subplots(1, 2)
    layers = np.arange(1, result["depth"] + 1)
    styles = {"sigmoid": "-", "tanh": "--", "ReLU": ":"}
    for k, (name, norms) in enumerate(zip(result["configs"], result["delta"])):
        style = styles.get(name.split(",")[0].split(" ")[0], "-")
        color = f"C{k}"
        left.semilogy(layers, norms[0], style, marker="o", ms=4, color=color, lw=2, label=name)
        right.semilogy(np.arange(len(norms)), norms[:, 0] / norms[:, -1], style,
                       color=color, lw=2, label=name)
    left.set_title(f"Gradient norm per layer, {result['depth']}-layer stacks, at the start")
    left.set_xlabel("layer ℓ (1 = next to the input)")
    left.set_ylabel("‖δ_ℓ‖ = ‖∂L/∂h⁽ℓ⁾‖ (log scale)")
    left.set_xticks(layers)
    left.grid(True, which="major", alpha=0.3)
    right.axhline(1.0, color="black", lw=1)
    right.set_title("First layer's gradient over the last layer's, during training")
    right.set_xlabel("SGD step")
    right.set_ylabel("‖δ₁‖ / ‖δ_last‖ (log scale)")
    right.grid(True, which="major", alpha=0.3)
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=9)
    return [save(fig, folder / "depth.png", "lab depth")]
