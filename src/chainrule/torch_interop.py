"""Weight exchange with PyTorch (``cr.torch_interop``): state dicts both ways, and the
equivalent ``torch.nn`` module of a chainrule model (and back).

chainrule names parameters and buffers as PyTorch does (``0.weight``, ``2.running_mean``)
and stores Linear weights as ``(out_features, in_features)``, so a state dict converts key for
key, array for tensor. PyTorch is imported only when a helper that needs it is called.

>>> import numpy as np, chainrule as cr, torch
>>> net = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.ReLU(), cr.nn.Linear(4, 2)).double()
>>> twin = to_torch_module(net)
>>> x = np.random.default_rng(0).normal(size=(5, 3))
>>> bool(np.allclose(twin(torch.from_numpy(x)).detach().numpy(), net(cr.tensor(x)).data))
True
>>> net.load_state_dict(from_torch_state_dict(twin.state_dict()))
IncompatibleKeys(missing_keys=[], unexpected_keys=[])
"""

from collections import OrderedDict

import numpy as np

from chainrule import nn
from chainrule.tensor import Tensor

__all__ = ["from_torch_module", "from_torch_state_dict", "to_torch_module", "to_torch_state_dict"]


def _import_torch():
    try:
        import torch
    except ImportError as e:
        raise ImportError(
            "chainrule.torch_interop needs PyTorch: pip install torch (see pytorch.org)"
        ) from e
    return torch


def to_torch_state_dict(state_dict, copy=True):
    """A chainrule state dict (name -> ndarray or Tensor), or a Module, as a PyTorch state
    dict (name -> ``torch.Tensor``), same names, dtypes and shapes. With ``copy=False`` the
    tensors share memory with the arrays (``torch.from_numpy``).

    >>> import chainrule as cr
    >>> sd = to_torch_state_dict(cr.nn.Linear(3, 2))
    >>> {k: tuple(v.shape) for k, v in sd.items()}
    {'weight': (2, 3), 'bias': (2,)}
    """
    torch = _import_torch()
    if isinstance(state_dict, nn.Module):
        state_dict = state_dict.state_dict()
    out = OrderedDict()
    for name, value in state_dict.items():
        array = value.data if isinstance(value, Tensor) else np.asarray(value)
        array = np.array(array, copy=True) if copy else np.ascontiguousarray(array)
        out[name] = torch.from_numpy(array)
    return out


def from_torch_state_dict(torch_state_dict):
    """A PyTorch state dict (or ``torch.nn.Module``) as a chainrule state dict of NumPy
    arrays (copies, same names and dtypes; bfloat16 becomes float32), ready for
    ``model.load_state_dict``.

    >>> import torch
    >>> sd = from_torch_state_dict(torch.nn.Linear(3, 2).double())
    >>> sd["weight"].shape, sd["weight"].dtype
    ((2, 3), dtype('float64'))
    """
    if hasattr(torch_state_dict, "state_dict") and callable(torch_state_dict.state_dict):
        torch_state_dict = torch_state_dict.state_dict()
    out = OrderedDict()
    for name, value in torch_state_dict.items():
        if hasattr(value, "detach"):  # a torch.Tensor (torch is already imported by the caller)
            value = value.detach().cpu()
            if str(value.dtype) == "torch.bfloat16":  # NumPy has no bfloat16
                value = value.float()
            out[name] = value.numpy().copy()
        else:
            out[name] = np.array(value, copy=True)
    return out


# ---------------------------------------------------------------------- modules
_EXTRA = {}


def _torch_classes():
    """PyTorch modules for the chainrule layers that torch.nn lacks (made on first use)."""
    if not _EXTRA:
        torch = _import_torch()

        class TorchConcat(torch.nn.Module):
            """Run every branch on the input and concatenate along ``axis`` (chainrule's
            ``nn.Concat``); branches are children ``0, 1, ...`` as in chainrule."""

            def __init__(self, *branches, axis=-1):
                super().__init__()
                for i, branch in enumerate(branches):
                    self.add_module(str(i), branch)
                self.axis = axis

            def forward(self, x):
                return torch.cat([branch(x) for branch in self.children()], dim=self.axis)

        class TorchStep(torch.nn.Module):
            """Heaviside step (1 where x >= 0, else 0), chainrule's ``nn.Step``."""

            def forward(self, x):
                return (x >= 0).to(x.dtype)

        for cls in (TorchConcat, TorchStep):
            cls.__module__, cls.__qualname__ = __name__, cls.__name__  # picklable by name
            _EXTRA[cls.__name__] = cls
    return _EXTRA


