"""Tensor: creation and dtype rules, attributes, conversions, in-place updates, comparisons,
seeding, and the error messages users see."""

import numpy as np
import pytest

import chainrule as cr


# --------------------------------------------------------------------------- dtype rules
def test_python_floats_and_float_lists_become_float32():
    assert cr.tensor(1.5).dtype == np.float32
    assert cr.tensor([1.0, 2.0]).dtype == np.float32
    assert cr.tensor([[1, 2.5]]).dtype == np.float32
    assert cr.Tensor([0.1]).dtype == np.float32


def test_python_ints_become_int64_and_bools_stay_bool():
    assert cr.tensor(3).dtype == np.int64
    assert cr.tensor([1, 2]).dtype == np.int64
    assert cr.Tensor(np.array([1, 2], dtype=np.int32)).dtype == np.int64
    assert cr.tensor([True, False]).dtype == np.bool_


def test_ndarrays_keep_their_float_dtype():
    assert cr.tensor(np.ones(2)).dtype == np.float64
    assert cr.tensor(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert cr.Tensor(np.ones(2, dtype=np.float16)).dtype == np.float16


def test_numpy_float64_scalars_keep_their_dtype():
    """NumPy scalars carry a dtype like arrays do (0-d results of NumPy calls are common)."""
    assert cr.tensor(np.float64(0.1)).dtype == np.float64
    assert cr.Tensor(np.float64(0.1)).item() == 0.1


def test_explicit_dtype_wins():
    assert cr.tensor([1, 2], dtype=cr.float64).dtype == np.float64
    assert cr.tensor(np.ones(2), dtype=cr.float32).dtype == np.float32


def test_set_default_dtype_changes_what_python_floats_become():
    try:
        cr.set_default_dtype(cr.float64)
        assert cr.tensor([1.0]).dtype == np.float64
        assert cr.zeros(2).dtype == np.float64
    finally:
        cr.set_default_dtype(cr.float32)
    assert cr.tensor([1.0]).dtype == np.float32
    with pytest.raises(TypeError, match="floating"):
        cr.set_default_dtype(np.int64)


@pytest.mark.parametrize("scalar", [2.5, 2, np.float64(2.5), True])
def test_float32_tensor_with_a_python_scalar_stays_float32(scalar):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    for y in (x * scalar, scalar * x, x + scalar, x - scalar, scalar - x, x / scalar):
        assert y.dtype == np.float32


def test_float32_with_float64_array_follows_numpy_promotion():
    x = cr.tensor([1.0, 2.0])
    assert (x * np.ones(2)).dtype == np.float64
    assert (x * np.ones(2, dtype=np.float32)).dtype == np.float32


def test_int_tensor_arithmetic():
    i = cr.tensor([1, 2, 3])
    assert (i + 1).dtype == np.int64 and (i + 1).tolist() == [2, 3, 4]
    assert (i * 0.5).dtype.kind == "f" and (i * 0.5).tolist() == [0.5, 1.0, 1.5]
    assert (i / 2).dtype.kind == "f"


# --------------------------------------------------------------------------- copying rules
def test_tensor_copies_but_Tensor_wraps():
    a = np.ones(3)
    t = cr.tensor(a)
    a[0] = 5
    assert t.data[0] == 1.0
    w = cr.Tensor(a)
    assert w.data is a
    assert w.numpy() is a  # numpy() shares, like torch


# --------------------------------------------------------------------------- attributes
def test_attributes():
    x = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2 and x.numel() == 6
    assert x.size == 6 and len(x) == 2
    assert x.T.shape == (3, 2) and x.T.op == "transpose"
    assert x.is_leaf and x.grad is None and x.op is None and x.parents == ()
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_item_and_python_conversions():
    assert cr.tensor(np.array([[2.5]])).item() == 2.5
    assert float(cr.tensor(np.array(1.5))) == 1.5 and int(cr.tensor(7)) == 7
    with pytest.raises(ValueError, match=r"one-element.*\(2,\)"):
        cr.tensor([1.0, 2.0]).item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(cr.tensor([1.0, 2.0]))
    assert bool(cr.tensor([1.0]))


def test_iteration_gives_rows_that_carry_gradient():
    x = cr.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    rows = list(x)
    assert [r.shape for r in rows] == [(2,)] * 3
    (rows[0] * 2 + rows[2]).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[2, 2], [0, 0], [1, 1]])
    with pytest.raises(TypeError):
        len(cr.tensor(1.0))


def test_comparisons_give_bool_tensors_without_gradient():
    x = cr.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    for m in (x > 1, x >= 2, x < 3, x <= 1, x == 2, x != 2):
        assert m.dtype == np.bool_ and not m.requires_grad
    assert (x > 1).tolist() == [False, True, True]
    assert {x: 1}[x] == 1  # still hashable by identity


def test_argmax_argmin():
    x = cr.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    assert x.argmax(axis=1).tolist() == [1, 0]
    assert x.argmin(dim=0).tolist() == [0, 1, 0]
    assert x.argmax().item() == 3


