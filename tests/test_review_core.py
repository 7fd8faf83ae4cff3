"""Regressions found by the core review (each failed before its fix); PyTorch is the oracle."""

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F


def test_inplace_add_of_a_grad_requiring_value_is_recorded_instead_of_dropping_its_gradient():
    # Issue 12 turned the old refusal into a recorded in-place op, as PyTorch does.
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    total = cr.zeros(2)
    total += w * 3
    total.add_(w, alpha=2)
    total.sum().backward()
    assert w.grad.tolist() == [5.0, 5.0]
    copied = cr.zeros(2)
    copied.copy_(w)
    copied.sum().backward()
    assert w.grad.tolist() == [6.0, 6.0]
    total = cr.zeros(2)
    with cr.no_grad():  # the optimiser pattern stays a plain write
        total += w * 3
    assert total.tolist() == [3.0, 6.0] and not total.requires_grad


def test_inplace_shape_errors_name_the_operation_and_the_shapes():
    a = cr.ones(2, 3)
    with pytest.raises(ValueError, match=r"\+=.*\(4, 5\).*\(2, 3\)"):
        a += cr.ones(4, 5)
    with pytest.raises(ValueError, match=r"copy_.*\(4, 5\).*\(2, 3\)"):
        a.copy_(np.ones((4, 5)))


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_over_a_nonempty_axis_of_an_empty_tensor_is_empty(op):
    x = cr.tensor(np.zeros((0, 3)), requires_grad=True)
    y = getattr(x, op)(axis=1)
    expected = getattr(torch.zeros(0, 3), "amax" if op == "max" else "amin")(dim=1)
    assert y.shape == tuple(expected.shape) == (0,)
    y.sum().backward()
    assert x.grad.shape == (0, 3)
    with pytest.raises(ValueError, match=rf"{op}: .*axis of length 0.*\(0, 3\)"):
        getattr(x, op)(axis=0)


def test_logsumexp_over_an_axis_of_length_zero_is_minus_inf():
    x = np.zeros((0, 3))
    got = cr.tensor(x).logsumexp(axis=0)
    np.testing.assert_array_equal(got.data, torch.logsumexp(torch.tensor(x), dim=0).numpy())
    assert cr.tensor(x).logsumexp(axis=1).shape == (0,)
    assert cr.tensor([1, 2, 3]).logsumexp().item() == pytest.approx(3.40760596444)


def test_indexing_with_an_empty_list_selects_nothing():
    x = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x[[]]
    assert y.shape == tuple(torch.zeros(2, 3)[[]].shape) == (0, 3)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros((2, 3)))


@pytest.mark.parametrize("loss", ["l1_loss", "huber_loss"])
def test_composed_losses_name_themselves_in_shape_errors(loss):
    with pytest.raises(ValueError, match=rf"{loss}: shapes \(2, 3\) and \(4, 5\)"):
        getattr(F, loss)(cr.ones(2, 3), cr.ones(4, 5))
