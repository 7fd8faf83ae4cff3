"""NumPy calls on tensors run chainrule's differentiable ops.

``np.exp(t)``, ``np.sum(t, axis=0)``, ``np.concatenate([t, u])``, ``np.where(c, t, u)`` and
``array + t`` reach :meth:`Tensor.__array_ufunc__` / :meth:`Tensor.__array_function__`, which
look the NumPy name up in ``chainrule`` at call time (through a small alias table:
``concatenate`` is ``concat``, ``true_divide`` is ``div``...), so an op added to chainrule is
picked up without touching this module. The result is a tensor on the graph.

A NumPy function chainrule does not have runs on the arrays when no input requires grad (its
array results come back as tensors); when an input requires grad it raises a ``TypeError`` that
names the function, because NumPy cannot carry the gradient.

In-place ufuncs into a plain ndarray (``p.data -= lr * p.grad``, with ``p.grad`` a tensor) write
into that array, as PyTorch's ``p.data`` updates do, and record nothing.

>>> import numpy as np, chainrule as cr
>>> t = cr.tensor([0.0, 1.0], requires_grad=True)
>>> y = np.sum(np.exp(t)); y.backward(); y.op, [round(v, 4) for v in t.grad.tolist()]
('sum', [1.0, 2.7183])
"""

import numpy as np

import chainrule

# NumPy's name -> chainrule's name (only where they differ; everything else is looked up as is)
UFUNC_NAMES = {
    "subtract": "sub", "multiply": "mul", "true_divide": "div", "divide": "div",
    "negative": "neg", "power": "pow", "float_power": "pow", "absolute": "abs",
    "equal": "eq", "not_equal": "ne", "less": "lt", "less_equal": "le", "greater": "gt",
    "greater_equal": "ge", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
    "arctan2": "atan2", "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh",
    "bitwise_and": "bitwise_and", "bitwise_or": "bitwise_or", "bitwise_xor": "bitwise_xor",
    "invert": "bitwise_not", "left_shift": "bitwise_left_shift",
    "right_shift": "bitwise_right_shift", "rint": "round", "fabs": "abs",
}
FUNCTION_NAMES = {
    "concatenate": "concat", "amax": "max", "amin": "min", "around": "round", "round_": "round",
    "expand_dims": "unsqueeze", "repeat": "repeat_interleave",
    # same name, different meaning in chainrule (PyTorch's): NumPy runs them on the arrays
    "sort": None, "split": None, "median": None, "unique": None, "nonzero": None,
    "meshgrid": None, "histogram": None, "save": None, "load": None, "tensor": None,
    "size": None, "numel": None, "argwhere": None, "count_nonzero": None,
}
_RAW_RESULT = {"shape", "ndim", "size", "result_type", "can_cast", "iscomplexobj",
               "isrealobj", "isscalar", "array_equal", "array_equiv"}


def _op(name):
    """chainrule's public function ``name``, else the primitive of that name in ``ops``."""
    op = getattr(chainrule, name, None)
    if op is None:
        op = getattr(chainrule.ops, name, None)
    return op if callable(op) and not isinstance(op, type) else None


def _raw(x):
    if isinstance(x, chainrule.Tensor):
        return x.data
    if isinstance(x, (list, tuple)):
        return type(x)(_raw(v) for v in x)
    return x


def _requires_grad(values):
    for v in values:
        if isinstance(v, chainrule.Tensor):
            if v.requires_grad:
                return True
        elif isinstance(v, (list, tuple)) and _requires_grad(v):
            return True
    return False


def _wrap_result(result):
    if isinstance(result, np.ndarray):
        return chainrule.Tensor(result)
    if isinstance(result, np.generic) and not isinstance(result, (np.str_, np.bytes_)):
        return chainrule.Tensor(np.asarray(result))
    if isinstance(result, tuple):
        return tuple(_wrap_result(r) for r in result)
    if isinstance(result, list):
        return [_wrap_result(r) for r in result]
    return result


