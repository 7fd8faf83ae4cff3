"""The benchmark's compiled column trains exactly as chainrule's eager column (same losses
bit for bit): a compiled variant that skipped work would make its speed meaningless."""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import workloads  # noqa: E402

from chainrule.jit import CompileWarning  # noqa: E402


def _losses(key, impl, steps=12):
    step = workloads.factory(key, impl)(workloads.SPECS[key])
    return np.array([float(step().item()) for _ in range(steps)]), step


@pytest.mark.parametrize("key", ["W1", "W1z", "W1nn", "W2", "W3", "W3t"])
def test_compiled_workload_equals_eager_workload(key):
    eager, _ = _losses(key, "chainrule")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        compiled, step = _losses(key, "compiled")
    np.testing.assert_array_equal(eager, compiled)
    assert step.stats["replays"] == 11


@pytest.mark.parametrize("key", ["W5", "W6", "W7"])
def test_compiled_common_layer_workloads_equal_eager(key):
    """The CNN, LSTM and Transformer workloads: their layers replay whole, the rest as
    kernels; the losses are eager's bit for bit (W7 draws a new batch each step)."""
    eager, _ = _losses(key, "chainrule", steps=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        compiled, _ = _losses(key, "compiled", steps=4)
    np.testing.assert_array_equal(eager, compiled)
    assert len(set(eager.tolist())) == 4  # they train: every step a new loss
