"""Shape and indexing ops against PyTorch: forward, the gradient of every float input under a
random upstream gradient (float64 rtol 1e-10, float32 1e-5) and ``cr.gradcheck``, driven by one
table (name, chainrule fn, torch fn, inputs); plus hypothesis properties over random shapes.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
from chainrule import ops


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def ints(high, *shape, seed=1):
    return np.random.default_rng(seed).integers(0, high, shape).astype(np.int64)


def pieces(parts):
    """One tensor from a tuple of pieces, each weighted differently (so a mix-up shows)."""
    return [p.reshape(-1) * (i + 1) for i, p in enumerate(parts)]


def cr_pieces(parts):
    return cr.concat(pieces(parts))


def t_pieces(parts):
    return torch.cat(pieces(parts))


# (name, chainrule fn, torch fn, input arrays)
ROWS = [
    ("expand", lambda x: x.expand(2, -1, 4), lambda x: x.expand(2, -1, 4), [normal(3, 1)]),
    ("expand", lambda x: x.expand(3, 2), lambda x: x.expand(3, 2), [normal(2)]),
    ("repeat", lambda x: x.repeat(2, 1, 3), lambda x: x.repeat(2, 1, 3), [normal(2, 3)]),
    ("tile", lambda x: cr.tile(x, (2,)), lambda x: torch.tile(x, (2,)), [normal(2, 3)]),
    ("repeat_interleave", lambda x: cr.repeat_interleave(x, 2, dim=1),
     lambda x: torch.repeat_interleave(x, 2, dim=1), [normal(2, 3)]),
    ("repeat_interleave", lambda x: x.repeat_interleave(cr.tensor([1, 0, 3]), dim=0),
     lambda x: x.repeat_interleave(torch.tensor([1, 0, 3]), dim=0), [normal(3, 2)]),
    ("repeat_interleave", lambda x: cr.repeat_interleave(x, 2),
     lambda x: torch.repeat_interleave(x, 2), [normal(2, 2)]),
    ("split", lambda x: cr_pieces(cr.split(x, 2, dim=1)),
     lambda x: t_pieces(torch.split(x, 2, dim=1)), [normal(3, 5)]),
    ("split", lambda x: cr_pieces(x.split([1, 3], -1)),
     lambda x: t_pieces(x.split([1, 3], -1)), [normal(2, 4)]),
    ("chunk", lambda x: cr_pieces(cr.chunk(x, 3, dim=0)),
     lambda x: t_pieces(torch.chunk(x, 3, dim=0)), [normal(5, 2)]),
    ("unbind", lambda x: cr_pieces(cr.unbind(x, 1)), lambda x: t_pieces(torch.unbind(x, 1)),
     [normal(2, 3)]),
    ("flip", lambda x: cr.flip(x, (0, -1)), lambda x: torch.flip(x, (0, -1)), [normal(2, 3, 4)]),
    ("flip", lambda x: x.flip(1), lambda x: x.flip(1), [normal(2, 3)]),
    ("fliplr", cr.fliplr, torch.fliplr, [normal(2, 3)]),
    ("flipud", cr.flipud, torch.flipud, [normal(2, 3)]),
    ("roll", lambda x: cr.roll(x, 1), lambda x: torch.roll(x, 1), [normal(2, 3)]),
    ("roll", lambda x: x.roll((1, -2), (0, 1)), lambda x: x.roll((1, -2), (0, 1)),
     [normal(3, 4)]),
    ("rot90", lambda x: cr.rot90(x, 1, (0, 1)), lambda x: torch.rot90(x, 1, (0, 1)),
     [normal(2, 3)]),
    ("rot90", lambda x: x.rot90(-3, (2, 0)), lambda x: x.rot90(-3, (2, 0)), [normal(2, 3, 4)]),
    ("tril", lambda x: cr.tril(x, -1), lambda x: torch.tril(x, -1), [normal(2, 3, 4)]),
    ("triu", lambda x: x.triu(1), lambda x: x.triu(1), [normal(4, 3)]),
    ("diag", cr.diag, torch.diag, [normal(3)]),
    ("diag", lambda x: cr.diag(x, -1), lambda x: torch.diag(x, -1), [normal(3)]),
    ("diag", lambda x: x.diag(1), lambda x: x.diag(1), [normal(3, 4)]),
    ("diagonal", lambda x: cr.diagonal(x, 1, -1, 0), lambda x: torch.diagonal(x, 1, -1, 0),
     [normal(3, 2, 4)]),
    ("trace", cr.trace, torch.trace, [normal(3, 4)]),
    ("diag_embed", cr.diag_embed, torch.diag_embed, [normal(2, 3)]),
    ("diag_embed", lambda x: cr.diag_embed(x, -1, 0, 2),
     lambda x: torch.diag_embed(x, -1, 0, 2), [normal(2, 3)]),
    ("unflatten", lambda x: x.unflatten(1, (2, -1)), lambda x: x.unflatten(1, (2, -1)),
     [normal(3, 6)]),
    ("unfold", lambda x: x.unfold(1, 3, 2), lambda x: x.unfold(1, 3, 2), [normal(2, 7)]),
    ("unfold", lambda x: x.unfold(0, 2, 1), lambda x: x.unfold(0, 2, 1), [normal(4, 3)]),
    ("moveaxis", lambda x: cr.moveaxis(x, (0, 1), (-1, 0)),
     lambda x: torch.moveaxis(x, (0, 1), (-1, 0)), [normal(2, 3, 4)]),
    ("swapdims", lambda x: cr.swapdims(x, 0, -1), lambda x: torch.swapdims(x, 0, -1),
     [normal(2, 3, 4)]),
    ("narrow", lambda x: cr.narrow(x, 1, 1, 2), lambda x: torch.narrow(x, 1, 1, 2),
     [normal(2, 4)]),
    ("select", lambda x: cr.select(x, -1, 2), lambda x: torch.select(x, -1, 2), [normal(2, 4)]),
    ("index_select", lambda x, i: cr.index_select(x, 1, i),
     lambda x, i: torch.index_select(x, 1, i), [normal(2, 4), np.array([3, 0, 3, 3])]),
    ("gather", lambda x, i: cr.gather(x, 1, i), lambda x, i: torch.gather(x, 1, i),
     [normal(3, 4), ints(4, 3, 5)]),
    ("gather", lambda x, i: x.gather(0, i), lambda x, i: x.gather(0, i),
     [normal(3, 4), ints(3, 2, 2)]),
    ("scatter", lambda x, i, s: cr.scatter(x, 1, i, s), lambda x, i, s: torch.scatter(x, 1, i, s),
     [normal(2, 5), np.array([[0, 4], [2, 1]]), normal(2, 2, seed=2)]),
    ("scatter", lambda x, i: cr.scatter(x, 0, i, value=2.5),
     lambda x, i: torch.scatter(x, 0, i, value=2.5), [normal(3, 2), np.array([[2, 0]])]),
    ("scatter_add", lambda x, i, s: cr.scatter_add(x, 0, i, s),
     lambda x, i, s: torch.scatter_add(x, 0, i, s),
     [normal(3, 2), ints(3, 4, 2), normal(4, 2, seed=3)]),
    ("index_add", lambda x, i, s: x.index_add(1, i, s, alpha=2),
     lambda x, i, s: x.index_add(1, i, s, alpha=2),
     [normal(2, 3), np.array([2, 2, 0, 2]), normal(2, 4, seed=3)]),
    ("masked_fill", lambda x: cr.masked_fill(x, cr.tensor([True, False, True]), -1.5),
     lambda x: torch.masked_fill(x, torch.tensor([True, False, True]), -1.5), [normal(2, 3)]),
    ("masked_fill", lambda x, v: x.masked_fill(cr.tensor([[True], [False]]), v),
     lambda x, v: x.masked_fill(torch.tensor([[True], [False]]), v),
     [normal(2, 3), np.array(0.7)]),
    ("masked_select", lambda x: cr.masked_select(x, cr.tensor([True, False, True])),
     lambda x: torch.masked_select(x, torch.tensor([True, False, True])), [normal(2, 3)]),
    ("take", lambda x, i: cr.take(x, i), lambda x, i: torch.take(x, i),
     [normal(2, 3), np.array([[5, 0], [5, 5]])]),
    ("take_along_dim", lambda x, i: cr.take_along_dim(x, i, 1),
     lambda x, i: torch.take_along_dim(x, i, 1), [normal(3, 4), ints(4, 1, 6)]),
    ("take_along_dim", lambda x, i: cr.take_along_dim(x, i),
     lambda x, i: torch.take_along_dim(x, i), [normal(3, 4), ints(12, 5)]),
    ("take_along_axis", lambda x, i: cr.take_along_axis(x, i, 0),
     lambda x, i: torch.take_along_dim(x, i, 0), [normal(3, 4), ints(3, 2, 4)]),
    ("sort", lambda x: cr.sort(x, dim=0, descending=True).values,
     lambda x: torch.sort(x, dim=0, descending=True).values, [normal(4, 3)]),
    ("sort", lambda x: x.sort().values * 2, lambda x: x.sort().values * 2, [normal(3, 4)]),
    ("topk", lambda x: cr.topk(x, 2, dim=0).values, lambda x: torch.topk(x, 2, dim=0).values,
     [normal(4, 3)]),
    ("topk", lambda x: x.topk(3, largest=False).values,
     lambda x: x.topk(3, largest=False).values, [normal(2, 5)]),
    ("kthvalue", lambda x: cr.kthvalue(x, 2, 1, keepdim=True).values,
     lambda x: torch.kthvalue(x, 2, 1, keepdim=True).values, [normal(3, 4)]),
    ("meshgrid", lambda a, b: cr_pieces(cr.meshgrid(a, b, indexing="ij")),
     lambda a, b: t_pieces(torch.meshgrid(a, b, indexing="ij")), [normal(2), normal(3, seed=1)]),
    ("meshgrid", lambda a, b: cr_pieces(cr.meshgrid(a, b, indexing="xy")),
     lambda a, b: t_pieces(torch.meshgrid(a, b, indexing="xy")), [normal(2), normal(3, seed=1)]),
    ("atleast_1d", lambda x: cr.atleast_1d(x), lambda x: torch.atleast_1d(x), [normal()]),
    ("atleast_2d", lambda x: cr.atleast_2d(x), lambda x: torch.atleast_2d(x), [normal(3)]),
    ("atleast_3d", lambda x: cr.atleast_3d(x), lambda x: torch.atleast_3d(x), [normal(3)]),
    ("atleast_3d", lambda x: cr.atleast_3d(x), lambda x: torch.atleast_3d(x), [normal(2, 3)]),
    ("hstack", lambda a, b: cr.hstack([a, b]), lambda a, b: torch.hstack([a, b]),
     [normal(2, 3), normal(2, 1)]),
    ("hstack", lambda a, b: cr.hstack([a, b]), lambda a, b: torch.hstack([a, b]),
     [normal(2), normal(3)]),
    ("vstack", lambda a, b: cr.vstack([a, b]), lambda a, b: torch.vstack([a, b]),
     [normal(3), normal(2, 3)]),
    ("dstack", lambda a, b: cr.dstack([a, b]), lambda a, b: torch.dstack([a, b]),
     [normal(2, 3), normal(2, 3, 2)]),
    ("column_stack", lambda a, b: cr.column_stack([a, b]),
     lambda a, b: torch.column_stack([a, b]), [normal(3), normal(3, 2)]),
    ("where", lambda c, a, b: cr.where(c > 0, a, b), lambda c, a, b: torch.where(c > 0, a, b),
     [ints(2, 2, 3), normal(2, 3, seed=1), normal(3, seed=2)]),
]

ONE_ARG_ROWS = {"scatter_reduce"}  # tested by test_scatter_reduce below
NO_GRADIENT = {"argsort", "argwhere", "nonzero"}  # integer results: test_integer_results


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("row", ROWS, ids=[f"{r[0]}-{i}" for i, r in enumerate(ROWS)])
def test_matches_torch(oracle, row, dtype):
    _, cr_fn, torch_fn, arrays = row
    oracle(cr_fn, torch_fn, arrays, dtype)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(oracle, reduce, include_self):
    x = normal(3, 4)
    index = np.array([[0, 2, 2, 2], [0, 0, 2, 0]])
    src = normal(2, 4, seed=5)
    if reduce == "prod":
        src[0, 0] = 0.0  # a zero in a group: the gradient of the others is still defined

    def run(lib):
        return lambda x, s: lib.scatter_reduce(x, 0, lib_index(lib, index), s, reduce,
                                               include_self=include_self)

    oracle(run(cr), run(torch), [x, src], np.float64)
    oracle(run(cr), run(torch), [x, src], np.float32)


def lib_index(lib, index):
    return cr.tensor(index) if lib is cr else torch.from_numpy(index)


def test_integer_results_match_torch():
    x = np.array([[0.0, 3.0, 0.0], [4.0, 0.0, 5.0]])
    assert cr.nonzero(cr.tensor(x)).tolist() == torch.nonzero(torch.tensor(x)).tolist()
    for mine, theirs in zip(cr.nonzero(cr.tensor(x), as_tuple=True),
                            torch.nonzero(torch.tensor(x), as_tuple=True)):
        assert mine.tolist() == theirs.tolist()
    for mine, theirs in zip(cr.where(cr.tensor(x) > 0), torch.where(torch.tensor(x) > 0)):
        assert mine.tolist() == theirs.tolist() and mine.dtype == np.int64
    y = normal(3, 5)
    assert cr.argsort(cr.tensor(y), dim=0).tolist() == torch.argsort(torch.tensor(y), 0).tolist()
    assert (cr.argsort(cr.tensor(y), descending=True).tolist()
            == torch.argsort(torch.tensor(y), descending=True).tolist())
    assert cr.argwhere(cr.tensor(x)).tolist() == torch.argwhere(torch.tensor(x)).tolist()
    top = cr.topk(cr.tensor(y), 2)
    assert top.indices.tolist() == torch.topk(torch.tensor(y), 2).indices.tolist()
    kth = cr.kthvalue(cr.tensor(y), 3, 0)
    assert kth.indices.tolist() == torch.kthvalue(torch.tensor(y), 3, 0).indices.tolist()


def test_every_shape_and_indexing_op_has_a_row():
    names = {r[0] for r in ROWS} | ONE_ARG_ROWS | NO_GRADIENT
    from test_linalg import LINALG_NAMES

    missing = set(ops._SHAPE_INDEXING_LINALG) - names - LINALG_NAMES
    assert not missing, f"ops without an oracle row: {sorted(missing)}"


# --------------------------------------------------------------------------- item 7 fix
def test_a_tuple_of_repeated_indices_inside_an_index_accumulates_its_gradient():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[(0, 0, 1),].sum().backward()
    t = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    t[(0, 0, 1),].sum().backward()
    assert x.grad.tolist() == t.grad.tolist() == [2.0, 1.0, 0.0]
    y = cr.tensor(np.ones((3, 2)), requires_grad=True)
    y[[0, 0], [1, 1]].sum().backward()  # repeated (row, col) pairs add up too
    assert y.grad.tolist() == [[0.0, 2.0], [0.0, 0.0], [0.0, 0.0]]


def test_repeated_indices_accumulate_in_gather_take_and_index_select():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (cr.take(x, cr.tensor([2, 2, 2, 0])).sum() + cr.index_select(x, 0, cr.tensor([2])).sum()
     ).backward()
    assert x.grad.tolist() == [1.0, 0.0, 4.0]


# --------------------------------------------------------------------------- errors
def test_errors_name_the_op_and_the_shapes():
    with pytest.raises(ValueError, match=r"split: sizes \[1, 1\] .* 3"):
        cr.split(cr.ones(3), [1, 1])
    with pytest.raises(IndexError, match="gather: index 5 is out of range for dim 1 of size 2"):
        cr.gather(cr.ones(2, 2), 1, cr.tensor([[5]]))
    with pytest.raises(ValueError, match=r"expand: .*\(2, 3\)"):
        cr.ones(2, 3).expand(3)
    with pytest.raises(ValueError, match="unfold: a window of size 4"):
        cr.ones(3).unfold(0, 4, 1)
    with pytest.raises(ValueError, match=r"masked_fill: mask of shape \(3,\)"):
        cr.masked_fill(cr.ones(2), cr.tensor([True, False, True]), 0.0)
    with pytest.raises(TypeError, match="index_select: index must be an integer tensor"):
        cr.index_select(cr.ones(2), 0, cr.tensor([0.0]))


# --------------------------------------------------------------------------- properties
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)


@given(shapes, st.data())
def test_flip_twice_is_the_identity_and_its_gradient_too(shape, data):
    dims = data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True))
    x = cr.tensor(normal(*shape), requires_grad=True)
    y = cr.flip(cr.flip(x, dims), dims)
    np.testing.assert_array_equal(y.data, x.data)
    g = normal(*shape, seed=3)
    y.backward(g)
    np.testing.assert_array_equal(x.grad.data, g)


@given(shapes, st.data())
def test_split_then_concat_round_trips(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    size = data.draw(st.integers(1, 4))
    x = cr.tensor(normal(*shape), requires_grad=True)
    parts = cr.split(x, size, dim)
    assert all(p.shape[dim] <= size for p in parts)
    y = cr.concat(parts, dim=dim)
    np.testing.assert_array_equal(y.data, x.data)
    g = normal(*shape, seed=4)
    y.backward(g)
    np.testing.assert_array_equal(x.grad.data, g)
    assert len(cr.chunk(x, size, dim)) == len(torch.chunk(torch.tensor(x.data), size, dim))


@given(shapes, st.data())
def test_shape_ops_match_torch_on_random_shapes(shape, data):
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1))
    shift = data.draw(st.integers(-5, 5))
    reps = data.draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd + 1))
    x = normal(*shape)
    g_seed = data.draw(st.integers(0, 10))
    cases = [
        (lambda v: v.roll(shift, dim), lambda v: v.roll(shift, dim)),
        (lambda v: v.repeat(*reps), lambda v: v.repeat(*reps)),
        (lambda v: v.repeat_interleave(2, dim), lambda v: v.repeat_interleave(2, dim)),
        (lambda v: v.unfold(dim, 1, 1), lambda v: v.unfold(dim, 1, 1)),
        (lambda v: cr.moveaxis(v, dim, 0), lambda v: torch.moveaxis(v, dim, 0)),
    ]
    for cr_fn, torch_fn in cases:
        a = cr.tensor(x, requires_grad=True)
        t = torch.tensor(x, requires_grad=True)
        out, tout = cr_fn(a), torch_fn(t)
        np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
        g = normal(*out.shape, seed=g_seed)
        out.backward(g)
        tout.backward(torch.tensor(g))
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_numpy_spellings_agree_with_numpy():
    x = normal(2, 3, 4)
    t = cr.tensor(x)
    np.testing.assert_array_equal(cr.flip(t, axis=1).data, np.flip(x, axis=1))
    np.testing.assert_array_equal(cr.flip(t).data, np.flip(x))
    np.testing.assert_array_equal(cr.roll(t, shift=2, axis=-1).data, np.roll(x, 2, axis=-1))
    np.testing.assert_array_equal(cr.rot90(t, 2, axes=(1, 2)).data, np.rot90(x, 2, (1, 2)))
    np.testing.assert_array_equal(cr.tril(t, k=1).data, np.tril(x, 1))
    np.testing.assert_array_equal(cr.diagonal(t, axis1=0, axis2=2).data,
                                  np.diagonal(x, axis1=0, axis2=2))
    np.testing.assert_array_equal(cr.take(t, cr.tensor([2, 0]), axis=1).data,
                                  np.take(x, [2, 0], axis=1))
    idx = np.argsort(x, axis=2)
    np.testing.assert_array_equal(cr.take_along_axis(t, cr.tensor(idx), 2).data,
                                  np.take_along_axis(x, idx, 2))
    np.testing.assert_array_equal(cr.repeat_interleave(t, 2, axis=0).data, np.repeat(x, 2, 0))
    np.testing.assert_array_equal(cr.moveaxis(t, 0, -1).data, np.moveaxis(x, 0, -1))
    np.testing.assert_array_equal(cr.swapaxes(t, 0, 2).data, np.swapaxes(x, 0, 2))
    np.testing.assert_array_equal(cr.hstack([t, t]).data, np.hstack([x, x]))
    np.testing.assert_array_equal(cr.dstack([t, t]).data, np.dstack([x, x]))
    np.testing.assert_array_equal(cr.row_stack([t[0], t[1]]).data, np.vstack([x[0], x[1]]))
    for mine, theirs in zip(cr.where(t > 0), np.where(x > 0)):
        np.testing.assert_array_equal(mine.data, theirs)
    for mine, theirs in zip(cr.meshgrid(cr.arange(2), cr.arange(3), indexing="xy"),
                            np.meshgrid(np.arange(2), np.arange(3))):
        np.testing.assert_array_equal(mine.data, theirs)


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 5), st.integers(0, 1), st.data())
def test_gather_and_scatter_add_match_torch_on_random_indices(n, m, k, dim, data):
    x = normal(n, m)
    shape = (k, m) if dim == 0 else (n, k)
    high = x.shape[dim]
    index = np.array(data.draw(st.lists(st.integers(0, high - 1), min_size=k * shape[1 - dim],
                                        max_size=k * shape[1 - dim]))).reshape(shape)
    src = normal(*shape, seed=2)
    a, s = cr.tensor(x, requires_grad=True), cr.tensor(src, requires_grad=True)
    ta, ts = torch.tensor(x, requires_grad=True), torch.tensor(src, requires_grad=True)
    out = cr.gather(a, dim, cr.tensor(index)).sum() * 2 + (
        cr.scatter_add(a, dim, cr.tensor(index), s) ** 2).sum()
    tout = torch.gather(ta, dim, torch.tensor(index)).sum() * 2 + (
        torch.scatter_add(ta, dim, torch.tensor(index), ts) ** 2).sum()
    np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-12)
    out.backward()
    tout.backward()
    np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s.grad.data, ts.grad.numpy(), rtol=1e-10, atol=1e-12)
