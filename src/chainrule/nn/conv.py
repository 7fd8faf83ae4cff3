"""Convolution layers ``Conv1d`` and ``Conv2d``, on the ``conv1d`` / ``conv2d`` primitives.

Parameters, defaults, initialisation, ``state_dict`` keys and repr follow ``torch.nn``:
weight ``(out_channels, in_channels / groups, *kernel_size)`` and bias ``(out_channels,)``,
both from U(−1/√fan_in, 1/√fan_in) with ``fan_in = in_channels / groups · prod(kernel_size)``
(``kaiming_uniform_(a=√5)`` for the weight).

>>> import chainrule as cr
>>> cr.nn.Conv2d(1, 6, 5)
Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))
>>> cr.nn.Conv2d(1, 6, 5)(cr.ones(2, 1, 28, 28)).shape
(2, 6, 24, 24)
"""

import math

import numpy as np

from chainrule.nn import init
from chainrule.nn.module import Module, _dtype_config, _resolve_dtype
from chainrule.nn.parameter import Parameter
from chainrule.ops.conv import _conv_padding, conv1d, conv2d, ntuple, pad, positive_tuple

__all__ = ["Conv1d", "Conv2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What Conv1d and Conv2d share: arguments, parameters, initialisation, repr, config."""

    _nd = 2
    _functional = staticmethod(conv2d)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", dtype=None):
        super().__init__()
        name, nd = type(self).__name__, self._nd
        if in_channels <= 0 or out_channels <= 0:
            raise ValueError(f"{name}: in_channels and out_channels must be positive, got "
                             f"{in_channels} and {out_channels}")
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels ({in_channels}) "
                             f"and out_channels ({out_channels})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {', '.join(_PADDING_MODES)}, "
                             f"got {padding_mode!r}")
        dtype = _resolve_dtype(dtype, name)
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = positive_tuple(kernel_size, nd, name, "kernel_size")
        self.stride = positive_tuple(stride, nd, name, "stride")
        self.dilation = positive_tuple(dilation, nd, name, "dilation")
        if isinstance(padding, str):
            self.padding = padding
        else:
            self.padding = ntuple(padding, nd, name, "padding")
        # the (before, after) pairs; validates 'same' against the stride
        self._pads = _conv_padding(self.padding, self.kernel_size, self.dilation, self.stride,
                                   name)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        self.weight = Parameter(np.empty((self.out_channels, self.in_channels // self.groups)
                                         + self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Redraw the weight (kaiming_uniform_, a=√5) and bias from U(−1/√fan_in, 1/√fan_in)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight.data, type(self).__name__)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        if self.padding_mode == "zeros":
            return self._functional(x, self.weight, self.bias, self.stride, self.padding,
                                    self.dilation, self.groups)
        spec = [p for pair in reversed(self._pads) for p in pair]  # (left, right, top, bottom)
        return self._functional(pad(x, spec, mode=self.padding_mode), self.weight, self.bias,
                                self.stride, 0, self.dilation, self.groups)

    def get_config(self):
        padding = self.padding if isinstance(self.padding, str) else list(self.padding)
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": list(self.stride),
                "padding": padding, "dilation": list(self.dilation), "groups": self.groups,
                "bias": self.bias is not None, "padding_mode": self.padding_mode,
                **_dtype_config(self.weight.data)}

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-D convolution over ``(N, C_in, H, W)`` (or ``(C_in, H, W)``) inputs:
    ``out[n, o] = bias[o] + Σ_c weight[o, c] ⋆ x[n, c]`` (⋆: cross-correlation), output
    ``(N, C_out, OH, OW)`` with ``OH = ⌊(H + 2p − d·(k − 1) − 1)/s⌋ + 1``.

    Arguments as ``torch.nn.Conv2d``: ``kernel_size``, ``stride``, ``dilation`` (ints or pairs),
    ``padding`` (int, pair, ``'same'`` or ``'valid'``), ``groups``, ``bias`` and
    ``padding_mode`` (``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``).

    >>> import chainrule as cr
    >>> conv = cr.nn.Conv2d(3, 8, 3, padding="same", bias=False)
    >>> conv.weight.shape, conv(cr.ones(1, 3, 10, 10)).shape
    ((8, 3, 3, 3), (1, 8, 10, 10))
    """

    _nd = 2
    _functional = staticmethod(conv2d)


class Conv1d(_ConvNd):
    """1-D convolution over ``(N, C_in, L)`` (or ``(C_in, L)``) inputs, as ``torch.nn.Conv1d``;
    weight ``(out_channels, in_channels / groups, kernel_size)``.

    >>> import chainrule as cr
    >>> cr.nn.Conv1d(4, 2, 3, stride=2)(cr.ones(5, 4, 9)).shape
    (5, 2, 4)
    """

    _nd = 1
    _functional = staticmethod(conv1d)
