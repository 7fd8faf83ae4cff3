"""The buffer-reusing NumPy floor (impl ``floor_reuse``) of W1, W1z, W1nn, W3, W3t, W2 and W4.

The same math as the allocating floor in ``workloads.py`` (same weights, same data, the same
ufuncs in the same order, so the same parameters bit for bit and the same losses to float
rounding), written as a careful NumPy programmer writes it: every intermediate is a buffer
allocated once and filled with ``out=``; activations are overwritten in place (ReLU, tanh,
the softmax shift); the softmax-cross-entropy gradient is computed in the buffer of its
exponentials; transposed operands are views that BLAS reads as they are; all parameters (and
their gradients and Adam's moments) are views of one flat array each, so the update is a few
ufunc calls over one buffer, whatever the number of layers.
"""

import numpy as np
import workloads as wl
from floor_kernels import adam_flat

SPECS = {}  # the workloads themselves are those of workloads.py


def flat_copy(arrays):
    """(flat, views): one flat array holding copies of ``arrays``, and views of it shaped like
    them (writing a view writes the flat array).

    >>> flat, (a, b) = flat_copy([np.ones((2, 2)), np.zeros(1)])
    >>> a[0, 0] = 5; flat.tolist()
    [5.0, 1.0, 1.0, 1.0, 0.0]
    """
    flat = np.empty(sum(a.size for a in arrays), arrays[0].dtype)
    views, start = [], 0
    for a in arrays:
        view = flat[start:start + a.size].reshape(a.shape)
        view[...] = a
        views.append(view)
        start += a.size
    return flat, views


def _buffers(*shapes, dtype=np.float32):
    return [np.empty(shape, dtype) for shape in shapes]


# =========================================================================== W1, W1z
def w1_floor_reuse(spec):
    x, y, w1_init, w2_init = wl.tutorial_data()
    lr = 1e-6
    P, (w1, w2) = flat_copy([w1_init, w2_init])
    G, (gw1, gw2) = flat_copy([w1_init, w2_init])  # overwritten by every step
    n, hidden, out = x.shape[0], w1.shape[1], w2.shape[1]
    h, gh = _buffers((n, hidden), (n, hidden))
    diff, sq = _buffers((n, out), (n, out))
    keep = np.empty((n, hidden), bool)
    xT = x.T

    def step():
        np.matmul(x, w1, out=h)
        np.greater_equal(h, 0, out=keep)  # the floor's grad_h[h < 0] = 0, as a mask
        np.maximum(h, 0, out=h)  # h_relu, in place
        np.matmul(h, w2, out=diff)
        np.subtract(diff, y, out=diff)
        np.square(diff, out=sq)
        loss = np.add.reduce(sq, axis=None)
        np.multiply(diff, 2.0, out=diff)  # grad_y_pred
        np.matmul(h.T, diff, out=gw2)
        np.matmul(diff, w2.T, out=gh)
        np.multiply(gh, keep, out=gh)
        np.matmul(xT, gh, out=gw1)
        np.multiply(G, lr, out=G)
        np.subtract(P, G, out=P)
        return loss

    step.params = [w1, w2]  # for tests
    return step


w1z_floor_reuse = w1_floor_reuse


# =========================================================================== W1nn
def w1nn_floor_reuse(spec):
    x, y, _, _ = wl.tutorial_data()
    init = [a for layer in wl.mlp_weights([1000, 100, 10]) for a in layer]
    P, (W1, b1, W2, b2) = flat_copy(init)
    G, (gW1, gb1, gW2, gb2) = flat_copy(init)
    lr = 1e-4
    n = x.shape[0]
    r, gr = _buffers((n, 100), (n, 100))
    diff, sq = _buffers((n, 10), (n, 10))
    keep = np.empty((n, 100), bool)

    def step():
        np.matmul(x, W1.T, out=r)
        np.add(r, b1, out=r)
        np.maximum(r, 0, out=r)
        np.matmul(r, W2.T, out=diff)
        np.add(diff, b2, out=diff)
        np.subtract(diff, y, out=diff)
        np.square(diff, out=sq)
        loss = np.add.reduce(sq, axis=None)
        np.multiply(diff, 2.0, out=diff)  # g
        np.matmul(diff.T, r, out=gW2)
        np.add.reduce(diff, axis=0, out=gb2)
        np.matmul(diff, W2, out=gr)
        np.greater(r, 0, out=keep)  # relu(h) > 0 exactly where h > 0
        np.multiply(gr, keep, out=gr)
        np.matmul(gr.T, x, out=gW1)
        np.add.reduce(gr, axis=0, out=gb1)
        np.multiply(G, lr, out=G)
        np.subtract(P, G, out=P)
        return loss

    step.params = [W1, b1, W2, b2]  # for tests
    return step


