"""Recurrent layers: RNN (tanh / relu), LSTM and GRU, stacked and optionally bidirectional.

Each layer and direction is one fused primitive (:mod:`chainrule.ops.recurrent`): one matrix
product for every time step's input projection, a loop over time for the recurrence, and an
iterative backpropagation through time. Arguments, parameter names and shapes
(``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ``..._reverse``), default
initialisation U(−1/√hidden_size, 1/√hidden_size) and outputs follow ``torch.nn``, so state
dicts exchange with PyTorch unchanged.

>>> import chainrule as cr
>>> lstm = cr.nn.LSTM(4, 8, num_layers=2, batch_first=True)
>>> out, (h_n, c_n) = lstm(cr.ones(3, 5, 4))
>>> out.shape, h_n.shape, c_n.shape
((3, 5, 8), (2, 3, 8), (2, 3, 8))
"""

import math

import numpy as np

from chainrule.nn import init
from chainrule.nn.dropout import dropout as _dropout
from chainrule.nn.module import Module, _dtype_config, _resolve_dtype
from chainrule.nn.parameter import Parameter
from chainrule.ops.base import as_tensor
from chainrule.ops.recurrent import gru_layer, lstm_layer, rnn_layer
from chainrule.ops.shape import concat, getitem, squeeze, stack, transpose, unsqueeze

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase"]


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters of every layer and direction, the shape
    checks, batch_first / unbatched inputs, inter-layer dropout and the stacking of states."""

    _mode = None
    _gates = 1

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, dtype=None):
        super().__init__()
        name = type(self).__name__
        if proj_size:
            raise NotImplementedError(f"{name}: proj_size is not supported (got {proj_size}); "
                                      "use proj_size=0")
        if int(input_size) <= 0 or int(hidden_size) <= 0 or int(num_layers) <= 0:
            raise ValueError(f"{name}: input_size, hidden_size and num_layers must be positive, "
                             f"got {input_size}, {hidden_size} and {num_layers}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be between 0 and 1, got {dropout}")
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.num_layers = int(num_layers)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.proj_size = 0
        dtype = _resolve_dtype(dtype, name)
        G, H = self._gates, self.hidden_size
        directions = 2 if bidirectional else 1
        for layer in range(self.num_layers):
            layer_in = self.input_size if layer == 0 else H * directions
            for suffix in self._suffixes(layer):
                setattr(self, f"weight_ih{suffix}", Parameter(np.empty((G * H, layer_in), dtype)))
                setattr(self, f"weight_hh{suffix}", Parameter(np.empty((G * H, H), dtype)))
                if self.bias:
                    setattr(self, f"bias_ih{suffix}", Parameter(np.empty(G * H, dtype)))
                    setattr(self, f"bias_hh{suffix}", Parameter(np.empty(G * H, dtype)))
        self.reset_parameters()

    def _suffixes(self, layer):
        return [f"_l{layer}"] + ([f"_l{layer}_reverse"] if self.bidirectional else [])

    def reset_parameters(self):
        """Redraw every weight and bias from U(−1/√hidden_size, 1/√hidden_size)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _weights(self, suffix):
        names = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if self.bias else ())
        w = [getattr(self, n + suffix) for n in names]
        return w if self.bias else w + [None, None]

    def _run(self, x, h0, c0, weights, reverse):
        raise NotImplementedError

    def _prepare(self, input):
        """Time-major 3-D input and ``(D·num_layers, B, H)`` states; records whether the input
        was unbatched."""
        name = type(self).__name__
        x = as_tensor(input)
        if x.ndim not in (2, 3):
            raise ValueError(f"{name}: expected a 2-D (L, input_size) or 3-D input, got shape "
                             f"{x.shape}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input with input_size={self.input_size} "
                             f"features (last axis), got {x.shape[-1]} (input shape {x.shape})")
        unbatched = x.ndim == 2
        if unbatched:
            x = unsqueeze(x, 1)
        elif self.batch_first:
            x = transpose(x, 1, 0, 2)
        return x, unbatched

    def _check_state(self, h, batch, unbatched, what):
        name = type(self).__name__
        layers = self.num_layers * (2 if self.bidirectional else 1)
        h = as_tensor(h)
        expected = (layers, self.hidden_size) if unbatched else (layers, batch, self.hidden_size)
        if h.shape != expected:
            raise ValueError(f"{name}: expected {what} of shape {expected}, got {h.shape}")
        return unsqueeze(h, 1) if unbatched else h

    def _forward(self, input, h0, c0):
        x, unbatched = self._prepare(input)
        batch = x.shape[1]
        if h0 is not None:
            h0 = self._check_state(h0, batch, unbatched, "hidden state h_0")
        if c0 is not None:
            c0 = self._check_state(c0, batch, unbatched, "cell state c_0")
        h_n, c_n = [], []
        k = 0
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                x = _dropout(x, self.dropout, True)
            outs = []
            for d, suffix in enumerate(self._suffixes(layer)):
                h_init = None if h0 is None else getitem(h0, k)
                c_init = None if c0 is None else getitem(c0, k)
                result = self._run(x, h_init, c_init, self._weights(suffix), reverse=d == 1)
                outs.append(result[0])
                h_n.append(result[1])
                if len(result) == 3:
                    c_n.append(result[2])
                k += 1
            x = outs[0] if len(outs) == 1 else concat(outs, axis=2)
        output = x
        h_n = stack(h_n, axis=0)
        c_n = stack(c_n, axis=0) if c_n else None
        if unbatched:
            output, h_n = squeeze(output, 1), squeeze(h_n, 1)
            c_n = None if c_n is None else squeeze(c_n, 1)
        elif self.batch_first:
            output = transpose(output, 1, 0, 2)
        return output, h_n, c_n

    def get_config(self):
        config = {"input_size": self.input_size, "hidden_size": self.hidden_size,
                  "num_layers": self.num_layers, "bias": self.bias,
                  "batch_first": self.batch_first, "dropout": self.dropout,
                  "bidirectional": self.bidirectional}
        return {**config, **_dtype_config(self.weight_ih_l0.data)}

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)`` (or relu).

    ``forward(input, hx=None) -> (output, h_n)``; input ``(L, N, input_size)`` (``(N, L, ·)``
    with ``batch_first``) or unbatched ``(L, input_size)``; ``hx``, ``h_n``:
    ``(D·num_layers, N, hidden_size)``; output ``(L, N, D·hidden_size)``.

    >>> import chainrule as cr
    >>> out, h_n = cr.nn.RNN(3, 5, nonlinearity="relu")(cr.ones(7, 3))
    >>> out.shape, h_n.shape
    ((7, 5), (1, 5))
    """

    _gates = 1

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype=dtype)

    def _run(self, x, h0, c0, weights, reverse):
        return rnn_layer(x, h0, *weights, nonlinearity=self.nonlinearity, reverse=reverse)

    def forward(self, input, hx=None):
        output, h_n, _ = self._forward(input, hx, None)
        return output, h_n

    def get_config(self):
        return {**super().get_config(), "nonlinearity": self.nonlinearity}

    def extra_repr(self):
        extra = "" if self.nonlinearity == "tanh" else ", nonlinearity='relu'"
        return super().extra_repr() + extra


class LSTM(RNNBase):
    """Long short-term memory (PyTorch's gate order i, f, g, o)::

        i, f, o = σ(W_i· x + b_i· + W_h· h + b_h·),  g = tanh(...)
        c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)

    ``forward(input, hx=None) -> (output, (h_n, c_n))`` with ``hx = (h_0, c_0)``; shapes as
    :class:`RNN`. ``proj_size`` is not supported.

    >>> import chainrule as cr
    >>> out, (h, c) = cr.nn.LSTM(3, 4, bidirectional=True)(cr.ones(6, 2, 3))
    >>> out.shape, h.shape
    ((6, 2, 8), (2, 2, 4))
    """

    _gates = 4

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, dtype=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, dtype=dtype)

    def _run(self, x, h0, c0, weights, reverse):
        return lstm_layer(x, h0, c0, *weights, reverse=reverse)

    def forward(self, input, hx=None):
        h0 = c0 = None
        if hx is not None:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
            h0, c0 = hx
        output, h_n, c_n = self._forward(input, h0, c0)
        return output, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit (PyTorch's gate order r, z, n)::

        r, z = σ(W_i· x + b_i· + W_h· h + b_h·)
        n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)),   h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}

    ``forward(input, hx=None) -> (output, h_n)``; shapes as :class:`RNN`.

    >>> import chainrule as cr
    >>> out, h_n = cr.nn.GRU(3, 4, num_layers=2)(cr.ones(6, 2, 3))
    >>> out.shape, h_n.shape
    ((6, 2, 4), (2, 2, 4))
    """

    _gates = 3

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype=dtype)

    def _run(self, x, h0, c0, weights, reverse):
        return gru_layer(x, h0, *weights, reverse=reverse)

    def forward(self, input, hx=None):
        output, h_n, _ = self._forward(input, hx, None)
        return output, h_n