def __getattr__(name):  # TorchConcat / TorchStep, made lazily so that torch loads on use
    if name in ("TorchConcat", "TorchStep"):
        return _torch_classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _torch_dtype(torch, array):
    return {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64,
            np.dtype(np.float16): torch.float16}[np.dtype(array.dtype)]


def _to_torch_layer(torch, m, path):
    tnn, t = torch.nn, type(m)
    if isinstance(m, nn.Sequential) and t.forward is nn.Sequential.forward:
        return tnn.Sequential(OrderedDict(
            (name, _to_torch_layer(torch, child, f"{path}.{name}" if path else name))
            for name, child in m.named_children()))
    if isinstance(m, nn.Concat) and t.forward is nn.Concat.forward:
        branches = [_to_torch_layer(torch, child, f"{path}.{name}" if path else name)
                    for name, child in m.named_children()]
        return _torch_classes()["TorchConcat"](*branches, axis=m.axis)
    if t is nn.Linear:
        return tnn.Linear(m.in_features, m.out_features, bias=m.bias is not None,
                          dtype=_torch_dtype(torch, m.weight.data))
    if t is nn.BatchNorm1d:
        ref = m.weight if m.affine else m.running_mean
        dtype = _torch_dtype(torch, ref.data) if ref is not None else None
        return tnn.BatchNorm1d(m.num_features, eps=m.eps, momentum=m.momentum, affine=m.affine,
                               track_running_stats=m.track_running_stats, dtype=dtype)
    converted = _attention_to_torch(torch, m, path)  # issue 9: LayerNorm, attention, encoder
    if converted is not None:
        return converted
    twin = _conv_layer_to_torch(torch, m)  # convolution, pooling, BatchNorm2d, Unflatten
    if twin is not None:
        return twin
    if t in (nn.Embedding, nn.LSTM, nn.GRU, nn.RNN):  # issue 9: same constructor arguments
        return getattr(tnn, t.__name__)(**_sequence_layer_args(m),
                                        dtype=_torch_dtype(torch, m.weight_ih_l0.data
                                                           if t is not nn.Embedding
                                                           else m.weight.data))
    simple = {
        nn.ReLU: lambda: tnn.ReLU(),
        nn.Sigmoid: lambda: tnn.Sigmoid(),
        nn.Tanh: lambda: tnn.Tanh(),
        nn.Identity: lambda: tnn.Identity(),
        nn.LeakyReLU: lambda: tnn.LeakyReLU(m.negative_slope),
        nn.ELU: lambda: tnn.ELU(m.alpha),
        nn.GELU: lambda: tnn.GELU(approximate=m.approximate),
        nn.Softplus: lambda: tnn.Softplus(beta=m.beta, threshold=m.threshold),
        nn.Softmax: lambda: tnn.Softmax(dim=m.dim),
        nn.LogSoftmax: lambda: tnn.LogSoftmax(dim=m.dim),
        nn.Dropout: lambda: tnn.Dropout(m.p),
        nn.Flatten: lambda: tnn.Flatten(m.start_dim, m.end_dim),
        nn.Step: lambda: _torch_classes()["TorchStep"](),
    }
    if t in simple:
        return simple[t]()
    known = ", ".join(sorted(c.__name__ for c in (nn.Linear, nn.BatchNorm1d, *simple,
                                                  *_CONV_LAYERS)))
    raise TypeError(f"to_torch_module: no PyTorch equivalent for layer {t.__name__} at "
                    f"'{path or t.__name__}' (supported: Sequential, Concat, {known})")


def _sequence_layer_args(m):
    """The constructor arguments shared by chainrule's and torch's Embedding / RNN / LSTM /
    GRU (the same names on both sides)."""
    if hasattr(m, "num_embeddings"):
        return {"num_embeddings": m.num_embeddings, "embedding_dim": m.embedding_dim,
                "padding_idx": m.padding_idx}
    args = {name: getattr(m, name) for name in ("input_size", "hidden_size", "num_layers",
                                                "bias", "batch_first", "dropout",
                                                "bidirectional")}
    if hasattr(m, "nonlinearity"):
        args["nonlinearity"] = m.nonlinearity
    return args