def test_repr_shows_dtype_and_graph_role():
    assert repr(cr.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(cr.tensor([1, 2])) == "tensor([1, 2])"
    assert "dtype=float64" in repr(cr.tensor(np.ones(1)))
    x = cr.tensor([1.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "op=mul" in repr(x * 2)


# --------------------------------------------------------------------------- in-place updates
def test_inplace_updates_under_no_grad_keep_the_array():
    w = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    data = w.data
    with cr.no_grad():
        w -= 0.5
        w += cr.tensor(np.array([1.0, 1.0]))
        w *= 2
        w /= 4
        w.add_(np.array([1.0, 1.0]), alpha=-2)
        w.sub_(1.0)
        w.mul_(3)
    assert w.data is data  # updated in place: optimisers rely on it
    np.testing.assert_allclose(w.data, ((np.array([1.0, 2.0]) + 0.5) * 2 / 4 - 2 - 1) * 3)
    with cr.no_grad():
        w.zero_()
        assert w.tolist() == [0.0, 0.0]
        w.fill_(4.0)
        w.copy_(np.array([7.0, 8.0]))
    assert w.tolist() == [7.0, 8.0] and w.data is data


def test_inplace_on_a_tensor_that_requires_grad_raises_in_grad_mode():
    w = cr.tensor(np.array([1.0]), requires_grad=True)
    for update in (lambda: w.__isub__(1.0), lambda: w.zero_(), lambda: w.add_(1.0),
                   lambda: w.copy_(np.zeros(1))):
        with pytest.raises(RuntimeError, match="in-place.*no_grad"):
            update()
    plain = cr.tensor([1.0])
    plain += 1  # fine without requires_grad
    assert plain.item() == 2.0


def test_inplace_keeps_the_dtype():
    w = cr.tensor([1.0, 2.0])  # float32
    w += np.array([0.5, 0.5])  # a float64 operand is cast back (same_kind)
    assert w.dtype == np.float32 and w.tolist() == [1.5, 2.5]
    with pytest.raises(TypeError):
        i = cr.tensor([1, 2])
        i += 0.5  # float into int is not same_kind


def test_requires_grad_toggles_only_on_leaves():
    x = cr.tensor([1.0]).requires_grad_()
    assert x.requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad_(False)


def test_astype_helpers():
    x = cr.tensor([1.7, -2.2], requires_grad=True)
    assert x.double().dtype == np.float64 and x.double().requires_grad
    assert x.float().dtype == np.float32
    assert x.long().tolist() == [1, -2] and not x.long().requires_grad


# --------------------------------------------------------------------------- creation
def test_creation_functions():
    assert cr.zeros(2, 3).shape == (2, 3) and cr.zeros((2, 3)).dtype == np.float32
    assert cr.ones(2).tolist() == [1.0, 1.0]
    assert cr.full((2,), 7.0).tolist() == [7.0, 7.0]
    np.testing.assert_array_equal(cr.eye(2).data, np.eye(2))
    assert cr.arange(3).dtype == np.int64 and cr.arange(0.0, 1.0, 0.5).dtype == np.float32
    assert cr.linspace(0, 1, 3).tolist() == [0.0, 0.5, 1.0]
    assert cr.zeros_like(cr.ones(2, dtype=cr.float64)).dtype == np.float64
    assert cr.ones_like(cr.zeros(3)).tolist() == [1.0, 1.0, 1.0]
    assert cr.full_like(cr.zeros(2), 3.0).tolist() == [3.0, 3.0]
    assert cr.empty(2, 2).shape == (2, 2)
    assert cr.zeros(2, requires_grad=True).requires_grad


def test_manual_seed_makes_random_draws_reproducible():
    cr.manual_seed(123)
    a, b, c = cr.randn(3, 4), cr.rand(5), cr.randint(0, 10, (6,))
    cr.manual_seed(123)
    np.testing.assert_array_equal(cr.randn(3, 4).data, a.data)
    np.testing.assert_array_equal(cr.rand(5).data, b.data)
    np.testing.assert_array_equal(cr.randint(0, 10, (6,)).data, c.data)
    cr.manual_seed(124)
    assert not np.array_equal(cr.randn(3, 4).data, a.data)
    assert a.dtype == np.float32 and cr.randn(2, dtype=cr.float64).dtype == np.float64


def test_random_draws_do_not_touch_numpy_global_state():
    # the legacy global generator is exactly what must stay untouched
    np.random.seed(0)  # noqa: NPY002
    expected = np.random.random()  # noqa: NPY002
    np.random.seed(0)  # noqa: NPY002
    cr.manual_seed(5)
    cr.randn(10)
    cr.rand(10)
    assert np.random.random() == expected  # noqa: NPY002


def test_rand_is_uniform_and_randn_is_standard_normal():
    cr.manual_seed(0)
    u = cr.rand(20_000, dtype=cr.float64).data
    z = cr.randn(20_000, dtype=cr.float64).data
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03


# --------------------------------------------------------------------------- errors
def test_matmul_shape_error_message():
    message = r"matmul: shapes \(64, 1000\) and \(100, 10\) do not align"
    with pytest.raises(ValueError, match=message):
        cr.randn(64, 1000) @ cr.randn(100, 10)


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\)"):
        cr.ones(2, 3) + cr.ones(4)
    with pytest.raises(ValueError, match=r"mul: shapes \(2,\) and \(3,\)"):
        cr.ones(2) * np.ones(3)


def test_reshape_and_index_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"reshape: .*\(2, 3\).*6 elements.*\(4, 2\)"):
        cr.ones(2, 3).reshape(4, 2)
    with pytest.raises(IndexError, match=r"getitem: .*\(2, 3\)"):
        cr.ones(2, 3)[5]
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        cr.ones(2, 3).sum(axis=3)


def test_ndarray_on_the_left_defers_to_the_tensor():
    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, cr.Tensor) and y.requires_grad
    y = np.ones((2, 2)) @ x
    assert isinstance(y, cr.Tensor) and y.shape == (2,)
