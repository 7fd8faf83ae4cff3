"""Export chainrule models to ONNX (``cr.onnx.export``), for onnxruntime and every other
ONNX runtime.

The model is walked module by module and each built-in layer becomes standard ONNX nodes:

=================  =====================================================================
chainrule          ONNX
=================  =====================================================================
Linear             ``Gemm(transB=1)`` on 2-D inputs, ``MatMul`` + ``Add`` on higher ranks
ReLU, Sigmoid,     ``Relu``, ``Sigmoid``, ``Tanh``, ``LeakyRelu(alpha)``, ``Elu(alpha)``
Tanh, LeakyReLU,
ELU
GELU               ``x·½(1 + Erf(x/√2))`` (tanh formula for ``approximate='tanh'``);
                   the ``Gelu`` operator when ``opset >= 20``
Softplus           ``Where(βx > threshold, x, Softplus(βx)/β)`` (chainrule's semantics)
Softmax,           ``Softmax(axis)``, ``LogSoftmax(axis)``
LogSoftmax
Step               ``Cast(GreaterOrEqual(x, 0))``
LayerNorm          ``LayerNormalization`` (opset >= 17; ReduceMean & co. below)
TransformerEncoder ``MatMul``/``Softmax`` self-attention, feed-forward, residual ``Add`` and
(Layer)            layer norm; batch-first ``(N, L, E)`` inputs without masks
BatchNorm1d/2d     ``BatchNormalization`` with the running statistics (eval mode)
Conv1d, Conv2d     ``Conv`` (pads, strides, dilations, group); ``padding_mode`` reflect /
                   replicate: a ``Pad`` first (circular: not supported)
MaxPool1d/2d       ``MaxPool`` (ceil_mode, dilations; not with ``return_indices``)
AvgPool1d/2d       ``AveragePool`` (count_include_pad, ceil_mode; not ``divisor_override``)
AdaptiveAvg/Max    ``GlobalAveragePool`` / ``GlobalMaxPool`` for output 1×1; a fixed
Pool2d             ``AveragePool`` / ``MaxPool`` when the input divides evenly; else
                   not supported
Unflatten          ``Reshape``
Flatten            ``Flatten(axis=1)``, or ``Reshape`` for other dims
Dropout, Identity  nothing (evaluation mode)
Sequential         its children in order
Concat             its branches on the same input, joined by ``Concat(axis)``
Embedding, LSTM,   ``Gather``, ``LSTM``, ``GRU``, ``RNN`` (see :mod:`chainrule.onnx_recurrent`:
GRU, RNN           a recurrent layer exports its output sequence; integer samples are ids)
=================  =====================================================================

The export describes the model in evaluation mode (Dropout off, BatchNorm on its running
statistics), whatever mode it is in; the model's mode is left unchanged. Another layer
raises :class:`UnsupportedLayerError` naming it and its place in the model;
:func:`register` adds a converter for a layer of your own.

Precision: the graph uses the parameters' dtype (``dtype=`` overrides it). onnxruntime's CPU
kernels for Erf, Elu, Softplus and Gelu exist in float32 only, so export float64 models that
use those layers with ``dtype='float32'``.

>>> import numpy as np, chainrule as cr
>>> net = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3))
>>> proto = export(net, np.zeros((1, 4), np.float32), "/tmp/chainrule_doctest.onnx")
>>> [node.op_type for node in proto.graph.node]
['Gemm', 'Relu', 'Gemm', 'Identity']
"""

import math
import os

import numpy as np

from chainrule import nn
from chainrule.autograd import no_grad
from chainrule.tensor import Tensor

__all__ = ["DEFAULT_OPSET", "UnsupportedLayerError", "export", "register"]

DEFAULT_OPSET = 17  # Softmax/LogSoftmax take an axis from 13 on; 17 is widely deployed
MIN_OPSET = 13


class UnsupportedLayerError(TypeError):
    """A layer that the ONNX exporter has no converter for."""


def _import_onnx():
    try:
        import onnx
    except ImportError as e:
        raise ImportError(
            "chainrule.onnx needs the onnx package: pip install 'chainrule[onnx]'"
        ) from e
    return onnx


