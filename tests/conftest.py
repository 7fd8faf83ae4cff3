"""Shared test fixtures: a deterministic Hypothesis profile and the PyTorch oracle.

The ``oracle`` fixture runs one computation in chainrule and in PyTorch (CPU, built from the same
NumPy arrays) and compares forward values, dtypes and the gradients of every input. Along the
way it checks what every primitive must guarantee: each node's vector-Jacobian product returns
gradients of its parents' shapes and dtypes, backward does not modify the upstream gradient or
the inputs, and (in float64) ``cr.gradcheck`` agrees with autograd.
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, settings

import chainrule as cr
from chainrule.autograd import topological_order


def pytest_configure(config):
    # In CI the PyTorch oracle is part of the test suite: its absence is an error, not a skip.
    if os.environ.get("CI", "").lower() == "true":
        try:
            import torch  # noqa: F401
        except ImportError as err:
            raise pytest.UsageError(
                "CI=true but the PyTorch oracle is missing: pip install -e '.[test]' "
                "(it pins torch==2.13.0, the CPU build)"
            ) from err


# Deterministic and bounded: the same examples on every run, fast enough for CI, and nothing
# written to disk (no example database, no "explain" phase patches).
settings.register_profile(
    "chainrule",
    derandomize=True,
    database=None,
    max_examples=60,
    deadline=None,
    print_blob=True,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("chainrule")

TOLERANCES = {
    np.dtype(np.float64): {"rtol": 1e-10, "atol": 1e-12},
    np.dtype(np.float32): {"rtol": 1e-5, "atol": 1e-6},
}


def _vjp_contract(out):
    """Call every node's backward with a ones gradient: parent-shaped, parent-dtyped results."""
    for node in topological_order(out):
        if node.is_leaf:
            continue
        g = np.ones(node.data.shape, dtype=node.data.dtype)
        grads = node._backward(g, node)
        assert len(grads) >= len(node.parents), f"{node.op}: a gradient for every parent"
        for i, (parent, pg) in enumerate(zip(node.parents, grads)):
            if pg is None or not parent.requires_grad:
                continue
            pg = np.asarray(pg)
            assert pg.shape == parent.data.shape, (
                f"{node.op}: gradient for input {i} has shape {pg.shape}, "
                f"input has {parent.data.shape}"
            )
            assert pg.dtype == parent.data.dtype, (
                f"{node.op}: gradient for input {i} has dtype {pg.dtype}, "
                f"input has {parent.data.dtype}"
            )
        assert np.array_equal(g, np.ones_like(g)), f"{node.op}: backward modified its gradient"


class Oracle:
    """``oracle(cr_fn, torch_fn, arrays, dtype)``: compare chainrule with PyTorch.

    ``arrays`` are NumPy arrays; float arrays are cast to ``dtype`` and require grad unless
    ``grad`` (a list of booleans) says otherwise. Returns the chainrule output.
    """

    def __call__(self, cr_fn, torch_fn, arrays, dtype=np.float64, grad=None, gradcheck=True,
                 rtol=None, atol=None, seed=0):
        import torch

        dtype = np.dtype(dtype)
        arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in map(np.asarray, arrays)]
        if grad is None:
            grad = [a.dtype.kind == "f" for a in arrays]
        tol = dict(TOLERANCES[dtype])
        if rtol is not None:
            tol["rtol"] = rtol
        if atol is not None:
            tol["atol"] = atol

        xs = [cr.Tensor(a.copy(), requires_grad=g) for a, g in zip(arrays, grad)]
        ts = [torch.from_numpy(a.copy()).requires_grad_(g) for a, g in zip(arrays, grad)]
        out = cr_fn(*xs)
        tout = torch_fn(*ts)
        expected = tout.detach().numpy()
        assert out.shape == tuple(tout.shape), f"shape {out.shape} != torch {tuple(tout.shape)}"
        assert out.dtype == expected.dtype, f"dtype {out.dtype} != torch {expected.dtype}"
        np.testing.assert_allclose(out.data, expected, **tol, err_msg="forward")
        if not any(grad):
            return out

        assert out.requires_grad
        _vjp_contract(out)
        g = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
        g_before = g.copy()
        out.backward(g)
        tout.backward(torch.from_numpy(g.copy()))
        assert np.array_equal(g, g_before), "backward modified the upstream gradient"
        for i, (x, t, a) in enumerate(zip(xs, ts, arrays)):
            assert np.array_equal(x.data, a), f"input {i} was modified"
            if not grad[i]:
                continue
            want = np.zeros_like(a) if t.grad is None else t.grad.numpy()
            assert x.grad is not None, f"input {i} got no gradient"
            assert x.grad.shape == a.shape and x.grad.dtype == a.dtype
            np.testing.assert_allclose(x.grad.data, want, **tol, err_msg=f"gradient of input {i}")

        if gradcheck and dtype == np.float64:
            inputs = [cr.Tensor(a.copy(), requires_grad=g) for a, g in zip(arrays, grad)]
            assert cr.gradcheck(cr_fn, inputs)
        return out


@pytest.fixture
def oracle():
    return Oracle()


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """The suite's matrices are tiny: on a shared 2-core machine extra BLAS threads only fight
    over the cores (a digits fit ran 25x slower). Benchmarks keep the default threads."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1):
        yield


@pytest.fixture(autouse=True)
def _grad_mode_restored():
    """A test that leaves grad mode off would silently change every test after it."""
    yield
    if not cr.is_grad_enabled():
        cr.autograd.GradMode.enabled = True
        pytest.fail("the test left grad mode disabled")
