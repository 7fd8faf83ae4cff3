"""Recurrent layers against PyTorch: the fused primitives (``cr.ops.lstm_layer`` & co.) and the
``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` modules loaded from torch's state dicts, forward and every
gradient (inputs, initial states, each parameter) under a random upstream gradient."""

import itertools
import sys

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.ops import gru_layer, lstm_layer, rnn_layer
from chainrule.torch_interop import from_torch_state_dict

GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


def _torch_layer(mode, x, h0, c0, params, reverse):
    """One torch layer through torch.lstm / torch.gru / torch.rnn_* (reverse: time flipped)."""
    if reverse:
        x = x.flip(0)
    has_bias = len(params) == 4
    fn = {"lstm": torch.lstm, "gru": torch.gru, "rnn_tanh": torch.rnn_tanh,
          "rnn_relu": torch.rnn_relu}[mode]
    hx = (h0[None], c0[None]) if mode == "lstm" else h0[None]
    out, *states = fn(x, hx, params, has_bias, 1, 0.0, False, False, False)
    if reverse:
        out = out.flip(0)
    return torch.cat([out.reshape(-1)] + [s.reshape(-1) for s in states])


def _cr_layer(mode, x, h0, c0, params, reverse):
    if mode == "lstm":
        outs = lstm_layer(x, h0, c0, *params, reverse=reverse)
    elif mode == "gru":
        outs = gru_layer(x, h0, *params, reverse=reverse)
    else:
        outs = rnn_layer(x, h0, *params, nonlinearity=mode[4:], reverse=reverse)
    return cr.concat([o.reshape(-1) for o in outs])


@pytest.mark.parametrize("mode", sorted(GATES))
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_layer_primitive_matches_torch(oracle, rng, mode, bias, reverse, dtype):
    T, B, I, H = 4, 3, 2, 3
    G = GATES[mode]
    arrays = [rng.normal(size=(T, B, I)), rng.normal(size=(B, H)), rng.normal(size=(B, H)),
              rng.normal(size=(G * H, I)), rng.normal(size=(G * H, H))]
    if bias:
        arrays += [rng.normal(size=G * H), rng.normal(size=G * H)]

    def ours(x, h0, c0, *params):
        return _cr_layer(mode, x, h0, c0, params, reverse) + 0 * c0.sum()

    def theirs(x, h0, c0, *params):
        return _torch_layer(mode, x, h0, c0, list(params), reverse) + 0 * c0.sum()

    oracle(ours, theirs, arrays, dtype)


