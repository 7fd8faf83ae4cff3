"""ONNX converters for Embedding and the recurrent layers (registered by ``cr.onnx``).

==========  ==============================================================================
chainrule   ONNX
==========  ==============================================================================
Embedding   ``Gather(weight, ids)``; the graph input is then int64 token ids
LSTM        one ``LSTM`` node per layer (``direction='bidirectional'`` when bidirectional);
            PyTorch's gate order i, f, g, o becomes ONNX's i, o, f, c
GRU         ``GRU`` with ``linear_before_reset=1`` (PyTorch's n = tanh(Wx + b + r⊙(Uh + b)));
            gate order r, z, n becomes ONNX's z, r, h
RNN         ``RNN`` with ``activations=['Tanh']`` or ``['Relu']``
==========  ==============================================================================

A recurrent layer returns ``(output, h_n)`` (or ``(output, (h_n, c_n))``); the exported graph
computes ``output``, the sequence every later layer reads, and initial states are zeros.
The rule for any module that returns a tuple: its first element is what flows on. A model
such as Embedding → LSTM → Linear is a small Module of your own (a Sequential cannot pass a
tuple on); give it a converter that chains the built-in ones with :func:`emit`, e.g.::

    @cr.onnx_export.register(CharLSTM)
    def _(graph, model, x, value, path):
        for name in ("embed", "lstm", "head"):
            x, value = emit(graph, getattr(model, name), x, value, f"{path}.{name}")
        return x

(``chainrule.demos.charlstm_demo`` registers exactly this for its model.)
"""

import numpy as np

from chainrule import nn
from chainrule.onnx_export import _emit, register

__all__ = ["emit"]


def emit(graph, module, x, value, path):
    """Add ``module`` applied to graph value ``x`` (sample array ``value``) to ``graph``;
    returns ``(output name, output sample array)``: for composing converters."""
    return _emit(graph, module, x, value, path)


@register(nn.Embedding)
def _embedding(g, m, x, value, path):
    return g.node("Gather", [g.const(m.weight.data, f"{path}.weight"), x], path, axis=0)


_ORDER = {  # chainrule/PyTorch gate blocks in ONNX's order
    nn.LSTM: ("LSTM", [0, 3, 1, 2]),  # i f g o -> i o f c
    nn.GRU: ("GRU", [1, 0, 2]),  # r z n -> z r h
    nn.RNN: ("RNN", [0]),
}


def _blocks(array, order, hidden):
    return np.concatenate([array[k * hidden:(k + 1) * hidden] for k in order], axis=0)


@register(nn.LSTM)
@register(nn.GRU)
@register(nn.RNN)
def _recurrent(g, m, x, value, path):
    op, order = next(v for cls, v in _ORDER.items() if isinstance(m, cls))
    H = m.hidden_size
    directions = 2 if m.bidirectional else 1
    if value.ndim == 2:  # unbatched (L, H_in): a batch axis of one
        x = g.node("Unsqueeze", [x, g.const([1], f"{path}.axis1", np.int64)], path)
    elif m.batch_first:
        x = g.node("Transpose", [x], path, perm=[1, 0, 2])
    for layer in range(m.num_layers):
        suffixes = m._suffixes(layer)
        W = np.stack([_blocks(getattr(m, f"weight_ih{s}").data, order, H) for s in suffixes])
        R = np.stack([_blocks(getattr(m, f"weight_hh{s}").data, order, H) for s in suffixes])
        inputs = [x, g.const(W, f"{path}.W_l{layer}"), g.const(R, f"{path}.R_l{layer}")]
        if m.bias:
            B = np.stack([np.concatenate([_blocks(getattr(m, f"bias_ih{s}").data, order, H),
                                          _blocks(getattr(m, f"bias_hh{s}").data, order, H)])
                          for s in suffixes])
            inputs.append(g.const(B, f"{path}.B_l{layer}"))
        attrs = {"hidden_size": H,
                 "direction": "bidirectional" if m.bidirectional else "forward"}
        if op == "GRU":
            attrs["linear_before_reset"] = 1
        if op == "RNN":
            attrs["activations"] = ["Tanh" if m.nonlinearity == "tanh" else "Relu"] * directions
        y = g.node(op, inputs, f"{path}.l{layer}", **attrs)  # Y: (T, D, B, H)
        if directions == 1:
            x = g.node("Squeeze", [y, g.const([1], f"{path}.axis1", np.int64)], path)
        else:  # (T, D, B, H) -> (T, B, D·H), forward features first as in PyTorch
            t = g.node("Transpose", [y], path, perm=[0, 2, 1, 3])
            x = g.node("Reshape", [t, g.const([0, 0, directions * H], f"{path}.shape",
                                              np.int64)], path)
    if value.ndim == 2:
        return g.node("Squeeze", [x, g.const([1], f"{path}.axis1", np.int64)], path)
    if m.batch_first:
        return g.node("Transpose", [x], path, perm=[1, 0, 2])
    return x