# =========================================================================== W3, W3t
def w3_floor_reuse(spec):
    init = [a for layer in wl.mlp_weights([2, 8, 1], seed=1) for a in layer]
    P, (W1, b1, W2, b2) = flat_copy(init)
    G, (gW1, gb1, gW2, gb2) = flat_copy(init)
    x, y = wl.XOR_X, wl.XOR_Y
    n = x.shape[0]
    lr = 0.5
    h, t, gpre = _buffers((n, 8), (n, 8), (n, 8))
    z, sz, sp, gz = _buffers((n, 1), (n, 1), (n, 1), (n, 1))
    if not np.isin(y, (0, 1)).all():
        raise ValueError("the reusing floor's loss needs 0/1 labels")
    sign = 1 - 2 * y
    # Local names: on 4x8 arrays each step is ~25 ufunc calls and little else.
    matmul, add, subtract, multiply, divide = (np.matmul, np.add, np.subtract, np.multiply,
                                               np.divide)
    tanh, exp, negative, logaddexp, reduce = (np.tanh, np.exp, np.negative, np.logaddexp,
                                              np.add.reduce)

    def step():
        matmul(x, W1.T, out=h)
        add(h, b1, out=h)
        tanh(h, out=h)
        matmul(h, W2.T, out=z)
        add(z, b2, out=z)
        # the floor's max(z,0) - z y + log1p(exp(-|z|)) is softplus(z) for y = 0 and
        # softplus(-z) for y = 1 (both without cancellation): logaddexp(0, (1 - 2 y) z)
        multiply(z, sign, out=sz)
        logaddexp(0, sz, out=sp)
        loss = reduce(sp, axis=None) / n
        negative(z, out=gz)  # (sigmoid(z) - y) / n
        exp(gz, out=gz)
        add(gz, 1, out=gz)
        divide(1, gz, out=gz)
        subtract(gz, y, out=gz)
        divide(gz, n, out=gz)
        matmul(gz.T, h, out=gW2)
        reduce(gz, axis=0, out=gb2)
        matmul(gz, W2, out=gpre)
        multiply(h, h, out=t)
        subtract(1, t, out=t)
        multiply(gpre, t, out=gpre)
        matmul(gpre.T, x, out=gW1)
        reduce(gpre, axis=0, out=gb1)
        multiply(G, lr, out=G)
        subtract(P, G, out=P)
        return loss

    step.params = [W1, b1, W2, b2]  # for tests
    return step


w3t_floor_reuse = w3_floor_reuse


# =========================================================================== W2, W4
def mlp_floor_reuse(sizes, batch, optimizer, lr, seed):
    """The allocating floor's ReLU MLP + softmax cross-entropy (``workloads._mlp_numpy``, same
    arguments) with every buffer allocated once."""
    init = [a for layer in wl.mlp_weights(sizes, seed) for a in layer]
    x, y = wl.classification_data(batch, sizes[0], sizes[-1], seed)
    P, pviews = flat_copy(init)
    G, gviews = flat_copy(init)
    Ws, bs, gWs, gbs = pviews[0::2], pviews[1::2], gviews[0::2], gviews[1::2]
    L = len(Ws)
    acts = [x] + _buffers(*[(batch, n) for n in sizes[1:]])  # acts[i + 1]: layer i's output
    gacts = _buffers(*[(batch, n) for n in sizes[1:]])  # gacts[i]: d loss / d acts[i + 1]
    keep = [np.empty((batch, n), bool) for n in sizes[1:-1]]
    picked, logs = _buffers(batch, batch)
    shift, total = _buffers((batch, 1), (batch, 1))
    target = np.arange(batch) * sizes[-1] + y  # flat indices of [rows, y]
    if optimizer == "adam":
        m, v, tmp, tmp2 = np.zeros_like(P), np.zeros_like(P), np.empty_like(P), np.empty_like(P)
        t = [0]

    def step():
        for i in range(L):
            z = acts[i + 1]
            np.matmul(acts[i], Ws[i].T, out=z)
            np.add(z, bs[i], out=z)
            if i < L - 1:
                np.maximum(z, 0, out=z)
        logits, e = acts[-1], gacts[-1]
        np.maximum.reduce(logits, axis=1, keepdims=True, out=shift)
        np.subtract(logits, shift, out=logits)  # shifted, in place
        np.take(logits.reshape(-1), target, out=picked)
        np.exp(logits, out=e)
        np.add.reduce(e, axis=1, keepdims=True, out=total)
        np.log(total[:, 0], out=logs)
        np.subtract(logs, picked, out=logs)
        loss = logs.mean()
        np.divide(e, total, out=e)  # softmax, then minus one-hot, over the batch: in place
        e.reshape(-1)[target] -= 1
        np.divide(e, batch, out=e)
        g = e
        for i in range(L - 1, -1, -1):
            np.matmul(g.T, acts[i], out=gWs[i])
            np.add.reduce(g, axis=0, out=gbs[i])
            if i:
                np.matmul(g, Ws[i], out=gacts[i - 1])
                g = gacts[i - 1]
                np.greater(acts[i], 0, out=keep[i - 1])  # relu(z) > 0 exactly where z > 0
                np.multiply(g, keep[i - 1], out=g)
        if optimizer == "sgd":
            np.multiply(G, lr, out=G)
            np.subtract(P, G, out=P)
        else:
            adam_flat(P, G, m, v, t, lr, 0.9, 0.999, 1e-8, tmp, tmp2)
        return loss

    step.params = pviews  # for tests
    return step


def w2_floor_reuse(spec):
    return mlp_floor_reuse(*wl.W2_ARGS)


def w4_floor_reuse(spec):
    return mlp_floor_reuse(*wl.W4_ARGS)
