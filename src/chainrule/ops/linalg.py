"""Linear algebra primitives: einsum (and what is built from it: tensordot, dot, inner, outer),
kron, cross, mm/bmm/mv/addmm/baddbmm, norms, det, slogdet, inv and solve.

``einsum``'s backward is itself an einsum: the gradient of operand ``i`` contracts the incoming
gradient with every other operand onto ``i``'s subscripts. Subscripts that only ``i`` has are
broadcast back, repeated subscripts (``'ii->i'``) write onto the diagonal, and dims that were
broadcast (size 1 in ``i``) are summed.

>>> import chainrule as cr
>>> a = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> cr.einsum("ii->", a).backward(); a.grad.tolist()
[[1.0, 0.0], [0.0, 1.0]]
"""

import string
from collections import Counter, namedtuple

import numpy as np

from chainrule.ops.arithmetic import matmul
from chainrule.ops.base import as_tensor, node, normalize_axis, pick_axis, unary, unbroadcast
from chainrule.ops.reduction import _expand
from chainrule.ops.reduction import max as _max
from chainrule.ops.reduction import min as _min
from chainrule.ops.shape import reshape, stack
from chainrule.ops.shape_extra import moveaxis, select

SlogdetResult = namedtuple("slogdet", ["sign", "logabsdet"])