class _Graph:
    """The nodes and initializers being built, with unique names."""

    def __init__(self, onnx, dtype, opset):
        self.onnx, self.dtype, self.opset = onnx, np.dtype(dtype), opset
        self.nodes, self.initializers, self._used = [], [], set()
        self.batch_preserved = True  # False once a layer merges or joins along axis 0

    def fresh(self, hint):
        name, i = hint, 1
        while name in self._used:
            i += 1
            name = f"{hint}_{i}"
        self._used.add(name)
        return name

    def const(self, value, hint, dtype=None):
        """An initializer holding ``value`` (the graph's float dtype unless ``dtype``)."""
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def node(self, op, inputs, hint, **attrs):
        """Add one node; returns the name of its (single) output."""
        out = self.fresh(hint)
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), [out],
                                                     name=self.fresh(f"{hint}/{op}"), **attrs))
        return out


# ---------------------------------------------------------------------- converters
# A converter is ``fn(graph, module, x, value, path) -> output name``: ``x`` is the name of
# the input in the graph and ``value`` the input's array for the sample (it gives the rank).
_CONVERTERS = {}


def register(layer_type):
    """Decorator: register ``fn(graph, module, x, value, path) -> output name`` as the ONNX
    converter of ``layer_type`` (use ``graph.node(op, inputs, hint, **attrs)`` and
    ``graph.const(array, hint)``).

    >>> import chainrule as cr
    >>> class Double(cr.nn.Module):
    ...     def forward(self, x):
    ...         return x * 2.0
    >>> @register(Double)
    ... def _double(graph, module, x, value, path):
    ...     return graph.node("Mul", [x, graph.const(2.0, path + ".two")], path)
    """

    def decorate(fn):
        _CONVERTERS[layer_type] = fn
        return fn

    return decorate


def _unary(op, **attr_of_module):
    def convert(g, m, x, value, path):
        attrs = {k: float(getattr(m, field)) for k, field in attr_of_module.items()}
        return g.node(op, [x], path, **attrs)

    return convert


for _layer, _op in ((nn.ReLU, "Relu"), (nn.Sigmoid, "Sigmoid"), (nn.Tanh, "Tanh")):
    register(_layer)(_unary(_op))
register(nn.LeakyReLU)(_unary("LeakyRelu", alpha="negative_slope"))
register(nn.ELU)(_unary("Elu", alpha="alpha"))


@register(nn.Linear)
def _linear(g, m, x, value, path):
    weight = m.weight.data
    bias = None if m.bias is None else g.const(m.bias.data, f"{path}.bias")
    if value.ndim == 2:  # y = x Wᵀ + b in one Gemm
        inputs = [x, g.const(weight, f"{path}.weight")] + ([bias] if bias else [])
        return g.node("Gemm", inputs, path, transB=1)
    y = g.node("MatMul", [x, g.const(weight.T, f"{path}.weight_T")], path)
    return g.node("Add", [y, bias], path) if bias else y


@register(nn.GELU)
def _gelu(g, m, x, value, path):
    if g.opset >= 20:
        return g.node("Gelu", [x], path, approximate=m.approximate)
    if m.approximate == "tanh":  # ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
        cube = g.node("Mul", [g.node("Mul", [x, x], path), x], path)
        inner = g.node("Add", [x, g.node("Mul", [cube, g.const(0.044715, f"{path}.c")], path)],
                       path)
        t = g.node("Tanh", [g.node("Mul", [inner, g.const(math.sqrt(2 / math.pi),
                                                          f"{path}.k")], path)], path)
    else:  # ½x(1 + erf(x/√2))
        t = g.node("Erf", [g.node("Div", [x, g.const(math.sqrt(2.0), f"{path}.sqrt2")], path)],
                   path)
    one_plus = g.node("Add", [t, g.const(1.0, f"{path}.one")], path)
    return g.node("Mul", [g.node("Mul", [x, one_plus], path), g.const(0.5, f"{path}.half")],
                  path)


@register(nn.Softplus)
def _softplus(g, m, x, value, path):
    scaled = x if m.beta == 1.0 else g.node("Mul", [x, g.const(m.beta, f"{path}.beta")], path)
    soft = g.node("Softplus", [scaled], path)
    if m.beta != 1.0:
        soft = g.node("Div", [soft, g.const(m.beta, f"{path}.beta_div")], path)
    linear = g.node("Greater", [scaled, g.const(m.threshold, f"{path}.threshold")], path)
    return g.node("Where", [linear, x, soft], path)


@register(nn.Softmax)
def _softmax(g, m, x, value, path):
    return g.node("Softmax", [x], path, axis=m.dim)


@register(nn.LogSoftmax)
def _log_softmax(g, m, x, value, path):
    return g.node("LogSoftmax", [x], path, axis=m.dim)


