"""Lowering rules: for each op, its forward and backward as NumPy kernels writing into buffers.

Every rule repeats the eager op's own sequence of NumPy calls (same ufuncs, same order, same
operands), only with ``out=`` buffers allocated once: so a replayed step gives the eager step's
numbers bit for bit. A rule returns None for a gradient its parent does not need, and raises
:class:`Unsupported` for a variant it does not cover (which then runs eagerly, loudly).
"""

import numpy as np

from chainrule.jit.capture import Unsupported


def _shape(b, name):
    return b.ns[name].shape


def unbroadcast(b, g, shape):
    """The buffer holding ``g`` summed down to ``shape`` (``g`` itself when shapes agree)."""
    gshape = _shape(b, g)
    shape = tuple(shape)
    if gshape == shape:
        return g
    extra = len(gshape) - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and gshape[extra + i] != 1)
    if axes:
        g = b.call("np.add.reduce", g, f"axis={axes!r}")
    if _shape(b, g) != shape:
        g = b.view(f"{g}.reshape({shape!r})")
    return g


def is_lowering_constant(b, g):
    """True when gradient ``g`` is a constant (the backward's seed of ones, a zero gradient),
    or a view of one: a gradient is never user data, and no replay writes a constant."""
    kind = b.kind.get(g)
    if kind == "const":
        return True
    arr = b.ns.get(g)
    if kind != "view" or g in b.dynamic or not isinstance(arr, np.ndarray) or arr.base is None:
        return False
    return any(v is arr.base and b.kind.get(n) == "const" for n, v in b.ns.items())


def fold(b, fn, *args):
    """``b.call(fn, *args)``; when gradient ``args[0]`` is a constant (and so are the other
    operands) the value is computed once, now: a replay would compute the same bits each step."""
    if is_lowering_constant(b, args[0]) and all(
            b.kind.get(a) in (None, "const") for a in args[1:]):
        with np.errstate(all="ignore"):
            value = eval(f"{fn}({', '.join(args)})", b.ns)
        return b.const(np.array(value, copy=True))
    return b.call(fn, *args)


def _is_unit(b, g, target):
    """``g`` is a constant of ones that broadcasting ``target * g`` leaves target's shape and
    dtype (x * 1 is x, bit for bit)."""
    arr, out = b.ns[g], b.ns[target]
    return (is_lowering_constant(b, g) and arr.dtype == out.dtype and arr.size > 0
            and np.broadcast_shapes(arr.shape, out.shape) == out.shape and bool(np.all(arr == 1)))


def scale(b, target, g):
    """Multiply buffer ``target`` by the upstream gradient ``g`` in place (nothing to emit
    when ``g`` is a constant of ones)."""
    if not _is_unit(b, g, target):
        b.inplace("np.multiply", target, g)


# --------------------------------------------------------------------------- elementwise
def fw_add(b, r, a, c):
    return b.call("np.add", a, c)


def bw_add(b, r, g, a, c):
    return (unbroadcast(b, g, _shape(b, a)) if r.req[0] else None,
            unbroadcast(b, g, _shape(b, c)) if r.req[1] else None)


def fw_sub(b, r, a, c):
    return b.call("np.subtract", a, c)


def bw_sub(b, r, g, a, c):
    gb = None
    if r.req[1]:
        gb = unbroadcast(b, b.call("np.negative", g), _shape(b, c))
    return (unbroadcast(b, g, _shape(b, a)) if r.req[0] else None, gb)


def fw_neg(b, r, a):
    return b.call("np.negative", a)


def bw_neg(b, r, g, a):
    return (b.call("np.negative", g),)


def fw_mul(b, r, a, c):
    return b.call("np.multiply", a, c)


def bw_mul(b, r, g, a, c):
    return (unbroadcast(b, b.call("np.multiply", g, c), _shape(b, a)) if r.req[0] else None,
            unbroadcast(b, b.call("np.multiply", g, a), _shape(b, c)) if r.req[1] else None)


def fw_div(b, r, a, c):
    return b.call("np.true_divide", a, c)


def bw_div(b, r, g, a, c):
    ga = b.call("np.true_divide", g, c)
    gb = None
    if r.req[1]:
        t = b.call("np.negative", ga)
        b.inplace("np.multiply", t, b.out_name(r))
        gb = unbroadcast(b, t, _shape(b, c))
    return (unbroadcast(b, ga, _shape(b, a)) if r.req[0] else None, gb)