# --------------------------------------------------------------------------- einsum
def _parse(equation, shapes):
    """Subscripts with ``...`` written out as letters, and the output subscripts."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: equation '{equation}' names {len(terms)} operands, but "
                         f"{len(shapes)} were given")
    for c in eq:
        if not (c.isalpha() or c in ",.->"):
            raise ValueError(f"einsum: invalid subscript {c!r} in '{equation}'")
    free = [c for c in string.ascii_letters if c not in eq]
    ell_dims = []
    for i, (t, shape) in enumerate(zip(terms, shapes)):
        named = len(t.replace("...", ""))
        if "..." in t:
            if len(shape) < named:
                raise ValueError(f"einsum: operand {i} of shape {shape} has fewer dims than "
                                 f"subscripts '{t}' name")
            ell_dims.append(len(shape) - named)
        elif named != len(shape):
            raise ValueError(f"einsum: operand {i} has {len(shape)} dims (shape {shape}) but "
                             f"subscripts '{t}' name {named}")
    width = max(ell_dims, default=0)
    ell = "".join(free[:width])
    out_terms = []
    for t, shape in zip(terms, shapes):
        if "..." in t:
            nd = len(shape) - len(t.replace("...", ""))
            t = t.replace("...", ell[width - nd:])
        out_terms.append(t)
    if arrow:
        rhs = rhs.replace("...", ell)
        for c in rhs:
            if not any(c in t for t in out_terms):
                raise ValueError(f"einsum: output subscript {c!r} of '{equation}' appears in "
                                 "no operand")
    else:
        counts = Counter("".join(out_terms))
        rhs = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return out_terms, rhs


def einsum(equation, *operands):
    """Einstein summation as ``torch.einsum`` / ``np.einsum`` (explicit ``->`` or implicit
    output, ``...``, repeated subscripts), differentiable in every operand.

    >>> import chainrule as cr
    >>> cr.einsum("ij,jk->ik", cr.ones(2, 3), cr.ones(3, 4)).shape
    (2, 4)
    >>> cr.einsum("...i,...i", cr.ones(5, 3), cr.ones(3)).shape
    (5,)
    >>> cr.einsum(cr.ones(2, 3), [0, 1], cr.ones(3), [1], [0]).tolist()
    [3.0, 3.0]
    """
    if not isinstance(equation, str):  # sublist form: einsum(a, [0, 1], b, [1, 2], [0, 2])
        equation, operands = _from_sublists((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = [as_tensor(t) for t in operands]
    arrays = [t.data for t in tensors]
    terms, rhs = _parse(equation, [a.shape for a in arrays])
    sizes = {}
    for t, a in zip(terms, arrays):
        for c, n in zip(t, a.shape):
            if sizes.get(c, 1) == 1:
                sizes[c] = n
            elif n not in (1, sizes[c]):
                raise ValueError(f"einsum: subscript {c!r} has sizes {sizes[c]} and {n} in "
                                 f"'{equation}' (shapes "
                                 f"{', '.join(str(a.shape) for a in arrays)})")
    spec = ",".join(terms) + "->" + rhs
    out = np.asarray(np.einsum(spec, *arrays, optimize=_optimize(arrays)))
    return node(out, tensors, "einsum", _einsum_backward, (terms, rhs, sizes))


def _from_sublists(args):
    """``(a, [0, 1], b, [1, 2], [0, 2])`` as ``('ab,bc->ac', (a, b))`` (``...`` allowed)."""
    def letters(sub):
        return "".join("..." if s is Ellipsis else string.ascii_letters[int(s)] for s in sub)

    operands = args[0::2][:len(args) // 2]
    terms = [letters(sub) for sub in args[1::2]]
    equation = ",".join(terms)
    if len(args) % 2:  # a trailing output sublist
        equation += "->" + letters(args[-1])
    return equation, tuple(operands)


def _optimize(arrays):
    # NumPy's path search (and its BLAS contractions) pays off for three or more operands or
    # for large ones; for small pairs its planning costs more than it saves.
    return len(arrays) > 2 or any(a.size > 4096 for a in arrays)


def _einsum_backward(g, node):
    terms, rhs, sizes = node._saved
    arrays = [p.data for p in node.parents]
    return tuple(
        _einsum_operand_grad(g, i, terms, rhs, arrays, sizes) if p.requires_grad else None
        for i, p in enumerate(node.parents)
    )


def _einsum_operand_grad(g, i, terms, rhs, arrays, sizes):
    term = terms[i]
    unique = "".join(dict.fromkeys(term))
    others = [j for j in range(len(terms)) if j != i]
    avail = set(rhs).union(*(terms[j] for j in others))
    kept = "".join(c for c in unique if c in avail)
    full = [np.broadcast_to(arrays[j], tuple(sizes[c] for c in terms[j])) for j in others]
    spec = ",".join([rhs] + [terms[j] for j in others]) + "->" + kept
    grad = np.asarray(np.einsum(spec, g, *full, optimize=_optimize([g] + full)))
    own = dict(zip(term, arrays[i].shape))
    # Subscripts only operand i has were summed away in the forward: broadcast back.
    grad = grad.reshape(tuple(sizes[c] if c in avail else 1 for c in unique))
    grad = np.broadcast_to(grad, tuple(sizes[c] if c in avail else own[c] for c in unique))
    if len(unique) != len(term):  # repeated subscripts: the gradient lives on the diagonal
        shape = tuple(sizes[c] if c in avail else own[c] for c in term)
        out = np.zeros(shape, dtype=grad.dtype)
        np.einsum(f"{term}->{unique}", out)[...] = grad
        grad = out
    return unbroadcast(grad, arrays[i].shape).astype(arrays[i].dtype, copy=False)


def _letters(n, skip=""):
    return "".join(c for c in string.ascii_letters if c not in skip)[:n]


def tensordot(a, b, dims=2):
    """Contract the last ``dims`` dims of ``a`` with the first of ``b``, or the dims named by
    ``dims=([a dims], [b dims])`` (NumPy's ``axes=`` works too).

    >>> import chainrule as cr
    >>> cr.tensordot(cr.ones(2, 3, 4), cr.ones(3, 4, 5)).shape
    (2, 5)
    """
    a, b = as_tensor(a), as_tensor(b)
    na, nb = a.data.ndim, b.data.ndim
    if isinstance(dims, (int, np.integer)):
        if dims < 0 or dims > min(na, nb):
            raise ValueError(f"tensordot: dims={dims} does not fit shapes {a.data.shape} and "
                             f"{b.data.shape}")
        da, db = list(range(na - dims, na)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, (int, np.integer)) else list(d) for d in dims)
        if len(da) != len(db):
            raise ValueError(f"tensordot: {len(da)} dims of a but {len(db)} of b")
        da = list(normalize_axis(da, na, "tensordot") or ())
        db = list(normalize_axis(db, nb, "tensordot") or ())
    letters = _letters(na + nb)
    sa = list(letters[:na])
    sb = list(letters[na:na + nb])
    for i, j in zip(da, db):
        sb[j] = sa[i]
    out = [c for k, c in enumerate(sa) if k not in da] + [c for k, c in enumerate(sb)
                                                          if k not in db]
    return einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(out)}", a, b)


def _need_1d(op, *tensors):
    for t in tensors:
        if t.data.ndim != 1:
            raise ValueError(f"{op}: expects 1-D tensors, got shapes "
                             f"{', '.join(str(x.data.shape) for x in tensors)}")


def dot(a, b):
    """Inner product of two 1-D tensors of the same length.

    >>> import chainrule as cr
    >>> cr.dot(cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0])).item()
    11.0
    """
    a, b = as_tensor(a), as_tensor(b)
    _need_1d("dot", a, b)
    if a.data.shape != b.data.shape:
        raise ValueError(f"dot: shapes {a.data.shape} and {b.data.shape} differ")
    return einsum("i,i->", a, b)


def vdot(a, b):
    """``dot`` with the first argument conjugated (the same for real tensors)."""
    return dot(a, b)


def inner(a, b):
    """Sum over the last dims: ``out[i.., j..] = Σ_k a[i.., k] b[j.., k]``.

    >>> import chainrule as cr
    >>> cr.inner(cr.ones(2, 3), cr.ones(4, 3)).shape
    (2, 4)
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.data.ndim == 0 or b.data.ndim == 0:
        return a * b
    na, nb = a.data.ndim, b.data.ndim
    letters = _letters(na + nb - 1)
    sa = letters[:na - 1] + letters[-1]
    sb = letters[na - 1:na + nb - 2] + letters[-1]
    return einsum(f"{sa},{sb}->{sa[:-1]}{sb[:-1]}", a, b)


