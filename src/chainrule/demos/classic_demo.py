"""Two ways to get the same gradients.

The classic view: layer by layer, δ^L = ∂C/∂a^L ⊙ σ'(z^L), δ^ℓ = (W^{ℓ+1})ᵀ δ^{ℓ+1} ⊙ σ'(z^ℓ),
∂C/∂W^ℓ = δ^ℓ (a^{ℓ−1})ᵀ (``chainrule.classic.MLP``, plain NumPy). The modern view: record
the forward pass as a graph and let autograd run it backwards. Same weights, same data —
the gradients agree to rounding error.
"""

import numpy as np

import chainrule as cr
from chainrule.classic import MLP


def autograd_gradients(W, b, X, y, activation="sigmoid"):
    """The same network's gradients from chainrule's autograd (float64)."""
    act = {"sigmoid": cr.sigmoid, "tanh": cr.tanh, "relu": cr.relu}[activation]
    Ws = [cr.tensor(w, requires_grad=True) for w in W]
    bs = [cr.tensor(v, requires_grad=True) for v in b]
    a = cr.tensor(X)
    for i, (w, v) in enumerate(zip(Ws, bs)):
        z = a @ w.T + v
        a = act(z) if i < len(Ws) - 1 else z
    loss = cr.nn.functional.binary_cross_entropy_with_logits(a, cr.tensor(y.reshape(a.shape)))
    loss.backward()
    return [w.grad.numpy() for w in Ws], [v.grad.numpy() for v in bs], loss.item()


def main(out_dir=None, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((16, 3))
    y = (rng.random(16) > 0.5).astype(np.float64)
    net = MLP([3, 5, 4, 1], activation="sigmoid", loss="bce", seed=seed)
    dW, db = net.gradients(X, y)
    W, b = net.get_params()
    gW, gb, loss = autograd_gradients(W, b, X, y)
    print(f"network 3-5-4-1, sigmoid hidden layers, binary cross-entropy, loss {loss:.6f}")
    print(" layer | max |dC/dW| delta rule | max |dC/dW| autograd | max difference")
    worst = 0.0
    for l, (c, a, cb, ab) in enumerate(zip(dW, gW, db, gb), start=1):
        diff = max(np.max(np.abs(c - a)), np.max(np.abs(cb - ab)))
        worst = max(worst, diff)
        print(f"   {l}   |      {np.max(np.abs(c)):.6e}     |     {np.max(np.abs(a)):.6e}    "
              f"|  {diff:.1e}")
    print(f"largest disagreement: {worst:.1e}")
    return {"max_difference": worst}


if __name__ == "__main__":
    main()