def _compare_modules(kind, seed=0, T=5, B=3, I=4, H=3, unbatched=False, init=True, dtype=np.float64,
                     tol=1e-10, **kw):
    """Build the torch module, load its state dict into chainrule's, and compare outputs and
    the gradients of input, initial states and every parameter."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    tm = getattr(torch.nn, kind)(I, H, **kw).to(tdtype)
    cm = getattr(cr.nn, kind)(I, H, **kw, dtype=dtype)
    result = cm.load_state_dict(from_torch_state_dict(tm))
    assert not result.missing_keys and not result.unexpected_keys
    assert list(cm.state_dict()) == list(tm.state_dict())
    D = 2 if kw.get("bidirectional") else 1
    L = kw.get("num_layers", 1)
    if unbatched:
        xshape, sshape = (T, I), (L * D, H)
    else:
        xshape = (B, T, I) if kw.get("batch_first") else (T, B, I)
        sshape = (L * D, B, H)
    arrays = [rng.normal(size=xshape)] + [rng.normal(size=sshape) for _ in range(2)]
    arrays = [a.astype(dtype) for a in arrays]
    tx, th, tc = (torch.from_numpy(a.copy()).requires_grad_() for a in arrays)
    cx, ch, cc = (cr.tensor(a.copy(), requires_grad=True) for a in arrays)
    if kind == "LSTM":
        to, (th_n, tc_n) = tm(tx, (th, tc) if init else None)
        co, (ch_n, cc_n) = cm(cx, (ch, cc) if init else None)
        touts, couts = [to, th_n, tc_n], [co, ch_n, cc_n]
    else:
        to, th_n = tm(tx, th if init else None)
        co, ch_n = cm(cx, ch if init else None)
        touts, couts = [to, th_n], [co, ch_n]
    ups = [rng.normal(size=tuple(t.shape)).astype(dtype) for t in touts]
    sum((t * torch.from_numpy(u)).sum() for t, u in zip(touts, ups)).backward()
    sum((c * cr.tensor(u)).sum() for c, u in zip(couts, ups)).backward()
    check = dict(rtol=tol, atol=1e-12 if dtype == np.float64 else 1e-6)  # conftest's
    for t, c in zip(touts, couts):
        assert c.shape == tuple(t.shape) and c.dtype == dtype
        np.testing.assert_allclose(c.data, t.detach().numpy(), **check, err_msg="forward")
    pairs = [(tx, cx, "input")]
    if init:
        pairs += [(th, ch, "h0")] + ([(tc, cc, "c0")] if kind == "LSTM" else [])
    pairs += [(p, getattr(cm, name), name) for name, p in tm.named_parameters()]
    for t, c, name in pairs:
        np.testing.assert_allclose(c.grad.data, t.grad.numpy(), **check, err_msg=name)


MODULE_CASES = list(itertools.product([1, 2], [True, False], [False, True], [False, True],
                                      [True, False]))


@pytest.mark.parametrize("num_layers,bias,batch_first,bidirectional,init", MODULE_CASES)
def test_lstm_module_matches_torch(num_layers, bias, batch_first, bidirectional, init):
    _compare_modules("LSTM", num_layers=num_layers, bias=bias, batch_first=batch_first,
                     bidirectional=bidirectional, init=init)


@pytest.mark.parametrize("kind", ["GRU", "RNN"])
@pytest.mark.parametrize("num_layers,bias,batch_first,bidirectional,init", MODULE_CASES[::3])
def test_gru_and_rnn_modules_match_torch(kind, num_layers, bias, batch_first, bidirectional,
                                         init):
    _compare_modules(kind, num_layers=num_layers, bias=bias, batch_first=batch_first,
                     bidirectional=bidirectional, init=init)


def test_relu_rnn_and_unbatched_inputs_match_torch():
    _compare_modules("RNN", nonlinearity="relu", num_layers=2, bidirectional=True)
    for kind in ("LSTM", "GRU", "RNN"):
        _compare_modules(kind, unbatched=True, num_layers=2, bidirectional=True)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_float32_modules_match_torch_and_stay_float32(kind):
    _compare_modules(kind, dtype=np.float32, tol=1e-5, num_layers=2, bidirectional=True)


def test_dropout_between_layers_only_while_training():
    torch.manual_seed(0)
    tm = torch.nn.LSTM(3, 4, num_layers=2, dropout=0.5).double().eval()
    cm = cr.nn.LSTM(3, 4, num_layers=2, dropout=0.5).double().eval()
    cm.load_state_dict(from_torch_state_dict(tm))
    x = np.random.default_rng(0).normal(size=(6, 2, 3))
    want = tm(torch.from_numpy(x))[0].detach().numpy()
    np.testing.assert_allclose(cm(cr.tensor(x))[0].data, want, rtol=1e-10)  # eval: no dropout
    cm.train()
    cr.manual_seed(1)
    a = cm(cr.tensor(x))[0].data
    cr.manual_seed(1)
    b = cm(cr.tensor(x))[0].data
    np.testing.assert_array_equal(a, b)  # the library generator reproduces the mask
    assert np.abs(a - want).max() > 1e-3  # training: layer 2 sees a dropped-out input
    single = torch.nn.LSTM(3, 4).double()  # the last layer's output is not dropped out
    single.load_state_dict({k: v for k, v in tm.state_dict().items() if k.endswith("_l0")})
    one = cr.nn.LSTM(3, 4, dropout=0.5).double()
    one.load_state_dict(from_torch_state_dict(single))
    np.testing.assert_allclose(one(cr.tensor(x))[0].data,
                               single(torch.from_numpy(x))[0].detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_backpropagates_through_ten_thousand_steps(kind):
    """BPTT is a loop, not recursion: 10,000 steps under a tiny recursion limit. The gradient is
    checked by a central difference along a random direction of the whole input and of
    weight_hh (PyTorch needs seconds for this length, the check needs two forward passes)."""
    cr.manual_seed(0)
    rng = np.random.default_rng(0)
    m = getattr(cr.nn, kind)(2, 3).double()
    x = rng.normal(size=(10_000, 1, 2))
    cx = cr.tensor(x, requires_grad=True)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        m(cx)[0].sum().backward()
    finally:
        sys.setrecursionlimit(limit)
    v, u = rng.normal(size=x.shape), rng.normal(size=m.weight_hh_l0.shape)
    w = m.weight_hh_l0.data.copy()
    eps = 1e-6

    def loss(dx, dw):
        m.weight_hh_l0.data = w + dw
        with cr.no_grad():
            return m(cr.tensor(x + dx))[0].data.sum()

    numeric = (loss(eps * v, eps * u) - loss(-eps * v, -eps * u)) / (2 * eps)
    m.weight_hh_l0.data = w
    analytic = (cx.grad.data * v).sum() + (m.weight_hh_l0.grad.data * u).sum()
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6)
    assert np.abs(cx.grad.data[0]).max() > 0  # the gradient reached the first step


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_gradcheck_small_modules(kind):
    """Finite differences through a 2-layer bidirectional module: input and initial states
    (the weights are gradchecked through the primitives in test_layer_primitive_matches_torch)."""
    cr.manual_seed(0)
    m = getattr(cr.nn, kind)(2, 2, num_layers=2, bidirectional=True).double()
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.normal(size=(3, 2, 2)), requires_grad=True)
    h = cr.tensor(rng.normal(size=(4, 2, 2)), requires_grad=True)

    def fn(x, h):
        out, state = m(x, (h, h * 0.5) if kind == "LSTM" else h)
        last = state[1] if kind == "LSTM" else state
        return cr.concat([out.reshape(-1), last.reshape(-1)])

    assert cr.gradcheck(fn, [x, h])


def test_parameters_names_shapes_and_default_init_follow_torch():
    cr.manual_seed(0)
    for kind, G in (("LSTM", 4), ("GRU", 3), ("RNN", 1)):
        tm = getattr(torch.nn, kind)(5, 7, num_layers=2, bidirectional=True)
        cm = getattr(cr.nn, kind)(5, 7, num_layers=2, bidirectional=True)
        assert [(k, tuple(v.shape)) for k, v in tm.state_dict().items()] == \
               [(k, v.shape) for k, v in cm.state_dict().items()]
        bound = 1 / np.sqrt(7)
        values = np.concatenate([p.data.ravel() for p in cm.parameters()])
        assert values.dtype == np.float32
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.9 * bound
        assert cm.weight_ih_l1.shape == (G * 7, 14)
    assert "bias_ih_l0" not in cr.nn.GRU(2, 3, bias=False).state_dict()


def test_errors_name_expected_and_actual_sizes():
    lstm = cr.nn.LSTM(10, 4)
    with pytest.raises(ValueError, match="input_size=10.*got 12"):
        lstm(cr.ones(5, 2, 12))
    with pytest.raises(ValueError, match=r"h_0 of shape \(1, 2, 4\), got \(1, 3, 4\)"):
        lstm(cr.ones(5, 2, 10), (cr.zeros(1, 3, 4), cr.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match=r"c_0 of shape \(1, 2, 4\), got \(2, 2, 4\)"):
        lstm(cr.ones(5, 2, 10), (cr.zeros(1, 2, 4), cr.zeros(2, 2, 4)))
    with pytest.raises(ValueError, match="2-D .* or 3-D input"):
        cr.nn.GRU(10, 4)(cr.ones(10))
    with pytest.raises(NotImplementedError, match="proj_size"):
        cr.nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="nonlinearity"):
        cr.nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"lstm: input has 3 features .* weight_ih has shape"):
        lstm_layer(cr.ones(2, 1, 3), None, None, cr.ones(8, 2), cr.ones(8, 2))


def test_states_carry_over_between_chunks():
    """Running a sequence in two chunks, passing the states on, equals one run."""
    cr.manual_seed(0)
    m = cr.nn.LSTM(3, 4, num_layers=2).double()
    x = cr.tensor(np.random.default_rng(0).normal(size=(8, 2, 3)))
    whole, (h, c) = m(x)
    first, state = m(x[:5])
    second, (h2, c2) = m(x[5:], state)
    np.testing.assert_allclose(cr.concat([first, second], axis=0).data, whole.data, rtol=1e-12)
    np.testing.assert_allclose(h2.data, h.data, rtol=1e-12)
    np.testing.assert_allclose(c2.data, c.data, rtol=1e-12)


def test_config_round_trip_rebuilds_the_layers():
    for layer in (cr.nn.LSTM(3, 4, num_layers=2, batch_first=True, dropout=0.1),
                  cr.nn.GRU(3, 4, bidirectional=True, bias=False),
                  cr.nn.RNN(3, 4, nonlinearity="relu").double(),
                  cr.nn.LSTMCell(3, 4), cr.nn.RNNCell(3, 4, bias=False, nonlinearity="relu")):
        clone = cr.nn.module_from_config(cr.nn.module_to_config(layer))
        assert repr(clone) == repr(layer)
        assert [(k, v.shape, v.dtype) for k, v in clone.state_dict().items()] == \
               [(k, v.shape, v.dtype) for k, v in layer.state_dict().items()]


@pytest.mark.parametrize("kind", ["LSTMCell", "GRUCell", "RNNCell"])
@pytest.mark.parametrize("bias,unbatched,init", [(True, False, True), (False, False, False),
                                                 (True, True, True)])
def test_cells_match_torch(kind, bias, unbatched, init):
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    tm = getattr(torch.nn, kind)(3, 4, bias=bias).double()
    cm = getattr(cr.nn, kind)(3, 4, bias=bias).double()
    cm.load_state_dict(from_torch_state_dict(tm))
    assert list(cm.state_dict()) == list(tm.state_dict())
    xs, ss = ((3,), (4,)) if unbatched else ((2, 3), (2, 4))
    arrays = [rng.normal(size=xs), rng.normal(size=ss), rng.normal(size=ss)]
    tx, th, tc = (torch.from_numpy(a.copy()).requires_grad_() for a in arrays)
    cx, ch, cc = (cr.tensor(a.copy(), requires_grad=True) for a in arrays)
    if kind == "LSTMCell":
        touts = list(tm(tx, (th, tc) if init else None))
        couts = list(cm(cx, (ch, cc) if init else None))
    else:
        touts, couts = [tm(tx, th if init else None)], [cm(cx, ch if init else None)]
    ups = [rng.normal(size=tuple(t.shape)) for t in touts]
    sum((t * torch.from_numpy(u)).sum() for t, u in zip(touts, ups)).backward()
    sum((c * cr.tensor(u)).sum() for c, u in zip(couts, ups)).backward()
    for t, c in zip(touts, couts):
        np.testing.assert_allclose(c.data, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    pairs = [(tx, cx)] + ([(th, ch)] if init else []) + \
        ([(tc, cc)] if init and kind == "LSTMCell" else [])
    pairs += [(p, getattr(cm, n)) for n, p in tm.named_parameters()]
    for t, c in pairs:
        np.testing.assert_allclose(c.grad.data, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="input_size=3"):
        cm(cr.ones(2, 5))
