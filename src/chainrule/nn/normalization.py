"""Batch normalisation for ``(N, C)`` and ``(N, C, L)`` inputs, on the fused ``batch_norm``
primitive (``chainrule.ops.nn_ops``: one graph node, closed-form backward).

Per channel ``c``, over the batch (and length) axes::

    y = (x − μ_c) / √(σ²_c + eps) · γ_c + β_c

Training uses the batch mean ``μ`` and the biased batch variance ``σ²``, and updates the
running estimates ``running = (1 − m)·running + m·batch`` with the *unbiased* variance
(``m = momentum``, or ``1 / num_batches_tracked`` when ``momentum=None``: a cumulative
average). Evaluation normalises with the running estimates. These are PyTorch's semantics.

>>> import chainrule as cr
>>> bn = cr.nn.BatchNorm1d(2)
>>> y = bn(cr.tensor([[1.0, 10.0], [3.0, 30.0]]))
>>> [round(v, 3) for v in y.data[:, 0].tolist()], [round(v, 4) for v in bn.running_mean.tolist()]
([-1.0, 1.0], [0.2, 2.0])
"""

import numpy as np

from chainrule.nn.module import Module, _dtype_config, _resolve_dtype
from chainrule.nn.parameter import Parameter
from chainrule.ops.nn_ops import batch_norm as _fused_batch_norm
from chainrule.tensor import Tensor


