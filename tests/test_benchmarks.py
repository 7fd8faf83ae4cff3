"""The benchmark's three implementations compute the same training run: same weights, same
data, same losses step after step (float32 tolerances). A floor that did less work than
chainrule would make the speed ratios meaningless."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import workloads  # noqa: E402

# W4 is the same code as W2 with 21M weights: too slow for the test suite.
KEYS = ["W1", "W1z", "W1nn", "W2", "W3", "W3t"]


def _losses(key, impl, steps=12):
    step = workloads.factory(key, impl)(workloads.SPECS[key])
    return np.array([_item(step()) for _ in range(steps)])


def _item(loss):
    return float(loss.detach().item() if hasattr(loss, "detach") else loss)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("other", ["numpy", "torch"])
def test_implementations_follow_the_same_loss_curve(key, other):
    ours = _losses(key, "chainrule")
    theirs = _losses(key, other)
    np.testing.assert_allclose(ours, theirs, rtol=2e-4)
    assert ours[-1] < ours[0]  # and it is training, not standing still
