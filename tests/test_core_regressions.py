"""Regression tests for core bugs found while building the library (each once shipped wrong)."""

import numpy as np
import pytest
import torch

import chainrule as cr


def test_zeroing_the_grad_of_a_0d_leaf_really_zeroes_it():
    # 0-d reductions used to hand NumPy scalars to .grad; zero_() on those was a silent no-op,
    # so gradient descent on scalar parameters accumulated stale gradients.
    w = cr.tensor(1.0, dtype=cr.float64, requires_grad=True)
    x = cr.tensor(np.array([1.0, 2.0]))
    for _ in range(3):
        ((x - w) ** 2).mean().backward()
        assert w.grad.item() == pytest.approx(-1.0)
        w.grad.zero_()
        assert w.grad.item() == 0.0


def test_op_results_are_always_ndarrays():
    a = cr.tensor(2.0, requires_grad=True)
    for out in (a * a, cr.exp(a), a.sum(), (a * 3).mean()):
        assert type(out.data) is np.ndarray


def test_transpose_with_two_axes_swaps_them_like_pytorch():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(cr.tensor(x).transpose(0, 1).numpy(), x.T)
    y = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(cr.tensor(y).transpose(0, 2).numpy(), np.swapaxes(y, 0, 2))
    np.testing.assert_array_equal(cr.tensor(y).transpose(2, 0, 1).numpy(), y.transpose(2, 0, 1))


def test_clip_with_tensor_bounds_gives_the_bounds_gradients():
    rng = np.random.default_rng(0)
    x, lo, hi = rng.standard_normal((3, 5, 4))
    lo, hi = np.minimum(lo, hi) - 0.2, np.maximum(lo, hi) + 0.2
    ts = [torch.tensor(v, requires_grad=True) for v in (x, lo, hi)]
    cs = [cr.tensor(v, requires_grad=True) for v in (x, lo, hi)]
    torch.clamp(*ts).pow(2).sum().backward()
    (cr.clip(*cs) ** 2).sum().backward()
    for c, t in zip(cs, ts):
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_variance_of_integers_is_a_float():
    assert cr.tensor([1, 2, 4]).var().item() == pytest.approx(np.var([1, 2, 4], ddof=1))


def test_matmul_names_mismatched_batch_dimensions():
    with pytest.raises(ValueError, match=r"batch dimensions \(2,\) and \(3,\)"):
        cr.ones(2, 3, 4) @ cr.ones(3, 4, 5)


def test_linear_without_bias_returns_one_gradient_per_input():
    x = cr.tensor(np.ones((2, 3)), requires_grad=True)
    w = cr.tensor(np.ones((4, 3)), requires_grad=True)
    out = cr.ops.linear(x, w)
    assert len(out._backward(np.ones((2, 4)), out)) == 2


def test_a_fresh_gradient_becomes_the_leaf_grad_without_a_copy():
    import weakref

    x = cr.tensor(np.ones((4, 3)))
    w = cr.tensor(np.ones((3, 2)), requires_grad=True)
    out = x @ w
    seen = []
    backward = out._backward

    def spy(g, node):
        grads = backward(g, node)
        seen.append(weakref.ref(grads[1]))
        return grads

    out._backward = spy
    out.sum().backward()
    assert w.grad.data is seen[0]()  # stolen: the matmul result was not copied


def test_a_shared_gradient_is_copied_before_it_becomes_a_grad():
    a = cr.tensor(np.ones(3), requires_grad=True)
    b = cr.tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()
    assert not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data += 1
    np.testing.assert_array_equal(b.grad.numpy(), np.ones(3))
