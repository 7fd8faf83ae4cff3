"""chainrule.classic: the hand-written delta rule against autograd, finite differences and PyTorch;
the perceptron against the logic gates of the lecture notes."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import classic

ACTIVATIONS = ["sigmoid", "tanh", "relu"]
LOSSES = ["mse", "bce", "cross_entropy"]
XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
AND_Y = np.array([0, 0, 0, 1])
OR_Y = np.array([0, 1, 1, 1])
XOR_Y = np.array([0, 1, 1, 0])


def make_problem(depth, activation, loss, output_activation=None, seed=0, m=7):
    """A seeded net with ``depth`` weight layers, random (nonzero) biases and a batch (X, y).

    Nonzero biases keep every relu pre-activation away from the kink at exactly 0, where
    one-sided and two-sided derivatives would disagree.
    """
    rng = np.random.default_rng(seed)
    sizes = [3] + [5] * (depth - 1) + [4]
    net = classic.MLP(sizes, activation=activation, output_activation=output_activation,
                      loss=loss, seed=seed)
    net.set_params(net.W, [rng.normal(0.0, 0.5, size=b.shape) for b in net.b])
    X = rng.normal(size=(m, sizes[0]))
    if loss == "cross_entropy":
        y = rng.integers(0, sizes[-1], size=m)
    elif loss == "bce":
        y = rng.random((m, sizes[-1]))
    else:
        y = rng.normal(size=(m, sizes[-1]))
    return net, X, y


# --- the same network in chainrule's autograd ----------------------------------------------------


def _functional():
    try:
        from chainrule.nn import functional as F
    except ImportError:
        F = None
    try:
        from chainrule.ops import loss as L
    except ImportError:
        L = None
    return F, L


def autograd_loss(name, zL, aL, y):
    """The classic losses through chainrule: nn.functional, else ops.loss, else primitives."""
    y = cr.tensor(y)
    for mod in _functional():
        if name == "mse" and hasattr(mod, "mse_loss"):
            return mod.mse_loss(aL, y)
        if name == "bce" and hasattr(mod, "binary_cross_entropy"):
            return mod.binary_cross_entropy(aL, y)
        if name == "cross_entropy" and hasattr(mod, "cross_entropy"):
            return mod.cross_entropy(zL, y)
    if name == "mse":
        return ((aL - y) ** 2).mean()
    if name == "bce":
        return -(y * aL.log() + (1.0 - y) * (1.0 - aL).log()).mean()
    picked = zL.log_softmax(axis=1)[np.arange(zL.shape[0]), y.data]
    return -picked.mean()


def autograd_run(net, X, y):
    """Forward + backward of ``net``'s architecture with chainrule tensors (x @ W.T + b)."""
    W = [cr.tensor(w, requires_grad=True) for w in net.W]
    b = [cr.tensor(v, requires_grad=True) for v in net.b]
    hidden = getattr(cr, net.activation) if net.activation != "identity" else (lambda t: t)
    a, zs = cr.tensor(X), []
    for l in range(net.L):
        z = a @ W[l].T + b[l]
        z.retain_grad()
        zs.append(z)
        if l < net.L - 1:
            a = hidden(z)
        elif net.output_activation == "softmax":
            a = z.softmax(axis=1)
        elif net.output_activation == "identity":
            a = z
        else:
            a = getattr(cr, net.output_activation)(z)
    loss = autograd_loss(net.loss_name, z, a, y)
    loss.backward()
    grads = [[t.grad.data for t in ts] for ts in (W, b, zs)]
    return (loss.item(), *grads)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_delta_rule_equals_autograd(depth, activation, loss):
    net, X, y = make_problem(depth, activation, loss, seed=10 * depth + len(activation))
    dW, db = net.gradients(X, y)
    value, gW, gb, gz = autograd_run(net, X, y)
    assert net.W[0].dtype == np.float64 and gW[0].dtype == np.float64
    for l in range(net.L):
        np.testing.assert_allclose(dW[l], gW[l], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(db[l], gb[l], rtol=1e-10, atol=1e-14)
        # delta^l is exactly dC/dz^l, what autograd leaves in z.grad
        np.testing.assert_allclose(net.delta[l + 1], gz[l], rtol=1e-10, atol=1e-14)
    assert net.loss(X, y) == pytest.approx(value, rel=1e-10)


@pytest.mark.parametrize("output_activation", ["sigmoid", "tanh", "softmax"])
def test_mse_with_squashing_output_equals_autograd(output_activation):
    net, X, y = make_problem(2, "tanh", "mse", output_activation=output_activation, seed=3)
    dW, db = net.gradients(X, y)
    _, gW, gb, _ = autograd_run(net, X, y)
    for l in range(net.L):
        np.testing.assert_allclose(dW[l], gW[l], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(db[l], gb[l], rtol=1e-10, atol=1e-14)


_TORCH_LOSS = {
    "mse": lambda z, a, y: torch.nn.functional.mse_loss(a, torch.from_numpy(y)),
    "bce": lambda z, a, y: torch.nn.functional.binary_cross_entropy(a, torch.from_numpy(y)),
    "cross_entropy": lambda z, a, y: torch.nn.functional.cross_entropy(z, torch.from_numpy(y)),
}


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_loss_and_gradients_match_torch(activation, loss):
    # The losses' definitions (means over all elements / over the batch) are PyTorch's.
    net, X, y = make_problem(3, activation, loss, seed=7)
    dW, db = net.gradients(X, y)
    W = [torch.tensor(w, requires_grad=True) for w in net.W]
    b = [torch.tensor(v, requires_grad=True) for v in net.b]
    a = torch.from_numpy(X)
    for l in range(net.L):
        z = a @ W[l].T + b[l]
        a = getattr(torch, activation)(z) if l < net.L - 1 else z
    a = {"mse": z, "bce": torch.sigmoid(z), "cross_entropy": torch.softmax(z, 1)}[loss]
    value = _TORCH_LOSS[loss](z, a, y)
    value.backward()
    assert net.loss(X, y) == pytest.approx(value.item(), rel=1e-12)
    for l in range(net.L):
        np.testing.assert_allclose(dW[l], W[l].grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(db[l], b[l].grad.numpy(), rtol=1e-10, atol=1e-14)


# --- finite differences, independent of any autograd --------------------------------------------


def numerical_gradient(net, X, y, P, eps=1e-6):
    num = np.zeros_like(P)
    for idx in np.ndindex(P.shape):
        old = P[idx]
        P[idx] = old + eps
        up = net.loss(X, y)
        P[idx] = old - eps
        down = net.loss(X, y)
        P[idx] = old
        num[idx] = (up - down) / (2 * eps)
    return num


@pytest.mark.parametrize(
    "activation, loss, output_activation",
    [(act, loss, None) for act in ACTIVATIONS for loss in LOSSES]
    + [("identity", "mse", None), ("tanh", "mse", "softmax"), ("relu", "mse", "sigmoid")],
)
def test_delta_rule_equals_finite_differences(activation, loss, output_activation):
    net, X, y = make_problem(3, activation, loss, output_activation=output_activation, seed=5)
    dW, db = net.gradients(X, y)
    dW, db = [g.copy() for g in dW], [g.copy() for g in db]
    for P, G in zip(net.W + net.b, dW + db):
        np.testing.assert_allclose(G, numerical_gradient(net, X, y, P), rtol=1e-5, atol=1e-8)


# --- what the notes say about depth -------------------------------------------------------------


def test_xor_is_learned_with_a_hidden_layer():
    net = classic.MLP([2, 8, 1], activation="tanh", loss="bce", seed=0)
    history = net.fit(XOR_X, XOR_Y, epochs=2000, lr=1.0, seed=0)
    assert net.score(XOR_X, XOR_Y) == 1.0
    assert net.predict(XOR_X).tolist() == XOR_Y.tolist()
    assert history[-1] < 0.05 < history[0]


def test_xor_with_softmax_and_minibatches():
    net = classic.MLP([2, 8, 2], activation="sigmoid", loss="cross_entropy", seed=1)
    net.fit(XOR_X, XOR_Y, epochs=2000, lr=2.0, batch_size=2, seed=1)
    assert net.score(XOR_X, XOR_Y) == 1.0
    np.testing.assert_allclose(net.predict_proba(XOR_X).sum(axis=1), 1.0)


def test_xor_needs_a_hidden_layer():
    # No hidden layer is logistic regression: a line, which gets at most 3 of the 4 XOR points.
    net = classic.MLP([2, 1], loss="bce", seed=0)
    net.fit(XOR_X, XOR_Y, epochs=2000, lr=1.0, seed=0)
    assert net.score(XOR_X, XOR_Y) <= 0.75


# --- bookkeeping: forward stores z and a, fit is SGD, seeds reproduce ----------------------------


def test_forward_keeps_every_layer():
    net, X, _ = make_problem(3, "relu", "mse")
    out = net.forward(X)
    assert net.a[0] is not None and np.array_equal(net.a[0], X) and net.z[0] is None
    assert [a.shape for a in net.a] == [(7, 3), (7, 5), (7, 5), (7, 4)]
    np.testing.assert_array_equal(net.a[2], np.maximum(net.z[2], 0))
    np.testing.assert_array_equal(net.z[3], net.a[2] @ net.W[2].T + net.b[2])
    assert out is net.a[-1]


def test_one_full_batch_epoch_is_one_gradient_step():
    net, X, y = make_problem(2, "sigmoid", "bce", seed=4)
    W0, b0 = net.get_params()
    before = net.loss(X, y)
    dW, db = net.gradients(X, y)
    history = net.fit(X, y, epochs=1, lr=0.5, batch_size=None, shuffle=False)
    assert history == [pytest.approx(before, rel=1e-14)]
    for l in range(net.L):
        np.testing.assert_allclose(net.W[l], W0[l] - 0.5 * dW[l], rtol=1e-14)
        np.testing.assert_allclose(net.b[l], b0[l] - 0.5 * db[l], rtol=1e-14)


def test_same_seed_same_weights_and_same_training():
    runs = []
    for _ in range(2):
        net = classic.MLP([2, 4, 1], loss="bce", seed=3)
        runs.append((net.get_params(), net.fit(XOR_X, XOR_Y, epochs=5, batch_size=1, seed=9)))
    (p1, h1), (p2, h2) = runs
    assert all(np.array_equal(u, v) for u, v in zip(p1[0] + p1[1], p2[0] + p2[1]))
    assert h1 == h2
    assert not np.array_equal(classic.MLP([2, 4, 1], seed=4).W[0], p1[0][0])


def test_bce_cost_is_finite_when_the_sigmoid_saturates():
    net = classic.MLP([1, 1], loss="bce", seed=0).set_params([[[100.0]]], [[0.0]])
    cost = net.loss([[10.0]], [0.0])  # a^L rounds to 1.0; the cost is about 1000
    assert np.isfinite(cost) and cost == pytest.approx(1000.0)
    dW, _ = net.gradients([[10.0]], [0.0])
    assert dW[0][0, 0] == pytest.approx(10.0)


# --- errors name the method and the shapes ------------------------------------------------------


def test_bad_shapes_raise_clear_errors():
    net = classic.MLP([2, 3, 1], loss="bce", seed=0)
    with pytest.raises(ValueError, match=r"MLP\.forward: X has shape \(4, 3\).*\(m, 2\)"):
        net.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"MLP\.forward.*X\.reshape\(1, -1\)"):
        net.forward(np.zeros(2))
    net.forward(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"MLP\.backward: y has shape \(3,\).*\(4, 1\)"):
        net.backward(np.zeros(3))
    with pytest.raises(ValueError, match=r"MLP\.set_params: W\[1\].*\(1, 3\), got \(3, 1\)"):
        net.set_params([np.zeros((3, 2)), np.zeros((3, 1))], [np.zeros(3), np.zeros(1)])
    with pytest.raises(ValueError, match=r"MLP\.fit: bce targets must lie in \[0, 1\]"):
        net.fit(np.zeros((2, 2)), [0.0, 2.0])
    ce = classic.MLP([2, 3], loss="cross_entropy", seed=0)
    with pytest.raises(ValueError, match=r"MLP\.loss: class indices must lie in \[0, 3\)"):
        ce.loss(np.zeros((2, 2)), [0, 3])
    with pytest.raises(ValueError, match="needs output_activation 'softmax'"):
        classic.MLP([2, 3], loss="cross_entropy", output_activation="sigmoid")
    with pytest.raises(ValueError, match=r"Perceptron\.fit: X has shape \(4, 3\)"):
        classic.Perceptron(2).fit(np.zeros((4, 3)), np.zeros(4))


def test_backward_before_forward_is_an_error():
    with pytest.raises(RuntimeError, match="forward"):
        classic.MLP([2, 1], seed=0).backward([1.0])


# --- the perceptron: AND and OR yes, XOR never ---------------------------------------------------


@pytest.mark.parametrize("gate", [AND_Y, OR_Y], ids=["AND", "OR"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perceptron_learns_linearly_separable_gates(gate, seed):
    p = classic.Perceptron(2, lr=1.0, seed=seed)
    mistakes = p.fit(XOR_X, gate, epochs=100)
    assert p.converged and mistakes[-1] == 0 and len(mistakes) < 100
    assert p.score(XOR_X, gate) == 1.0
    assert p.predict(XOR_X).tolist() == gate.tolist()


def test_perceptron_rule_updates_only_on_mistakes():
    p = classic.Perceptron(2, lr=0.5)
    p.fit(XOR_X[3:], [0], epochs=1, shuffle=False)  # step(0) = 1 is wrong: one update
    np.testing.assert_array_equal(p.w, [-0.5, -0.5])
    assert p.b == -0.5 and p.mistakes == [1]
    p.fit(XOR_X[3:], [0], epochs=5, shuffle=False)  # now right: no update, converged
    assert p.mistakes == [0] and p.converged


@pytest.mark.parametrize("shuffle", [False, True])
def test_perceptron_never_learns_xor(shuffle):
    p = classic.Perceptron(2, seed=0)
    mistakes = p.fit(XOR_X, XOR_Y, epochs=1000, shuffle=shuffle)
    assert len(mistakes) == 1000 and min(mistakes) >= 1
    assert not p.converged
    assert p.score(XOR_X, XOR_Y) < 1.0