def fw_pow(b, r, a, *rest):
    if rest:
        raise Unsupported("pow with a tensor exponent has no compiled rule")
    (p,) = r.saved  # a Python number, as eager passes it: np.power(x, 2) is NumPy's square
    return b.call("np.power", a, repr(p))


def bw_pow(b, r, g, a):
    (p,) = r.saved
    if p == 2:
        t = b.call("np.multiply", b.number(2, a), a)
        if _is_unit(b, g, t):
            return (t,)
        return (b.call("np.multiply", g, t),)
    if p == 1:
        return (g,)
    if p == 0:
        return (b.const(np.zeros_like(b.ns[g] * b.ns[a])),)
    t = b.call("np.power", a, repr(p - 1))
    b.inplace("np.multiply", t, b.number(p, a), first=False)
    return (b.call("np.multiply", g, t),)


def fw_exp(b, r, a):
    return b.call("np.exp", a)


def bw_exp(b, r, g, a):
    return (b.call("np.multiply", g, b.out_name(r)),)


def fw_log(b, r, a):
    return b.call("np.log", a)


def bw_log(b, r, g, a):
    return (b.call("np.true_divide", g, a),)


def fw_relu(b, r, a):
    return b.call("np.maximum", a, b.number(0, a))


def bw_relu(b, r, g, a):
    # the eager rule is g * ~(out <= 0) (a NaN input passes its gradient on); out =
    # maximum(a, 0) is >= 0 or NaN, where ~(out <= 0) is out != 0: one pass, the same mask
    passes = b.call("np.not_equal", b.out_name(r), b.number(0, a))
    return (b.call("np.multiply", g, passes),)


def fw_tanh(b, r, a):
    return b.call("np.tanh", a)


def bw_tanh(b, r, g, a):
    out = b.out_name(r)
    t = b.call("np.multiply", out, out)
    b.inplace("np.subtract", t, b.number(1, t), first=False)  # 1 - t*t, into t
    return (b.call("np.multiply", g, t),)


def fw_sigmoid(b, r, a):
    # _sigmoid: e = exp(-|x|); r = 1/(1+e); where(x >= 0, r, e*r)
    e = b.call("np.absolute", a)
    b.inplace("np.negative", e)
    b.inplace("np.exp", e)
    q = b.call("np.add", b.number(1, e), e)
    b.inplace("np.true_divide", q, b.number(1, q), first=False)
    out = b.call("np.multiply", e, q)
    mask = b.call("np.greater_equal", a, b.number(0, a))
    b.emit(f"np.copyto({out}, {q}, where={mask})")
    return out


def bw_sigmoid(b, r, g, a):
    s = b.out_name(r)
    t = b.call("np.multiply", g, s)
    return (b.call("np.multiply", t, b.call("np.subtract", b.number(1, s), s)),)


def fw_clip(b, r, a):
    lo, hi = (b.const(v) if v is not None else "None" for v in r.saved)
    if b.ns[a].dtype.kind == "f" and (lo == "None") != (hi == "None"):
        # np.clip(a, lo, None) is np.maximum(a, lo) (and max alone np.minimum): NumPy's own
        # _clip calls that ufunc, so the same bits without the wrapper's ~6 us
        out = b.call("np.maximum", a, lo) if hi == "None" else b.call("np.minimum", a, hi)
    else:
        out = b.call("np.clip", a, lo, hi)
    if b.ns[out].dtype != b.ns[a].dtype:
        raise Unsupported("clip with bounds of another dtype has no compiled rule")
    return out


def bw_clip(b, r, g, a):
    lo, hi = r.saved
    masks = []
    if lo is not None:
        masks.append(b.call("np.greater_equal", a, b.const(lo)))
    if hi is not None:
        masks.append(b.call("np.less_equal", a, b.const(hi)))
    inside = masks[0]
    if len(masks) == 2:
        inside = b.call("np.logical_and", masks[0], masks[1])
    return (b.call("np.multiply", g, inside),)


def fw_sqrt(b, r, a):
    return b.call("np.sqrt", a)


def bw_sqrt(b, r, g, a):
    out = b.out_name(r)
    return (b.call("np.true_divide", g, b.call("np.multiply", b.number(2, out), out)),)


def fw_abs(b, r, a):
    return b.call("np.absolute", a)


def bw_abs(b, r, g, a):
    return (b.call("np.multiply", g, b.call("np.sign", a)),)


