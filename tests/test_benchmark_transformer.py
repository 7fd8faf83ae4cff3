"""W7 "transformer": chainrule, PyTorch eager and the NumPy floor train the same model from the
same weights on the same batches, so they follow the same loss curve (float32 tolerances)."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import workloads  # noqa: E402
import workloads_transformer as w7  # noqa: E402


def _losses(impl, steps=8, **kwargs):
    make = {"chainrule": w7.make_chainrule, "torch": w7.make_torch, "numpy": w7.make_numpy}[impl]
    step = make(**kwargs)
    return np.array([float(loss.detach().item() if hasattr(loss, "detach") else loss)
                     for loss in (step() for _ in range(steps))])


@pytest.mark.parametrize("other", ["numpy", "torch"])
def test_w7_implementations_follow_the_same_loss_curve(other):
    ours = _losses("chainrule")
    np.testing.assert_allclose(ours, _losses(other), rtol=2e-4)
    assert ours[-1] < ours[0] - 0.3  # and it is training


def test_w7_small_batch_and_context_agree_too():
    kw = dict(batch=4, context=16)
    np.testing.assert_allclose(_losses("chainrule", 4, **kw), _losses("numpy", 4, **kw),
                               rtol=2e-4)


def test_w7_is_registered_in_the_harness():
    spec = workloads.SPECS["W7"]
    assert spec.key == "W7" and spec.flops_per_step > 0
    assert workloads.factory("W7", "numpy") is w7.w7_numpy
