"""nn.init (PyTorch's formulas: gains, fans, bounds, spreads) and nn.utils (gradient clipping,
parameter vectors) against PyTorch."""

import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.nn import init, utils


def param(*shape, dtype=np.float64):
    return nn.Parameter(np.zeros(shape, dtype=dtype))


# --------------------------------------------------------------------------- init
@pytest.mark.parametrize("name,arg", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None),
])
def test_calculate_gain_equals_torch(name, arg):
    assert init.calculate_gain(name, arg) == pytest.approx(torch.nn.init.calculate_gain(name, arg),
                                                           rel=1e-15)


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("fn,kwargs,kind,scale", [
    # scale: the uniform bound or the normal std, by PyTorch's formula for fan_in=200, fan_out=300
    (init.xavier_uniform_, {}, "uniform", math.sqrt(6 / 500)),
    (init.xavier_uniform_, {"gain": 2.0}, "uniform", 2 * math.sqrt(6 / 500)),
    (init.xavier_normal_, {}, "normal", math.sqrt(2 / 500)),
    (init.kaiming_uniform_, {}, "uniform", math.sqrt(2) * math.sqrt(3 / 200)),  # a=0
    (init.kaiming_uniform_, {"a": math.sqrt(5)}, "uniform", 1 / math.sqrt(200)),
    (init.kaiming_uniform_, {"mode": "fan_out", "nonlinearity": "relu"}, "uniform",
     math.sqrt(2) * math.sqrt(3 / 300)),
    (init.kaiming_normal_, {"nonlinearity": "relu"}, "normal", math.sqrt(2 / 200)),
    (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "tanh"}, "normal",
     (5 / 3) / math.sqrt(300)),
])
def test_init_bounds_and_spread_follow_torch_formulas(fn, kwargs, kind, scale):
    cr.manual_seed(0)
    w = param(300, 200)
    assert fn(w, **kwargs) is w
    data = w.data
    ours_ref = torch.empty(300, 200, dtype=torch.float64)
    getattr(torch.nn.init, fn.__name__)(ours_ref, **kwargs)
    if kind == "uniform":
        assert np.abs(data).max() <= scale and np.abs(data).max() > 0.999 * scale
        assert ours_ref.abs().max().item() <= scale  # the same bound holds for torch's draw
        assert data.std() == pytest.approx(scale / math.sqrt(3), rel=0.02)
    else:
        assert data.std() == pytest.approx(scale, rel=0.02)
        assert ours_ref.std().item() == pytest.approx(scale, rel=0.02)
    assert abs(data.mean()) < 0.02 * scale


def test_fans_include_the_receptive_field():
    cr.manual_seed(1)
    w = param(40, 10, 5)  # fan_in = 50, fan_out = 200
    init.xavier_uniform_(w)
    assert np.abs(w.data).max() <= math.sqrt(6 / 250)
    assert np.abs(w.data).max() > 0.99 * math.sqrt(6 / 250)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_uniform_(param(5))


def test_simple_fills_and_reproducibility():
    w = param(3, 4, dtype=np.float32)
    assert init.constant_(w, 0.5).data.tolist() == [[0.5] * 4] * 3
    assert init.ones_(w).data.sum() == 12 and init.zeros_(w).data.sum() == 0
    assert np.array_equal(init.eye_(param(2, 3)).data, np.eye(2, 3))
    cr.manual_seed(3)
    a = init.normal_(w, 1.0, 0.1).data.copy()
    cr.manual_seed(3)
    assert np.array_equal(init.normal_(w, 1.0, 0.1).data, a) and w.dtype == np.float32
    u = init.uniform_(param(1000), -2.0, -1.0).data
    assert u.min() >= -2.0 and u.max() <= -1.0


def test_init_does_not_record_a_graph():
    w = param(3, 3)
    init.kaiming_normal_(w)
    assert w.is_leaf and w.grad is None


# --------------------------------------------------------------------------- utils
def _grads_pair(seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    grads = [rng.normal(scale=scale, size=s) for s in [(3, 4), (4,), (2, 2, 2)]]
    ours = [nn.Parameter(np.zeros_like(g)) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for o, t, g in zip(ours, theirs, grads):
        o.grad = cr.tensor(g.copy())
        t.grad = torch.tensor(g.copy())
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _grads_pair()
    total = utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert float(total) == pytest.approx(ref.item(), rel=1e-12)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.data, t.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_skips_missing_grads_and_checks_finiteness():
    ours, _ = _grads_pair()
    ours.append(nn.Parameter(np.zeros(3)))  # no grad
    utils.clip_grad_norm_(ours, 1.0)
    norm = math.sqrt(sum((p.grad.data ** 2).sum() for p in ours[:3]))
    assert norm == pytest.approx(1.0, rel=1e-5)
    ours[0].grad.data[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="non|inf"):
        utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch():
    ours, theirs = _grads_pair(scale=3.0)
    utils.clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.grad.data, t.grad.numpy())


def test_parameter_vector_round_trip_matches_torch():
    layer = nn.Linear(3, 2, dtype=cr.float64)
    ref = torch.nn.Linear(3, 2).double()
    ref.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in layer.state_dict().items()})
    vec = utils.parameters_to_vector(layer.parameters())
    np.testing.assert_array_equal(vec.data, torch.nn.utils.parameters_to_vector(
        ref.parameters()).detach().numpy())
    utils.vector_to_parameters(np.arange(8.0), layer.parameters())
    assert layer.weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert layer.bias.tolist() == [6.0, 7.0]
    (vec * cr.tensor(np.arange(8.0))).sum().backward()  # differentiable, like torch's
    assert layer.bias.grad.tolist() == [6.0, 7.0]
    with pytest.raises(ValueError, match="7 elements but the parameters need 8"):
        utils.vector_to_parameters(np.zeros(7), layer.parameters())
