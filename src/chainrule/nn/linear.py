"""Linear, Identity and Flatten layers.

>>> import chainrule as cr
>>> cr.nn.Linear(3, 2)
Linear(in_features=3, out_features=2, bias=True)
"""

import math

import numpy as np

from chainrule import _allocation
from chainrule.nn import init
from chainrule.nn.module import Module, _dtype_config, _resolve_dtype
from chainrule.nn.parameter import Parameter
from chainrule.ops.arithmetic import linear as _linear
from chainrule.ops.shape import flatten as _flatten


class Linear(Module):
    """The affine map ``y = x Wᵀ + b``.

    Shapes: input ``(*, in_features)``, weight ``W: (out_features, in_features)`` (as in
    PyTorch), bias ``b: (out_features,)``, output ``(*, out_features)``. Both are initialised
    from U(−1/√in_features, 1/√in_features), PyTorch's default. The forward pass is one fused
    primitive (``ops.linear``).

    >>> import chainrule as cr
    >>> layer = cr.nn.Linear(3, 2)
    >>> layer.weight.shape, layer(cr.ones(5, 3)).shape
    ((2, 3), (5, 2))
    """

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        for arg, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"Linear: {arg} must be an integer, got {value!r} "
                                f"({type(value).__name__})")
        if in_features < 0 or out_features < 0:
            raise ValueError(
                f"Linear: in_features and out_features must be >= 0, got {in_features} and "
                f"{out_features}"
            )
        dtype = _resolve_dtype(dtype, "Linear")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        if _allocation.active:  # rebuilding an untrusted file: check before np.empty
            _allocation.reserve((self.in_features + bool(bias)) * self.out_features
                                * np.dtype(dtype).itemsize)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Redraw weight and bias from U(−1/√in_features, 1/√in_features)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return _linear(x, self.weight, self.bias)

    def get_config(self):
        return {"in_features": self.in_features, "out_features": self.out_features,
                "bias": self.bias is not None, **_dtype_config(self.weight.data)}

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Return the input unchanged (a placeholder, e.g. for an optional layer).

    >>> import chainrule as cr
    >>> cr.nn.Identity()(cr.ones(2)).tolist()
    [1.0, 1.0]
    """

    def __init__(self, *args, **kwargs):
        super().__init__()  # PyTorch's Identity ignores its arguments; so do we

    def forward(self, x):
        return x

    def get_config(self):
        return {}


class Flatten(Module):
    """Merge dimensions ``start_dim..end_dim`` into one (by default all but the batch one).

    >>> import chainrule as cr
    >>> cr.nn.Flatten()(cr.ones(2, 3, 4)).shape
    (2, 12)
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = int(start_dim)
        self.end_dim = int(end_dim)

    def forward(self, x):
        return _flatten(x, self.start_dim, self.end_dim)

    def get_config(self):
        return {"start_dim": self.start_dim, "end_dim": self.end_dim}

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size``, as ``torch.nn.Unflatten``: the inverse
    of Flatten, e.g. flat 784-pixel rows back into ``(1, 28, 28)`` images for a convolution.

    >>> import chainrule as cr
    >>> cr.nn.Unflatten(1, (1, 8, 8))(cr.ones(5, 64)).shape
    (5, 1, 8, 8)
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim = int(dim)
        self.unflattened_size = tuple(int(s) for s in unflattened_size)

    def forward(self, x):
        shape = x.shape
        dim = self.dim % len(shape)
        size = 1
        for s in self.unflattened_size:
            size *= s
        if -1 not in self.unflattened_size and size != shape[dim]:
            raise ValueError(f"Unflatten: cannot split dimension {self.dim} of size "
                             f"{shape[dim]} into {self.unflattened_size} (input shape {shape})")
        return x.reshape(shape[:dim] + self.unflattened_size + shape[dim + 1:])

    def get_config(self):
        return {"dim": self.dim, "unflattened_size": list(self.unflattened_size)}

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
