"""The op table (``chainrule.ops.registry``) drives these tests: every row against PyTorch.

For each row, by its ``kind``: forward values, dtypes and gradients under a random upstream
gradient in float64 (rtol 1e-10) and float32 (rtol 1e-5), through the ``oracle`` fixture
(conftest.py, which also runs ``cr.gradcheck`` in float64); broadcasting for binary ops; every
axis/keepdims form, both spellings and negative axes for reductions; 0-d and empty tensors;
integer inputs (PyTorch's result dtype); and edge values (0, ±inf, NaN) with no NumPy
RuntimeWarning. Adding a row to the registry adds all of these tests; ``TORCH`` below maps the
few rows whose PyTorch call differs from ``torch.<row.torch>(same arguments)``.
"""

import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.ops.registry import ROWS, resolve, rule_texts, sample

DTYPES = [np.float64, np.float32]
EDGE = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, np.inf, -np.inf, np.nan])


def _torch_norm(t, *args, **kw):  # cr.norm is a vector norm over its dims
    p = kw.pop("p", 2)
    return torch.linalg.vector_norm(t, ord=p, **kw)


TORCH = {"norm": _torch_norm}
# PyTorch's vectorised float32 GELU kernel gives gelu(+inf) = NaN (float64 gives inf);
# chainrule keeps the limit, inf, in both dtypes.
INF_QUIRKS = {("nn.functional.gelu", np.float32)}


def _rtol(row, dtype):
    return row.rtol if row.rtol and dtype == np.float64 else None


def cr_fn(row):
    return resolve(cr, row.name)


def torch_fn(row):
    return TORCH.get(row.name) or resolve(torch, row.torch)


def rows(*kinds):
    return [name for name, row in ROWS.items() if row.kind in kinds]


def variants(*kinds):
    return [pytest.param(name, i, id=f"{name}-{i}") for name in rows(*kinds)
            for i in range(len(ROWS[name].kwargs))]


def call(row, kw_index):
    kw = row.kwargs[kw_index]
    f, tf = cr_fn(row), torch_fn(row)
    return (lambda *t: f(*t, *row.args, **kw)), (lambda *t: tf(*t, *row.args, **dict(kw)))


# --------------------------------------------------------------------------- the table itself
@pytest.mark.parametrize("name", list(ROWS))
def test_every_row_names_real_functions(name):
    row = ROWS[name]
    assert callable(cr_fn(row)), name
    assert callable(resolve(torch, row.torch)), row.torch
    if row.numpy:
        assert callable(resolve(np, row.numpy)), row.numpy
    assert row.rule and all(isinstance(line, str) and line for line in row.rule)


def test_docs_operator_table_is_up_to_date():
    from pathlib import Path

    from chainrule.ops.registry import markdown

    path = Path(__file__).resolve().parents[1] / "docs" / "operators.md"
    assert path.read_text(encoding="utf-8") == markdown(), (
        "docs/operators.md is stale: run python -m chainrule.ops.registry > docs/operators.md")


def test_explain_shows_the_registry_rule():
    x = cr.tensor(0.5, requires_grad=True, name="x")
    y = cr.sin(x)
    y.name = "y"
    text = cr.explain(y, echo=False)
    assert ROWS["sin"].rule[0] in text
    assert rule_texts()["sin"] == ROWS["sin"].rule