def _var_std(name):
    def numpy_default(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
        if dtype is not None or out is not None or kw:
            raise TypeError(f"numpy.{name}: dtype=, out= and other options are not supported")
        if name == "std" and not hasattr(chainrule, "std"):
            return chainrule.sqrt(chainrule.var(a, axis=axis, keepdims=keepdims, ddof=ddof))
        return getattr(chainrule, name)(a, axis=axis, keepdims=keepdims, ddof=ddof)

    return numpy_default


def _dot(a, b, out=None):
    if out is not None:
        raise TypeError("numpy.dot: out= is not supported on tensors")
    if np.ndim(_raw(a)) == 0 or np.ndim(_raw(b)) == 0:
        return chainrule.mul(a, b)
    if np.ndim(_raw(a)) <= 2 and np.ndim(_raw(b)) <= 2:
        return chainrule.matmul(a, b)
    raise TypeError("numpy.dot: operands with more than 2 dimensions are not supported on tensors")


def _reduction(name):
    """NumPy's ``f(a, axis=None, ..., keepdims=False)`` as chainrule's ``name(a, axis=...)``:
    the axis always goes by keyword, so PyTorch's positional ``dim`` conventions (``max(x, 1)``
    returning values and indices) never apply to a NumPy call."""

    def numpy_reduction(a, axis=None, *rest, keepdims=False, **kw):
        if any(r is not None for r in rest) or any(v is not None for v in kw.values()):
            raise TypeError(f"numpy.{name}: only axis= and keepdims= are supported on tensors")
        op = _op(name)
        if op is None:
            raise TypeError(f"chainrule has no {name!r}")
        return op(a, axis=axis, keepdims=True) if keepdims else op(a, axis=axis)

    return numpy_reduction


# NumPy functions whose defaults differ from chainrule's namesakes
_SPECIAL = {"var": _var_std("var"), "std": _var_std("std"), "dot": _dot}
for _name, _target in [("sum", "sum"), ("mean", "mean"), ("max", "max"), ("amax", "max"),
                       ("min", "min"), ("amin", "min"), ("prod", "prod"), ("argmax", "argmax"),
                       ("argmin", "argmin"), ("any", "any"), ("all", "all")]:
    _SPECIAL[_name] = _reduction(_target)


def _fallback(what, name, fn, args, kwargs, error=None):
    if _requires_grad(args) or _requires_grad(kwargs.values()):
        detail = f" ({error})" if error else ""
        raise TypeError(
            f"numpy.{name} on a tensor that requires grad: chainrule has no differentiable "
            f"'{name}' that accepts these arguments{detail}; use a chainrule op, or call it on "
            "t.detach().numpy() if no gradient is needed"
        ) from error
    result = fn(*_raw(args), **{k: _raw(v) for k, v in kwargs.items()})
    return _wrap_result(result)


def _call(op, name, fn, args, kwargs):
    """Run chainrule's ``op``; if it rejects the NumPy-style arguments, fall back."""
    try:
        return op(*args, **kwargs)
    except TypeError as error:  # e.g. a NumPy-only keyword such as dtype=
        return _fallback("function", name, fn, args, kwargs, error)


def array_ufunc(ufunc, method, inputs, kwargs):
    """Dispatch ``ufunc(*inputs, **kwargs)`` called on tensors (``Tensor.__array_ufunc__``)."""
    out = kwargs.get("out")
    if out is not None:
        if any(isinstance(o, chainrule.Tensor) for o in out):
            return NotImplemented  # NumPy then raises its own TypeError
        # ndarray -= tensor (p.data -= lr * p.grad): compute on the arrays, write in place.
        raw = tuple(_raw(x) for x in inputs)
        return getattr(ufunc, method)(*raw, **kwargs)
    name = ufunc.__name__
    if method == "__call__" and not kwargs:
        op = _SPECIAL.get(name) or _op(UFUNC_NAMES.get(name, name))
        if op is not None:
            return _call(op, name, ufunc, inputs, kwargs)
    return _fallback("ufunc", name if method == "__call__" else f"{name}.{method}",
                     getattr(ufunc, method), inputs, kwargs)


def array_function(func, args, kwargs):
    """Dispatch the NumPy function ``func`` called on tensors (``Tensor.__array_function__``)."""
    name = func.__name__
    if name in _RAW_RESULT:
        return func(*_raw(args), **{k: _raw(v) for k, v in kwargs.items()})
    module = func.__module__ or ""
    if kwargs.get("out") is not None:
        return _fallback("function", name, func, args, kwargs)
    kwargs = {k: v for k, v in kwargs.items() if k != "out"}
    if module.startswith("numpy.linalg"):
        namespace = getattr(chainrule, "linalg", None)
        op = getattr(namespace, name, None) if namespace is not None else None
    elif name in _SPECIAL:
        op = _SPECIAL[name]
    else:
        alias = FUNCTION_NAMES.get(name, name)
        op = _op(alias) if alias else None
    if op is None or not callable(op) or isinstance(op, type):
        return _fallback("function", name, func, args, kwargs)
    return _call(op, name, func, args, kwargs)
