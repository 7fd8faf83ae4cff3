"""cr.gradcheck and cr.jacobian: they must pass correct gradients and catch wrong ones."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.gradcheck import GradcheckError
from chainrule.ops.base import unary


def _cube_wrong_backward(g, node):
    x = node.parents[0].data
    return (g * 2 * x * x,)  # should be 3·x²


def _cube_right_backward(g, node):
    x = node.parents[0].data
    return (g * 3 * x * x,)


def cube(a, backward=_cube_wrong_backward):
    return unary(a.data**3, a, "cube", backward)


def test_gradcheck_passes_a_correct_custom_backward():
    x = cr.tensor(np.array([[0.5, -1.0], [2.0, 0.3]]), requires_grad=True)
    assert cr.gradcheck(lambda t: cube(t, _cube_right_backward), [x])


def test_gradcheck_names_input_element_and_both_values_on_a_wrong_backward():
    x = cr.tensor(np.array([[0.5, -1.0], [2.0, 0.3]]), requires_grad=True)
    y = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(GradcheckError) as err:
        cr.gradcheck(lambda a, b: (b * a).sum() + cube(b).sum(), [x, y])
    message = str(err.value)
    # worst mismatch: element 1 of input 1 (b = 2), where d/db = Σ_i a_i1 + 3b² = -0.7 + 12
    # but the wrong backward gives -0.7 + 2b² = 7.3
    assert "input 1" in message and "element (1,)" in message
    assert "autograd gives 7.3 " in message and "finite differences give 11.3" in message
    assert isinstance(err.value, AssertionError)  # plain `assert`-style failure in tests


def test_gradcheck_reduces_non_scalar_outputs_with_random_weights():
    # A backward that is right for the sum but wrong per element must still be caught.
    def swap_backward(g, node):
        return (g[::-1] * 2,)

    x = cr.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    with pytest.raises(GradcheckError):
        cr.gradcheck(lambda t: unary(t.data * 2, t, "double", swap_backward), [x])


def test_gradcheck_promotes_float32_inputs_and_skips_inputs_without_grad():
    x = cr.tensor([0.3, -0.7], requires_grad=True)  # float32
    c = cr.tensor(np.array([2.0, 5.0]))
    assert cr.gradcheck(lambda a, b: cr.tanh(a * b), [x, c])


def test_gradcheck_catches_a_missing_gradient():
    def no_grad_for_b(g, node):
        return g, None

    a = cr.tensor(np.array([1.0]), requires_grad=True)
    b = cr.tensor(np.array([2.0]), requires_grad=True)
    from chainrule.ops.base import binary
    with pytest.raises(GradcheckError, match="input 1"):
        cr.gradcheck(lambda a, b: binary(a.data + b.data, a, b, "add", no_grad_for_b), [a, b])


def test_gradcheck_on_a_non_contiguous_input():
    """Perturbing a non-contiguous input must reach fn (reshape(-1) of it would be a copy)."""
    x = cr.Tensor(np.arange(1.0, 7.0).reshape(2, 3).T, requires_grad=True)
    assert cr.gradcheck(lambda t: (t * t).sum(), [x])


def test_gradcheck_fails_on_nan_gradients():
    """NaN never compares greater than a bound: gradcheck must still flag it."""
    def nan_backward(g, node):
        return (g * np.nan,)

    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(GradcheckError):
        cr.gradcheck(lambda t: unary(t.data * 2, t, "double", nan_backward), [x])


def test_jacobian_of_a_linear_map_is_its_matrix():
    W = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    J = cr.jacobian(lambda x: cr.tensor(W) @ x, cr.tensor(np.array([0.1, 0.2, 0.3])))
    assert J.shape == (2, 3)
    np.testing.assert_array_equal(J.data, W)


def test_jacobian_of_elementwise_square_is_diagonal_and_shaped_out_by_in():
    x = np.array([[1.0, -2.0], [3.0, 0.5]])
    J = cr.jacobian(lambda t: t * t, cr.tensor(x))
    assert J.shape == (2, 2, 2, 2)
    np.testing.assert_array_equal(J.data.reshape(4, 4), np.diag(2 * x.ravel()))


def test_jacobian_of_softmax_matches_closed_form():
    x = np.array([0.2, -1.0, 0.5])
    s = np.exp(x) / np.exp(x).sum()
    J = cr.jacobian(cr.softmax, cr.tensor(x))
    np.testing.assert_allclose(J.data, np.diag(s) - np.outer(s, s), rtol=1e-12, atol=1e-15)


def test_jacobian_of_a_constant_function_is_zero():
    J = cr.jacobian(lambda x: cr.tensor(np.ones(2)), cr.tensor(np.array([1.0, 2.0, 3.0])))
    np.testing.assert_array_equal(J.data, np.zeros((2, 3)))
