"""W5 (LeNet) in the benchmark harness: chainrule, PyTorch eager and the NumPy floor start from
the same weights and data and follow the same loss curve, step after step (float32
tolerances). A floor that did less work than chainrule would make the speed ratio meaningless."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import workloads  # noqa: E402
import workloads_cnn  # noqa: E402


def _losses(step, steps=10):
    return np.array([float(l.detach().item() if hasattr(l, "detach") else l)
                     for l in (step() for _ in range(steps))])


@pytest.mark.parametrize("other", ["numpy", "torch"])
def test_lenet_implementations_follow_the_same_loss_curve(other):
    spec = workloads.SPECS["W5"]
    ours = _losses(workloads.factory("W5", "chainrule")(spec))
    theirs = _losses(workloads.factory("W5", other)(spec))
    assert ours[-1] < ours[0]  # it learns: the curve is not flat
    np.testing.assert_allclose(ours, theirs, rtol=2e-4)


def test_lenet_floor_agrees_at_another_batch_size():
    ours = _losses(workloads_cnn.lenet_lib("chainrule", batch=16), steps=4)
    floor = _losses(workloads_cnn.lenet_numpy(batch=16), steps=4)
    np.testing.assert_allclose(ours, floor, rtol=2e-4)
