"""Functional forms of the layers and losses (``import chainrule.nn.functional as F``).

Activations, ``linear``, ``softmax`` and the fused losses are the core primitives themselves;
``dropout`` and ``batch_norm`` are the functions behind the layers; ``l1_loss`` and
``huber_loss`` are composed from primitives here.

>>> import chainrule as cr
>>> import chainrule.nn.functional as F
>>> F.relu(cr.tensor([-1.0, 1.0])).tolist()
[0.0, 1.0]
"""

import numpy as np

from chainrule.nn.dropout import dropout
from chainrule.nn.normalization import batch_norm
from chainrule.ops.activation import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    sigmoid,
    softmax,
    softplus,
    step,
    tanh,
)
from chainrule.ops.activation import relu as _relu
from chainrule.ops.arithmetic import linear
from chainrule.ops.base import as_tensor, operands
from chainrule.ops.conv import conv1d, conv2d, pad
from chainrule.ops.elementwise import abs as _abs
from chainrule.ops.elementwise import where as _where
from chainrule.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
)
from chainrule.ops.nn_ops import nll_loss
from chainrule.ops.pooling import (
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from chainrule.ops.shape import flatten
from chainrule.tensor import Tensor


def relu(input, inplace=False):
    """``max(input, 0)`` (``inplace`` is accepted for PyTorch code; the result is a new tensor).

    >>> import chainrule as cr
    >>> relu(cr.tensor([-1.0, 2.0]), inplace=True).tolist()
    [0.0, 2.0]
    """
    return _relu(input)

__all__ = [
    "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
    "dropout", "elu", "flatten", "gelu", "huber_loss", "l1_loss", "leaky_relu", "linear",
    "log_softmax", "mse_loss", "nll_loss", "one_hot", "relu", "sigmoid", "softmax", "softplus",
    "step", "tanh",
]
__all__ += [  # convolution and pooling
    "adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool1d", "avg_pool2d", "conv1d",
    "conv2d", "max_pool1d", "max_pool2d", "pad",
]

# attention and layer normalisation (issue 9)
from chainrule.ops.attention import scaled_dot_product_attention  # noqa: E402
from chainrule.ops.layer_norm import layer_norm  # noqa: E402

__all__ += ["layer_norm", "scaled_dot_product_attention"]
# --- opsmath: PyTorch's wider activation family and F.normalize
from chainrule.ops.activation import (  # noqa: E402
    celu,
    glu,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    prelu,
    relu6,
    selu,
    silu,
    softmin,
    softsign,
    tanhshrink,
    threshold,
)
from chainrule.ops.functional_extra import normalize  # noqa: E402

__all__ += [
    "celu", "glu", "hardsigmoid", "hardswish", "hardtanh", "logsigmoid", "mish", "normalize",
    "prelu", "relu6", "selu", "silu", "softmin", "softsign", "tanhshrink", "threshold",
]
# --- end opsmath

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction, op):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(values, reduction):
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    return values


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error ``mean(|input − target|)``; d/dinput = sign(input − target) / N.

    >>> import chainrule as cr
    >>> l1_loss(cr.tensor([1.0, 4.0]), cr.tensor([2.0, 2.0])).item()
    1.5
    """
    _check_reduction(reduction, "l1_loss")
    input, target = operands(input, target)
    return _reduce(_abs(_difference(input, target, "l1_loss")), reduction)


def _difference(input, target, op):
    """``input − target``, with a broadcasting error that names the loss, not ``sub``."""
    from chainrule.ops.loss import check_target_size

    check_target_size(op, input.shape, target.shape)
    try:
        return input - target
    except ValueError:
        raise ValueError(
            f"{op}: shapes {input.shape} and {target.shape} (input and target) cannot be "
            "broadcast together"
        ) from None


def huber_loss(input, target, reduction="mean", delta=1.0):
    """Huber loss: ``½·d²`` where ``|d| < delta``, else ``delta·(|d| − ½·delta)``, with
    ``d = input − target``: quadratic near zero, linear (robust to outliers) beyond ``delta``.

    >>> import chainrule as cr
    >>> huber_loss(cr.tensor([0.5, 3.0]), cr.tensor([0.0, 0.0]), reduction="none").tolist()
    [0.125, 2.5]
    """
    _check_reduction(reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    input, target = operands(input, target)
    d = _difference(input, target, "huber_loss")
    ad = _abs(d)
    values = _where(ad.data < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))
    return _reduce(values, reduction)


def one_hot(target, num_classes=-1):
    """Class indices ``(*)`` as an int64 one-hot Tensor ``(*, num_classes)`` (no gradient).

    >>> import chainrule as cr
    >>> one_hot(cr.tensor([0, 2]), 3).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot: target must hold integer class indices, got dtype {t.dtype}")
    if num_classes < 0:
        num_classes = int(t.max()) + 1 if t.size else 0
    if t.size and (t.min() < 0 or t.max() >= num_classes):
        raise IndexError(f"one_hot: class values must be in [0, {num_classes}), got "
                         f"[{t.min()}, {t.max()}]")
    return as_tensor((t[..., None] == np.arange(num_classes)).astype(np.int64))

# embeddings (issue 9)
from chainrule.ops.embedding import embedding  # noqa: E402

__all__ += ["embedding"]
