"""Activation layers: thin modules around the activation primitives of ``chainrule.ops``.

>>> import chainrule as cr
>>> cr.nn.ReLU()(cr.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""

import numpy as np

from chainrule.backend import get_default_dtype
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.ops import activation as _act

__all__ = [
    "CELU", "ELU", "GELU", "GLU", "Hardsigmoid", "Hardswish", "Hardtanh", "LeakyReLU",
    "LogSigmoid", "LogSoftmax", "Mish", "PReLU", "ReLU", "ReLU6", "SELU", "SiLU", "Sigmoid",
    "Softmax", "Softmin", "Softplus", "Softsign", "Step", "Tanh", "Tanhshrink", "Threshold",
]


class _Parameterless(Module):
    """An activation without constructor arguments."""

    def get_config(self):
        return {}


class ReLU(_Parameterless):
    """``max(x, 0)``. ``inplace`` is accepted for PyTorch code and ignored: the result is a new
    tensor (the same values; no input is overwritten).

    >>> import chainrule as cr
    >>> cr.nn.ReLU(inplace=True)(cr.tensor([-2.0, 3.0])).tolist()
    [0.0, 3.0]
    """

    def __init__(self, inplace=False):
        super().__init__()

    def forward(self, x):
        return _act.relu(x)


class Sigmoid(_Parameterless):
    """The logistic function ``1 / (1 + e^−x)``.

    >>> import chainrule as cr
    >>> cr.nn.Sigmoid()(cr.tensor([0.0])).tolist()
    [0.5]
    """

    def forward(self, x):
        return _act.sigmoid(x)


class Tanh(_Parameterless):
    """Hyperbolic tangent.

    >>> import chainrule as cr
    >>> cr.nn.Tanh()(cr.tensor([0.0])).tolist()
    [0.0]
    """

    def forward(self, x):
        return _act.tanh(x)


class Step(_Parameterless):
    """Heaviside step (1 where x >= 0, else 0), the perceptron's activation; zero gradient.

    >>> import chainrule as cr
    >>> cr.nn.Step()(cr.tensor([-1.0, 0.5])).tolist()
    [0.0, 1.0]
    """

    def forward(self, x):
        return _act.step(x)


class LeakyReLU(Module):
    """``x`` where x > 0, else ``negative_slope · x``.

    >>> import chainrule as cr
    >>> cr.nn.LeakyReLU(0.5)(cr.tensor([-2.0, 2.0])).tolist()
    [-1.0, 2.0]
    """

    def __init__(self, negative_slope=0.01, inplace=False):  # inplace: accepted, ignored
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        return _act.leaky_relu(x, self.negative_slope)

    def get_config(self):
        return {"negative_slope": self.negative_slope}

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """``x`` where x > 0, else ``alpha · (e^x − 1)``.

    >>> import chainrule as cr
    >>> cr.nn.ELU()(cr.tensor([1.0])).tolist()
    [1.0]
    """

    def __init__(self, alpha=1.0, inplace=False):  # inplace: accepted, ignored
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x):
        return _act.elu(x, self.alpha)

    def get_config(self):
        return {"alpha": self.alpha}

    def extra_repr(self):
        return f"alpha={self.alpha}"


class GELU(Module):
    """Gaussian error linear unit ``x · Φ(x)``; ``approximate='tanh'`` uses the tanh formula.

    >>> import chainrule as cr
    >>> cr.nn.GELU()(cr.tensor([0.0])).tolist()
    [0.0]
    """

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return _act.gelu(x, self.approximate)

    def get_config(self):
        return {"approximate": self.approximate}

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """``log(1 + e^(beta·x)) / beta``, and ``x`` where ``beta·x > threshold``.

    >>> import chainrule as cr
    >>> round(cr.nn.Softplus()(cr.tensor([0.0])).item(), 4)
    0.6931
    """

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = float(beta)
        self.threshold = float(threshold)

    def forward(self, x):
        return _act.softplus(x, self.beta, self.threshold)

    def get_config(self):
        return {"beta": self.beta, "threshold": self.threshold}

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """``e^x / Σ e^x`` along ``dim`` (the last axis by default).

    >>> import chainrule as cr
    >>> cr.nn.Softmax(dim=1)(cr.zeros(1, 2)).tolist()
    [[0.5, 0.5]]
    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = -1 if dim is None else int(dim)  # None (PyTorch's implicit dim): the last

    def forward(self, x):
        return _act.softmax(x, self.dim)

    def get_config(self):
        return {"dim": self.dim}

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """``x − logsumexp(x)`` along ``dim`` (the last axis by default); pair it with NLLLoss.

    >>> import chainrule as cr
    >>> round(cr.nn.LogSoftmax()(cr.zeros(2)).tolist()[0], 4)
    -0.6931
    """

    def forward(self, x):
        return _act.log_softmax(x, self.dim)


# --------------------------------------------------------------------------- PyTorch's wider family
class _Elementwise(Module):
    """An activation without learnable state; ``inplace`` is accepted for PyTorch's signature
    and ignored (the op always returns a new tensor)."""

    _fn = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, x):
        return type(self)._fn(x)

    def get_config(self):
        return {}


class SiLU(_Elementwise):
    """SiLU (swish) ``x · σ(x)``.

    >>> import chainrule as cr
    >>> cr.nn.SiLU()(cr.tensor([0.0])).tolist()
    [0.0]
    """

    _fn = staticmethod(_act.silu)