def outer(a, b):
    """Outer product of two 1-D tensors (``ger``).

    >>> import chainrule as cr
    >>> cr.outer(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 10.0])).tolist()
    [[1.0, 10.0], [2.0, 20.0]]
    """
    a, b = as_tensor(a), as_tensor(b)
    _need_1d("outer", a, b)
    return einsum("i,j->ij", a, b)


def kron(a, b):
    """Kronecker product: block ``(i, j)`` of the result is ``a[i, j] * b``.

    >>> import chainrule as cr
    >>> cr.kron(cr.eye(2), cr.ones(2, 2)).shape
    (4, 4)
    """
    a, b = as_tensor(a), as_tensor(b)
    nd = max(a.data.ndim, b.data.ndim)
    sa = (1,) * (nd - a.data.ndim) + a.data.shape
    sb = (1,) * (nd - b.data.ndim) + b.data.shape
    ia = tuple(x for n in sa for x in (n, 1))
    ib = tuple(x for n in sb for x in (1, n))
    prod = reshape(a, ia) * reshape(b, ib)
    return reshape(prod, tuple(m * n for m, n in zip(sa, sb)))


def cross(a, b, dim=None):
    """Cross product of 3-vectors along ``dim`` (default: the first dim of size 3, as
    ``torch.cross``; ``torch.linalg.cross`` uses -1).

    >>> import chainrule as cr
    >>> cr.cross(cr.tensor([1.0, 0.0, 0.0]), cr.tensor([0.0, 1.0, 0.0])).tolist()
    [0.0, 0.0, 1.0]
    """
    a, b = as_tensor(a), as_tensor(b)
    shape = np.broadcast_shapes(a.data.shape, b.data.shape)
    if dim is None:
        dims = [d for d, n in enumerate(shape) if n == 3]
        if not dims:
            raise ValueError(f"cross: no dim of size 3 in shapes {a.data.shape} and "
                             f"{b.data.shape}")
        dim = dims[0]
    (axis,) = normalize_axis(dim, len(shape), "cross")
    if shape[axis] != 3:
        raise ValueError(f"cross: dim {dim} must have size 3, got shapes {a.data.shape} and "
                         f"{b.data.shape}")
    from chainrule.ops.shape import broadcast_to

    a, b = broadcast_to(a, shape), broadcast_to(b, shape)
    x = [select(a, axis, k) for k in range(3)]
    y = [select(b, axis, k) for k in range(3)]
    parts = [x[1] * y[2] - x[2] * y[1], x[2] * y[0] - x[0] * y[2], x[0] * y[1] - x[1] * y[0]]
    return stack(parts, axis=axis)