class RNNCellBase(Module):
    """One time step of a recurrent layer (``RNNCell``, ``LSTMCell``, ``GRUCell``): parameters
    ``weight_ih (G·H, input_size)``, ``weight_hh (G·H, H)``, ``bias_ih``, ``bias_hh`` as in
    PyTorch, the step computed by the fused layer primitive with a sequence of length one."""

    _gates = 1

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__()
        name = type(self).__name__
        if int(input_size) <= 0 or int(hidden_size) <= 0:
            raise ValueError(f"{name}: input_size and hidden_size must be positive, got "
                             f"{input_size} and {hidden_size}")
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bias
        dtype = _resolve_dtype(dtype, name)
        G, H = self._gates, self.hidden_size
        self.weight_ih = Parameter(np.empty((G * H, self.input_size), dtype))
        self.weight_hh = Parameter(np.empty((G * H, H), dtype))
        if bias:
            self.bias_ih = Parameter(np.empty(G * H, dtype))
            self.bias_hh = Parameter(np.empty(G * H, dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    reset_parameters = RNNBase.reset_parameters

    def _step_input(self, input, hx):
        """``input`` as ``(1, B, I)`` and the states as ``(B, H)`` (unbatched: B = 1)."""
        name = type(self).__name__
        x = as_tensor(input)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input of shape (batch, {self.input_size}) or "
                             f"({self.input_size},) (input_size={self.input_size}), got "
                             f"{x.shape}")
        unbatched = x.ndim == 1
        x = unsqueeze(x, 0) if unbatched else x
        states = []
        for h in hx:
            if h is None:
                states.append(None)
                continue
            h = as_tensor(h)
            expected = (self.hidden_size,) if unbatched else (x.shape[0], self.hidden_size)
            if h.shape != expected:
                raise ValueError(f"{name}: expected a state of shape {expected}, got {h.shape}")
            states.append(unsqueeze(h, 0) if unbatched else h)
        return unsqueeze(x, 0), states, unbatched

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def _finish(self, h, unbatched):
        return squeeze(h, 0) if unbatched else h

    def get_config(self):
        return {"input_size": self.input_size, "hidden_size": self.hidden_size,
                "bias": self.bias, **_dtype_config(self.weight_ih.data)}

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(RNNCellBase):
    """``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (or relu) for one step.

    >>> import chainrule as cr
    >>> cr.nn.RNNCell(3, 4)(cr.ones(2, 3)).shape
    (2, 4)
    """

    _gates = 1

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, dtype)

    def forward(self, input, hx=None):
        x, (h,), unbatched = self._step_input(input, (hx,))
        _, h_n = rnn_layer(x, h, *self._weights(), nonlinearity=self.nonlinearity)
        return self._finish(h_n, unbatched)

    def get_config(self):
        return {**super().get_config(), "nonlinearity": self.nonlinearity}


class LSTMCell(RNNCellBase):
    """One LSTM step: ``(h', c') = cell(x, (h, c))``.

    >>> import chainrule as cr
    >>> h, c = cr.nn.LSTMCell(3, 4)(cr.ones(2, 3))
    >>> h.shape, c.shape
    ((2, 4), (2, 4))
    """

    _gates = 4

    def forward(self, input, hx=None):
        h0, c0 = (None, None) if hx is None else hx
        x, (h, c), unbatched = self._step_input(input, (h0, c0))
        _, h_n, c_n = lstm_layer(x, h, c, *self._weights())
        return self._finish(h_n, unbatched), self._finish(c_n, unbatched)


class GRUCell(RNNCellBase):
    """One GRU step: ``h' = cell(x, h)``.

    >>> import chainrule as cr
    >>> cr.nn.GRUCell(3, 4)(cr.ones(3)).shape
    (4,)
    """

    _gates = 3

    def forward(self, input, hx=None):
        x, (h,), unbatched = self._step_input(input, (hx,))
        _, h_n = gru_layer(x, h, *self._weights())
        return self._finish(h_n, unbatched)
