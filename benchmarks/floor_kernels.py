"""Kernels the hand-written NumPy floors share: written once, as a careful NumPy programmer
would, in the same arithmetic order as PyTorch's single-tensor Adam (so the floors follow the
same loss curve as chainrule and PyTorch)."""

import numpy as np


def adam_update(params, grads, m, v, t, lr, beta1, beta2, eps):
    """One Adam step in place over lists of arrays; ``t`` is a one-element list (the step
    count, incremented here).

    >>> p, g = [np.ones(2)], [np.full(2, 0.5)]
    >>> m, v, t = [np.zeros(2)], [np.zeros(2)], [0]
    >>> adam_update(p, g, m, v, t, 0.1, 0.9, 0.999, 1e-8); p[0].round(3).tolist(), t
    ([0.9, 0.9], [1])
    """
    t[0] += 1
    c1 = 1 - beta1 ** t[0]
    c2 = 1 - beta2 ** t[0]
    for p, gp, mi, vi in zip(params, grads, m, v):
        mi *= beta1
        mi += (1 - beta1) * gp
        vi *= beta2
        vi += (1 - beta2) * gp * gp
        denom = np.sqrt(vi / c2) + eps
        p -= (lr / c1) * mi / denom


def adam_flat(p, g, m, v, t, lr, beta1, beta2, eps, tmp, tmp2, chunk=None):
    """:func:`adam_update` over one flat parameter array ``p`` (gradient ``g``, moments ``m``
    and ``v``) in place, with the scratch arrays ``tmp`` and ``tmp2`` (shaped like ``p``):
    the same operations in the same order, so the same numbers bit for bit, and no array
    allocated. ``chunk``: update that many elements at a time (cache-sized slices).

    >>> p, g, m, v = np.ones(2), np.full(2, 0.5), np.zeros(2), np.zeros(2)
    >>> t = [0]; adam_flat(p, g, m, v, t, 0.1, 0.9, 0.999, 1e-8, np.empty(2), np.empty(2))
    >>> p.round(3).tolist(), t
    ([0.9, 0.9], [1])
    """
    t[0] += 1
    c1 = 1 - beta1 ** t[0]
    c2 = 1 - beta2 ** t[0]
    n = p.size
    step = n if chunk is None else chunk
    for i in range(0, n, step):
        j = min(i + step, n)
        _adam_slice(p[i:j], g[i:j], m[i:j], v[i:j], tmp[: j - i], tmp2[: j - i],
                    lr / c1, beta1, beta2, c2, eps)


def _adam_slice(p, g, m, v, tmp, tmp2, step_size, beta1, beta2, c2, eps):
    np.multiply(m, beta1, out=m)  # m = beta1 m + (1 - beta1) g
    np.multiply(g, 1 - beta1, out=tmp)
    np.add(m, tmp, out=m)
    np.multiply(v, beta2, out=v)  # v = beta2 v + ((1 - beta2) g) g
    np.multiply(g, 1 - beta2, out=tmp)
    np.multiply(tmp, g, out=tmp)
    np.add(v, tmp, out=v)
    np.divide(v, c2, out=tmp)  # denom = sqrt(v / c2) + eps
    np.sqrt(tmp, out=tmp)
    np.add(tmp, eps, out=tmp)
    np.multiply(m, step_size, out=tmp2)  # p -= (lr / c1) m / denom
    np.divide(tmp2, tmp, out=tmp2)
    np.subtract(p, tmp2, out=p)