def fw_leaky_relu(b, r, a):
    # np.where(x > 0, x, x * slope)
    out = b.call("np.multiply", a, b.number(r.saved[0], a))
    b.emit(f"np.copyto({out}, {a}, where={b.call('np.greater', a, '0')})")
    return out


def bw_leaky_relu(b, r, g, a):
    out = b.call("np.multiply", g, b.number(r.saved[0], g))
    b.emit(f"np.copyto({out}, {g}, where={b.call('np.greater', a, '0')})")
    return (out,)


def fw_softmax(b, r, a):
    axis = f"axis={r.saved[0]!r}"
    e = b.call("np.exp", b.call("np.subtract", a, b.call("np.maximum.reduce", a, axis,
                                                          "keepdims=True")))
    b.inplace("np.true_divide", e, b.call("np.add.reduce", e, axis, "keepdims=True"))
    return e


def bw_softmax(b, r, g, a):
    s = b.out_name(r)
    gs = b.call("np.multiply", g, s)
    total = b.call("np.add.reduce", gs, f"axis={r.saved[0]!r}", "keepdims=True")
    return (b.call("np.subtract", gs, b.call("np.multiply", s, total)),)


def fw_log_softmax(b, r, a):
    axis = f"axis={r.saved[0]!r}"
    shifted = b.call("np.subtract", a, b.call("np.maximum.reduce", a, axis, "keepdims=True"))
    s = b.call("np.add.reduce", b.call("np.exp", shifted), axis, "keepdims=True")
    b.inplace("np.log", s)
    return b.call("np.subtract", shifted, s)


def bw_log_softmax(b, r, g, a):
    total = b.call("np.add.reduce", g, f"axis={r.saved[0]!r}", "keepdims=True")
    t = b.call("np.exp", b.out_name(r))
    b.inplace("np.multiply", t, total)
    return (b.call("np.subtract", g, t),)


# --------------------------------------------------------------------------- reductions, shape
def _reduce_args(saved):
    axes, keepdims = saved
    return f"axis={axes!r}", f"keepdims={keepdims!r}"


def fw_sum(b, r, a):
    return b.call("np.add.reduce", a, *_reduce_args(r.saved))


def _expand(b, g, shape, axes, keepdims):
    if axes is not None and not keepdims:
        g = b.view(f"np.expand_dims({g}, {axes!r})")
    elif axes is None and not keepdims:
        g = b.view(f"{g}.reshape({(1,) * len(shape)!r})")
    return b.view(f"np.broadcast_to({g}, {tuple(shape)!r})")


def bw_sum(b, r, g, a):
    axes, keepdims = r.saved
    return (_expand(b, g, _shape(b, a), axes, keepdims),)


def fw_mean(b, r, a):
    return b.call("np.mean", a, *_reduce_args(r.saved))


def bw_mean(b, r, g, a):
    axes, keepdims = r.saved
    shape = _shape(b, a)
    n = 1
    for i, d in enumerate(shape):
        if axes is None or i in axes:
            n *= d
    if n:
        g = fold(b, "np.true_divide", g, b.number(n, g))
    return (_expand(b, g, shape, axes, keepdims),)


def fw_reshape(b, r, a):
    return b.view(f"{a}.reshape({tuple(r.out.data.shape)!r})")


def bw_reshape(b, r, g, a):
    return (b.view(f"{g}.reshape({_shape(b, a)!r})"),)


def fw_transpose(b, r, a):
    return b.view(f"{a}.transpose({r.saved[0]!r})")


def bw_transpose(b, r, g, a):
    inverse = tuple(int(i) for i in np.argsort(r.saved[0]))
    return (b.view(f"{g}.transpose({inverse!r})"),)


# --------------------------------------------------------------------------- matmul, linear
def _two_d(b, r, *names):
    if any(b.ns[n].ndim != 2 for n in names):
        raise Unsupported(f"{r.op} on operands that are not matrices has no compiled rule")


def fw_matmul(b, r, a, c):
    _two_d(b, r, a, c)
    return b.call("np.matmul", a, c)


def bw_matmul(b, r, g, a, c):
    return (b.call("np.matmul", g, f"{c}.T") if r.req[0] else None,
            b.call("np.matmul", f"{a}.T", g) if r.req[1] else None)


def fw_linear(b, r, x, w, bias=None):
    _two_d(b, r, x, w)
    out = b.call("np.matmul", x, f"{w}.T")
    if bias is not None:
        b.inplace("np.add", out, bias)
    return out


