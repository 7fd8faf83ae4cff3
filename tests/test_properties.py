"""Property tests (Hypothesis, derandomized in conftest.py): random shapes and broadcasting for
the binary ops, reductions over random axes, reshape/transpose/indexing round trips.

Each property compares chainrule with NumPy: forward values equal NumPy's, and the gradient of
``L = Σ w ⊙ f(x)`` equals a NumPy reference with the inputs' shapes.
"""

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr

SEEDS = st.integers(0, 2**32 - 1)
DTYPES = st.sampled_from([np.float64, np.float32])


def sum_to(g, shape):
    """Reference un-broadcast, written independently of chainrule's: sum leading axes away,
    then sum (keeping dims) every axis where the target has length one."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for i, n in enumerate(shape):
        if n == 1 and g.shape[i] != 1:
            g = g.sum(axis=i, keepdims=True)
    return g


def close(got, want, dtype):
    tol = 1e-10 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


# --------------------------------------------------------------------------- binary ops
# name: (chainrule op, numpy forward, (∂f/∂a, ∂f/∂b) as numpy functions of (a, b))
BINARY = {
    "add": (lambda a, b: a + b, np.add, (lambda a, b: 1.0 + 0 * b, lambda a, b: 1.0 + 0 * a)),
    "sub": (lambda a, b: a - b, np.subtract, (lambda a, b: 1.0 + 0 * b, lambda a, b: -1.0 + 0 * a)),
    "mul": (lambda a, b: a * b, np.multiply, (lambda a, b: b, lambda a, b: a)),
    "div": (lambda a, b: a / b, np.divide, (lambda a, b: 1 / b, lambda a, b: -a / b**2)),
    "pow": (lambda a, b: a**b, np.power,
            (lambda a, b: b * a ** (b - 1), lambda a, b: a**b * np.log(a))),
    "maximum": (cr.maximum, np.maximum,
                (lambda a, b: (a > b) + 0 * b, lambda a, b: (b > a) + 0 * a)),
    "minimum": (cr.minimum, np.minimum,
                (lambda a, b: (a < b) + 0 * b, lambda a, b: (b < a) + 0 * a)),
}


@settings(max_examples=300)
@given(
    name=st.sampled_from(sorted(BINARY)),
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
    dtype=DTYPES,
    seed=SEEDS,
)
def test_binary_ops_broadcast_like_numpy(name, shapes, dtype, seed):
    op, np_op, partials = BINARY[name]
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    # positive a: valid for pow; |b| >= 0.5: away from 0 for div (np.asarray: 0-d stays an array)
    a = np.asarray(rng.uniform(0.5, 2.0, sa), dtype=dtype)
    b = np.asarray(rng.uniform(0.5, 2.0, sb) * rng.choice([-1, 1], sb), dtype=dtype)
    ta, tb = cr.Tensor(a.copy(), requires_grad=True), cr.Tensor(b.copy(), requires_grad=True)
    out = op(ta, tb)
    want = np_op(a, b)
    assert out.shape == want.shape == shapes.result_shape
    assert out.dtype == want.dtype
    close(out.data, want, dtype)

    w = np.asarray(rng.standard_normal(out.shape), dtype=dtype)
    out.backward(w)
    assert ta.grad.shape == sa and tb.grad.shape == sb
    assert ta.grad.dtype == dtype and tb.grad.dtype == dtype
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    close(ta.grad.data, sum_to(w * partials[0](a64, b64), sa), dtype)
    close(tb.grad.data, sum_to(w * partials[1](a64, b64), sb), dtype)


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                max_side=4),
       seed=SEEDS)
def test_python_scalars_and_ndarrays_broadcast_on_either_side(shapes, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    a, c = np.asarray(rng.standard_normal(sa)), np.asarray(rng.standard_normal(sb))
    x = cr.Tensor(a.copy(), requires_grad=True)
    out = (c - x) * 2.0 + x / 4.0 - c * x
    np.testing.assert_allclose(out.data, (c - a) * 2.0 + a / 4.0 - c * a, rtol=1e-12)
    out.backward(np.ones(out.shape))
    assert x.grad.shape == sa
    np.testing.assert_allclose(x.grad.data, sum_to(np.broadcast_to(-2.0 + 0.25 - c, out.shape), sa),
                               rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- reductions
@st.composite
def shape_and_axes(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    ndim = len(shape)
    axes = draw(st.none() | st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                                     unique=True))
    if axes is not None:
        # mix in negative spellings, and a bare int for single axes
        negate = draw(st.lists(st.booleans(), min_size=len(axes), max_size=len(axes)))
        axes = tuple(ax - ndim if neg else ax for ax, neg in zip(axes, negate))
        if len(axes) == 1 and draw(st.booleans()):
            axes = axes[0]
    return shape, axes


REDUCTIONS = {
    "sum": lambda x, ax, kd: np.sum(x, axis=ax, keepdims=kd),
    "mean": lambda x, ax, kd: np.mean(x, axis=ax, keepdims=kd),
    "max": lambda x, ax, kd: np.max(x, axis=ax, keepdims=kd),
    "min": lambda x, ax, kd: np.min(x, axis=ax, keepdims=kd),
    "var": lambda x, ax, kd: np.var(x, axis=ax, keepdims=kd),
    "logsumexp": lambda x, ax, kd: np.log(np.sum(np.exp(x), axis=ax, keepdims=kd)),
}


def _reduction_grad(name, x, axes, w_full):
    """Reference gradient of Σ w ⊙ reduce(x), with w already broadcast back to x's shape."""
    n = x.size // np.sum(x, axis=axes, keepdims=True).size
    if name == "sum":
        return w_full
    if name == "mean":
        return w_full / n
    if name in ("max", "min"):
        pick = x == REDUCTIONS[name](x, axes, True)
        return w_full * pick / pick.sum(axis=axes, keepdims=True)
    if name == "var":
        return w_full * 2 * (x - x.mean(axis=axes, keepdims=True)) / n
    return w_full * np.exp(x - REDUCTIONS["logsumexp"](x, axes, True))


