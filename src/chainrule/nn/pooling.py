"""Pooling layers: ``MaxPool1d/2d``, ``AvgPool1d/2d``, ``AdaptiveAvgPool2d`` and
``AdaptiveMaxPool2d``, on the primitives of ``chainrule.ops.pooling``. Arguments, defaults
(``stride=None`` means ``stride = kernel_size``) and repr follow ``torch.nn``.

>>> import chainrule as cr
>>> cr.nn.MaxPool2d(2)
MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
>>> cr.nn.MaxPool2d(2)(cr.ones(1, 3, 8, 8)).shape
(1, 3, 4, 4)
"""

from chainrule.nn.module import Module
from chainrule.ops import pooling as P

__all__ = ["AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool1d", "AvgPool2d", "MaxPool1d",
           "MaxPool2d"]


def _plain(value):
    """A JSON-friendly argument: tuples as lists."""
    return list(value) if isinstance(value, tuple) else value


def _arg(value):
    """An argument as PyTorch keeps it: a list (e.g. from a saved config) becomes a tuple."""
    return tuple(value) if isinstance(value, list) else value


class _MaxPoolNd(Module):
    _functional = staticmethod(P.max_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = _arg(kernel_size)
        self.stride = _arg(stride if stride is not None else kernel_size)
        self.padding = _arg(padding)
        self.dilation = _arg(dilation)
        self.return_indices = bool(return_indices)
        self.ceil_mode = bool(ceil_mode)

    def forward(self, x):
        return self._functional(x, self.kernel_size, self.stride, self.padding, self.dilation,
                                self.ceil_mode, self.return_indices)

    def get_config(self):
        return {"kernel_size": _plain(self.kernel_size), "stride": _plain(self.stride),
                "padding": _plain(self.padding), "dilation": _plain(self.dilation),
                "return_indices": self.return_indices, "ceil_mode": self.ceil_mode}

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """The maximum of each ``kernel_size`` window of an ``(N, C, H, W)`` input, as
    ``torch.nn.MaxPool2d``; ``return_indices=True`` also returns the flat index of each
    maximum within its ``H·W`` plane.

    >>> import chainrule as cr, numpy as np
    >>> cr.nn.MaxPool2d(2)(cr.tensor(np.arange(16.0).reshape(1, 1, 4, 4))).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    """

    _functional = staticmethod(P.max_pool2d)


class MaxPool1d(_MaxPoolNd):
    """The maximum of each window of an ``(N, C, L)`` input, as ``torch.nn.MaxPool1d``.

    >>> import chainrule as cr
    >>> cr.nn.MaxPool1d(3, stride=1)(cr.ones(2, 4, 10)).shape
    (2, 4, 8)
    """

    _functional = staticmethod(P.max_pool1d)


class AvgPool2d(Module):
    """The mean of each ``kernel_size`` window of an ``(N, C, H, W)`` input, as
    ``torch.nn.AvgPool2d`` (``count_include_pad``, ``ceil_mode``, ``divisor_override``).

    >>> import chainrule as cr
    >>> cr.nn.AvgPool2d(2)
    AvgPool2d(kernel_size=2, stride=2, padding=0)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = _arg(kernel_size)
        self.stride = _arg(stride if stride is not None else kernel_size)
        self.padding = _arg(padding)
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, x):
        return P.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def get_config(self):
        return {"kernel_size": _plain(self.kernel_size), "stride": _plain(self.stride),
                "padding": _plain(self.padding), "ceil_mode": self.ceil_mode,
                "count_include_pad": self.count_include_pad,
                "divisor_override": self.divisor_override}

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _single(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


class AvgPool1d(Module):
    """The mean of each window of an ``(N, C, L)`` input, as ``torch.nn.AvgPool1d``.

    >>> import chainrule as cr
    >>> cr.nn.AvgPool1d(2)
    AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)

    def forward(self, x):
        return P.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def get_config(self):
        return {"kernel_size": list(self.kernel_size), "stride": list(self.stride),
                "padding": list(self.padding), "ceil_mode": self.ceil_mode,
                "count_include_pad": self.count_include_pad}

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average-pool an ``(N, C, H, W)`` input to ``output_size`` (int, pair; None keeps an
    axis), as ``torch.nn.AdaptiveAvgPool2d``; ``AdaptiveAvgPool2d(1)`` is global average
    pooling.

    >>> import chainrule as cr
    >>> cr.nn.AdaptiveAvgPool2d((1, 1))(cr.ones(2, 5, 7, 3)).shape
    (2, 5, 1, 1)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = _arg(output_size)

    def forward(self, x):
        return P.adaptive_avg_pool2d(x, self.output_size)

    def get_config(self):
        return {"output_size": _plain(self.output_size)}

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max-pool an ``(N, C, H, W)`` input to ``output_size``, as
    ``torch.nn.AdaptiveMaxPool2d``.

    >>> import chainrule as cr
    >>> cr.nn.AdaptiveMaxPool2d(2)(cr.ones(1, 3, 5, 5)).shape
    (1, 3, 2, 2)
    """

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = _arg(output_size)
        self.return_indices = bool(return_indices)

    def forward(self, x):
        return P.adaptive_max_pool2d(x, self.output_size, self.return_indices)

    def get_config(self):
        return {"output_size": _plain(self.output_size), "return_indices": self.return_indices}

    def extra_repr(self):
        return f"output_size={self.output_size}"