def bw_linear(b, r, g, x, w, bias=None):
    grads = [b.call("np.matmul", g, w) if r.req[0] else None,
             b.call("np.matmul", f"{g}.T", x) if r.req[1] else None]
    if bias is not None:
        grads.append(b.call("np.add.reduce", g, "axis=0") if r.req[2] else None)
    return tuple(grads)


# --------------------------------------------------------------------------- fused losses
def _reduce_loss(b, r, values, reduction, denom=None):
    if reduction not in ("mean", "sum"):
        raise Unsupported(f"{r.op} with reduction={reduction!r} has no compiled rule")
    total = b.call("np.add.reduce", values, "axis=None")
    if reduction == "sum":
        return total
    n = b.ns[values].size if denom is None else denom
    if not n:
        raise Unsupported(f"{r.op} averaging over nothing has no compiled rule")
    return b.call("np.true_divide", total, b.number(n, total) if denom is None else b.const(denom))


def _upstream(b, g, reduction, n):
    if reduction == "sum":
        return g
    return fold(b, "np.true_divide", g, n)


def fw_mse_loss(b, r, inp, target):
    _, reduction = r.saved
    r.diff = b.call("np.subtract", inp, target)
    return _reduce_loss(b, r, b.call("np.multiply", r.diff, r.diff), reduction)


def bw_mse_loss(b, r, g, inp, target):
    _, reduction = r.saved
    gd = b.call("np.multiply", b.number(2, r.diff), r.diff)
    scale(b, gd, _upstream(b, g, reduction, b.number(b.ns[r.diff].size, g)))
    gt = None
    if r.req[1]:
        gt = unbroadcast(b, b.call("np.negative", gd), _shape(b, target))
    return (unbroadcast(b, gd, _shape(b, inp)) if r.req[0] else None, gt)


def fw_binary_cross_entropy_with_logits(b, r, x, y):
    reduction, scale, w, _, _ = r.saved
    if scale is not None or w is not None:
        raise Unsupported("binary_cross_entropy_with_logits with weight/pos_weight has no "
                          "compiled rule")
    sp = r.softplus = b.call("np.logaddexp", b.number(0, x), b.call("np.negative", x))
    values = b.call("np.add", sp, x)
    b.inplace("np.subtract", values, b.call("np.multiply", x, y))
    return _reduce_loss(b, r, values, reduction)


def bw_binary_cross_entropy_with_logits(b, r, g, x, y):
    reduction = r.saved[0]
    if r.req[1]:
        raise Unsupported("binary_cross_entropy_with_logits with a target that needs a "
                          "gradient has no compiled rule")
    up = _upstream(b, g, reduction, b.number(b.ns[x].size, g))
    # eager: exp(-logaddexp(0, -x)); logaddexp(0, -x) is the forward's buffer (same bits)
    s = b.call("np.negative", r.softplus)
    b.inplace("np.exp", s)
    b.inplace("np.subtract", s, y)
    scale(b, s, up)
    return s, None


def fw_cross_entropy(b, r, x, *rest):
    logp, coeffs, rows, safe_t, reduction, denom, xr_shape, unbatched, target_scale = r.saved
    if (rest or coeffs is not None or unbatched or b.ns[x].ndim != 2 or r.extra is None
            or r.extra.data.dtype.kind not in "iu"):
        raise Unsupported("cross_entropy other than class indices over (N, C) logits without "
                          "weights or label smoothing has no compiled rule")
    target = b.value(r.extra)
    b.guard_targets(target, b.ns[x].shape[1])
    m = b.call("np.maximum.reduce", x, "axis=1", "keepdims=True")
    shifted = b.call("np.subtract", x, m)
    s = b.call("np.add.reduce", b.call("np.exp", shifted), "axis=1", "keepdims=True")
    b.inplace("np.log", s)
    r.logp = b.call("np.subtract", shifted, s)
    r.rows, r.target, r.denom = b.const(rows), target, denom
    values = b.call("np.negative", f"{r.logp}[{r.rows}, {target}]")
    return _reduce_loss(b, r, values, reduction, denom)


def bw_cross_entropy(b, r, g, x):
    reduction = r.saved[4]
    probs = b.call("np.exp", r.logp)
    up = _upstream(b, g, reduction, b.const(r.denom))
    b.emit(f"{probs}[{r.rows}, {r.target}] -= 1")
    scale(b, probs, up)
    return (probs,)


RULES = {name[3:]: (fn, globals()["bw_" + name[3:]])
         for name, fn in list(globals().items()) if name.startswith("fw_")}