@register(nn.Step)
def _step(g, m, x, value, path):
    positive = g.node("GreaterOrEqual", [x, g.const(0.0, f"{path}.zero")], path)
    to = g.onnx.helper.np_dtype_to_tensor_dtype(g.dtype)
    return g.node("Cast", [positive], path, to=to)


@register(nn.Dropout)
@register(nn.Identity)
def _identity(g, m, x, value, path):
    return x  # evaluation mode: nothing to compute


@register(nn.BatchNorm1d)
def _batch_norm(g, m, x, value, path):
    if m.running_mean is None or m.running_var is None:
        raise UnsupportedLayerError(
            f"onnx.export: {type(m).__name__} at '{path}' has no running statistics "
            "(track_running_stats=False), so its evaluation output depends on the batch")
    c = m.num_features
    scale = m.weight.data if m.weight is not None else np.ones(c)
    shift = m.bias.data if m.bias is not None else np.zeros(c)
    inputs = [x, g.const(scale, f"{path}.weight"), g.const(shift, f"{path}.bias"),
              g.const(m.running_mean.data, f"{path}.running_mean"),
              g.const(m.running_var.data, f"{path}.running_var")]
    return g.node("BatchNormalization", inputs, path, epsilon=m.eps)


@register(nn.Flatten)
def _flatten(g, m, x, value, path):
    rank = value.ndim
    start, end = m.start_dim % rank, m.end_dim % rank
    if start >= end:
        return x
    if start == 1 and end == rank - 1:
        return g.node("Flatten", [x], path, axis=1)
    if start == 0:
        g.batch_preserved = False
    # Reshape: 0 copies the input's size on that axis, -1 takes what is left.
    shape = [0] * start + [-1] + list(value.shape[end + 1:])
    return g.node("Reshape", [x, g.const(shape, f"{path}.shape", np.int64)], path)


# ---------------------------------------------------------------- convolution and pooling
register(nn.BatchNorm2d)(_batch_norm)


def _spatial(value, nd):
    """An int or a sequence as a list of ``nd`` ints (ONNX attributes)."""
    return [int(value)] * nd if isinstance(value, (int, np.integer)) else [int(v) for v in value]


def _onnx_pads(pairs):
    """``[(before, after), ...]`` as ONNX's ``[x1_begin, x2_begin, ..., x1_end, x2_end, ...]``."""
    return [b for b, _ in pairs] + [a for _, a in pairs]


@register(nn.Conv1d)
@register(nn.Conv2d)
def _conv(g, m, x, value, path):
    nd = len(m.kernel_size)
    pads = _onnx_pads(m._pads)
    if m.padding_mode != "zeros":
        modes = {"reflect": "reflect", "replicate": "edge"}
        if m.padding_mode not in modes:
            raise UnsupportedLayerError(
                f"onnx.export: {type(m).__name__} at '{path}' uses padding_mode="
                f"'{m.padding_mode}', which has no ONNX Pad mode here (use zeros, reflect or "
                "replicate)")
        full = [0, 0] + pads[:nd] + [0, 0] + pads[nd:]  # ONNX Pad lists every axis
        x = g.node("Pad", [x, g.const(full, f"{path}.pads", np.int64)], path,
                   mode=modes[m.padding_mode])
        pads = [0] * (2 * nd)
    inputs = [x, g.const(m.weight.data, f"{path}.weight")]
    if m.bias is not None:
        inputs.append(g.const(m.bias.data, f"{path}.bias"))
    return g.node("Conv", inputs, path, kernel_shape=list(m.kernel_size), strides=list(m.stride),
                  dilations=list(m.dilation), pads=pads, group=m.groups)


@register(nn.MaxPool1d)
@register(nn.MaxPool2d)
def _max_pool(g, m, x, value, path):
    nd = value.ndim - 2
    if m.return_indices:
        raise UnsupportedLayerError(f"onnx.export: {type(m).__name__} at '{path}' returns "
                                    "indices; export a model that does not")
    padding = _spatial(m.padding, nd)
    return g.node("MaxPool", [x], path, kernel_shape=_spatial(m.kernel_size, nd),
                  strides=_spatial(m.stride, nd), pads=padding + padding,
                  dilations=_spatial(m.dilation, nd), ceil_mode=int(m.ceil_mode))


