"""Learning a circular decision boundary through a custom parametric function (lecture notes).

Points inside a circle are class 0, outside class 1. We do not know the centre or the radius,
so we make them the parameters of

    z = (x1 − w1)² + (x2 − w2)² − w0²,     ŷ = σ(z),

and minimise the binary cross-entropy with plain gradient descent. We never write
∂z/∂w0, ∂z/∂w1, ∂z/∂w2: autograd computes them from the graph.
"""

import numpy as np

import chainrule as cr

TRUE_CENTRE = (0.5, -0.3)
TRUE_RADIUS = 1.2


def make_data(n=400, seed=0):
    """``n`` points in the square [-2.5, 2.5]², labelled 1 outside the true circle."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.5, 2.5, size=(n, 2))
    dist2 = (X[:, 0] - TRUE_CENTRE[0]) ** 2 + (X[:, 1] - TRUE_CENTRE[1]) ** 2
    y = (dist2 > TRUE_RADIUS**2).astype(np.float64)
    return X, y


def fit(X, y, steps=2000, lr=0.5):
    """Plain full-batch gradient descent on w0 (radius) and w1, w2 (centre), float64."""
    w0 = cr.tensor(1.0, dtype=cr.float64, requires_grad=True, name="w0")
    w1 = cr.tensor(0.0, dtype=cr.float64, requires_grad=True, name="w1")
    w2 = cr.tensor(0.0, dtype=cr.float64, requires_grad=True, name="w2")
    x1, x2 = cr.tensor(X[:, 0]), cr.tensor(X[:, 1])
    target = cr.tensor(y)
    history = []
    for step in range(steps):
        z = (x1 - w1) ** 2 + (x2 - w2) ** 2 - w0**2
        # σ and the cross-entropy fused: the same loss, computed without overflow.
        loss = cr.nn.functional.binary_cross_entropy_with_logits(z, target)
        loss.backward()
        with cr.no_grad():
            for w in (w0, w1, w2):
                w -= lr * w.grad
                w.grad.zero_()
        if step % 500 == 0 or step == steps - 1:
            history.append((step, loss.item()))
    return (w0.item(), w1.item(), w2.item()), history


def main(out_dir=None):
    X, y = make_data()
    (w0, w1, w2), history = fit(X, y)
    for step, loss in history:
        print(f"step {step:5d}  loss {loss:.5f}")
    radius = abs(w0)
    print(f"\nrecovered centre ({w1:.3f}, {w2:.3f}), radius {radius:.3f}")
    print(f"true      centre ({TRUE_CENTRE[0]:.3f}, {TRUE_CENTRE[1]:.3f}), "
          f"radius {TRUE_RADIUS:.3f}")
    z = (X[:, 0] - w1) ** 2 + (X[:, 1] - w2) ** 2 - w0**2
    accuracy = float(np.mean((z > 0) == (y > 0.5)))
    print(f"training accuracy {accuracy:.1%}")
    return {"centre": (w1, w2), "radius": radius, "accuracy": accuracy, "history": history}


if __name__ == "__main__":
    main()
