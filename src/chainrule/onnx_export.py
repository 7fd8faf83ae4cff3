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
BatchNorm1d        ``BatchNormalization`` with the running statistics (eval mode)
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
            f"onnx.export: BatchNorm1d at '{path}' has no running statistics "
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


# Converters that live in their own modules (they register themselves on import).
from chainrule import onnx_recurrent  # noqa: E402, F401  Embedding, LSTM, GRU, RNN
