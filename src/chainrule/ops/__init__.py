"""The primitives. Each module keeps every op's forward and backward side by side."""

from chainrule.ops.activation import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    softplus,
    step,
    tanh,
)
from chainrule.ops.arithmetic import add, astype, div, linear, matmul, mul, neg, pow, rpow, sub
from chainrule.ops.base import unbroadcast
from chainrule.ops.elementwise import abs, clip, exp, log, maximum, minimum, sqrt, where
from chainrule.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
)
from chainrule.ops.nn_ops import batch_norm, nll_loss
from chainrule.ops.reduction import logsumexp, max, mean, min, sum, var
from chainrule.ops.shape import (
    broadcast_to,
    concat,
    flatten,
    getitem,
    permute,
    reshape,
    squeeze,
    stack,
    swapaxes,
    transpose,
    unsqueeze,
)


def _reflected(fn):
    def reflected(self, other):
        return fn(other, self)

    reflected.__name__ = f"r{fn.__name__}"
    return reflected


def install_tensor_methods(cls):
    """Give Tensor its operators and op methods (called once, from tensor.py)."""
    cls.__add__ = add
    cls.__radd__ = _reflected(add)
    cls.__sub__ = sub
    cls.__rsub__ = _reflected(sub)
    cls.__mul__ = mul
    cls.__rmul__ = _reflected(mul)
    cls.__truediv__ = div
    cls.__rtruediv__ = _reflected(div)
    cls.__neg__ = neg
    cls.__pos__ = lambda self: self
    cls.__pow__ = pow
    cls.__rpow__ = rpow
    cls.__matmul__ = matmul
    cls.__rmatmul__ = _reflected(matmul)
    cls.__getitem__ = getitem
    cls.__abs__ = abs
    for fn in (sum, mean, max, min, var, exp, log, sqrt, abs, tanh, sigmoid, relu, clip, reshape,
               transpose, permute, swapaxes, flatten, squeeze, unsqueeze, softmax, log_softmax,
               logsumexp, leaky_relu, gelu, elu, softplus, step, broadcast_to, matmul, pow):
        setattr(cls, fn.__name__, fn)
    cls.view = reshape
    cls.mm = matmul
    cls.clamp = clip


__all__ = [
    "abs", "add", "astype", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "broadcast_to", "clip", "concat", "cross_entropy",
    "div", "elu", "exp", "flatten", "gelu", "getitem", "leaky_relu", "linear", "log",
    "log_softmax", "logsumexp", "matmul", "max", "maximum", "mean", "min", "minimum",
    "mse_loss", "mul", "neg", "nll_loss", "permute", "pow", "relu", "reshape", "rpow",
    "sigmoid", "softmax", "softplus", "sqrt", "squeeze", "stack", "step", "sub", "sum",
    "swapaxes", "tanh", "transpose", "unbroadcast", "unsqueeze", "var", "where",
]

# embeddings and fused recurrent layers (issue 9)
from chainrule.ops.embedding import embedding  # noqa: E402
from chainrule.ops.recurrent import gru_layer, lstm_layer, recurrent_layer, rnn_layer  # noqa: E402

__all__ += ["embedding", "gru_layer", "lstm_layer", "recurrent_layer", "rnn_layer"]
