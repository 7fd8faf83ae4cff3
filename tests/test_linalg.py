"""Linear algebra against PyTorch: einsum (every operand, ellipsis, repeated subscripts,
implicit output), tensordot and friends, norms, det, slogdet, inv, solve; forward and gradient
under a random upstream gradient (float64 rtol 1e-10, float32 1e-5) and ``cr.gradcheck``, from
one table; hypothesis builds random einsum equations and shapes.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
import chainrule.linalg as LA


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def well_conditioned(*shape, seed=0):
    """Random square matrices with determinants well away from 0."""
    n = shape[-1]
    return normal(*shape, seed=seed) * 0.3 + np.eye(n) * 2


def einsum_row(eq, *shapes):
    arrays = [normal(*s, seed=i) for i, s in enumerate(shapes)]
    return ("einsum", lambda *xs: cr.einsum(eq, *xs), lambda *xs: torch.einsum(eq, *xs), arrays)


# (name, chainrule fn, torch fn, input arrays)
ROWS = [
    einsum_row("ij,jk->ik", (2, 3), (3, 4)),
    einsum_row("ij,jk", (2, 3), (3, 4)),
    einsum_row("ii->i", (3, 3)),
    einsum_row("ii", (3, 3)),
    einsum_row("iij->j", (2, 2, 3)),
    einsum_row("bij,bjk->bik", (2, 2, 3), (2, 3, 2)),
    einsum_row("...ij,...jk->...ik", (2, 1, 2, 3), (4, 3, 2)),
    einsum_row("...i,...i", (5, 3), (3,)),
    einsum_row("i,j,k->ijk", (2,), (3,), (2,)),
    einsum_row("ij->", (2, 3)),
    einsum_row("ij,kl->jl", (2, 3), (4, 2)),
    einsum_row("ba", (2, 3)),
    einsum_row("i,i->i", (1,), (4,)),
    einsum_row("ij,ij,jk->ik", (2, 3), (2, 3), (3, 2)),
    einsum_row(" ij , jk -> ki ", (2, 3), (3, 4)),
    ("einsum", lambda a, b: cr.einsum(a, [0, Ellipsis, 1], b, [1, 2], [Ellipsis, 2, 0]),
     lambda a, b: torch.einsum(a, [0, Ellipsis, 1], b, [1, 2], [Ellipsis, 2, 0]),
     [normal(2, 4, 3), normal(3, 2, seed=1)]),
    ("tensordot", lambda a, b: cr.tensordot(a, b), lambda a, b: torch.tensordot(a, b),
     [normal(2, 3, 4), normal(3, 4, 2, seed=1)]),
    ("tensordot", lambda a, b: cr.tensordot(a, b, dims=([0, 2], [2, 1])),
     lambda a, b: torch.tensordot(a, b, dims=([0, 2], [2, 1])),
     [normal(2, 3, 4), normal(5, 4, 2, seed=1)]),
    ("dot", cr.dot, torch.dot, [normal(3), normal(3, seed=1)]),
    ("vdot", cr.vdot, torch.vdot, [normal(3), normal(3, seed=1)]),
    ("inner", cr.inner, torch.inner, [normal(2, 3), normal(4, 3, seed=1)]),
    ("outer", cr.outer, torch.outer, [normal(2), normal(3, seed=1)]),
    ("kron", cr.kron, torch.kron, [normal(2, 3), normal(2, 2, seed=1)]),
    ("kron", cr.kron, torch.kron, [normal(3), normal(2, 2, seed=1)]),
    ("cross", lambda a, b: cr.cross(a, b, dim=0), lambda a, b: torch.cross(a, b, dim=0),
     [normal(3, 2), normal(3, 1, seed=1)]),
    ("cross", LA.cross, torch.linalg.cross, [normal(2, 3), normal(2, 3, seed=1)]),
    ("mm", cr.mm, torch.mm, [normal(2, 3), normal(3, 4, seed=1)]),
    ("bmm", cr.bmm, torch.bmm, [normal(2, 2, 3), normal(2, 3, 4, seed=1)]),
    ("mv", cr.mv, torch.mv, [normal(2, 3), normal(3, seed=1)]),
    ("addmm", lambda i, a, b: cr.addmm(i, a, b, beta=0.5, alpha=2),
     lambda i, a, b: torch.addmm(i, a, b, beta=0.5, alpha=2),
     [normal(4), normal(2, 3, seed=1), normal(3, 4, seed=2)]),
    ("baddbmm", lambda i, a, b: cr.baddbmm(i, a, b, alpha=-1),
     lambda i, a, b: torch.baddbmm(i, a, b, alpha=-1),
     [normal(2, 2, 4), normal(2, 2, 3, seed=1), normal(2, 3, 4, seed=2)]),
    ("vector_norm", LA.vector_norm, torch.linalg.vector_norm, [normal(2, 3)]),
    ("vector_norm", lambda x: LA.vector_norm(x, 1, dim=-1, keepdim=True),
     lambda x: torch.linalg.vector_norm(x, 1, dim=-1, keepdim=True), [normal(2, 3)]),
    ("vector_norm", lambda x: LA.vector_norm(x, float("inf"), dim=(0, 2)),
     lambda x: torch.linalg.vector_norm(x, float("inf"), dim=(0, 2)), [normal(2, 3, 2)]),
    ("vector_norm", lambda x: LA.vector_norm(x, -np.inf, dim=0),
     lambda x: torch.linalg.vector_norm(x, -np.inf, dim=0), [normal(2, 3)]),
    ("vector_norm", lambda x: LA.vector_norm(x, 3.5, dim=1),
     lambda x: torch.linalg.vector_norm(x, 3.5, dim=1), [normal(2, 3)]),
    ("vector_norm", lambda x: LA.vector_norm(x, 0), lambda x: torch.linalg.vector_norm(x, 0),
     [normal(2, 3)]),
    ("matrix_norm", LA.matrix_norm, torch.linalg.matrix_norm, [normal(2, 3, 4)]),
    ("matrix_norm", lambda x: LA.matrix_norm(x, "nuc"),
     lambda x: torch.linalg.matrix_norm(x, "nuc"), [normal(2, 3, 4)]),
    ("matrix_norm", lambda x: LA.matrix_norm(x, 2, dim=(0, 2), keepdim=True),
     lambda x: torch.linalg.matrix_norm(x, 2, dim=(0, 2), keepdim=True), [normal(3, 2, 4)]),
    ("matrix_norm", lambda x: LA.matrix_norm(x, -2), lambda x: torch.linalg.matrix_norm(x, -2),
     [normal(3, 3)]),
    ("matrix_norm", lambda x: LA.matrix_norm(x, 1), lambda x: torch.linalg.matrix_norm(x, 1),
     [normal(2, 3, 4)]),
    ("matrix_norm", lambda x: LA.matrix_norm(x, -np.inf),
     lambda x: torch.linalg.matrix_norm(x, -np.inf), [normal(3, 4)]),
    ("norm", LA.norm, torch.linalg.norm, [normal(2, 3)]),
    ("norm", lambda x: LA.norm(x, 2), lambda x: torch.linalg.norm(x, 2), [normal(3, 3)]),
    ("norm", lambda x: LA.norm(x, dim=1), lambda x: torch.linalg.norm(x, dim=1), [normal(2, 3)]),
    ("det", LA.det, torch.linalg.det, [well_conditioned(2, 3, 3)]),
    ("det", cr.det, torch.det, [normal(4, 4)]),
    ("slogdet", lambda x: LA.slogdet(x).logabsdet, lambda x: torch.linalg.slogdet(x).logabsdet,
     [normal(2, 3, 3)]),
    ("inv", LA.inv, torch.linalg.inv, [well_conditioned(2, 3, 3)]),
    ("solve", LA.solve, torch.linalg.solve, [well_conditioned(3, 3), normal(3, 2, seed=1)]),
    ("solve", LA.solve, torch.linalg.solve, [well_conditioned(2, 3, 3), normal(3, seed=1)]),
    ("solve", LA.solve, torch.linalg.solve, [well_conditioned(2, 3, 3), normal(2, 3, seed=1)]),
    ("solve", lambda a, b: LA.solve(a, b, left=False),
     lambda a, b: torch.linalg.solve(a, b, left=False),
     [well_conditioned(3, 3), normal(2, 3, seed=1)]),
]
LINALG_NAMES = {r[0] for r in ROWS} | {"inverse"}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("row", ROWS, ids=[f"{r[0]}-{i}" for i, r in enumerate(ROWS)])
def test_matches_torch(oracle, row, dtype):
    _, cr_fn, torch_fn, arrays = row
    rtol = 1e-4 if dtype == np.float32 and row[0] in ("det", "inv", "solve", "slogdet") else None
    oracle(cr_fn, torch_fn, arrays, dtype, rtol=rtol)


def test_det_gradient_of_a_singular_matrix_is_its_cofactor_matrix():
    # det is a polynomial, so its gradient is the cofactor matrix everywhere, also at rank 2
    # (torch 2.13 returns zeros there; finite differences agree with the cofactors).
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]])
    x = cr.tensor(a, requires_grad=True)
    LA.det(x).backward()
    cof = np.array([[np.linalg.det(np.delete(np.delete(a, i, 0), j, 1)) * (-1) ** (i + j)
                     for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(x.grad.data, cof, atol=1e-12)
    assert cr.gradcheck(LA.det, [cr.tensor(a, requires_grad=True)])


def test_norm_gradient_at_zero_is_zero_as_in_torch():
    x = cr.tensor(np.zeros(3), requires_grad=True)
    LA.vector_norm(x).backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_slogdet_sign_and_inverse_alias():
    a = cr.tensor([[0.0, 1.0], [1.0, 0.0]])
    sign, logabs = LA.slogdet(a)
    assert sign.item() == -1.0 and abs(logabs.item()) < 1e-7
    np.testing.assert_allclose(cr.inverse(a).data, np.linalg.inv(a.data))
    np.testing.assert_allclose(a.inverse().data, np.linalg.inv(a.data))


def test_linalg_imports_as_a_module_and_an_attribute():
    import chainrule.linalg

    assert cr.linalg is chainrule.linalg and cr.linalg.det is LA.det


def test_errors_name_the_op_and_the_shapes():
    with pytest.raises(ValueError, match=r"einsum: subscript 'j' has sizes 3 and 4"):
        cr.einsum("ij,jk->ik", cr.ones(2, 3), cr.ones(4, 2))
    with pytest.raises(ValueError, match=r"einsum: operand 1 has 1 dims \(shape \(3,\)\)"):
        cr.einsum("ij,jk", cr.ones(2, 3), cr.ones(3))
    with pytest.raises(ValueError, match=r"inv: expects square matrices .* \(2, 3\)"):
        LA.inv(cr.ones(2, 3))
    with pytest.raises(ValueError, match="inv: a matrix of the input .* is singular"):
        LA.inv(cr.ones(2, 2))
    with pytest.raises(ValueError, match=r"bmm: input must be 3-D, got shape \(2, 3\)"):
        cr.bmm(cr.ones(2, 3), cr.ones(2, 3, 4))


# --------------------------------------------------------------------------- random einsums
@st.composite
def einsum_cases(draw):
    letters = "abcde"
    sizes = {c: draw(st.integers(1, 3)) for c in letters}
    n_ops = draw(st.integers(1, 3))
    terms = [draw(st.lists(st.sampled_from(letters), min_size=0, max_size=3)) for _ in
             range(n_ops)]
    used = sorted(set("".join("".join(t) for t in terms)))
    out = draw(st.lists(st.sampled_from(used), unique=True)) if used else []
    ellipsis = draw(st.booleans())
    if ellipsis:
        batch = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    shapes, subs = [], []
    for t in terms:
        shape = tuple(sizes[c] for c in t)
        sub = "".join(t)
        if ellipsis and draw(st.booleans()):
            k = draw(st.integers(0, len(batch)))
            shape = batch[len(batch) - k:] + shape
            sub = "..." + sub
        shapes.append(shape)
        subs.append(sub)
    has_ellipsis = any("..." in s for s in subs)
    eq = ",".join(subs) + "->" + ("..." if has_ellipsis else "") + "".join(out)
    return eq, shapes


@given(einsum_cases())
def test_random_einsums_match_numpy_forward_and_torch_backward(case):
    eq, shapes = case
    arrays = [normal(*s, seed=i) for i, s in enumerate(shapes)]
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    out = cr.einsum(eq, *xs)
    np.testing.assert_allclose(out.data, np.einsum(eq, *arrays), rtol=1e-10, atol=1e-12)
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    tout = torch.einsum(eq, *ts)
    g = normal(*out.shape, seed=9)
    out.backward(g)
    tout.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        want = np.zeros_like(x.data) if t.grad is None else t.grad.numpy()
        np.testing.assert_allclose(x.grad.data, want, rtol=1e-10, atol=1e-12, err_msg=eq)
