"""Activation layers: thin modules around the activation primitives of ``chainrule.ops``.

>>> import chainrule as cr
>>> cr.nn.ReLU()(cr.tensor([-1.0, 2.0])).tolist()
[0.0, 2.0]
"""

from chainrule.nn.module import Module
from chainrule.ops import activation as _act

__all__ = [
    "ELU", "GELU", "LeakyReLU", "LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Softplus", "Step",
    "Tanh",
]


class _Parameterless(Module):
    """An activation without constructor arguments."""

    def get_config(self):
        return {}


class ReLU(_Parameterless):
    """``max(x, 0)``.

    >>> import chainrule as cr
    >>> cr.nn.ReLU()(cr.tensor([-2.0, 3.0])).tolist()
    [0.0, 3.0]
    """

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

    def __init__(self, negative_slope=0.01):
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

    def __init__(self, alpha=1.0):
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