@settings(max_examples=300)
@given(name=st.sampled_from(sorted(REDUCTIONS)), case=shape_and_axes(), keepdims=st.booleans(),
       dtype=DTYPES, seed=SEEDS)
def test_reductions_over_random_axes(name, case, keepdims, dtype, seed):
    shape, axes = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    t = cr.Tensor(x.copy(), requires_grad=True)
    extra = {"ddof": 0} if name == "var" else {}  # population variance, as the reference
    out = getattr(cr, name)(t, axis=axes, keepdims=keepdims, **extra)
    want = REDUCTIONS[name](x.astype(np.float64), axes, keepdims)
    assert out.shape == np.shape(want)
    assert out.dtype == dtype
    close(out.data, want, dtype)

    w = rng.standard_normal(out.shape).astype(dtype)
    out.backward(w)
    assert t.grad.shape == shape and t.grad.dtype == dtype
    kept = np.sum(x, axis=axes, keepdims=True).shape
    w_full = np.broadcast_to(w.astype(np.float64).reshape(kept), shape)
    close(t.grad.data, _reduction_grad(name, x.astype(np.float64), axes, w_full), dtype)


@given(case=shape_and_axes(), seed=SEEDS)
def test_softmax_rows_sum_to_one_and_log_softmax_is_its_log(case, seed):
    shape, _ = case
    rng = np.random.default_rng(seed)
    axis = int(rng.integers(-len(shape), len(shape)))
    x = cr.Tensor(rng.standard_normal(shape) * 5)
    s = cr.softmax(x, axis=axis).data
    np.testing.assert_allclose(s.sum(axis=axis), 1.0, rtol=1e-12)
    np.testing.assert_allclose(cr.log_softmax(x, axis=axis).data, np.log(s), rtol=1e-10,
                               atol=1e-12)


# --------------------------------------------------------------------------- shape round trips
@st.composite
def shape_and_permutation(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=5, min_side=1, max_side=4))
    perm = draw(st.permutations(range(len(shape))))
    return shape, tuple(perm)


