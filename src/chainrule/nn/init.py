"""Weight initialisation, in place, with PyTorch's formulas (``torch.nn.init``).

Every function fills ``tensor.data`` (a Tensor or Parameter; a bare ndarray works too) without
recording a graph, draws from the library generator (``cr.manual_seed`` makes it reproducible)
and returns its argument.

For a weight of shape ``(out, in, *kernel)``: ``fan_in = in · prod(kernel)``,
``fan_out = out · prod(kernel)``.

>>> import chainrule as cr
>>> w = cr.nn.Parameter(cr.zeros(64, 32))
>>> bound = calculate_gain("relu") * (3 / 32) ** 0.5
>>> bool(abs(kaiming_uniform_(w, nonlinearity="relu").data).max() <= bound)
True
"""

import math

import numpy as np

from chainrule.backend import rng_of
from chainrule.tensor import Tensor

__all__ = [
    "calculate_gain", "constant_", "eye_", "kaiming_normal_", "kaiming_uniform_", "normal_",
    "ones_", "uniform_", "xavier_normal_", "xavier_uniform_", "zeros_",
]

_LINEAR_FNS = (
    "linear", "identity", "conv1d", "conv2d", "conv3d",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
)


def _array(tensor, op):
    array = tensor.data if isinstance(tensor, Tensor) else tensor
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{op}: expected a Tensor or an ndarray, got {type(tensor).__name__}")
    if not array.flags.writeable:
        raise ValueError(f"{op}: the array of shape {array.shape} is read-only")
    return array


def _fill(tensor, values, op):
    array = _array(tensor, op)
    np.copyto(array, values, casting="unsafe")
    return tensor


def calculate_gain(nonlinearity, param=None):
    """The recommended scale for a nonlinearity (PyTorch's table):
    linear/conv/sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2 / (1 + slope²)) (slope 0.01 by
    default), selu 3/4.

    >>> round(calculate_gain("leaky_relu", 0.2), 6)
    1.38675
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(array, op):
    if array.ndim < 2:
        raise ValueError(
            f"{op}: fan in and fan out can not be computed for a tensor with fewer than 2 "
            f"dimensions (shape {array.shape})"
        )
    receptive = int(np.prod(array.shape[2:])) if array.ndim > 2 else 1
    return array.shape[1] * receptive, array.shape[0] * receptive


def _fan(array, mode, op):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{op}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(array, op)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with draws from U(a, b).

    >>> import chainrule as cr
    >>> float(uniform_(cr.zeros(100), 2.0, 3.0).data.min()) >= 2.0
    True
    """
    array = _array(tensor, "uniform_")
    return _fill(tensor, rng_of(generator).uniform(a, b, size=array.shape), "uniform_")


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with draws from N(mean, std²)."""
    array = _array(tensor, "normal_")
    return _fill(tensor, rng_of(generator).normal(mean, std, size=array.shape), "normal_")


def constant_(tensor, val):
    """Fill with the constant ``val``.

    >>> import chainrule as cr
    >>> constant_(cr.zeros(2), 0.5).tolist()
    [0.5, 0.5]
    """
    _array(tensor, "constant_").fill(val)
    return tensor


def zeros_(tensor):
    """Fill with zeros."""
    return constant_(tensor, 0)


def ones_(tensor):
    """Fill with ones."""
    return constant_(tensor, 1)


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal)."""
    array = _array(tensor, "eye_")
    if array.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {array.shape}")
    return _fill(tensor, np.eye(*array.shape), "eye_")


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(−a, a) with ``a = gain · √(6 / (fan_in + fan_out))``.

    >>> import chainrule as cr
    >>> w = xavier_uniform_(cr.zeros(30, 20)); bool(abs(w.data).max() <= (6 / 50) ** 0.5)
    True
    """
    array = _array(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(array, "xavier_uniform_")
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    draws = rng_of(generator).uniform(-bound, bound, size=array.shape)
    return _fill(tensor, draws, "xavier_uniform_")


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std²) with ``std = gain · √(2 / (fan_in + fan_out))``."""
    array = _array(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(array, "xavier_normal_")
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _fill(tensor, rng_of(generator).normal(0.0, std, size=array.shape), "xavier_normal_")


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(−bound, bound) with ``bound = gain · √(3 / fan)``,
    ``gain = calculate_gain(nonlinearity, a)`` and ``fan`` chosen by ``mode``.

    ``nn.Linear`` uses ``a = √5``, which gives ``bound = 1 / √fan_in``.

    >>> import chainrule as cr
    >>> w = kaiming_uniform_(cr.zeros(10, 25), a=5 ** 0.5); bool(abs(w.data).max() <= 0.2)
    True
    """
    array = _array(tensor, "kaiming_uniform_")
    if 0 in array.shape:
        return tensor
    fan = _fan(array, mode, "kaiming_uniform_")
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    draws = rng_of(generator).uniform(-bound, bound, size=array.shape)
    return _fill(tensor, draws, "kaiming_uniform_")


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std²) with ``std = gain / √fan``."""
    array = _array(tensor, "kaiming_normal_")
    if 0 in array.shape:
        return tensor
    fan = _fan(array, mode, "kaiming_normal_")
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return _fill(tensor, rng_of(generator).normal(0.0, std, size=array.shape), "kaiming_normal_")
