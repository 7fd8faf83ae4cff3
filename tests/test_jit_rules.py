"""Compiled kernel rules that take a shorter path than the eager op's NumPy calls (one mask
pass for relu's backward, np.maximum for a one-sided clip, a folded or skipped multiply by the
backward's seed, the forward's softplus reused by BCE's backward) still give the eager bits:
gradients compared byte for byte, on inputs with NaN, signed zeros, infinities and huge
logits, over replays with new data."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.jit import CompileWarning

F = cr.nn.functional
SPECIAL = np.array([[np.nan, -0.0, 0.0, -1.5, 2.0, np.inf],
                    [-np.inf, 3.0, -2.0, 1e-30, -1e-30, 0.5]], dtype=np.float32)
TARGET = np.array([[0.0, 1.0, 1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]],
                  dtype=np.float32)
CLASSES = np.array([5, 0])  # made outside the step: cr.compile refuses arrays made inside it

LOSSES = {
    "relu sum": lambda h: h.relu().sum(),
    "relu mean": lambda h: (h.relu() * 3).mean(),
    "clamp min": lambda h: h.clamp(min=0.25).sum(),
    "clamp max": lambda h: (h.clamp(max=0.5) * h).mean(),
    "clamp both": lambda h: h.clamp(min=-1.0, max=1.0).sum(),
    "pow 2 sum": lambda h: (h ** 2).sum(),
    "pow 2 mean": lambda h: (h ** 2).mean(),
    "mse sum": lambda h: F.mse_loss(h, cr.tensor(TARGET), reduction="sum"),
    "mse mean": lambda h: F.mse_loss(h, cr.tensor(TARGET)),
    "bce mean": lambda h: F.binary_cross_entropy_with_logits(h * 40, cr.tensor(TARGET)),
    "bce sum": lambda h: F.binary_cross_entropy_with_logits(h, cr.tensor(TARGET),
                                                            reduction="sum"),
    "cross entropy": lambda h: F.cross_entropy(h * 30, cr.tensor(CLASSES)),
}


def _step(loss_of, w):
    def step(x):
        loss = loss_of(x * w + x)
        loss.backward()
        grad = w.grad
        w.grad = None
        return loss, grad

    return step


def _inputs(finite):
    rng = np.random.default_rng(3)
    xs = [SPECIAL] + [rng.standard_normal(SPECIAL.shape).astype(np.float32) for _ in range(2)]
    if finite:
        xs[0] = np.nan_to_num(SPECIAL, posinf=7.0, neginf=-7.0)
    return [x * np.float32(s) for x in xs for s in (1.0, 50.0)]


@pytest.mark.parametrize("name", list(LOSSES))
def test_shortened_rules_give_the_eager_bits(name):
    # cross entropy and BCE of a NaN or infinite logit are NaN in both: keep those finite
    finite = name.startswith(("cross", "bce", "mse"))
    w = np.linspace(0.5, 1.5, 12, dtype=np.float32).reshape(2, 6)
    w[0, 5] = -1.0  # h = inf * -1 + inf is NaN: relu lets its gradient (1 * inf) through
    w_eager = cr.tensor(w, requires_grad=True)
    w_comp = cr.tensor(w_eager.data.copy(), requires_grad=True)
    eager, compiled = _step(LOSSES[name], w_eager), cr.compile(_step(LOSSES[name], w_comp))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("error", CompileWarning)
        for x in _inputs(finite):
            want = eager(cr.tensor(x))
            got = compiled(cr.tensor(x))
            for a, b in zip(want, got):
                assert a.data.dtype == b.data.dtype and a.data.shape == b.data.shape
                assert a.data.tobytes() == b.data.tobytes(), name
    assert compiled.stats["replays"] == 5


def test_rules_take_the_short_paths():
    w = cr.tensor(np.ones((2, 6), np.float32), requires_grad=True)
    x = cr.tensor(SPECIAL)
    tapes = {}
    for name in ("relu sum", "clamp min", "mse sum", "bce mean", "pow 2 sum"):
        step = cr.compile(_step(LOSSES[name], w))
        with np.errstate(all="ignore"):
            step(x)
        tapes[name] = step.tape
    assert "np.not_equal(" in tapes["relu sum"] and "np.logical_not(" not in tapes["relu sum"]
    assert "np.maximum(" in tapes["clamp min"] and "np.clip(" not in tapes["clamp min"]
    # the seed of ones is not multiplied in; BCE's backward does not recompute logaddexp
    # x * w, diff * diff, 2 * diff, g * x (no "* seed")
    assert tapes["mse sum"].count("np.multiply(") == 4
    assert tapes["pow 2 sum"].count("np.multiply(") == 3  # x * w, 2 * h, g * x
    assert tapes["bce mean"].count("np.logaddexp(") == 1
    assert "np.true_divide(k" not in tapes["bce mean"]  # the seed's 1/n is folded
    # Python numbers are bound as 0-d float32 arrays: no literal operand left in a kernel
    assert "np.logaddexp(k" in tapes["bce mean"] and "(0," not in tapes["bce mean"]
    assert "np.maximum(t" in tapes["relu sum"] and ", 0," not in tapes["relu sum"]
