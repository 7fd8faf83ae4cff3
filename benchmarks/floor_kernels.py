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