# --------------------------------------------------------------------------- unary
UNARY_SHAPES = [(), (5,), (2, 3, 4)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name,kw", variants("unary"))
def test_unary_matches_torch(oracle, name, kw, shape, dtype):
    row = ROWS[name]
    f, tf = call(row, kw)
    x = sample(row.domain[0], shape, seed=len(name))
    oracle(f, tf, [x], dtype, gradcheck=row.gradcheck, rtol=_rtol(row, dtype))


@pytest.mark.parametrize("shape", [(0,), (2, 0, 3)], ids=str)
@pytest.mark.parametrize("name,kw", variants("unary"))
def test_unary_on_empty_tensors(oracle, name, kw, shape):
    f, tf = call(ROWS[name], kw)
    oracle(f, tf, [np.zeros(shape)], np.float64, gradcheck=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kw", variants("unary"))
def test_unary_edge_values_like_torch_without_warnings(name, kw, dtype):
    row = ROWS[name]
    if not row.edge:
        pytest.skip("edge values not checked for this row")
    f, tf = call(row, kw)
    edge = EDGE.astype(dtype)
    x = cr.tensor(edge.copy(), requires_grad=True)
    t = torch.tensor(edge.copy(), requires_grad=True)
    g = np.random.default_rng(0).standard_normal(EDGE.shape).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        out = f(x)
        out.backward(g)
    want = tf(t)
    want.backward(torch.from_numpy(g))
    rtol = (row.rtol or 1e-10) if dtype == np.float64 else 1e-5
    assert out.dtype == dtype
    shown = np.isfinite(EDGE) | np.isnan(EDGE) if (name, dtype) in INF_QUIRKS else slice(None)
    np.testing.assert_allclose(out.data[shown], want.detach().numpy()[shown], rtol=rtol,
                               atol=1e-300, equal_nan=True, err_msg="forward")
    # Gradients at finite points (0, −0, ±1, ...) as PyTorch's; at ±inf and NaN inputs only
    # that backward runs quietly (PyTorch's values there depend on how its kernel is written).
    finite = np.isfinite(EDGE)
    np.testing.assert_allclose(x.grad.data[finite], t.grad.numpy()[finite], rtol=rtol,
                               atol=1e-300, equal_nan=True, err_msg="gradient")


@pytest.mark.parametrize("name,kw", variants("unary"))
def test_unary_on_integers_gives_torchs_dtype(name, kw):
    f, tf = call(ROWS[name], kw)
    ints = np.array([-2, 0, 1, 3])
    try:
        want = tf(torch.from_numpy(ints.copy()))
    except (RuntimeError, TypeError, NotImplementedError):
        with pytest.raises((TypeError, ValueError)):
            f(cr.tensor(ints))
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        out = f(cr.tensor(ints))
    expected = want.numpy()
    assert out.dtype == expected.dtype
    np.testing.assert_allclose(out.data, expected, rtol=1e-6, equal_nan=True)


# --------------------------------------------------------------------------- binary
BROADCAST = [((2, 3), (2, 3)), ((3, 1), (1, 4)), ((4,), (2, 3, 4)), ((2, 1, 4), (3, 1)),
             ((), (3,)), ((2, 3), ())]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
@pytest.mark.parametrize("name,kw", variants("binary"))
def test_binary_broadcasts_like_torch(oracle, name, kw, shapes, dtype):
    row = ROWS[name]
    f, tf = call(row, kw)
    a = sample(row.domain[0], shapes[0], seed=1)
    b = sample(row.domain[1], shapes[1], seed=2)
    oracle(f, tf, [a, b], dtype, gradcheck=row.gradcheck, rtol=_rtol(row, dtype))


@pytest.mark.parametrize("name,kw", variants("binary"))
def test_binary_with_a_python_scalar(oracle, name, kw):
    row = ROWS[name]
    f, tf = call(row, kw)
    scalar = float(sample(row.domain[1], (), seed=3))
    # torch.atan2/maximum/... take no Python scalar: give PyTorch a 0-d tensor of a's dtype
    oracle(lambda a: f(a, scalar), lambda a: tf(a, torch.tensor(scalar, dtype=a.dtype)),
           [sample(row.domain[0], (2, 3), seed=4)], np.float32, gradcheck=False)


@pytest.mark.parametrize("name,kw", variants("binary"))
def test_binary_on_empty_tensors(oracle, name, kw):
    f, tf = call(ROWS[name], kw)
    oracle(f, tf, [np.ones((0, 3)), np.ones((1, 3))], np.float64, gradcheck=False)


@pytest.mark.parametrize("name,kw", variants("binary"))
def test_binary_int_with_float_gives_torchs_dtype(name, kw):
    f, tf = call(ROWS[name], kw)
    ints = np.array([1, 2, 3])
    floats = np.array([0.5, 1.5, 2.5], dtype=np.float32)
    for a, b in ((ints, floats), (floats, ints), (ints, ints + 1)):
        try:
            want = tf(torch.from_numpy(a.copy()), torch.from_numpy(b.copy())).numpy()
        except (RuntimeError, NotImplementedError):
            continue  # PyTorch has no integer kernel (e.g. hypot); chainrule may be wider

        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            out = f(cr.tensor(a), cr.tensor(b))
        assert out.dtype == want.dtype, (a.dtype, b.dtype)
        np.testing.assert_allclose(out.data, want, rtol=1e-6)


# --------------------------------------------------------------------------- reductions
MANY_AXES = [None, 0, 1, 2, -1, -3, (0, 1), (0, 2), (-1, 0), (0, 1, 2)]
ONE_AXIS = [None, 0, 1, 2, -1, -3]
RETURNS_INDICES = {"max", "min", "median"}


def _axes_for(row):
    return ONE_AXIS if row.axes == "one" else MANY_AXES


def _reduction_cases(with_none=True):
    for name in rows("reduction"):
        row = ROWS[name]
        for i in range(len(row.kwargs)):
            for axis in _axes_for(row):
                if axis is not None or with_none:
                    yield pytest.param(name, i, axis, id=f"{name}-{i}-{axis}")


def _torch_reduce(row, kw, axis, keepdims):
    tf = torch_fn(row)
    kw = dict(kw)

    def fn(t):
        if axis is None and row.axes == "one":
            out = tf(t, **kw)
            return out.reshape((1,) * t.ndim) if keepdims else out
        dims = tuple(range(t.ndim)) if axis is None else axis
        out = tf(t, dim=dims, keepdim=keepdims, **kw)
        return out.values if isinstance(out, tuple) else out

    return fn


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name,kw,axis", _reduction_cases())
def test_reduction_every_axis_and_keepdims(oracle, name, kw, axis, keepdims, dtype):
    row = ROWS[name]
    if row.axes == "one" and axis is None and keepdims and name == "median":
        pytest.skip("median() of all elements has no keepdim in PyTorch")
    f, kwargs = cr_fn(row), row.kwargs[kw]
    x = sample(row.domain[0], (2, 3, 4), seed=9)
    # var/std with correction >= N are inf/NaN (as in PyTorch): no finite differences there
    smooth = bool(np.isfinite(f(cr.tensor(x), axis=axis, **kwargs).data).all())
    oracle(lambda t: f(t, axis=axis, keepdims=keepdims, **kwargs),
           _torch_reduce(row, kwargs, axis, keepdims), [x], dtype, gradcheck=smooth)


@pytest.mark.parametrize("name,kw,axis", _reduction_cases(with_none=False))
def test_reduction_torch_spelling(oracle, name, kw, axis):
    """``dim=``/``keepdim=`` (and the Tensor method); max/min/median give (values, indices)."""
    row = ROWS[name]
    f, kwargs = cr_fn(row), row.kwargs[kw]
    x = sample(row.domain[0], (2, 3, 4), seed=10)
    tf = _torch_reduce(row, kwargs, axis, True)
    single = isinstance(axis, int)

    def values(t):
        out = getattr(t, name)(dim=axis, keepdim=True, **kwargs)
        if name in RETURNS_INDICES and single:
            assert isinstance(out, tuple) and len(out) == 2
            return out.values
        return out

    oracle(values, tf, [x], gradcheck=False)
    if name in RETURNS_INDICES and single:
        torch_name = {"max": "max", "min": "min", "median": "median"}[name]
        want = getattr(torch, torch_name)(torch.from_numpy(x), dim=axis)
        got = f(cr.tensor(x), dim=axis)
        assert got.indices.dtype == np.int64
        np.testing.assert_array_equal(got.indices.data, want.indices.numpy())


@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("name", rows("reduction"))
def test_reduction_of_a_0d_tensor_accepts_dim_0_and_minus_1(name, dim):
    row = ROWS[name]
    f, kwargs = cr_fn(row), row.kwargs[0]
    x = cr.tensor(np.array(1.5), requires_grad=True)
    t = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    out = f(x, dim=dim, **kwargs)
    want = torch_fn(row)(t, dim=dim, **kwargs)
    out = out.values if isinstance(out, tuple) else out
    want = want.values if isinstance(want, tuple) else want
    assert out.shape == tuple(want.shape)
    np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=1e-12, equal_nan=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        out.backward(np.ones(out.shape))
    want.backward(torch.ones_like(want))
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("name", rows("reduction"))
def test_reduction_with_an_empty_batch(oracle, name):
    """Reducing a length-3 axis of a (0, 3) tensor gives an empty result, as in PyTorch."""
    row = ROWS[name]
    f, kwargs = cr_fn(row), row.kwargs[0]
    oracle(lambda t: f(t, axis=1, **kwargs), _torch_reduce(row, kwargs, 1, False),
           [np.zeros((0, 3))], gradcheck=False)


@pytest.mark.parametrize("name", rows("reduction"))
def test_reduction_names_a_bad_axis(name):
    with pytest.raises(ValueError, match=rf"{name}: axis 3 is out of range"):
        cr_fn(ROWS[name])(cr.ones(2, 3), axis=3)


# --------------------------------------------------------------------------- scans
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
@pytest.mark.parametrize("name", rows("scan"))
def test_scan_matches_torch(oracle, name, dim, dtype):
    row = ROWS[name]
    f, tf = cr_fn(row), torch_fn(row)

    def first(out):
        return out[0] if isinstance(out, tuple) else out

    x = sample(row.domain[0], (2, 3, 4), seed=11)
    oracle(lambda t: first(f(t, dim=dim)), lambda t: first(tf(t, dim=dim)), [x], dtype)
    if name in ("cummax", "cummin"):
        np.testing.assert_array_equal(f(cr.tensor(x), dim).indices.data,
                                      tf(torch.from_numpy(x), dim).indices.numpy())


@pytest.mark.parametrize("name", rows("scan"))
def test_scan_of_0d_and_empty_tensors(oracle, name):
    row = ROWS[name]
    f, tf = cr_fn(row), torch_fn(row)

    def first(out):
        return out[0] if isinstance(out, tuple) else out

    oracle(lambda t: first(f(t, dim=0)), lambda t: first(tf(t, dim=0)), [np.array(0.7)],
           gradcheck=False)
    oracle(lambda t: first(f(t, dim=1)), lambda t: first(tf(t, dim=1)), [np.zeros((2, 0))],
           gradcheck=False)


HOT_BINARY = {"add", "sub", "mul", "div", "pow", "maximum", "minimum"}  # no errstate: overhead


@pytest.mark.parametrize("name,kw", [v for v in variants("binary") if v.values[0] not in
                                     HOT_BINARY])
def test_binary_edge_values_like_torch_without_warnings(name, kw):
    """Every pair of edge values (0, ±inf, NaN, ...): PyTorch's values, no RuntimeWarning."""
    f, tf = call(ROWS[name], kw)
    a, b = np.meshgrid(EDGE, EDGE, indexing="ij")
    xa, xb = cr.tensor(a.copy(), requires_grad=True), cr.tensor(b.copy(), requires_grad=True)
    ta = torch.tensor(a.copy(), requires_grad=True)
    tb = torch.tensor(b.copy(), requires_grad=True)
    g = np.random.default_rng(1).standard_normal(a.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        out = f(xa, xb)
        out.backward(g)
    want = tf(ta, tb)
    want.backward(torch.from_numpy(g))
    np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=1e-10, atol=1e-300,
                               equal_nan=True, err_msg="forward")
    both = np.isfinite(a) & np.isfinite(b) & (b != 0)  # gradients where both are ordinary
    for x, t in ((xa, ta), (xb, tb)):
        np.testing.assert_allclose(x.grad.data[both], t.grad.numpy()[both], rtol=1e-10,
                                   atol=1e-300, equal_nan=True, err_msg="gradient")
