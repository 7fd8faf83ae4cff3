"""Inverted dropout: in training, zero each element with probability ``p`` and scale the
survivors by ``1 / (1 − p)`` so the expected output equals the input; identity in eval mode.

The mask is drawn from the library generator, so ``cr.manual_seed`` reproduces it. It is an
ordinary constant factor, so the backward pass is the ``mul`` primitive's: ``g · mask``.

>>> import chainrule as cr
>>> _ = cr.manual_seed(0)
>>> y = dropout(cr.ones(1000), p=0.5)
>>> sorted(set(y.tolist()))
[0.0, 2.0]
"""

import numpy as np

from chainrule.backend import get_rng
from chainrule.nn.module import Module
from chainrule.ops.arithmetic import mul as _mul
from chainrule.ops.base import as_tensor


def _check_p(p, op):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, got {p}")
    return float(p)


def dropout(input, p=0.5, training=True):
    """``input · mask / (1 − p)`` with ``mask ~ Bernoulli(1 − p)`` when ``training``, else
    ``input`` unchanged.

    >>> import chainrule as cr
    >>> dropout(cr.ones(3), p=0.5, training=False).tolist()
    [1.0, 1.0, 1.0]
    """
    p = _check_p(p, "dropout")
    x = as_tensor(input)
    if not training or p == 0.0:
        return x
    dtype = x.data.dtype if x.data.dtype.kind == "f" else np.dtype(np.float32)
    draw_dtype = dtype if dtype in (np.float32, np.float64) else np.float32
    if p == 1.0:
        mask = np.zeros(x.data.shape, dtype=dtype)
    else:
        keep = get_rng().random(x.data.shape, dtype=draw_dtype) >= p
        mask = keep.astype(dtype)
        mask *= dtype.type(1.0 / (1.0 - p))
    return _mul(x, mask)


class Dropout(Module):
    """Randomly zero elements with probability ``p`` during training (inverted dropout).

    >>> import chainrule as cr
    >>> layer = cr.nn.Dropout(0.25).eval()
    >>> layer(cr.ones(2)).tolist()
    [1.0, 1.0]
    """

    def __init__(self, p=0.5, inplace=False):  # inplace: accepted for PyTorch code, ignored
        super().__init__()
        self.p = _check_p(p, "Dropout")

    def forward(self, x):
        return dropout(x, self.p, self.training)

    def get_config(self):
        return {"p": self.p}

    def extra_repr(self):
        return f"p={self.p}"