@register(nn.AvgPool1d)
@register(nn.AvgPool2d)
def _avg_pool(g, m, x, value, path):
    nd = value.ndim - 2
    if getattr(m, "divisor_override", None) is not None:
        raise UnsupportedLayerError(f"onnx.export: AvgPool2d at '{path}' has divisor_override, "
                                    "which ONNX AveragePool cannot express")
    padding = _spatial(m.padding, nd)
    return g.node("AveragePool", [x], path, kernel_shape=_spatial(m.kernel_size, nd),
                  strides=_spatial(m.stride, nd), pads=padding + padding,
                  count_include_pad=int(m.count_include_pad), ceil_mode=int(m.ceil_mode))


@register(nn.AdaptiveAvgPool2d)
@register(nn.AdaptiveMaxPool2d)
def _adaptive_pool(g, m, x, value, path):
    is_max = isinstance(m, nn.AdaptiveMaxPool2d)
    if is_max and m.return_indices:
        raise UnsupportedLayerError(f"onnx.export: AdaptiveMaxPool2d at '{path}' returns "
                                    "indices; export a model that does not")
    size = m.output_size
    size = (size, size) if size is None or isinstance(size, (int, np.integer)) else size
    h, w = value.shape[-2:]
    oh, ow = (h if size[0] is None else size[0]), (w if size[1] is None else size[1])
    if (oh, ow) == (1, 1):
        return g.node("GlobalMaxPool" if is_max else "GlobalAveragePool", [x], path)
    if h % oh or w % ow:
        raise UnsupportedLayerError(
            f"onnx.export: {type(m).__name__} at '{path}' pools {h}x{w} to {oh}x{ow}, which is "
            "not an even division (ONNX has no adaptive pooling; output 1x1 or a divisor "
            "works)")
    kernel = [h // oh, w // ow]
    if is_max:
        return g.node("MaxPool", [x], path, kernel_shape=kernel, strides=kernel)
    return g.node("AveragePool", [x], path, kernel_shape=kernel, strides=kernel)


@register(nn.Unflatten)
def _unflatten(g, m, x, value, path):
    dim = m.dim % value.ndim
    if dim == 0:
        g.batch_preserved = False
    shape = [0] * dim + list(m.unflattened_size) + [0] * (value.ndim - dim - 1)
    return g.node("Reshape", [x, g.const(shape, f"{path}.shape", np.int64)], path)


def _emit(g, module, x, value, path):
    """Add ``module`` applied to graph value ``x``; returns (output name, output array)."""
    label = path or type(module).__name__
    if isinstance(module, nn.Sequential) and _plain(module, nn.Sequential):
        for name, child in module.named_children():
            x, value = _emit(g, child, x, value, f"{path}.{name}" if path else name)
        return x, value
    if isinstance(module, nn.Concat) and _plain(module, nn.Concat):
        outs = [_emit(g, child, x, value, f"{path}.{name}" if path else name)
                for name, child in module.named_children()]
        joined = np.concatenate([v for _, v in outs], axis=module.axis)
        if module.axis % joined.ndim == 0:
            g.batch_preserved = False
        return g.node("Concat", [name for name, _ in outs], label, axis=module.axis), joined
    convert = _converter_for(module, label)
    out = convert(g, module, x, value, label)
    result = module(Tensor(value))
    if isinstance(result, tuple):  # e.g. a recurrent layer's (output, h_n): output flows on
        result = result[0]
    return out, result.data


def _plain(module, base):
    """True unless a subclass of ``base`` replaces its forward (then its graph is unknown)."""
    return type(module).forward is base.forward


def _converter_for(module, label):
    for cls in type(module).__mro__:
        fn = _CONVERTERS.get(cls)
        if fn is not None and (cls is type(module) or _plain(module, cls)):
            return fn
    raise UnsupportedLayerError(
        f"onnx.export: no ONNX converter for layer {type(module).__name__} at '{label}'; "
        f"supported: {', '.join(sorted(c.__name__ for c in _CONVERTERS))}, Sequential, "
        "Concat (add one with chainrule.onnx_export.register)")


def _model_dtype(model, sample):
    for p in model.parameters():
        if p.data.dtype.kind == "f":
            return p.data.dtype
    return sample.dtype if sample.dtype.kind == "f" else np.dtype(np.float32)


def export(model, sample_input, path, input_name="input", output_name="output",
           opset=DEFAULT_OPSET, dtype=None, dynamic_batch=True):
    """Write ``model`` as an ONNX file at ``path`` and return the ``onnx.ModelProto``.

    Args:
        model: a ``cr.nn.Module`` made of built-in layers (see the module docstring).
        sample_input: an array or Tensor of shape ``(batch, *features)``; it fixes the
            feature dims and is run through the model to trace shapes.
        path: where to write; the file is replaced atomically (a temporary file in the
            same folder, then ``os.replace``).
        input_name, output_name: names of the graph's input and output.
        opset: ONNX opset (>= 13; default 17). From 20 on GELU uses the ``Gelu`` operator.
        dtype: float dtype of the graph (default: the parameters' dtype).
        dynamic_batch: make axis 0 a symbolic ``batch`` dimension (default True).

    The model passes ``onnx.checker.check_model(full_check=True)`` before it is written.

    >>> import numpy as np, chainrule as cr, onnxruntime as ort
    >>> net = cr.nn.Sequential(cr.nn.Linear(3, 2), cr.nn.Softmax())
    >>> _ = export(net, np.zeros((1, 3), np.float32), "/tmp/chainrule_doctest.onnx")
    >>> session = ort.InferenceSession("/tmp/chainrule_doctest.onnx")
    >>> session.run(None, {"input": np.ones((5, 3), np.float32)})[0].shape
    (5, 2)
    """
    onnx = _import_onnx()
    helper = onnx.helper
    if not isinstance(model, nn.Module):
        raise TypeError(f"onnx.export: model must be a chainrule nn.Module, got "
                        f"{type(model).__name__}")
    if int(opset) < MIN_OPSET:
        raise ValueError(f"onnx.export: opset must be >= {MIN_OPSET}, got {opset}")
    sample = np.asarray(sample_input.data if isinstance(sample_input, Tensor) else sample_input)
    if sample.ndim < 1:
        raise ValueError(f"onnx.export: sample_input needs a batch axis, got shape {sample.shape}")
    dtype = np.dtype(dtype) if dtype is not None else _model_dtype(model, sample)
    if dtype.kind != "f":
        raise TypeError(f"onnx.export: dtype must be a float dtype, got {dtype}")
    if input_name == output_name:
        raise ValueError(f"onnx.export: input_name and output_name are both {input_name!r}")

    g = _Graph(onnx, dtype, int(opset))
    g._used.update([input_name, output_name])
    was_training = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with no_grad():
            ids = sample.dtype.kind in "iu"  # token ids (an Embedding first) stay integers
            graph_input = sample.astype(np.int64 if ids else dtype)
            last, value = _emit(g, model, input_name, graph_input, "")
    finally:
        for m, mode in was_training:
            m.training = mode
    g.nodes.append(helper.make_node("Identity", [last], [output_name], name="output/Identity"))

    elem = helper.np_dtype_to_tensor_dtype(dtype)
    batch = "batch" if dynamic_batch else sample.shape[0]
    in_elem = helper.np_dtype_to_tensor_dtype(graph_input.dtype)
    inputs = [helper.make_tensor_value_info(input_name, in_elem, [batch, *sample.shape[1:]])]
    # Axis 0 of the output is the batch axis unless a layer merged or joined along it.
    first = batch if dynamic_batch else value.shape[0]
    out_shape = [first if g.batch_preserved else None, *value.shape[1:]]
    outputs = [helper.make_tensor_value_info(output_name, elem, out_shape)]
    graph = helper.make_graph(g.nodes, type(model).__name__, inputs, outputs, g.initializers)
    opset_id = helper.make_opsetid("", int(opset))
    proto = helper.make_model(graph, opset_imports=[opset_id], producer_name="chainrule",
                              producer_version=_version())
    proto.ir_version = helper.find_min_ir_version_for([opset_id])  # what runtimes accept
    onnx.checker.check_model(proto, full_check=True)
    _write_atomic(os.fspath(path), proto.SerializeToString())
    return proto


def _version():
    from chainrule import __version__

    return __version__


def _write_atomic(path, payload):
    from chainrule._atomic import atomic_write

    atomic_write(path, payload, "cr.onnx.export")


# ---------------------------------------------------------------------- LayerNorm (issue 9)
@register(nn.LayerNorm)
def _layer_norm(g, m, x, value, path):
    """``LayerNormalization`` over the last ``len(normalized_shape)`` axes from opset 17; below,
    the same formula from ReduceMean, Sub, Mul, Sqrt and Div."""
    k = len(m.normalized_shape)
    scale = m.weight.data if m.weight is not None else np.ones(m.normalized_shape)
    shift = m.bias.data if m.bias is not None else np.zeros(m.normalized_shape)
    scale, shift = g.const(scale, f"{path}.weight"), g.const(shift, f"{path}.bias")
    if g.opset >= 17:
        return g.node("LayerNormalization", [x, scale, shift], path, axis=-k, epsilon=m.eps)
    axes = list(range(value.ndim - k, value.ndim))
    centred = g.node("Sub", [x, g.node("ReduceMean", [x], path, axes=axes)], path)
    var = g.node("ReduceMean", [g.node("Mul", [centred, centred], path)], path, axes=axes)
    std = g.node("Sqrt", [g.node("Add", [var, g.const(m.eps, f"{path}.eps")], path)], path)
    normed = g.node("Div", [centred, std], path)
    return g.node("Add", [g.node("Mul", [normed, scale], path), shift], path)


# ---------------------------------------------------------------------- Transformer (issue 9)
def _self_attention(g, m, x, path):
    """Multi-head self-attention of a batch-first ``(N, L, E)`` value ``x`` (no mask)."""
    E, H, D = m.embed_dim, m.num_heads, m.head_dim
    qkv = g.node("MatMul", [x, g.const(m.in_proj_weight.data.T, f"{path}.in_proj_weight_T")],
                 path)
    if m.in_proj_bias is not None:
        qkv = g.node("Add", [qkv, g.const(m.in_proj_bias.data, f"{path}.in_proj_bias")], path)
    heads = g.node("Reshape", [qkv, g.const([0, 0, 3, H, D], f"{path}.qkv_shape", np.int64)],
                   path)
    heads = g.node("Transpose", [heads], path, perm=[2, 0, 3, 1, 4])  # (3, N, H, L, D)
    q, k, v = (g.node("Gather", [heads, g.const(i, f"{path}.index{i}", np.int64)], path, axis=0)
               for i in range(3))
    scores = g.node("MatMul", [q, g.node("Transpose", [k], path, perm=[0, 1, 3, 2])], path)
    scores = g.node("Mul", [scores, g.const(1.0 / math.sqrt(D), f"{path}.scale")], path)
    weights = g.node("Softmax", [scores], path, axis=-1)
    out = g.node("Transpose", [g.node("MatMul", [weights, v], path)], path, perm=[0, 2, 1, 3])
    out = g.node("Reshape", [out, g.const([0, 0, E], f"{path}.merged_shape", np.int64)], path)
    return _linear(g, m.out_proj, out, np.empty((1, 1, E)), f"{path}.out_proj")


@register(nn.TransformerEncoderLayer)
def _encoder_layer(g, m, x, value, path):
    """A batch-first encoder layer without masks: self-attention (MatMul, Softmax), the
    feed-forward network, residual Adds and LayerNormalization, as in ``forward``."""
    if not m.batch_first or value.ndim != 3:
        raise UnsupportedLayerError(
            f"onnx.export: TransformerEncoderLayer at '{path}' exports with batch_first=True "
            f"and a (N, L, E) input only, got batch_first={m.batch_first} and input shape "
            f"{value.shape}")
    if m._activation_name is None:
        raise UnsupportedLayerError(f"onnx.export: TransformerEncoderLayer at '{path}' has a "
                                    "custom activation; only 'relu' and 'gelu' export")
    rank3 = np.empty((1, 1, m.d_model))

    def attention(h):
        return _self_attention(g, m.self_attn, h, f"{path}.self_attn")

    def feed_forward(h):
        h = _linear(g, m.linear1, h, rank3, f"{path}.linear1")
        if m._activation_name == "relu":
            h = g.node("Relu", [h], f"{path}.activation")
        else:
            h = _gelu(g, nn.GELU(), h, rank3, f"{path}.activation")
        return _linear(g, m.linear2, h, rank3, f"{path}.linear2")

    def norm(module, h, name):
        return _layer_norm(g, module, h, rank3, f"{path}.{name}")

    if m.norm_first:
        x = g.node("Add", [x, attention(norm(m.norm1, x, "norm1"))], path)
        return g.node("Add", [x, feed_forward(norm(m.norm2, x, "norm2"))], path)
    x = norm(m.norm1, g.node("Add", [x, attention(x)], path), "norm1")
    return norm(m.norm2, g.node("Add", [x, feed_forward(x)], path), "norm2")


@register(nn.TransformerEncoder)
def _encoder(g, m, x, value, path):
    for i, layer in enumerate(m.layers):
        x = _encoder_layer(g, layer, x, value, f"{path}.layers.{i}")
    if m.norm is not None:
        x = _layer_norm(g, m.norm, x, value, f"{path}.norm")
    return x
# Converters that live in their own modules (they register themselves on import).
from chainrule import onnx_recurrent  # noqa: E402, F401  Embedding, LSTM, GRU, RNN