def _copy_modes(source, target):
    """Give every module of ``target`` the train/eval mode of its twin in ``source``."""
    for (_, a), (_, b) in zip(source.named_modules(), target.named_modules()):
        b.training = a.training


def to_torch_module(model):
    """The ``torch.nn`` module equivalent to a chainrule model built from Sequential, Concat,
    Linear, BatchNorm1d, Dropout, Flatten, Identity and the activation layers, with the same
    weights, dtype, child names and train/eval modes (so the state dict keys match).

    >>> import chainrule as cr
    >>> to_torch_module(cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.Tanh()))
    Sequential(
      (0): Linear(in_features=2, out_features=3, bias=True)
      (1): Tanh()
    )
    """
    torch = _import_torch()
    twin = _to_torch_layer(torch, model, "")
    twin.load_state_dict(to_torch_state_dict(model.state_dict()), strict=True)
    _copy_modes(model, twin)
    return twin


def _from_torch_layer(torch, m, path):
    tnn, t = torch.nn, type(m)
    extra = _torch_classes()
    if t is tnn.Sequential:
        return nn.Sequential(OrderedDict(
            (name, _from_torch_layer(torch, child, f"{path}.{name}" if path else name))
            for name, child in m.named_children()))
    if t is extra["TorchConcat"]:
        return nn.Concat(*(_from_torch_layer(torch, c, f"{path}.{n}" if path else n)
                           for n, c in m.named_children()), axis=m.axis)
    if t is tnn.Linear:
        return nn.Linear(m.in_features, m.out_features, bias=m.bias is not None,
                         dtype=m.weight.detach().numpy().dtype)
    if t is tnn.BatchNorm1d:
        ref = m.weight if m.affine else m.running_mean
        dtype = None if ref is None else ref.detach().numpy().dtype
        return nn.BatchNorm1d(m.num_features, eps=m.eps, momentum=m.momentum, affine=m.affine,
                              track_running_stats=m.track_running_stats, dtype=dtype)
    converted = _attention_from_torch(torch, m, path)  # issue 9
    if converted is not None:
        return converted
    twin = _conv_layer_from_torch(torch, m)
    if twin is not None:
        return twin
    if t in (tnn.Embedding, tnn.LSTM, tnn.GRU, tnn.RNN):  # issue 9
        if t is not tnn.Embedding and getattr(m, "proj_size", 0):
            raise TypeError(f"from_torch_module: {t.__name__} at '{path or t.__name__}' has "
                            f"proj_size={m.proj_size}, which chainrule does not support")
        weight = m.weight if t is tnn.Embedding else m.weight_ih_l0
        return getattr(nn, t.__name__)(**_sequence_layer_args(m),
                                       dtype=weight.detach().numpy().dtype)
    simple = {
        tnn.ReLU: lambda: nn.ReLU(),
        tnn.Sigmoid: lambda: nn.Sigmoid(),
        tnn.Tanh: lambda: nn.Tanh(),
        tnn.Identity: lambda: nn.Identity(),
        tnn.LeakyReLU: lambda: nn.LeakyReLU(m.negative_slope),
        tnn.ELU: lambda: nn.ELU(m.alpha),
        tnn.GELU: lambda: nn.GELU(m.approximate),
        tnn.Softplus: lambda: nn.Softplus(m.beta, m.threshold),
        tnn.Softmax: lambda: nn.Softmax(-1 if m.dim is None else m.dim),
        tnn.LogSoftmax: lambda: nn.LogSoftmax(-1 if m.dim is None else m.dim),
        tnn.Dropout: lambda: nn.Dropout(m.p),
        tnn.Flatten: lambda: nn.Flatten(m.start_dim, m.end_dim),
        extra["TorchStep"]: lambda: nn.Step(),
    }
    if t in simple:
        return simple[t]()
    raise TypeError(f"from_torch_module: no chainrule equivalent for torch layer {t.__name__} "
                    f"at '{path or t.__name__}'")


