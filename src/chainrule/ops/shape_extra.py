"""More shape primitives, with PyTorch's names and signatures (NumPy's keywords accepted):
expand, repeat, tile, repeat_interleave, split, chunk, unbind, flip, roll, rot90, tril, triu,
diag, diagonal, trace, diag_embed, unflatten, unfold, moveaxis, narrow, select, meshgrid,
atleast_nd and the stacks.

Most of them only move elements around. Those share one primitive, :func:`index_map`: the forward
is the NumPy rearrangement itself, and the backward applies the same rearrangement to the flat
positions ``0..n-1`` of the input to learn where every output element came from, then adds the
gradients up with ``np.bincount``, so repeated elements (expand, repeat, overlapping windows)
accumulate correctly, in one vectorised call.

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> cr.flip(x, 0).tolist()
[3.0, 2.0, 1.0]
>>> x.unfold(0, 2, 1).sum().backward(); x.grad.tolist()
[1.0, 2.0, 1.0]
"""

import numpy as np

from chainrule.autograd import reads
from chainrule.ops.base import as_tensor, needs_grad, normalize_axis, unary
from chainrule.ops.shape import (
    _shape_args,
    broadcast_to,
    concat,
    getitem,
    permute,
    reshape,
    swapaxes,
)
from chainrule.tensor import Tensor, _wrap


# --------------------------------------------------------------------------- the shared primitive
def index_map(a, fn, op):
    """``fn(a)`` for a NumPy function ``fn`` that only rearranges, drops or repeats elements.

    Backward: ``bincount(fn(positions), weights=g)`` sends every output gradient back to the
    input element it was read from (repeats add up).

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> y = index_map(x, lambda v: v[[0, 0, 1]], "pick"); y.sum().backward(); x.grad.tolist()
    [2.0, 1.0]
    """
    a = as_tensor(a)
    out = np.asarray(fn(a.data))
    if not needs_grad(a):
        return _wrap(out)
    source = np.asarray(fn(np.arange(a.data.size).reshape(a.data.shape)))
    return unary(out, a, op, _index_map_backward, (source,))


def _index_map_backward(g, node):
    (source,) = node._saved
    x = node.parents[0].data
    if g.dtype.kind == "c":
        real = np.bincount(source.ravel(), weights=g.real.ravel(), minlength=x.size)
        imag = np.bincount(source.ravel(), weights=g.imag.ravel(), minlength=x.size)
        flat = real + 1j * imag
    else:
        flat = np.bincount(source.ravel(), weights=g.ravel(), minlength=x.size)
    return (flat.reshape(x.shape).astype(g.dtype if g.dtype.kind in "fc" else x.dtype,
                                         copy=False),)


def _axis(dim, ndim, op):
    (axis,) = normalize_axis(dim, ndim, op)
    return axis


def _axes(dims, ndim, op):
    if isinstance(dims, (int, np.integer)):
        dims = (dims,)
    return normalize_axis(tuple(dims), ndim, op)


# --------------------------------------------------------------------------- expand / repeat
def expand(a, *sizes):
    """Broadcast to ``sizes`` (``-1`` keeps a dimension; new dimensions go in front), as
    PyTorch's ``Tensor.expand``; backward sums the copies.

    >>> import chainrule as cr
    >>> cr.ones(3, 1).expand(2, -1, 4).shape
    (2, 3, 4)
    """
    a = as_tensor(a)
    sizes = _shape_args(sizes)
    extra = len(sizes) - a.data.ndim
    if extra < 0:
        raise ValueError(
            f"expand: the number of sizes ({len(sizes)}) must be at least the tensor's number "
            f"of dims ({a.data.ndim}, shape {a.data.shape})"
        )
    shape = []
    for i, n in enumerate(sizes):
        if n == -1:
            if i < extra:
                raise ValueError(f"expand: -1 is not allowed for a new leading dim (sizes {sizes})")
            n = a.data.shape[i - extra]
        shape.append(int(n))
    return broadcast_to(a, tuple(shape))


def expand_as(a, other):
    """Expand to ``other``'s shape."""
    return expand(a, *as_tensor(other).data.shape)