def _check_ndim(op, t, nd, name):
    if t.data.ndim != nd:
        raise ValueError(f"{op}: {name} must be {nd}-D, got shape {t.data.shape}")


def mm(a, b):
    """Matrix product of two 2-D tensors."""
    a, b = as_tensor(a), as_tensor(b)
    _check_ndim("mm", a, 2, "input")
    _check_ndim("mm", b, 2, "mat2")
    return matmul(a, b)


def bmm(a, b):
    """Batched matrix product: ``(B, n, m) @ (B, m, p) -> (B, n, p)``.

    >>> import chainrule as cr
    >>> cr.bmm(cr.ones(4, 2, 3), cr.ones(4, 3, 5)).shape
    (4, 2, 5)
    """
    a, b = as_tensor(a), as_tensor(b)
    _check_ndim("bmm", a, 3, "input")
    _check_ndim("bmm", b, 3, "mat2")
    if a.data.shape[0] != b.data.shape[0]:
        raise ValueError(f"bmm: batch sizes differ: {a.data.shape} and {b.data.shape}")
    return matmul(a, b)


def mv(a, v):
    """Matrix-vector product."""
    a, v = as_tensor(a), as_tensor(v)
    _check_ndim("mv", a, 2, "input")
    _check_ndim("mv", v, 1, "vec")
    return matmul(a, v)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)`` (``beta=0`` ignores ``input``, NaNs included)."""
    return _add_scaled(input, mm(mat1, mat2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    return _add_scaled(input, bmm(batch1, batch2), beta, alpha)


def _add_scaled(input, product, beta, alpha):
    out = product if alpha == 1 else product * alpha
    if beta == 0:
        return out
    input = as_tensor(input)
    return out + (input if beta == 1 else input * beta)


# --------------------------------------------------------------------------- norms
def vector_norm(a, ord=2, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """``(Σ |a|^ord)^(1/ord)`` over ``dim`` (all dims by default); ``ord`` may be ``inf``,
    ``-inf`` or 0 (the count of non-zeros). Gradients as PyTorch's: 0 at a zero vector,
    ties of the inf-norms share.

    >>> import chainrule as cr
    >>> cr.linalg.vector_norm(cr.tensor([3.0, 4.0])).item()
    5.0
    """
    a = as_tensor(a)
    if dtype is not None:
        a = a.astype(dtype)
    if a.data.dtype.kind not in "fc":
        raise TypeError(f"vector_norm: expects a floating-point tensor, got {a.data.dtype}")
    dim = pick_axis(axis, dim)
    keepdim = keepdim if keepdims is None else keepdims
    axes = normalize_axis(dim, a.data.ndim, "vector_norm") if a.data.ndim else None
    x = np.abs(a.data)
    ord = float(ord)
    with np.errstate(divide="ignore", over="ignore"):
        if ord == 2:
            out = np.sqrt((x * x).sum(axis=axes, keepdims=keepdim))
        elif ord == np.inf:
            out = x.max(axis=axes, keepdims=keepdim, initial=0)
        elif ord == -np.inf:
            out = x.min(axis=axes, keepdims=keepdim)
        elif ord == 0:
            out = (x != 0).sum(axis=axes, keepdims=keepdim).astype(x.dtype)
        elif ord == 1:
            out = x.sum(axis=axes, keepdims=keepdim)
        else:
            out = (x ** ord).sum(axis=axes, keepdims=keepdim) ** (1 / ord)
    out = np.asarray(out, dtype=a.data.real.dtype)
    return unary(out, a, "vector_norm", _vector_norm_backward, (ord, axes, keepdim))


def _vector_norm_backward(g, node):
    ord, axes, keepdim = node._saved
    x = node.parents[0].data
    if ord == 0:
        return (np.zeros_like(x),)
    n = _expand(node.data, x.shape, axes, keepdim)
    g = _expand(g, x.shape, axes, keepdim)
    sign = np.sign(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        if ord == 2:
            grad = np.where(n == 0, 0, x / np.where(n == 0, 1, n))
        elif ord == 1:
            grad = sign
        elif np.isinf(ord):
            picked = np.abs(x) == n
            count = picked.sum(axis=axes, keepdims=True, dtype=x.dtype)
            grad = sign * picked / count
        else:
            ax = np.abs(x)
            grad = sign * ax ** (ord - 1) / np.where(n == 0, 1, n) ** (ord - 1)
            grad = np.where((n == 0) | (ax == 0), 0, grad)
    return ((g * grad).astype(x.dtype, copy=False),)


def matrix_norm(a, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Matrix norm over the two dims ``dim``: ``'fro'``, ``'nuc'`` (sum of singular values),
    2 / -2 (largest / smallest singular value), 1 / -1 (max / min column sum of |a|),
    inf / -inf (max / min row sum).

    >>> import chainrule as cr
    >>> cr.linalg.matrix_norm(cr.tensor([[3.0, 0.0], [0.0, 4.0]]), ord=2).item()
    4.0
    """
    a = as_tensor(a)
    if dtype is not None:
        a = a.astype(dtype)
    if a.data.ndim < 2:
        raise ValueError(f"matrix_norm: expects at least 2 dims, got shape {a.data.shape}")
    d = normalize_axis(tuple(dim), a.data.ndim, "matrix_norm")
    if len(d) != 2:
        raise ValueError(f"matrix_norm: dim must name two dims, got {dim}")
    if ord == "fro":
        return vector_norm(a, 2, d, keepdim)
    if ord in ("nuc", 2, -2):
        moved = moveaxis(a, d, (-2, -1))
        out = _singular_norm(moved, ord)
        if keepdim:
            for ax in sorted(d):
                out = out.unsqueeze(ax)
        return out
    if ord in (1, -1, np.inf, -np.inf):
        rows, cols = d
        summed, other = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = abs(a).sum(axis=summed, keepdims=True)
        pick = _max if ord in (1, np.inf) else _min
        out = pick(sums, axis=other, keepdims=True)
        return out if keepdim else out.squeeze(axis=d)
    raise ValueError(f"matrix_norm: unsupported ord {ord!r}; use 'fro', 'nuc', 1, -1, 2, -2, "
                     "inf or -inf")