def from_torch_module(torch_model):
    """The chainrule model equivalent to a ``torch.nn`` model of the layers that
    :func:`to_torch_module` produces (``torch.nn.Sequential``, ``Linear``, ``BatchNorm1d``,
    the activations, ...), with the same weights, dtype and train/eval modes.

    >>> import torch
    >>> net = from_torch_module(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU()))
    >>> type(net).__name__, net[0].weight.shape
    ('Sequential', (3, 2))
    """
    torch = _import_torch()
    model = _from_torch_layer(torch, torch_model, "")
    model.load_state_dict(from_torch_state_dict(torch_model.state_dict()), strict=True)
    _copy_modes(torch_model, model)
    return model


# ---------------------------------------------------------------------- issue 9: attention
def _attention_to_torch(torch, m, path):
    """LayerNorm, MultiheadAttention, TransformerEncoderLayer and TransformerEncoder, or None."""
    tnn, t = torch.nn, type(m)
    if t is nn.LayerNorm:
        ref = m.weight.data if m.weight is not None else np.empty(0, m._dtype)
        return tnn.LayerNorm(m.normalized_shape, eps=m.eps,
                             elementwise_affine=m.elementwise_affine,
                             bias=m.bias is not None or not m.elementwise_affine,
                             dtype=_torch_dtype(torch, ref))
    if t is nn.MultiheadAttention:
        return tnn.MultiheadAttention(
            m.embed_dim, m.num_heads, dropout=m.dropout, bias=m.in_proj_bias is not None,
            kdim=m.kdim, vdim=m.vdim, batch_first=m.batch_first,
            dtype=_torch_dtype(torch, m.out_proj.weight.data))
    if t is nn.TransformerEncoderLayer:
        if m._activation_name is None:
            raise TypeError(f"to_torch_module: the TransformerEncoderLayer at '{path}' has a "
                            "custom activation; only 'relu' and 'gelu' convert")
        return tnn.TransformerEncoderLayer(
            m.d_model, m.nhead, m.dim_feedforward, m.dropout.p, m._activation_name,
            m.layer_norm_eps, m.batch_first, m.norm_first, bias=m.linear1.bias is not None,
            dtype=_torch_dtype(torch, m.linear1.weight.data))
    if t is nn.TransformerEncoder:
        layer = _attention_to_torch(torch, m.layers[0], f"{path}.layers.0")
        norm = None if m.norm is None else _to_torch_layer(torch, m.norm, f"{path}.norm")
        return tnn.TransformerEncoder(layer, m.num_layers, norm=norm, enable_nested_tensor=False)
    return None


def _attention_from_torch(torch, m, path):
    tnn, t = torch.nn, type(m)
    if t is tnn.LayerNorm:
        ref = m.weight if m.weight is not None else None
        return nn.LayerNorm(m.normalized_shape, eps=m.eps,
                            elementwise_affine=m.elementwise_affine,
                            bias=m.bias is not None or not m.elementwise_affine,
                            dtype=None if ref is None else ref.detach().numpy().dtype)
    if t is tnn.MultiheadAttention:
        if m.bias_k is not None or m.add_zero_attn:
            raise TypeError(f"from_torch_module: MultiheadAttention at '{path}' uses "
                            "add_bias_kv/add_zero_attn, which chainrule does not support")
        return nn.MultiheadAttention(
            m.embed_dim, m.num_heads, dropout=m.dropout, bias=m.in_proj_bias is not None,
            kdim=m.kdim, vdim=m.vdim, batch_first=m.batch_first,
            dtype=m.out_proj.weight.detach().numpy().dtype)
    if t is tnn.TransformerEncoderLayer:
        activation = {1: "relu", 2: "gelu"}.get(getattr(m, "activation_relu_or_gelu", 0))
        if activation is None:
            raise TypeError(f"from_torch_module: the TransformerEncoderLayer at '{path}' has a "
                            "custom activation; only 'relu' and 'gelu' convert")
        attn = m.self_attn
        return nn.TransformerEncoderLayer(
            attn.embed_dim, attn.num_heads, m.linear1.out_features, m.dropout.p, activation,
            m.norm1.eps, attn.batch_first, m.norm_first, bias=m.linear1.bias is not None,
            dtype=m.linear1.weight.detach().numpy().dtype)
    if t is tnn.TransformerEncoder:
        layer = _attention_from_torch(torch, m.layers[0], f"{path}.layers.0")
        norm = None if m.norm is None else _from_torch_layer(torch, m.norm, f"{path}.norm")
        return nn.TransformerEncoder(layer, m.num_layers, norm=norm)