class Mish(_Elementwise):
    """Mish ``x · tanh(softplus(x))``.

    >>> import chainrule as cr
    >>> cr.nn.Mish()(cr.tensor([0.0])).tolist()
    [0.0]
    """

    _fn = staticmethod(_act.mish)


class Hardswish(_Elementwise):
    """``x · relu6(x + 3) / 6``.

    >>> import chainrule as cr
    >>> cr.nn.Hardswish()(cr.tensor([4.0])).tolist()
    [4.0]
    """

    _fn = staticmethod(_act.hardswish)


class Hardsigmoid(_Elementwise):
    """``relu6(x + 3) / 6``.

    >>> import chainrule as cr
    >>> cr.nn.Hardsigmoid()(cr.tensor([0.0])).tolist()
    [0.5]
    """

    _fn = staticmethod(_act.hardsigmoid)


class ReLU6(_Elementwise):
    """``min(max(x, 0), 6)``.

    >>> import chainrule as cr
    >>> cr.nn.ReLU6()(cr.tensor([9.0])).tolist()
    [6.0]
    """

    _fn = staticmethod(_act.relu6)


class SELU(_Elementwise):
    """Scaled ELU with PyTorch's constants.

    >>> import chainrule as cr
    >>> cr.nn.SELU()(cr.tensor([0.0])).tolist()
    [0.0]
    """

    _fn = staticmethod(_act.selu)


class Softsign(_Parameterless):
    """``x / (1 + |x|)``.

    >>> import chainrule as cr
    >>> cr.nn.Softsign()(cr.tensor([1.0])).tolist()
    [0.5]
    """

    def forward(self, x):
        return _act.softsign(x)


class LogSigmoid(_Parameterless):
    """``log σ(x)``, stable for any ``x``.

    >>> import chainrule as cr
    >>> round(cr.nn.LogSigmoid()(cr.tensor([0.0])).item(), 4)
    -0.6931
    """

    def forward(self, x):
        return _act.logsigmoid(x)


class Tanhshrink(_Parameterless):
    """``x − tanh(x)``.

    >>> import chainrule as cr
    >>> cr.nn.Tanhshrink()(cr.tensor([0.0])).tolist()
    [0.0]
    """

    def forward(self, x):
        return _act.tanhshrink(x)


class Hardtanh(Module):
    """``x`` clipped to ``[min_val, max_val]``.

    >>> import chainrule as cr
    >>> cr.nn.Hardtanh(-2.0, 2.0)(cr.tensor([-3.0, 1.0])).tolist()
    [-2.0, 1.0]
    """

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val {min_val} is larger than max_val {max_val}")
        self.min_val, self.max_val, self.inplace = float(min_val), float(max_val), inplace

    def forward(self, x):
        return _act.hardtanh(x, self.min_val, self.max_val)

    def get_config(self):
        return {"min_val": self.min_val, "max_val": self.max_val}

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"


class CELU(Module):
    """``x`` where x > 0, else ``alpha · (e^(x/alpha) − 1)``.

    >>> import chainrule as cr
    >>> cr.nn.CELU(0.5)(cr.tensor([1.0])).tolist()
    [1.0]
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = float(alpha), inplace

    def forward(self, x):
        return _act.celu(x, self.alpha)

    def get_config(self):
        return {"alpha": self.alpha}

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Threshold(Module):
    """``x`` where ``x > threshold``, else ``value``.

    >>> import chainrule as cr
    >>> cr.nn.Threshold(0.5, -1.0)(cr.tensor([0.0, 1.0])).tolist()
    [-1.0, 1.0]
    """

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = float(threshold), float(value), inplace

    def forward(self, x):
        return _act.threshold(x, self.threshold, self.value)

    def get_config(self):
        return {"threshold": self.threshold, "value": self.value}

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}"


class Softmin(Softmax):
    """``softmax(−x)`` along ``dim`` (the last axis by default).

    >>> import chainrule as cr
    >>> cr.nn.Softmin(dim=0)(cr.zeros(2)).tolist()
    [0.5, 0.5]
    """

    def forward(self, x):
        return _act.softmin(x, self.dim)


class GLU(Module):
    """Gated linear unit: halves ``a, b`` of ``x`` along ``dim``, output ``a · σ(b)``.

    >>> import chainrule as cr
    >>> cr.nn.GLU()(cr.ones(3, 4)).shape
    (3, 2)
    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = int(dim)

    def forward(self, x):
        return _act.glu(x, self.dim)

    def get_config(self):
        return {"dim": self.dim}

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """``x`` where x > 0, else ``weight · x``, with a learnable slope: one for all channels
    (``num_parameters=1``) or one per channel (dim 1 of the input). The state_dict key is
    ``weight``, shape ``(num_parameters,)``, initialised to ``init`` (0.25) as in PyTorch.

    >>> import chainrule as cr
    >>> m = cr.nn.PReLU(); m(cr.tensor([-2.0, 2.0])).tolist(), list(m.state_dict())
    ([-0.5, 2.0], ['weight'])
    """

    def __init__(self, num_parameters=1, init=0.25, dtype=None):
        super().__init__()
        if int(num_parameters) < 1:
            raise ValueError(f"PReLU: num_parameters must be >= 1, got {num_parameters}")
        self.num_parameters = int(num_parameters)
        self.init = float(init)
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        self.weight = Parameter(np.full(self.num_parameters, self.init, dtype=dtype))

    def forward(self, x):
        return _act.prelu(x, self.weight)

    def get_config(self):
        return {"num_parameters": self.num_parameters, "init": self.init}

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"
