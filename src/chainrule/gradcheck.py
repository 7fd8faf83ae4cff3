"""Checking autograd: central finite differences (``gradcheck``) and Jacobians from
reverse-mode passes (``jacobian``).

>>> import chainrule as cr, numpy as np
>>> x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
>>> cr.gradcheck(lambda t: (t * t).sum(), [x])
True
"""

import numpy as np

from chainrule.autograd import no_grad
from chainrule.tensor import Tensor


class GradcheckError(AssertionError):
    """Autograd and finite differences disagree."""


def _scalar_output(fn, inputs):
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    return out


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Compare autograd's gradient of ``fn(*inputs)`` with central finite differences.

    Inputs that require grad are checked in float64 (float32 inputs are promoted for the
    check). A non-scalar output is reduced with fixed random weights, which checks the full
    vector-Jacobian product. An input the output does not depend on must get a zero gradient.
    Returns True, or raises :class:`GradcheckError` naming the worst mismatch: input index,
    element, autograd value and numerical value.

    >>> import chainrule as cr
    >>> w = cr.tensor(np.ones((2, 2)), requires_grad=True)
    >>> cr.gradcheck(lambda w: cr.tanh(w @ w), [w])
    True
    """
    inputs = list(inputs)
    promoted = []
    for t in inputs:
        if isinstance(t, Tensor) and t.requires_grad:
            # A float64, C-contiguous copy: perturbing it element by element must reach fn.
            t = Tensor(np.array(t.data, dtype=np.float64, order="C"), requires_grad=True)
        promoted.append(t)
    inputs = promoted
    probe = _scalar_output(fn, inputs)
    weights = np.random.default_rng(0).standard_normal(probe.shape) if probe.data.size > 1 else None

    def scalar(*args):
        out = _scalar_output(fn, args)
        if weights is None:
            return out.sum()
        return (out * Tensor(weights.astype(out.data.dtype))).sum()

    for t in inputs:
        if isinstance(t, Tensor):
            t.grad = None
    total = scalar(*inputs)
    # An output that depends on no input has no graph: its autograd gradient is zero, and the
    # finite differences below must agree.
    if total.requires_grad:
        total.backward()
    analytic = [t.grad.data.copy() if isinstance(t, Tensor) and t.grad is not None else None
                for t in inputs]

    worst = None
    with no_grad():
        for i, t in enumerate(inputs):
            if not (isinstance(t, Tensor) and t.requires_grad):
                continue
            flat = t.data.reshape(-1)
            got = analytic[i].reshape(-1) if analytic[i] is not None else np.zeros_like(flat)
            for j in range(flat.size):
                orig = flat[j]
                flat[j] = orig + eps
                plus = float(scalar(*inputs).item())
                flat[j] = orig - eps
                minus = float(scalar(*inputs).item())
                flat[j] = orig
                numeric = (plus - minus) / (2 * eps)
                err = abs(got[j] - numeric)
                bound = atol + rtol * abs(numeric)
                if not err <= bound and (worst is None or not err - bound <= worst[0]):
                    index = np.unravel_index(j, t.data.shape)
                    worst = (err - bound, i, index, float(got[j]), numeric)
    if worst is not None:
        _, i, index, got, numeric = worst
        raise GradcheckError(
            f"gradcheck: input {i}, element {tuple(int(k) for k in index)}: autograd gives "
            f"{got:.10g} but finite differences give {numeric:.10g} (atol={atol}, rtol={rtol})"
        )
    return True


def jacobian(fn, x):
    """The Jacobian ``J[i, j] = ∂fn(x)_i / ∂x_j`` built from one reverse-mode pass per output.

    The result has shape ``fn(x).shape + x.shape``.

    >>> import chainrule as cr
    >>> W = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> jacobian(lambda x: W @ x, cr.tensor([5.0, 6.0])).tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    x = Tensor(x.data, requires_grad=True)
    y = fn(x)
    if not isinstance(y, Tensor):
        raise TypeError(f"jacobian: fn must return a Tensor, got {type(y).__name__}")
    jac = np.zeros((y.data.size, x.data.size), dtype=np.result_type(y.data, x.data))
    for i in range(y.data.size):
        seed = np.zeros(y.data.size, dtype=y.data.dtype)
        seed[i] = 1
        x.grad = None
        if y.requires_grad:
            y.backward(seed.reshape(y.shape), retain_graph=True)
        if x.grad is not None:
            jac[i] = x.grad.data.reshape(-1)
    return Tensor(jac.reshape(y.data.shape + x.data.shape))