def repeat(a, *sizes):
    """Tile the whole tensor ``sizes[i]`` times along dim ``i`` (PyTorch's ``Tensor.repeat``;
    NumPy's ``np.tile``). Built from reshape and broadcast, so backward sums the copies.

    >>> import chainrule as cr
    >>> cr.tensor([1.0, 2.0]).repeat(2, 2).tolist()
    [[1.0, 2.0, 1.0, 2.0], [1.0, 2.0, 1.0, 2.0]]
    """
    a = as_tensor(a)
    sizes = tuple(int(n) for n in _shape_args(sizes))
    if len(sizes) < a.data.ndim:
        raise ValueError(
            f"repeat: the number of repeats ({len(sizes)}) must be at least the tensor's number "
            f"of dims ({a.data.ndim})"
        )
    if any(n < 0 for n in sizes):
        raise ValueError(f"repeat: repeats must be non-negative, got {sizes}")
    shape = (1,) * (len(sizes) - a.data.ndim) + a.data.shape
    interleaved = tuple(x for n in shape for x in (1, n))
    target = tuple(x for r, n in zip(sizes, shape) for x in (r, n))
    out = broadcast_to(reshape(a, interleaved), target)
    return reshape(out, tuple(r * n for r, n in zip(sizes, shape)))


def tile(a, dims, *more):
    """Repeat the tensor along each dim; fewer ``dims`` than dimensions are padded with ones in
    front (PyTorch's and NumPy's ``tile``).

    >>> import chainrule as cr
    >>> cr.tile(cr.ones(2, 3), (2,)).shape
    (2, 6)
    """
    a = as_tensor(a)
    dims = (dims,) + more if more or isinstance(dims, (int, np.integer)) else tuple(dims)
    dims = (1,) * (a.data.ndim - len(dims)) + tuple(dims)
    return repeat(a, *dims)


def repeat_interleave(a, repeats, dim=None, *, axis=None, output_size=None):
    """Repeat each element ``repeats`` times (an int, or one count per element along ``dim``);
    ``dim=None`` flattens first. NumPy's ``np.repeat``.

    >>> import chainrule as cr
    >>> cr.repeat_interleave(cr.tensor([1.0, 2.0]), 2).tolist()
    [1.0, 1.0, 2.0, 2.0]
    """
    a = as_tensor(a)
    dim = axis if dim is None else dim
    reps = repeats.data if isinstance(repeats, Tensor) else np.asarray(repeats)
    if reps.dtype.kind not in "iu":
        raise TypeError(f"repeat_interleave: repeats must be integers, got dtype {reps.dtype}")
    if np.any(reps < 0):
        raise ValueError("repeat_interleave: repeats must be non-negative")
    if dim is None:
        a = reshape(a, (-1,))
        dim = 0
    axis = _axis(dim, a.data.ndim, "repeat_interleave")
    if reps.ndim == 1 and reps.size not in (1, a.data.shape[axis]):
        raise ValueError(
            f"repeat_interleave: repeats has {reps.size} entries but dim {dim} has "
            f"{a.data.shape[axis]} elements"
        )
    reps = reps.reshape(-1) if reps.ndim else int(reps)
    if isinstance(reps, np.ndarray) and reps.size == 1:
        reps = int(reps[0])
    return index_map(a, lambda v: np.repeat(v, reps, axis=axis), "repeat_interleave")


