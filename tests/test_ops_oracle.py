"""Every primitive against PyTorch: forward values, dtypes and the gradients of all inputs, in
float64 (rtol 1e-10) and float32 (rtol 1e-5), plus ``cr.gradcheck`` in float64.

The ``oracle`` fixture (conftest.py) does the comparison; each test here only says what to
compute in both libraries. ``test_every_primitive_has_an_oracle_test`` keeps the list honest: a
new name in ``chainrule.ops.__all__`` fails it until a test below covers the primitive.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule import ops

DTYPES = [np.float64, np.float32]
COVERED = set()  # primitives exercised by the tests of this file


def covers(*names):
    COVERED.update(names)


def oracle_for(*names):
    """Decorator: this test is the oracle test of the primitives ``names``."""
    def mark(test):
        covers(*names)
        return test
    return mark


def normal(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def positive(shape, seed=0, low=0.5, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


def away(x, points=(0.0,), margin=0.05):
    """Move entries away from kinks so finite differences see one smooth piece."""
    x = np.array(x, dtype=np.float64)
    for p in points:
        close = np.abs(x - p) < margin
        x[close] = p + np.where(x[close] >= p, margin, -margin) * 2
    return x


def nonzero(shape, seed=0):
    x = positive(shape, seed)
    return x * np.where(np.random.default_rng(seed + 1).random(shape) < 0.5, -1.0, 1.0)


# --------------------------------------------------------------------------- binary ops
BROADCAST_SHAPES = [
    ((2, 3), (2, 3)),
    ((3, 1), (1, 4)),
    ((4,), (2, 3, 4)),
    ((2, 1, 4), (3, 1)),
    ((), (3,)),
    ((2, 3), ()),
]

BINARY = {
    "add": (cr.ops.add, torch.add, normal, normal),
    "sub": (cr.ops.sub, torch.sub, normal, normal),
    "mul": (cr.ops.mul, torch.mul, normal, normal),
    "div": (cr.ops.div, torch.div, normal, nonzero),
    "pow": (cr.ops.pow, torch.pow, positive, normal),
    "maximum": (cr.maximum, torch.maximum, normal, normal),
    "minimum": (cr.minimum, torch.minimum, normal, normal),
}
covers(*BINARY)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_op_broadcasts_like_torch(oracle, name, shapes, dtype):
    cr_fn, torch_fn, make_a, make_b = BINARY[name]
    oracle(cr_fn, torch_fn, [make_a(shapes[0], 1), make_b(shapes[1], 2)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_split_ties_evenly(oracle, name, dtype):
    a = np.array([1.0, 2.0, 3.0, -1.0])
    b = np.array([1.0, 0.0, 3.0, 2.0])
    cr_fn, torch_fn = BINARY[name][:2]
    oracle(cr_fn, torch_fn, [a, b], dtype, gradcheck=False)  # ties are kinks


# --------------------------------------------------------------------------- operators
OPERATORS = {
    "x + 2.0": (lambda x: x + 2.0, normal),
    "2.0 + x": (lambda x: 2.0 + x, normal),
    "x - 2.0": (lambda x: x - 2.0, normal),
    "2.0 - x": (lambda x: 2.0 - x, normal),
    "x * 3": (lambda x: x * 3, normal),
    "3 * x": (lambda x: 3 * x, normal),
    "x / 4.0": (lambda x: x / 4.0, normal),
    "4.0 / x": (lambda x: 4.0 / x, nonzero),
    "x ** 2": (lambda x: x**2, normal),
    "x ** 1": (lambda x: x**1, normal),
    "x ** 3.5": (lambda x: x**3.5, positive),
    "x ** -1.5": (lambda x: x**-1.5, positive),
    "2.0 ** x": (lambda x: 2.0**x, normal),
    "-x": (lambda x: -x, normal),
    "+x": (lambda x: +x, normal),
    "x.T": (lambda x: x.T, normal),
}
covers("neg", "rpow")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("expr", OPERATORS)
def test_operator_with_python_scalar(oracle, expr, dtype):
    fn, make = OPERATORS[expr]
    oracle(fn, fn, [make((2, 3), 3)], dtype)


ARRAY_OPERATORS = {
    "x + nd": (lambda x, c: x + c, normal),
    "nd + x": (lambda x, c: c + x, normal),
    "x - nd": (lambda x, c: x - c, normal),
    "nd - x": (lambda x, c: c - x, normal),
    "nd * x": (lambda x, c: c * x, normal),
    "nd / x": (lambda x, c: c / x, nonzero),
    "x / nd": (lambda x, c: x / c, normal),
    "nd ** x": (lambda x, c: abs(c) ** x, normal),
    "x ** t": (lambda x, c: abs(x) ** c, nonzero),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("expr", ARRAY_OPERATORS)
def test_operator_with_ndarray(oracle, expr, dtype):
    """``c`` is a plain ndarray on the chainrule side (reflected operators) and a tensor
    without grad on the torch side."""
    fn, make = ARRAY_OPERATORS[expr]
    x, c = make((2, 3), 4), nonzero((3,), 5)
    if expr == "x ** t":  # tensor ** tensor, both requiring grad
        oracle(fn, fn, [x, c], dtype)
        return
    oracle(lambda x, c: fn(x, c.data), fn, [x, c.astype(dtype)], dtype, grad=[True, False])


@pytest.mark.parametrize("dtype", DTYPES)
def test_matmul_operator_with_ndarray_both_sides(oracle, dtype):
    m = normal((3, 4), 6).astype(dtype)
    oracle(lambda x, c: c.data @ x @ c.data, lambda x, c: c @ x @ c,
           [normal((4, 3), 7), m], dtype, grad=[True, False])


def test_operator_results_keep_float32():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    for y in (x * 2.5, 2.5 * x, x / 3, 1 - x, x**2, 2**x, -x, x + np.float64(1.0)):
        assert y.dtype == np.float32, y.op


# --------------------------------------------------------------------------- matmul / linear
MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((4,), (4,)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 4, 3)),
]
covers("matmul", "linear")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("a_shape,b_shape", MATMUL_SHAPES, ids=str)
def test_matmul_batched_and_1d(oracle, a_shape, b_shape, dtype):
    oracle(cr.matmul, torch.matmul, [normal(a_shape, 1), normal(b_shape, 2)], dtype)
    oracle(lambda a, b: a @ b, lambda a, b: a @ b, [normal(a_shape, 3), normal(b_shape, 4)],
           dtype, gradcheck=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape", [(5, 3), (2, 5, 3), (3,)], ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_linear(oracle, x_shape, bias, dtype):
    arrays = [normal(x_shape, 1), normal((4, 3), 2)] + ([normal((4,), 3)] if bias else [])
    oracle(cr.ops.linear, F.linear, arrays, dtype)


# --------------------------------------------------------------------------- elementwise
UNARY = {
    "exp": (cr.exp, torch.exp, normal),
    "log": (cr.log, torch.log, positive),
    "sqrt": (cr.sqrt, torch.sqrt, positive),
    "abs": (cr.abs, torch.abs, lambda s, k: away(normal(s, k))),
    "tanh": (cr.tanh, torch.tanh, normal),
    "sigmoid": (cr.sigmoid, torch.sigmoid, normal),
    "relu": (cr.relu, torch.relu, lambda s, k: away(normal(s, k))),
    "neg": (cr.ops.neg, torch.neg, normal),
    "leaky_relu": (cr.leaky_relu, F.leaky_relu, lambda s, k: away(normal(s, k))),
    "leaky_relu(0.2)": (lambda x: cr.leaky_relu(x, 0.2), lambda t: F.leaky_relu(t, 0.2),
                        lambda s, k: away(normal(s, k))),
    "elu": (cr.elu, F.elu, lambda s, k: away(normal(s, k))),
    "elu(0.5)": (lambda x: cr.elu(x, alpha=0.5), lambda t: F.elu(t, alpha=0.5),
                 lambda s, k: away(normal(s, k))),
    "gelu": (cr.gelu, F.gelu, lambda s, k: 3 * normal(s, k)),
    "gelu(tanh)": (lambda x: cr.gelu(x, approximate="tanh"),
                   lambda t: F.gelu(t, approximate="tanh"), lambda s, k: 3 * normal(s, k)),
    "softplus": (cr.softplus, F.softplus, lambda s, k: 10 * normal(s, k)),
    "softplus(2, 5)": (lambda x: cr.softplus(x, beta=2.0, threshold=5.0),
                       lambda t: F.softplus(t, beta=2.0, threshold=5.0),
                       lambda s, k: away(4 * normal(s, k), (2.5, -2.5))),
    "softplus(0.5, 1)": (lambda x: cr.softplus(x, beta=0.5, threshold=1.0),
                         lambda t: F.softplus(t, beta=0.5, threshold=1.0),
                         lambda s, k: away(4 * normal(s, k), (2.0,))),
    "clip(-0.5, 0.5)": (lambda x: cr.clip(x, -0.5, 0.5), lambda t: torch.clamp(t, -0.5, 0.5),
                        lambda s, k: away(normal(s, k), (-0.5, 0.5))),
    "clip(max=0.3)": (lambda x: cr.clip(x, max=0.3), lambda t: torch.clamp(t, max=0.3),
                      lambda s, k: away(normal(s, k), (0.3,))),
    "clip(min=-0.2)": (lambda x: cr.clip(x, min=-0.2), lambda t: torch.clamp(t, min=-0.2),
                       lambda s, k: away(normal(s, k), (-0.2,))),
    "clamp method": (lambda x: x.clamp(-1, 1), lambda t: t.clamp(-1, 1),
                     lambda s, k: away(normal(s, k), (-1, 1))),
}
covers("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "leaky_relu", "elu", "gelu",
       "softplus", "clip")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", UNARY)
def test_unary_op(oracle, name, dtype):
    cr_fn, torch_fn, make = UNARY[name]
    oracle(cr_fn, torch_fn, [make((3, 5), 11)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_ops_on_a_0d_tensor(oracle, dtype):
    for name in ("exp", "tanh", "sigmoid", "gelu", "softplus", "relu"):
        cr_fn, torch_fn, _ = UNARY[name]
        oracle(cr_fn, torch_fn, [np.array(0.7)], dtype)


@oracle_for("step")
@pytest.mark.parametrize("dtype", DTYPES)
def test_step_is_heaviside_with_zero_gradient(dtype):
    x = cr.tensor(np.array([-2.0, 0.0, 3.0], dtype=dtype), requires_grad=True)
    y = cr.step(x)
    t = torch.from_numpy(x.data)
    want = torch.heaviside(t, torch.ones((), dtype=t.dtype))
    np.testing.assert_array_equal(y.data, want.numpy())
    assert y.dtype == dtype
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros(3, dtype=dtype))


@oracle_for("astype")
@pytest.mark.parametrize("src,dst", [(np.float32, np.float64), (np.float64, np.float32)])
def test_astype_casts_gradient_back(oracle, src, dst):
    torch_dst = {np.float32: torch.float32, np.float64: torch.float64}[dst]
    # no gradcheck through a float32 cast: finite differences would see float32 rounding
    oracle(lambda x: cr.ops.astype(x, dst) * 3, lambda t: t.to(torch_dst) * 3, [normal((2, 3))],
           src, rtol=1e-6, gradcheck=dst == np.float64)


def test_astype_to_int_cuts_the_graph():
    x = cr.tensor([1.7, -2.2], requires_grad=True)
    y = x.astype(np.int64)
    assert y.dtype == np.int64 and not y.requires_grad and y.tolist() == [1, -2]


@oracle_for("where")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [((3, 4), (3, 1), (4,)), ((2, 3), (2, 3), ())], ids=str)
def test_where_broadcasts_and_routes_gradient(oracle, shapes, dtype):
    cond = np.random.default_rng(3).random(shapes[0]) < 0.5
    oracle(lambda a, b: cr.where(cond, a, b),
           lambda a, b: torch.where(torch.from_numpy(cond), a, b),
           [normal(shapes[1], 1), normal(shapes[2], 2)], dtype)
    # a Python scalar branch and a bool tensor condition
    oracle(lambda a: cr.where(cr.Tensor(cond), a, 0.0),
           lambda a: torch.where(torch.from_numpy(cond), a, 0.0), [normal(shapes[1], 1)], dtype)


# --------------------------------------------------------------------------- softmax family
@oracle_for("softmax", "log_softmax", "logsumexp")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_family_along_each_axis(oracle, name, axis, dtype):
    cr_fn = getattr(cr, name)
    torch_fn = getattr(torch, name)
    x = 3 * normal((2, 3, 4), 8)
    oracle(lambda t: cr_fn(t, axis=axis), lambda t: torch_fn(t, dim=axis), [x], dtype)
    oracle(lambda t: cr_fn(t, dim=axis), lambda t: torch_fn(t, axis), [x], dtype, gradcheck=False)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_default_axis_is_last(oracle, dtype):
    oracle(cr.softmax, lambda t: torch.softmax(t, -1), [normal((3, 4))], dtype)
    oracle(lambda t: t.log_softmax(), lambda t: torch.log_softmax(t, -1), [normal((3, 4))], dtype)


# --------------------------------------------------------------------------- reductions
REDUCE_AXES = [None, 0, 1, 2, -1, -2, -3, (0, 1), (0, 2), (1, 2), (-1, 0), (0, 1, 2)]


def _dims(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    return axis


REDUCTIONS = {
    "sum": (cr.sum, lambda t, ax, kd: torch.sum(t, dim=_dims(ax, t.ndim), keepdim=kd)),
    "mean": (cr.mean, lambda t, ax, kd: torch.mean(t, dim=_dims(ax, t.ndim), keepdim=kd)),
    "max": (cr.max, lambda t, ax, kd: torch.amax(t, dim=_dims(ax, t.ndim), keepdim=kd)),
    "min": (cr.min, lambda t, ax, kd: torch.amin(t, dim=_dims(ax, t.ndim), keepdim=kd)),
    "var": (cr.var, lambda t, ax, kd: torch.var(t, dim=_dims(ax, t.ndim), keepdim=kd)),
    "logsumexp": (cr.logsumexp,
                  lambda t, ax, kd: torch.logsumexp(t, dim=_dims(ax, t.ndim), keepdim=kd)),
}
covers(*REDUCTIONS)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", REDUCE_AXES, ids=str)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_every_axis_and_keepdims(oracle, name, axis, keepdims, dtype):
    cr_fn, torch_fn = REDUCTIONS[name]
    oracle(lambda t: cr_fn(t, axis=axis, keepdims=keepdims),
           lambda t: torch_fn(t, axis, keepdims), [normal((2, 3, 4), 9)], dtype)


def _values(out):
    return out.values if isinstance(out, tuple) else out


@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_accepts_torch_names_and_methods(oracle, name):
    cr_fn, torch_fn = REDUCTIONS[name]
    x = normal((3, 4), 10)
    # max/min with dim= give PyTorch's (values, indices); compare the values
    oracle(lambda t: _values(getattr(t, name)(dim=1, keepdim=True)),
           lambda t: torch_fn(t, 1, True), [x], gradcheck=False)
    oracle(lambda t: getattr(t, name)(), lambda t: torch_fn(t, None, False), [x], gradcheck=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ddof", [0, 1, 2])
def test_var_ddof_and_correction(oracle, ddof, dtype):
    x = normal((4, 5), 12)
    oracle(lambda t: cr.var(t, axis=1, ddof=ddof),
           lambda t: torch.var(t, dim=1, correction=ddof), [x], dtype)
    oracle(lambda t: t.var(dim=0, correction=ddof),
           lambda t: torch.var(t, dim=0, correction=ddof), [x], dtype, gradcheck=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)], ids=str)
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_ties_share_the_gradient(oracle, name, axis, dtype):
    x = np.array([[3.0, 1.0, 3.0], [-2.0, -2.0, 0.5]])
    cr_fn, torch_fn = REDUCTIONS[name]
    oracle(lambda t: cr_fn(t, axis=axis), lambda t: torch_fn(t, axis, False), [x], dtype,
           gradcheck=False)


def test_sum_of_ints_stays_int_and_mean_of_ints_raises():
    assert cr.tensor([1, 2, 3]).sum().dtype == np.int64
    with pytest.raises(TypeError, match="mean"):
        cr.tensor([1, 2, 3]).mean()


# --------------------------------------------------------------------------- shape ops
SHAPE_OPS = {
    "reshape(4, 6)": (lambda t: t.reshape(4, 6), lambda t: t.reshape(4, 6)),
    "reshape((-1, 3))": (lambda t: cr.reshape(t, (-1, 3)), lambda t: t.reshape(-1, 3)),
    "view": (lambda t: t.view(2, 12), lambda t: t.reshape(2, 12)),
    "transpose()": (lambda t: t.transpose(), lambda t: t.permute(2, 1, 0)),
    "transpose(1, 0, 2)": (lambda t: cr.transpose(t, (1, 0, 2)), lambda t: t.permute(1, 0, 2)),
    "transpose(0, 2)": (lambda t: t.transpose(0, 2), lambda t: t.transpose(0, 2)),
    "transpose(-1, 1)": (lambda t: t.transpose(-1, 1), lambda t: t.transpose(-1, 1)),
    "permute(2, 0, 1)": (lambda t: t.permute(2, 0, 1), lambda t: t.permute(2, 0, 1)),
    "swapaxes(0, -1)": (lambda t: cr.ops.swapaxes(t, 0, -1), lambda t: t.swapaxes(0, -1)),
    "flatten()": (lambda t: t.flatten(), lambda t: t.flatten()),
    "flatten(1)": (lambda t: cr.flatten(t, 1), lambda t: t.flatten(1)),
    "flatten(0, 1)": (lambda t: t.flatten(0, 1), lambda t: t.flatten(0, 1)),
    "unsqueeze(0)": (lambda t: t.unsqueeze(0), lambda t: t.unsqueeze(0)),
    "unsqueeze(-1)": (lambda t: cr.unsqueeze(t, -1), lambda t: t.unsqueeze(-1)),
    "unsqueeze(dim=2)": (lambda t: t.unsqueeze(dim=2), lambda t: t.unsqueeze(2)),
    "broadcast_to": (lambda t: cr.broadcast_to(t[:, :1], (5, 2, 3, 4)),
                     lambda t: t[:, :1].broadcast_to((5, 2, 3, 4))),
}
covers("reshape", "transpose", "permute", "swapaxes", "flatten", "unsqueeze", "broadcast_to")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", SHAPE_OPS)
def test_shape_op(oracle, name, dtype):
    cr_fn, torch_fn = SHAPE_OPS[name]
    oracle(cr_fn, torch_fn, [normal((2, 3, 4), 13)], dtype)


@oracle_for("squeeze")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [None, 0, 2, -1, (0, 2)], ids=str)
def test_squeeze(oracle, axis, dtype):
    torch_fn = (lambda t: t.squeeze()) if axis is None else (lambda t: t.squeeze(axis))
    oracle(lambda t: cr.squeeze(t, axis), torch_fn, [normal((1, 3, 1), 14)], dtype)


def test_squeeze_leaves_an_axis_that_is_not_length_one():
    assert cr.ones(1, 3).squeeze(1).shape == (1, 3) == tuple(torch.ones(1, 3).squeeze(1).shape)


ROWS = np.random.default_rng(21).random(4) < 0.5
MASK = np.random.default_rng(22).random((4, 5)) < 0.5
NEGATIVE_STEP = np.s_[::-1, 1::2]
INDICES = {
    "1:3": np.s_[1:3],
    "-1": -1,
    "[:, 2]": np.s_[:, 2],
    "[::-1, 1::2]": NEGATIVE_STEP,
    "[..., 1]": np.s_[..., 1],
    "[None, 1:3]": np.s_[None, 1:3],
    "mask": MASK,
    "row mask": ROWS,
    "[row mask, 1:]": (ROWS, np.s_[1:]),
    "repeated ints": np.array([0, 2, 0, 3, 3]),
    "int list": [1, 1, 0],
    "2-D int array": np.array([[0, 1], [1, 1]]),
    "int pairs": (np.array([0, 1, 1, 0]), np.array([2, 2, 4, 2])),
    "[ints, 1:4]": (np.array([3, 3, 0]), np.s_[1:4]),
    "[1:, ints]": (np.s_[1:], np.array([4, 0, 4])),
    "[ints, mask of cols]": (np.array([0, 2]), np.array([True, False, False, False, True])),
}


def _torch_index(index):
    if index is NEGATIVE_STEP:  # torch has no negative steps
        return lambda t: t.flip(0)[:, 1::2]
    items = index if isinstance(index, tuple) else (index,)
    out = tuple(torch.from_numpy(i) if isinstance(i, np.ndarray) else i for i in items)
    return out if isinstance(index, tuple) else out[0]


@oracle_for("getitem")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", INDICES)
def test_getitem(oracle, name, dtype):
    index = INDICES[name]
    torch_index = _torch_index(index)
    torch_fn = torch_index if callable(torch_index) else lambda t: t[torch_index]
    oracle(lambda t: t[index], torch_fn, [normal((4, 5), 15)], dtype)


def test_getitem_with_tensor_indices_accumulates_repeats():
    x = cr.tensor(np.arange(5.0), requires_grad=True)
    idx = cr.tensor([4, 4, 1, 4])
    y = x[idx] * cr.tensor(np.array([1.0, 2.0, 3.0, 4.0]))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 3.0, 0.0, 0.0, 7.0])
    x.grad = None
    x[x > 2].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0, 1.0, 1.0])


@oracle_for("concat")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [0, 1, -1, 2])
def test_concat(oracle, axis, dtype):
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for i, s in enumerate(shapes):
        s[axis] = i + 1
    arrays = [normal(s, 16 + i) for i, s in enumerate(shapes)]
    oracle(lambda *ts: cr.concat(ts, axis=axis), lambda *ts: torch.cat(ts, dim=axis), arrays,
           dtype)
    oracle(lambda *ts: cr.cat(list(ts), dim=axis), lambda *ts: torch.cat(ts, dim=axis), arrays,
           dtype, grad=[True, False, True], gradcheck=False)


@oracle_for("stack")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_stack(oracle, axis, dtype):
    arrays = [normal((2, 3), 17 + i) for i in range(3)]
    oracle(lambda *ts: cr.stack(ts, axis=axis), lambda *ts: torch.stack(ts, dim=axis), arrays,
           dtype)


@oracle_for("unbroadcast")
def test_unbroadcast_is_the_adjoint_of_broadcasting():
    rng = np.random.default_rng(0)
    for small, big in [((3,), (4, 3)), ((2, 1), (2, 3)), ((1, 3, 1), (5, 2, 3, 4)), ((), (2, 2))]:
        g = rng.standard_normal(big)
        x = rng.standard_normal(small)
        # <broadcast(x), g> == <x, unbroadcast(g)>
        lhs = np.sum(np.broadcast_to(x, big) * g)
        rhs = np.sum(x * ops.unbroadcast(g, small))
        assert ops.unbroadcast(g, small).shape == small
        assert math.isclose(lhs, rhs, rel_tol=1e-12, abs_tol=1e-12)


# --------------------------------------------------------------------------- losses
# (N, C), (C,) unbatched, and (N, C, d1, d2) inputs; targets drawn with a fixed generator.
CE_SHAPES = [(6, 4), (4,), (3, 4, 2, 2)]


def _class_targets(shape, seed, ignore=None):
    rng = np.random.default_rng(seed)
    n_classes = shape[0] if len(shape) == 1 else shape[1]
    rows = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = np.asarray(rng.integers(0, n_classes, rows))
    if ignore is not None and t.ndim:
        t.reshape(-1)[::3] = ignore  # every third target ignored
    elif ignore is not None and t == ignore:
        t = np.asarray((t + 1) % n_classes)  # keep a lone target (all ignored: test_stability)
    return t


def _prob_targets(shape, seed):
    axis = 0 if len(shape) == 1 else 1
    e = np.exp(normal(shape, seed))
    return e / e.sum(axis=axis, keepdims=True)


CE_CONFIGS = {
    "plain": {},
    "sum": {"reduction": "sum"},
    "none": {"reduction": "none"},
    "weight": {"weight": True},
    "weight sum": {"weight": True, "reduction": "sum"},
    "ignore_index": {"ignore_index": 2},
    "ignore -100 none": {"ignore_index": -100, "reduction": "none"},
    "weight+ignore": {"weight": True, "ignore_index": 1},
    "smoothing": {"label_smoothing": 0.2},
    "smoothing+weight": {"label_smoothing": 0.1, "weight": True},
    "smoothing+weight+ignore": {"label_smoothing": 0.3, "weight": True, "ignore_index": 0},
    "smoothing none+ignore": {"label_smoothing": 0.3, "ignore_index": 0, "reduction": "none"},
}


def _ce_kwargs(config, shape, dtype):
    kwargs = dict(config)
    if kwargs.pop("weight", False):
        n_classes = shape[0] if len(shape) == 1 else shape[1]
        kwargs["weight"] = positive((n_classes,), 30).astype(dtype)
    return kwargs


def _torch_kwargs(kwargs):
    return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


@oracle_for("cross_entropy")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CE_SHAPES, ids=str)
@pytest.mark.parametrize("config", CE_CONFIGS)
def test_cross_entropy_class_targets(oracle, config, shape, dtype):
    kwargs = _ce_kwargs(CE_CONFIGS[config], shape, dtype)
    ignore = kwargs.get("ignore_index")
    target = _class_targets(shape, 31, ignore=ignore)
    tk = _torch_kwargs(kwargs)
    oracle(lambda x: cr.ops.cross_entropy(x, cr.tensor(target), **kwargs),
           lambda x: F.cross_entropy(x, torch.from_numpy(target), **tk),
           [2 * normal(shape, 32)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", CE_SHAPES, ids=str)
@pytest.mark.parametrize("config", ["plain", "sum", "none", "weight", "smoothing+weight"])
def test_cross_entropy_probability_targets(oracle, config, shape, dtype):
    """Soft targets: gradients reach the logits and the targets, as in PyTorch."""
    kwargs = _ce_kwargs(CE_CONFIGS[config], shape, dtype)
    tk = _torch_kwargs(kwargs)
    oracle(lambda x, q: cr.ops.cross_entropy(x, q, **kwargs),
           lambda x, q: F.cross_entropy(x, q, **tk),
           [2 * normal(shape, 33), _prob_targets(shape, 34)], dtype)


def test_cross_entropy_rejects_bad_targets():
    x = cr.zeros(2, 3)
    with pytest.raises(IndexError, match="out of range for 3 classes"):
        cr.ops.cross_entropy(x, cr.tensor([0, 3]))
    with pytest.raises(ValueError, match="shape"):
        cr.ops.cross_entropy(x, cr.tensor([0, 1, 2]))


BCE_CONFIGS = {
    "plain": {},
    "sum": {"reduction": "sum"},
    "none": {"reduction": "none"},
    "weight": {"weight": (1, 3)},
    "full weight": {"weight": (2, 3)},
}
BCE_LOGIT_CONFIGS = dict(BCE_CONFIGS, **{
    "pos_weight": {"pos_weight": (3,)},
    "pos_weight+weight sum": {"pos_weight": (3,), "weight": (2, 1), "reduction": "sum"},
})


def _bce_kwargs(config, dtype):
    return {k: positive(v, 40 + len(k)).astype(dtype) if isinstance(v, tuple) else v
            for k, v in config.items()}


@oracle_for("binary_cross_entropy_with_logits")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", BCE_LOGIT_CONFIGS)
def test_binary_cross_entropy_with_logits(oracle, config, dtype):
    kwargs = _bce_kwargs(BCE_LOGIT_CONFIGS[config], dtype)
    tk = _torch_kwargs(kwargs)
    target = np.random.default_rng(41).random((2, 3))
    target[0, :2] = [0.0, 1.0]  # hard labels too: the target gradient must hold at y = 0
    oracle(lambda x, y: cr.ops.binary_cross_entropy_with_logits(x, y, **kwargs),
           lambda x, y: F.binary_cross_entropy_with_logits(x, y, **tk),
           [3 * normal((2, 3), 42), target], dtype)


@oracle_for("binary_cross_entropy")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config", BCE_CONFIGS)
def test_binary_cross_entropy(oracle, config, dtype):
    kwargs = _bce_kwargs(BCE_CONFIGS[config], dtype)
    tk = _torch_kwargs(kwargs)
    p = np.random.default_rng(43).uniform(0.05, 0.95, (2, 3))
    y = np.random.default_rng(44).random((2, 3))
    oracle(lambda p, y: cr.ops.binary_cross_entropy(p, y, **kwargs),
           lambda p, y: F.binary_cross_entropy(p, y, **tk), [p, y], dtype)


def test_binary_cross_entropy_clamps_log_at_minus_100():
    p = np.array([0.0, 1.0, 1.0])
    y = np.array([1.0, 0.0, 1.0])
    loss = cr.ops.binary_cross_entropy(cr.tensor(p), cr.tensor(y), reduction="none")
    want = F.binary_cross_entropy(torch.from_numpy(p), torch.from_numpy(y), reduction="none")
    np.testing.assert_allclose(loss.data, want.numpy())
    with pytest.raises(ValueError, match="probabilities"):
        cr.ops.binary_cross_entropy(cr.tensor([1.5]), cr.tensor([1.0]))


@oracle_for("mse_loss")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss(oracle, reduction, dtype):
    oracle(lambda a, b: cr.ops.mse_loss(a, b, reduction=reduction),
           lambda a, b: F.mse_loss(a, b, reduction=reduction),
           [normal((3, 4), 50), normal((3, 4), 51)], dtype)


@oracle_for("nll_loss")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss(oracle, reduction, dtype):
    target = np.array([0, 2, 1, 2])
    weight = np.array([0.5, 1.0, 2.0])
    oracle(lambda a: cr.ops.nll_loss(cr.log_softmax(a, axis=1), cr.tensor(target),
                                     weight=cr.tensor(weight.astype(dtype)),
                                     ignore_index=1, reduction=reduction),
           lambda a: F.nll_loss(F.log_softmax(a, dim=1), torch.from_numpy(target),
                                weight=torch.from_numpy(weight.astype(dtype)),
                                ignore_index=1, reduction=reduction),
           [normal((4, 3), 60)], dtype)


# batch_norm's oracle tests (train and eval, both ranks, affine or not) use this file's oracle
# fixture in tests/test_batch_norm_fused.py.
covers("batch_norm")
# layer_norm's and scaled_dot_product_attention's oracle tests (masks, dtypes, affine or not)
# are in tests/test_attention_ops.py.
covers("layer_norm", "scaled_dot_product_attention")

# embedding's and the fused recurrent layers' oracle tests (issue 9) are in
# tests/test_embedding.py and tests/test_recurrent.py (recurrent_layer through all three).
covers("embedding", "gru_layer", "lstm_layer", "recurrent_layer", "rnn_layer")


# --------------------------------------------------------------------------- coverage
# Convolution and pooling primitives: their oracle tests live in tests/test_conv_pool.py.
covers("adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool1d", "avg_pool2d", "conv1d",
       "conv2d", "max_pool1d", "max_pool2d", "pad")


def test_every_primitive_has_an_oracle_test():
    """Runs last in this file (pytest keeps definition order), after every ``covers`` call."""
    from chainrule.ops.registry import ROWS  # ops with a row are tested by test_op_table.py

    table = {row.graph_op for row in ROWS.values()} | {name.rsplit(".")[-1] for name in ROWS}
    no_grad = {"isnan", "isinf", "isfinite", "isclose", "allclose", "logical_and", "logical_or",
               "logical_not", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor",
               "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "any", "all",
               "argmax", "argmin", "floor_divide", "std_mean", "var_mean"}  # test_opsmath.py
    # Shape/indexing/linalg ops of issue 12 have their table in test_ops_shape_extra.py and
    # test_linalg.py, which check their own coverage.
    missing = (set(ops.__all__) - COVERED - table - no_grad
               - set(ops._SHAPE_INDEXING_LINALG))
    assert not missing, f"primitives without an oracle test: {sorted(missing)}"
