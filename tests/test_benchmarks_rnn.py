"""W6 (charlstm) three ways follow the same loss curve from the same weights and data, so the
speed ratios compare equal work (see test_benchmarks.py for W1-W4)."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import workloads  # noqa: E402


def _losses(impl, steps=8):
    step = workloads.factory("W6", impl)(workloads.SPECS["W6"])
    losses = (step() for _ in range(steps))
    return np.array([float(loss.detach().item() if hasattr(loss, "detach") else loss)
                     for loss in losses])


@pytest.mark.parametrize("other", ["numpy", "torch"])
def test_w6_implementations_follow_the_same_loss_curve(other):
    ours = _losses("chainrule")
    theirs = _losses(other)
    assert abs(ours[0] - np.log(65)) < 0.2  # random weights, random text: a uniform guess
    assert ours[-1] < ours[0] - 0.02  # Adam makes progress
    np.testing.assert_allclose(ours, theirs, rtol=2e-4)