@given(case=shape_and_permutation(), seed=SEEDS)
def test_transpose_round_trip_and_gradient(case, seed):
    shape, perm = case
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape))
    t = cr.Tensor(x.copy(), requires_grad=True)
    # permute is NumPy's transpose(axes); transpose with exactly two axes swaps them (PyTorch).
    y = t.permute(*perm) if perm else t.transpose()
    np.testing.assert_array_equal(y.data, x.transpose(perm))
    if len(perm) >= 2:
        np.testing.assert_array_equal(t.transpose(0, -1).data, np.swapaxes(x, 0, -1))
    back = y.permute(*np.argsort(perm)) if perm else y.transpose()
    np.testing.assert_array_equal(back.data, x)
    w = rng.standard_normal(y.shape)
    y.backward(w)
    np.testing.assert_array_equal(t.grad.data, w.transpose(np.argsort(perm)))


@given(case=shape_and_permutation(), seed=SEEDS, infer=st.booleans())
def test_reshape_round_trip_and_gradient(case, seed, infer):
    shape, perm = case
    new = tuple(shape[i] for i in perm)  # same number of elements, dims reordered
    if infer and new:
        new = (-1,) + new[1:]
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape))
    t = cr.Tensor(x.copy(), requires_grad=True)
    y = t.reshape(new)
    np.testing.assert_array_equal(y.data, x.reshape(new))
    np.testing.assert_array_equal(y.reshape(shape).data, x)
    np.testing.assert_array_equal(t.flatten().data, x.reshape(-1))
    w = rng.standard_normal(y.shape)
    y.backward(w)
    assert t.grad.shape == shape
    np.testing.assert_array_equal(t.grad.data, w.reshape(shape))


@given(data=st.data(), seed=SEEDS)
def test_basic_indexing_scatters_the_gradient_back(data, seed):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5))
    index = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    t = cr.Tensor(x.copy(), requires_grad=True)
    y = t[index]
    np.testing.assert_array_equal(y.data, x[index])
    w = rng.standard_normal(y.shape)
    y.backward(w)
    want = np.zeros(shape)
    want[index] = w  # basic indices never repeat an element
    np.testing.assert_array_equal(t.grad.data, want)


@given(data=st.data(), seed=SEEDS)
def test_integer_array_indexing_accumulates_repeats(data, seed):
    n = data.draw(st.integers(1, 6))
    idx = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=0, max_size=10)),
                   dtype=np.int64)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    t = cr.Tensor(x.copy(), requires_grad=True)
    y = t[idx]
    np.testing.assert_array_equal(y.data, x[idx])
    w = rng.standard_normal(y.shape)
    y.backward(w)
    want = np.zeros_like(x)
    np.add.at(want, idx, w)
    np.testing.assert_allclose(t.grad.data, want, rtol=1e-12, atol=1e-12)


@given(data=st.data(), seed=SEEDS)
def test_concat_then_split_gradients(data, seed):
    ndim = data.draw(st.integers(1, 3))
    base = list(data.draw(hnp.array_shapes(min_dims=ndim, max_dims=ndim, max_side=3)))
    axis = data.draw(st.integers(-ndim, ndim - 1))
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=4))
    rng = np.random.default_rng(seed)
    parts = []
    for s in sizes:
        shape = list(base)
        shape[axis] = s
        parts.append(rng.standard_normal(shape))
    ts = [cr.Tensor(p.copy(), requires_grad=True) for p in parts]
    y = cr.concat(ts, axis=axis)
    np.testing.assert_array_equal(y.data, np.concatenate(parts, axis=axis))
    w = rng.standard_normal(y.shape)
    y.backward(w)
    for t, piece in zip(ts, np.split(w, np.cumsum(sizes)[:-1], axis=axis)):
        np.testing.assert_array_equal(t.grad.data, piece)


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=1, min_dims=0, max_dims=4,
                                                max_side=4),
       seed=SEEDS)
def test_broadcast_to_sums_gradients_back(shapes, seed):
    (small,) = shapes.input_shapes
    big = shapes.result_shape
    rng = np.random.default_rng(seed)
    x = cr.Tensor(np.asarray(rng.standard_normal(small)), requires_grad=True)
    y = cr.broadcast_to(x, big)
    w = rng.standard_normal(big)
    y.backward(w)
    np.testing.assert_allclose(x.grad.data, sum_to(w, small), rtol=1e-12, atol=1e-12)