def _array_of(x):
    return x.data if isinstance(x, Tensor) else x


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Functional batch normalisation over axis 0 (and 2 for 3-D inputs), with channels on
    axis 1 (PyTorch's ``F.batch_norm`` signature). In training the running statistics (Tensors
    or ndarrays, or None) are updated in place with factor ``momentum``; the update is
    bookkeeping outside the graph, the normalisation itself is one fused node.

    >>> import chainrule as cr
    >>> y = batch_norm(cr.tensor([[0.0], [2.0]]), None, None, training=True)
    >>> [round(v, 4) for v in y.data.ravel().tolist()]
    [-1.0, 1.0]
    """
    if not training:
        return _fused_batch_norm(input, weight, bias, running_mean, running_var,
                                 training=False, eps=eps)
    out, mean, var = _fused_batch_norm(input, weight, bias, training=True, eps=eps,
                                       return_stats=True)
    channels = mean.shape[0]
    count = out.data.size // channels
    _update_running(running_mean, mean, momentum, channels, "running_mean")
    _update_running(running_var, var * (count / (count - 1)), momentum, channels, "running_var")
    return out


def _update_running(running, batch_value, momentum, channels, what):
    if running is None:
        return
    array = _array_of(running)
    if array.shape != (channels,):
        raise ValueError(f"batch_norm: {what} has shape {array.shape}, expected ({channels},)")
    new = momentum * batch_value + (1 - momentum) * array
    np.copyto(array, new, casting="unsafe")


class BatchNorm1d(Module):
    """Normalise each of ``num_features`` channels of an ``(N, C)`` or ``(N, C, L)`` input.

    Learnable ``weight`` (γ, ones) and ``bias`` (β, zeros) when ``affine``; buffers
    ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` when
    ``track_running_stats`` (otherwise batch statistics are used in eval mode too).

    >>> import chainrule as cr
    >>> [name for name, _ in cr.nn.BatchNorm1d(3).named_buffers()]
    ['running_mean', 'running_var', 'num_batches_tracked']
    """

    # cr.compile replays the whole call: its running-statistics bookkeeping is Python.
    _compile_as_call = True

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=None):
        super().__init__()
        if num_features <= 0:
            raise ValueError(f"{type(self).__name__}: num_features must be positive, got "
                             f"{num_features}")
        dtype = _resolve_dtype(dtype, type(self).__name__)
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        if self.affine:
            self.weight = Parameter(np.ones(self.num_features, dtype=dtype))
            self.bias = Parameter(np.zeros(self.num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(self.num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(self.num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.zeros((), dtype=np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self):
        """Zero the running mean and batch count, set the running variance to one."""
        if self.track_running_stats:
            self.running_mean.data.fill(0)
            self.running_var.data.fill(1)
            self.num_batches_tracked.data.fill(0)

    def reset_parameters(self):
        """Reset the running statistics, γ to ones and β to zeros."""
        self.reset_running_stats()
        if self.affine:
            self.weight.data.fill(1)
            self.bias.data.fill(0)

    def forward(self, x):
        shape = getattr(x, "shape", None)
        if shape is None or len(shape) not in (2, 3) or shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d: expected an input of shape (N, {self.num_features}) or "
                f"(N, {self.num_features}, L), got {shape}"
            )
        return self._normalize(x)

    def _normalize(self, x):
        """The fused normalisation of an (N, C) or (N, C, L) input, with the running-statistics
        bookkeeping of training mode."""
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.data)
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        keep_stats = not self.training or self.track_running_stats
        return batch_norm(
            x,
            self.running_mean if keep_stats else None,
            self.running_var if keep_stats else None,
            self.weight, self.bias, use_batch_stats, factor, self.eps,
        )

    def get_config(self):
        config = {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum,
                  "affine": self.affine, "track_running_stats": self.track_running_stats}
        if self.affine:
            config.update(_dtype_config(self.weight.data))
        elif self.track_running_stats:
            config.update(_dtype_config(self.running_mean.data))
        return config

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm2d(BatchNorm1d):
    """Normalise each of ``num_features`` channels of an ``(N, C, H, W)`` input over the batch
    and both spatial axes, as ``torch.nn.BatchNorm2d`` (same arguments, parameters, buffers
    and running-statistics rules as :class:`BatchNorm1d`).

    The input is viewed as ``(N, C, H·W)`` (a reshape, no copy) and normalised by the same
    fused ``batch_norm`` primitive, whose per-channel sums run over axes 0 and 2.

    >>> import chainrule as cr, numpy as np
    >>> bn = cr.nn.BatchNorm2d(3)
    >>> y = bn(cr.tensor(np.random.default_rng(0).normal(2.0, 3.0, (4, 3, 5, 5))))
    >>> bool(abs(y.data.mean()) < 1e-6), bn
    (True, BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True))
    """

    def forward(self, x):
        shape = getattr(x, "shape", None)
        if shape is None or len(shape) != 4 or shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm2d: expected an input of shape (N, {self.num_features}, H, W), "
                f"got {shape}"
            )
        n, c, h, w = shape
        return self._normalize(x.reshape(n, c, h * w)).reshape(n, c, h, w)


# --------------------------------------------------------------------------- LayerNorm
from chainrule.ops.layer_norm import layer_norm as _fused_layer_norm  # noqa: E402
from chainrule.ops.layer_norm import normalized_shape_tuple as _normalized_shape  # noqa: E402


class LayerNorm(Module):
    """Normalise each sample over its trailing ``normalized_shape`` axes (PyTorch's
    ``nn.LayerNorm``), on the fused ``layer_norm`` primitive (``chainrule.ops.layer_norm``)::

        y = (x − mean(x)) / √(var(x) + eps) · γ + β

    with the mean and biased variance over the last ``len(normalized_shape)`` axes. When
    ``elementwise_affine``, learnable ``weight`` (γ, ones) and, when ``bias``, ``bias`` (β,
    zeros), both of shape ``normalized_shape``. No running statistics: training and
    evaluation compute the same thing.

    >>> import chainrule as cr
    >>> ln = cr.nn.LayerNorm(3)
    >>> [round(v, 4) for v in ln(cr.tensor([[1.0, 2.0, 3.0]])).data[0].tolist()]
    [-1.2247, 0.0, 1.2247]
    >>> [name for name, _ in ln.named_parameters()]
    ['weight', 'bias']
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 dtype=None):
        super().__init__()
        dtype = _resolve_dtype(dtype, "LayerNorm")
        self.normalized_shape = _normalized_shape(normalized_shape, "LayerNorm")
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self._dtype = dtype

    def reset_parameters(self):
        """γ to ones and β to zeros."""
        if self.weight is not None:
            self.weight.data.fill(1)
        if self.bias is not None:
            self.bias.data.fill(0)

    def forward(self, x):
        return _fused_layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def get_config(self):
        config = {"normalized_shape": list(self.normalized_shape), "eps": self.eps,
                  "elementwise_affine": self.elementwise_affine,
                  "bias": self.bias is not None or not self.elementwise_affine}
        ref = self.weight.data if self.weight is not None else np.empty(0, self._dtype)
        config.update(_dtype_config(ref))
        return config

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