# ---------------------------------------------------------------------- convolution, pooling
_CONV_LAYERS = (nn.Conv1d, nn.Conv2d, nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d,
                nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.BatchNorm2d, nn.Unflatten)


def _conv_args(m):
    return dict(stride=tuple(m.stride), padding=m.padding if isinstance(m.padding, str)
                else tuple(m.padding), dilation=tuple(m.dilation), groups=m.groups,
                bias=m.bias is not None, padding_mode=m.padding_mode)


def _pool_args(m):
    if type(m).__name__ in ("MaxPool1d", "MaxPool2d"):  # a chainrule or a torch layer
        return dict(kernel_size=m.kernel_size, stride=m.stride, padding=m.padding,
                    dilation=m.dilation, return_indices=m.return_indices, ceil_mode=m.ceil_mode)
    args = dict(kernel_size=m.kernel_size, stride=m.stride, padding=m.padding,
                ceil_mode=m.ceil_mode, count_include_pad=m.count_include_pad)
    if type(m).__name__ == "AvgPool2d":
        args["divisor_override"] = m.divisor_override
    return args


def _conv_layer_to_torch(torch, m):
    """The torch.nn twin of a chainrule convolution / pooling / BatchNorm2d / Unflatten layer,
    or None for other layers."""
    t, tnn = type(m), torch.nn
    if t in (nn.Conv1d, nn.Conv2d):
        return getattr(tnn, t.__name__)(m.in_channels, m.out_channels, tuple(m.kernel_size),
                                        **_conv_args(m), dtype=_torch_dtype(torch, m.weight.data))
    if t in (nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d):
        return getattr(tnn, t.__name__)(**_pool_args(m))
    if t is nn.AdaptiveAvgPool2d:
        return tnn.AdaptiveAvgPool2d(m.output_size)
    if t is nn.AdaptiveMaxPool2d:
        return tnn.AdaptiveMaxPool2d(m.output_size, return_indices=m.return_indices)
    if t is nn.BatchNorm2d:
        ref = m.weight if m.affine else m.running_mean
        dtype = _torch_dtype(torch, ref.data) if ref is not None else None
        return tnn.BatchNorm2d(m.num_features, eps=m.eps, momentum=m.momentum, affine=m.affine,
                               track_running_stats=m.track_running_stats, dtype=dtype)
    if t is nn.Unflatten:
        return tnn.Unflatten(m.dim, m.unflattened_size)
    return None


def _conv_layer_from_torch(torch, m):
    """The chainrule twin of a torch.nn convolution / pooling / BatchNorm2d / Unflatten layer,
    or None for other layers."""
    tnn = torch.nn
    t = type(m)
    if t in (tnn.Conv1d, tnn.Conv2d):
        return getattr(nn, t.__name__)(m.in_channels, m.out_channels, tuple(m.kernel_size),
                                       **_conv_args(m), dtype=m.weight.detach().numpy().dtype)
    if t in (tnn.MaxPool1d, tnn.MaxPool2d, tnn.AvgPool1d, tnn.AvgPool2d):
        return getattr(nn, t.__name__)(**_pool_args(m))
    if t is tnn.AdaptiveAvgPool2d:
        return nn.AdaptiveAvgPool2d(m.output_size)
    if t is tnn.AdaptiveMaxPool2d:
        return nn.AdaptiveMaxPool2d(m.output_size, return_indices=m.return_indices)
    if t is tnn.BatchNorm2d:
        ref = m.weight if m.affine else m.running_mean
        dtype = None if ref is None else ref.detach().numpy().dtype
        return nn.BatchNorm2d(m.num_features, eps=m.eps, momentum=m.momentum, affine=m.affine,
                              track_running_stats=m.track_running_stats, dtype=dtype)
    if t is tnn.Unflatten:
        return nn.Unflatten(m.dim, m.unflattened_size)
    return None