# --------------------------------------------------------------------------- splitting
def split(a, split_size_or_sections, dim=0):
    """Pieces along ``dim``: an int is each piece's size (the last may be smaller), a list gives
    the sizes (PyTorch's ``split``; NumPy's ``np.split`` counts sections instead).

    >>> import chainrule as cr
    >>> [p.shape for p in cr.split(cr.ones(5, 2), 2)]
    [(2, 2), (2, 2), (1, 2)]
    """
    a = as_tensor(a)
    axis = _axis(dim, a.data.ndim, "split")
    n = a.data.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0 and n > 0:
            raise ValueError(f"split: split size must be positive, got {size}")
        sizes = [min(size, n - s) for s in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ValueError(
                f"split: sizes {sizes} must be non-negative and add up to {n}, the length of "
                f"dim {dim} (shape {a.data.shape})"
            )
    pieces, start = [], 0
    for s in sizes:
        pieces.append(narrow(a, axis, start, s))
        start += s
    return tuple(pieces)


def chunk(a, chunks, dim=0):
    """At most ``chunks`` pieces of equal size ``ceil(n / chunks)`` (the last may be smaller),
    as PyTorch's ``chunk``.

    >>> import chainrule as cr
    >>> [p.shape[0] for p in cr.chunk(cr.ones(5), 3)]
    [2, 2, 1]
    """
    a = as_tensor(a)
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    axis = _axis(dim, a.data.ndim, "chunk")
    n = a.data.shape[axis]
    size = -(-n // chunks)
    return split(a, max(size, 1) if n else 1, axis) if n else (a,)


def unbind(a, dim=0):
    """The slices along ``dim``, as a tuple, the dim removed.

    >>> import chainrule as cr
    >>> [t.tolist() for t in cr.unbind(cr.tensor([[1.0, 2.0], [3.0, 4.0]]), 1)]
    [[1.0, 3.0], [2.0, 4.0]]
    """
    a = as_tensor(a)
    axis = _axis(dim, a.data.ndim, "unbind")
    return tuple(select(a, axis, i) for i in range(a.data.shape[axis]))


def narrow(a, dim, start, length):
    """``length`` elements of dim ``dim`` from ``start`` (a negative start counts from the end).

    >>> import chainrule as cr
    >>> cr.narrow(cr.arange(5), 0, 1, 3).tolist()
    [1, 2, 3]
    """
    a = as_tensor(a)
    axis = _axis(dim, a.data.ndim, "narrow")
    n = a.data.shape[axis]
    start = int(start)
    if start < 0:
        start += n
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise IndexError(
            f"narrow: start {start} and length {length} do not fit dim {dim} of length {n}"
        )
    index = (slice(None),) * axis + (slice(start, start + int(length)),)
    return getitem(a, index)


def select(a, dim, index):
    """The slice ``index`` of dim ``dim``, that dim removed (``x.select(0, i)`` is ``x[i]``).

    >>> import chainrule as cr
    >>> cr.select(cr.tensor([[1.0, 2.0], [3.0, 4.0]]), 1, -1).tolist()
    [2.0, 4.0]
    """
    a = as_tensor(a)
    axis = _axis(dim, a.data.ndim, "select")
    n = a.data.shape[axis]
    index = int(index)
    if not -n <= index < n:
        raise IndexError(f"select: index {index} is out of range for dim {dim} of length {n}")
    return getitem(a, (slice(None),) * axis + (index,))


# --------------------------------------------------------------------------- reordering
def flip(a, dims=None, *more, axis=None):
    """Reverse the order along ``dims`` (all dims when none are given, as NumPy).

    >>> import chainrule as cr
    >>> cr.tensor([[1, 2], [3, 4]]).flip(1).tolist()
    [[2, 1], [4, 3]]
    """
    a = as_tensor(a)
    dims = axis if dims is None else dims
    if more:
        dims = (dims,) + more
    axes = tuple(range(a.data.ndim)) if dims is None else _axes(dims, a.data.ndim, "flip")
    return index_map(a, lambda v: np.flip(v, axes), "flip")


def fliplr(a):
    """Reverse the columns (dim 1) of a tensor with at least 2 dims."""
    a = as_tensor(a)
    if a.data.ndim < 2:
        raise ValueError(f"fliplr: needs at least 2 dims, got shape {a.data.shape}")
    return flip(a, 1)


def flipud(a):
    """Reverse the rows (dim 0) of a tensor with at least 1 dim."""
    a = as_tensor(a)
    if a.data.ndim < 1:
        raise ValueError("fliplr: needs at least 1 dim, got a 0-d tensor")
    return flip(a, 0)


def roll(a, shifts=None, dims=None, *, axis=None, shift=None):
    """Shift elements cyclically by ``shifts`` along ``dims`` (flattened when no dims), as
    PyTorch's ``roll`` and NumPy's ``np.roll(a, shift, axis)``.

    >>> import chainrule as cr
    >>> cr.roll(cr.tensor([1, 2, 3]), 1).tolist()
    [3, 1, 2]
    """
    a = as_tensor(a)
    shifts = shift if shift is not None else shifts
    if shifts is None:
        raise TypeError("roll: missing the shifts")
    dims = axis if dims is None else dims
    if dims is not None:
        dims = _axes(dims, a.data.ndim, "roll")
        if isinstance(shifts, (int, np.integer)):
            shifts = (int(shifts),) * len(dims) if len(dims) > 1 else int(shifts)
        elif len(tuple(shifts)) != len(dims):
            raise ValueError(f"roll: {len(tuple(shifts))} shifts for {len(dims)} dims")
        if isinstance(shifts, int):
            dims = dims[0]
    return index_map(a, lambda v: np.roll(v, shifts, axis=dims), "roll")


def rot90(a, k=1, dims=(0, 1), *, axes=None):
    """Rotate by 90° ``k`` times in the plane of ``dims`` (from the first towards the second).

    >>> import chainrule as cr
    >>> cr.rot90(cr.tensor([[1, 2], [3, 4]])).tolist()
    [[2, 4], [1, 3]]
    """
    a = as_tensor(a)
    dims = axes if axes is not None else dims
    if len(tuple(dims)) != 2:
        raise ValueError(f"rot90: dims must name two dims, got {dims}")
    d = _axes(dims, a.data.ndim, "rot90")
    return index_map(a, lambda v: np.rot90(v, int(k), d), "rot90")


def moveaxis(a, source, destination):
    """Move dims ``source`` to positions ``destination`` (``movedim`` in PyTorch).

    >>> import chainrule as cr
    >>> cr.moveaxis(cr.ones(2, 3, 4), 0, -1).shape
    (3, 4, 2)
    """
    a = as_tensor(a)
    nd = a.data.ndim
    src = _axes(source, nd, "moveaxis")
    dst = _axes(destination, nd, "moveaxis")
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: {len(src)} source dims but {len(dst)} destinations")
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(a, *order)


def swapdims(a, dim0, dim1):
    """Swap two dims (PyTorch's alias of ``swapaxes`` / ``transpose(dim0, dim1)``)."""
    return swapaxes(a, dim0, dim1)


def unflatten(a, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one entry may be -1).

    >>> import chainrule as cr
    >>> cr.ones(2, 6).unflatten(1, (2, 3)).shape
    (2, 2, 3)
    """
    a = as_tensor(a)
    axis = _axis(dim, a.data.ndim, "unflatten")
    sizes = tuple(int(s) for s in sizes)
    n = a.data.shape[axis]
    known = int(np.prod([s for s in sizes if s != -1]))
    if sizes.count(-1) > 1 or (-1 not in sizes and known != n) or (
            -1 in sizes and (known == 0 or n % known)):
        raise ValueError(
            f"unflatten: sizes {sizes} do not multiply to {n}, the length of dim {dim}")
    shape = a.data.shape
    return reshape(a, shape[:axis] + sizes + shape[axis + 1:])


def unfold(a, dimension, size, step):
    """All windows of ``size`` elements along ``dimension``, ``step`` apart, as a new last dim
    (PyTorch's ``Tensor.unfold``); overlapping windows add up their gradients.

    >>> import chainrule as cr
    >>> cr.arange(5).unfold(0, 2, 2).tolist()
    [[0, 1], [2, 3]]
    """
    a = as_tensor(a)
    if a.data.ndim == 0:
        a = reshape(a, (1,))
    axis = _axis(dimension, a.data.ndim, "unfold")
    n = a.data.shape[axis]
    if size > n or size < 0 or step <= 0:
        raise ValueError(
            f"unfold: a window of size {size} with step {step} does not fit dim {dimension} of "
            f"length {n}"
        )

    def windows(v):
        w = np.lib.stride_tricks.sliding_window_view(v, size, axis=axis)
        return w[(slice(None),) * axis + (slice(None, None, step),)]

    return index_map(a, windows, "unfold")


# --------------------------------------------------------------------------- triangles, diagonals
def tril(a, diagonal=0, *, k=None):
    """Lower triangle of the last two dims (entries above ``diagonal`` set to 0).

    >>> import chainrule as cr
    >>> cr.tril(cr.ones(2, 2)).tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """
    return _triangle(a, diagonal if k is None else k, np.tril, "tril", _tril_backward)


def _tril_backward(g, node):
    return (np.tril(g, node._saved[0]),)


def triu(a, diagonal=0, *, k=None):
    """Upper triangle of the last two dims (entries below ``diagonal`` set to 0).

    >>> import chainrule as cr
    >>> cr.triu(cr.ones(2, 2)).tolist()
    [[1.0, 1.0], [0.0, 1.0]]
    """
    return _triangle(a, diagonal if k is None else k, np.triu, "triu", _triu_backward)


def _triu_backward(g, node):
    return (np.triu(g, node._saved[0]),)


def _triangle(a, k, keep, op, backward):
    """``keep`` (np.tril or np.triu) of the last two dims; the gradient keeps the same cells."""
    a = as_tensor(a)
    if a.data.ndim < 2:
        raise ValueError(f"{op}: needs at least 2 dims, got shape {a.data.shape}")
    return unary(keep(a.data, k), a, op, backward, (int(k),))


def diagonal(a, offset=0, dim1=0, dim2=1, *, axis1=None, axis2=None):
    """The diagonal of the ``(dim1, dim2)`` planes, as a new last dim.

    >>> import chainrule as cr
    >>> cr.diagonal(cr.tensor([[1, 2], [3, 4]])).tolist()
    [1, 4]
    """
    a = as_tensor(a)
    dim1 = dim1 if axis1 is None else axis1
    dim2 = dim2 if axis2 is None else axis2
    d1, d2 = _axes((dim1, dim2), a.data.ndim, "diagonal")
    return index_map(a, lambda v: np.diagonal(v, int(offset), d1, d2), "diagonal")


def diag(a, diagonal=0, *, k=None):
    """A 1-D tensor becomes a square matrix with it on the ``diagonal``; a 2-D tensor gives its
    ``diagonal`` as a 1-D tensor.

    >>> import chainrule as cr
    >>> cr.diag(cr.tensor([1.0, 2.0])).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    """
    a = as_tensor(a)
    k = int(diagonal if k is None else k)
    if a.data.ndim == 2:
        return globals()["diagonal"](a, k)
    if a.data.ndim != 1:
        raise ValueError(f"diag: expects a 1-D or 2-D tensor, got shape {a.data.shape}")
    return diag_embed(a, k, 0, 1)


def trace(a):
    """Sum of the main diagonal of a 2-D tensor.

    >>> import chainrule as cr
    >>> cr.trace(cr.tensor([[1.0, 2.0], [3.0, 4.0]])).item()
    5.0
    """
    a = as_tensor(a)
    if a.data.ndim != 2:
        raise ValueError(f"trace: expects a 2-D tensor, got shape {a.data.shape}")
    return diagonal(a).sum()


def diag_embed(a, offset=0, dim1=-2, dim2=-1):
    """Each last-dim vector becomes the ``offset`` diagonal of a matrix in dims ``(dim1, dim2)``
    of the output (one more dim than the input); backward takes that diagonal back.

    >>> import chainrule as cr
    >>> cr.diag_embed(cr.tensor([[1.0, 2.0]])).tolist()
    [[[1.0, 0.0], [0.0, 2.0]]]
    """
    a = as_tensor(a)
    x = a.data
    if x.ndim == 0:
        raise ValueError("diag_embed: expects at least a 1-D tensor")
    offset = int(offset)
    d1, d2 = _axes((dim1, dim2), x.ndim + 1, "diag_embed")
    if d1 == d2:
        raise ValueError(f"diag_embed: dim1 and dim2 must differ, got {dim1} and {dim2}")
    n = x.shape[-1] + abs(offset)
    out = np.zeros(x.shape[:-1] + (n, n), dtype=x.dtype)
    m, r, c = x.shape[-1], max(-offset, 0), max(offset, 0)
    np.einsum("...ii->...i", out[..., r:r + m, c:c + m])[...] = x
    out = np.moveaxis(out, (-2, -1), (d1, d2))
    return unary(out, a, "diag_embed", _diag_embed_backward, (offset, d1, d2))


def _diag_embed_backward(g, node):
    offset, d1, d2 = node._saved
    return (np.diagonal(g, offset, d1, d2),)


# --------------------------------------------------------------------------- building up
def atleast_1d(*tensors):
    """Each tensor with at least one dim (a tuple when given several)."""
    return _atleast(tensors, 1)


def atleast_2d(*tensors):
    """Each tensor with at least two dims (a 1-D ``(n,)`` becomes ``(1, n)``)."""
    return _atleast(tensors, 2)


def atleast_3d(*tensors):
    """Each tensor with at least three dims (``(n,)`` → ``(1, n, 1)``; ``(m, n)`` → ``(m, n, 1)``).

    >>> import chainrule as cr
    >>> cr.atleast_3d(cr.ones(2, 3)).shape
    (2, 3, 1)
    """
    return _atleast(tensors, 3)


def _atleast(tensors, n):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    out = []
    for t in tensors:
        t = as_tensor(t)
        shape = t.data.shape
        if len(shape) < n:
            if len(shape) == 0:
                shape = (1,) * n
            elif n == 2:
                shape = (1,) + shape
            else:  # n == 3
                shape = (1,) + shape + (1,) if len(shape) == 1 else shape + (1,)
            t = reshape(t, shape)
        out.append(t)
    return out[0] if len(out) == 1 else tuple(out)


def hstack(tensors):
    """Concatenate along dim 1 (dim 0 for 1-D tensors).

    >>> import chainrule as cr
    >>> cr.hstack([cr.ones(2), cr.zeros(1)]).tolist()
    [1.0, 1.0, 0.0]
    """
    tensors = [atleast_1d(t) for t in tensors]
    return concat(tensors, axis=0 if tensors[0].data.ndim == 1 else 1)


def vstack(tensors):
    """Concatenate along dim 0 after making each tensor at least 2-D (``row_stack``)."""
    return concat([atleast_2d(t) for t in tensors], axis=0)


def dstack(tensors):
    """Concatenate along dim 2 after making each tensor at least 3-D."""
    return concat([atleast_3d(t) for t in tensors], axis=2)


def column_stack(tensors):
    """1-D (and 0-d) tensors become columns, then everything is joined along dim 1.

    >>> import chainrule as cr
    >>> cr.column_stack([cr.ones(2), cr.zeros(2)]).shape
    (2, 2)
    """
    cols = []
    for t in tensors:
        t = as_tensor(t)
        cols.append(reshape(t, (t.data.size, 1)) if t.data.ndim <= 1 else t)
    return concat(cols, axis=1)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors; ``indexing='ij'`` (PyTorch's default) or ``'xy'``
    (NumPy's default). Each grid is a broadcast view, differentiable in its vector.

    >>> import chainrule as cr
    >>> gx, gy = cr.meshgrid(cr.arange(2), cr.arange(3)); gx.shape
    (2, 3)
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    tensors = [reshape(as_tensor(t), (-1,)) for t in tensors]
    n = len(tensors)
    sizes = [t.data.shape[0] for t in tensors]
    order = list(range(n))
    if indexing == "xy" and n >= 2:
        order[0], order[1] = 1, 0
    shape = tuple(sizes[i] for i in order)
    grids = []
    for i, t in enumerate(tensors):
        where = order.index(i)
        view = (1,) * where + (sizes[i],) + (1,) * (n - where - 1)
        grids.append(broadcast_to(reshape(t, view), shape))
    return tuple(grids)


def _method_unfold(self, dimension, size, step):
    return unfold(self, dimension, size, step)


def _method_flip(self, *dims):
    return flip(self, dims[0] if len(dims) == 1 else (dims or None))


def _method_repeat_interleave(self, repeats, dim=None, *, output_size=None):
    return repeat_interleave(self, repeats, dim, output_size=output_size)


# These backwards read shapes only, so an in-place change of an input after the forward pass
# does not make them wrong (see autograd.SAVED_READS).
for _fn in (_index_map_backward, _tril_backward, _triu_backward, _diag_embed_backward):
    reads(_fn)


# One line per op and input: the backward rule (read by explain(); rows for the op registry).
BACKWARD_RULES = {
    "flip": ("g ↦ bincount(source positions, g): each entry back where it came from",),
    "roll": ("g ↦ g rolled back (bincount of source positions)",),
    "rot90": ("g ↦ g rotated back (bincount of source positions)",),
    "repeat_interleave": ("g ↦ Σ of each element's copies (bincount)",),
    "unfold": ("g ↦ Σ over the windows that hold each element (bincount)",),
    "diagonal": ("g ↦ g on the diagonal, 0 elsewhere",),
    "tril": ("g ↦ tril(g)",),
    "triu": ("g ↦ triu(g)",),
    "diag_embed": ("g ↦ diagonal(g)",),
}


def install(cls):
    """Tensor methods of this module's ops."""
    for fn in (expand, expand_as, repeat, tile, split, chunk, unbind, narrow, select, fliplr,
               flipud, roll, rot90, moveaxis, swapdims, unflatten, tril, triu, diagonal, diag,
               trace, diag_embed):
        setattr(cls, fn.__name__, fn)
    cls.movedim = moveaxis
    cls.unfold = _method_unfold
    cls.flip = _method_flip
    cls.repeat_interleave = _method_repeat_interleave


__all__ = [
    "atleast_1d", "atleast_2d", "atleast_3d", "chunk", "column_stack", "diag", "diag_embed",
    "diagonal", "dstack", "expand", "expand_as", "flip", "fliplr", "flipud", "hstack",
    "index_map", "meshgrid", "moveaxis", "narrow", "repeat", "repeat_interleave", "roll",
    "rot90", "select", "split", "swapdims", "tile", "tril", "triu", "trace", "unbind",
    "unflatten", "unfold", "vstack",
]