def _singular_norm(a, ord):
    u, s, vh = np.linalg.svd(a.data, full_matrices=False)
    if ord == "nuc":
        out = s.sum(axis=-1)
    else:
        out = s[..., 0] if ord == 2 else s[..., -1]
    return unary(np.asarray(out), a, f"matrix_norm_{ord}", _singular_norm_backward,
                 (ord, u, vh))


def _singular_norm_backward(g, node):
    ord, u, vh = node._saved
    if ord == "nuc":
        grad = u @ vh
    else:
        k = 0 if ord == 2 else -1
        grad = u[..., :, k, None] * vh[..., k, None, :]
    return (np.asarray(g)[..., None, None] * grad,)


def norm(a, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``torch.linalg.norm``: a vector norm when ``dim`` is an int (or the input is 1-D), a
    matrix norm when ``dim`` names two dims (or the input is 2-D); with neither ``ord`` nor
    ``dim``, the 2-norm of all elements.

    >>> import chainrule as cr
    >>> cr.linalg.norm(cr.tensor([[1.0, 2.0], [2.0, 4.0]])).item()
    5.0
    """
    a = as_tensor(a)
    if dim is None:
        if ord is None:
            return vector_norm(a, 2, None, keepdim, dtype=dtype)
        if a.data.ndim == 1:
            return vector_norm(a, ord, None, keepdim, dtype=dtype)
        if a.data.ndim == 2:
            return matrix_norm(a, ord, (-2, -1), keepdim, dtype=dtype)
        raise ValueError(f"norm: with ord={ord!r} and no dim the input must be 1-D or 2-D, got "
                         f"shape {a.data.shape}")
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if len(dims) == 1:
        return vector_norm(a, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if len(dims) == 2:
        return matrix_norm(a, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
    raise ValueError(f"norm: dim must name one or two dims, got {dim}")


# --------------------------------------------------------------------------- det, inv, solve
def _square(op, a):
    s = a.data.shape
    if a.data.ndim < 2 or s[-1] != s[-2]:
        raise ValueError(f"{op}: expects square matrices (..., n, n), got shape {s}")


def det(a):
    """Determinant of each square matrix in the last two dims; the gradient is the cofactor
    matrix, computed from the SVD so that it is also right for singular matrices.

    >>> import chainrule as cr
    >>> cr.linalg.det(cr.tensor([[2.0, 0.0], [0.0, 3.0]])).item()
    6.0
    """
    a = as_tensor(a)
    _square("det", a)
    return unary(np.asarray(np.linalg.det(a.data)), a, "det", _det_backward)


def _det_backward(g, node):
    x = node.parents[0].data
    u, s, vh = np.linalg.svd(x)
    n = s.shape[-1]
    others = np.broadcast_to(s[..., None, :], s.shape + (n,)).copy()
    others[..., np.arange(n), np.arange(n)] = 1  # product of all singular values but s_i
    cof = (np.linalg.det(u) * np.linalg.det(vh))[..., None, None] * (
        (u * np.prod(others, axis=-1)[..., None, :]) @ vh)
    return ((np.asarray(g)[..., None, None] * cof).astype(x.dtype, copy=False),)


def slogdet(a):
    """``(sign, logabsdet)`` of the determinant; ``logabsdet`` is differentiable
    (gradient ``inv(a)ᵀ``).

    >>> import chainrule as cr
    >>> cr.linalg.slogdet(cr.tensor([[-2.0, 0.0], [0.0, 1.0]])).sign.item()
    -1.0
    """
    a = as_tensor(a)
    _square("slogdet", a)
    sign, logabs = np.linalg.slogdet(a.data)
    from chainrule.tensor import _wrap

    return SlogdetResult(_wrap(np.asarray(sign)),
                         unary(np.asarray(logabs), a, "slogdet", _slogdet_backward))


def _slogdet_backward(g, node):
    x = node.parents[0].data
    return (np.asarray(g)[..., None, None] * np.swapaxes(np.linalg.pinv(x), -1, -2),)


def inv(a):
    """Inverse of each square matrix; d(A⁻¹) = −A⁻¹ dA A⁻¹.

    >>> import chainrule as cr
    >>> cr.linalg.inv(cr.tensor([[2.0, 0.0], [0.0, 4.0]])).tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    a = as_tensor(a)
    _square("inv", a)
    try:
        out = np.linalg.inv(a.data)
    except np.linalg.LinAlgError:
        raise ValueError(f"inv: a matrix of the input (shape {a.data.shape}) is singular") from None
    return unary(out, a, "inv", _inv_backward)


def _inv_backward(g, node):
    t = np.swapaxes(node.data, -1, -2)
    return (-(t @ g @ t),)


def solve(a, b, *, left=True):
    """``X`` with ``a @ X = b`` (``left=False``: ``X @ a = b``); ``b`` may be a vector or a batch
    of them, and batch dims broadcast. Backward: ``gB = solve(aᵀ, g)``, ``gA = −gB Xᵀ``.

    >>> import chainrule as cr
    >>> cr.linalg.solve(cr.tensor([[2.0, 0.0], [0.0, 4.0]]), cr.tensor([2.0, 2.0])).tolist()
    [1.0, 0.5]
    """
    a, b = as_tensor(a), as_tensor(b)
    _square("solve", a)
    if not left:
        mt = (lambda t: t.transpose(-1, -2))
        return mt(solve(mt(a), mt(b)))
    vector = b.data.ndim == 1 or (b.data.ndim == a.data.ndim - 1
                                  and b.data.shape == a.data.shape[:-1])
    bb = b.data[..., None] if vector else b.data
    if bb.shape[-2] != a.data.shape[-1]:
        raise ValueError(f"solve: shapes {a.data.shape} and {b.data.shape} do not fit "
                         "(a @ x = b)")
    try:
        out = np.linalg.solve(a.data, bb)
    except np.linalg.LinAlgError:
        raise ValueError(f"solve: a matrix of a (shape {a.data.shape}) is singular") from None
    if vector:
        out = out[..., 0]
    return node(out, (a, b), "solve", _solve_backward, (vector,))


def _solve_backward(g, node):
    (vector,) = node._saved
    a, b = node.parents
    x = node.data[..., None] if vector else node.data
    g = g[..., None] if vector else g
    at = np.swapaxes(a.data, -1, -2)
    gb = np.linalg.solve(np.broadcast_to(at, g.shape[:-2] + at.shape[-2:]), g)
    ga = -(gb @ np.swapaxes(x, -1, -2))
    gb_out = gb[..., 0] if vector else gb
    return (unbroadcast(ga, a.data.shape) if a.requires_grad else None,
            unbroadcast(gb_out, b.data.shape) if b.requires_grad else None)


BACKWARD_RULES = {
    "einsum": ("g ↦ einsum(g, other operands → this operand's subscripts)",) * 8,
    "vector_norm": ("∂‖x‖ₚ/∂x = sign(x)·|x|ᵖ⁻¹/‖x‖ₚᵖ⁻¹ (0 at x = 0)",),
    "det": ("∂det A/∂A = cofactor(A) = det(A)·A⁻ᵀ",),
    "slogdet": ("∂log|det A|/∂A = A⁻ᵀ",),
    "inv": ("g ↦ −A⁻ᵀ g A⁻ᵀ",),
    "solve": ("g ↦ −solve(Aᵀ, g) Xᵀ", "g ↦ solve(Aᵀ, g)"),
    "matrix_norm_nuc": ("∂‖A‖_*/∂A = U Vᵀ",),
    "matrix_norm_2": ("∂σ_max/∂A = u₁ v₁ᵀ",),
    "matrix_norm_-2": ("∂σ_min/∂A = uₙ vₙᵀ",),
}


def install(cls):
    """Tensor methods of this module's ops."""
    for fn in (mm, bmm, mv, dot, inner, outer, kron, cross, det, slogdet, addmm, baddbmm):
        setattr(cls, fn.__name__, fn)
    cls.inverse = inv
    cls.ger = outer



__all__ = [
    "addmm", "baddbmm", "bmm", "cross", "det", "dot", "einsum", "inner", "inv", "kron",
    "matrix_norm", "mm", "mv", "norm", "outer", "slogdet", "solve", "tensordot", "vdot",
    "vector_norm",
]
