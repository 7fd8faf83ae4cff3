"""The buffer-reusing NumPy floor computes the allocating floor's training run: the same
parameters bit for bit after a few steps and the same losses to float rounding. A reusing
floor that skipped work, or fed a stale buffer into a kernel, would make its column (and the
compiled/floor ratio the issue asks for) meaningless."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import workloads  # noqa: E402, I001  (first: workloads_floor_reuse imports it)
import floor_kernels  # noqa: E402
import run  # noqa: E402
import workloads_floor_reuse  # noqa: E402


def _run(step, steps):
    losses = np.array([float(step()) for _ in range(steps)])
    return losses, [p.copy() for p in step.params]


def _assert_same_run(allocating, reusing, steps=6):
    want_losses, want_params = _run(allocating, steps)
    got_losses, got_params = _run(reusing, steps)
    np.testing.assert_allclose(got_losses, want_losses, rtol=1e-6)
    assert want_losses[-1] != want_losses[0]  # the parameters moved
    assert len(got_params) == len(want_params)
    for got, want in zip(got_params, want_params):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("key", ["W1", "W1z", "W1nn", "W3", "W3t", "W2"])
def test_reusing_floor_equals_allocating_floor(key):
    spec = workloads.SPECS[key]
    _assert_same_run(workloads.factory(key, "numpy")(spec),
                     workloads.factory(key, "floor_reuse")(spec))


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.05), ("adam", 1e-3)])
def test_reusing_mlp_floor_at_small_sizes(optimizer, lr):
    # W4's code (SGD) and W2's (Adam) on a net small enough for the test suite, with a batch
    # that is not a power of two and three hidden layers
    args = ([48, 40, 24, 16, 7], 30, optimizer, lr, 3)
    _assert_same_run(workloads._mlp_numpy(*args), workloads_floor_reuse.mlp_floor_reuse(*args),
                     steps=5)


def test_w4_reusing_floor_is_the_mlp_with_w4_arguments(monkeypatch):
    seen = []
    monkeypatch.setattr(workloads_floor_reuse, "mlp_floor_reuse", lambda *a: seen.append(a))
    workloads.factory("W4", "floor_reuse")(workloads.SPECS["W4"])
    assert seen == [workloads.W4_ARGS]


@pytest.mark.parametrize("chunk", [None, 7, 64])
def test_flat_adam_equals_the_floor_adam(chunk):
    rng = np.random.default_rng(0)
    shapes = [(5, 9), (9,), (3, 5)]
    params = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    flat, views = workloads_floor_reuse.flat_copy(params)
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    fm, fv, tmp, tmp2 = (np.zeros_like(flat) for _ in range(4))
    t, ft = [0], [0]
    for _ in range(3):
        grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        floor_kernels.adam_update(params, grads, m, v, t, 1e-2, 0.9, 0.999, 1e-8)
        g = np.concatenate([a.ravel() for a in grads])
        floor_kernels.adam_flat(flat, g, fm, fv, ft, 1e-2, 0.9, 0.999, 1e-8, tmp, tmp2, chunk)
    assert ft == t == [3]
    for view, p in zip(views, params):
        np.testing.assert_array_equal(view, p)
    np.testing.assert_array_equal(fv, np.concatenate([a.ravel() for a in v]))


def test_harness_reports_both_floors():
    r = {"workload": "W1", "title": "t", "chainrule": 2.0, "compiled": 3.0, "numpy": 1.0,
         "floor_reuse": 4.0, "vs_floor": 2.0, "vs_floor_reuse": 0.5, "compiled_vs_floor": 3.0,
         "compiled_vs_floor_reuse": 0.75}
    other = {"workload": "W5", "title": "u", "chainrule": 2.0, "compiled": 3.0, "numpy": 1.0,
             "vs_floor": 2.0, "compiled_vs_floor": 3.0}  # no reusing floor written
    header, _, row, missing = run.markdown([r, other], ["chainrule", "compiled", "numpy",
                                                        "floor_reuse"]).splitlines()
    cells = dict(zip(header.strip("| ").split(" | "), row.strip("| ").split(" | ")))
    assert cells["steps/s floor (allocating)"] == "1.0"
    assert cells["steps/s floor (reusing)"] == "4.0"
    assert cells["chainrule/floor (reusing)"] == "0.50x"
    assert cells["compiled/floor (reusing)"] == "0.75x"
    assert cells["compiled/floor (allocating)"] == "3.00x"
    assert missing.count(" - ") == 3
