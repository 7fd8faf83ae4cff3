"""Layers against PyTorch: same weights (copied through state_dict arrays), same outputs, same
input and parameter gradients, in float64."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn

RTOL = 1e-10
ATOL = 1e-12


def close(ours, theirs, rtol=RTOL, atol=ATOL):
    ours = ours.data if isinstance(ours, cr.Tensor) else np.asarray(ours)
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


def to_torch(module, torch_module):
    """Copy our state_dict arrays into a torch module (keys must match exactly)."""
    state = {k: torch.from_numpy(np.array(v)) for k, v in module.state_dict().items()}
    torch_module.load_state_dict(state, strict=True)
    return torch_module


def run_both(module, torch_module, x, seed=0):
    """Forward both on ``x``, backward a random upstream gradient; compare everything."""
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yc, yt = module(xc), torch_module(xt)
    close(yc, yt)
    g = np.random.default_rng(seed).normal(size=yt.shape)
    yc.backward(g)
    yt.backward(torch.from_numpy(g))
    close(xc.grad, xt.grad)
    ours = dict(module.named_parameters())
    for name, p in torch_module.named_parameters():
        close(ours[name].grad, p.grad)
    return yc, yt


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# --------------------------------------------------------------------------- Linear
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,)])
def test_linear_matches_torch(rng, bias, shape):
    layer = nn.Linear(3, 4, bias=bias, dtype=cr.float64)
    ref = to_torch(layer, torch.nn.Linear(3, 4, bias=bias).double())
    run_both(layer, ref, rng.normal(size=shape))


def test_linear_weight_is_out_by_in_and_default_dtype_float32():
    layer = nn.Linear(3, 4)
    assert layer.weight.shape == (4, 3) and layer.bias.shape == (4,)
    assert layer.weight.dtype == np.float32 and layer(cr.ones(2, 3)).dtype == np.float32


def test_linear_init_is_pytorch_default_uniform_bound():
    cr.manual_seed(0)
    layer = nn.Linear(400, 300, dtype=cr.float64)
    bound = 1 / np.sqrt(400)
    w, b = layer.weight.data, layer.bias.data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.95 * bound
    # U(-a, a) has std a/sqrt(3)
    assert abs(w.std() - bound / np.sqrt(3)) < 0.01 * bound
    cr.manual_seed(0)
    again = nn.Linear(400, 300, dtype=cr.float64)
    assert np.array_equal(again.weight.data, w) and np.array_equal(again.bias.data, b)


def test_linear_wrong_input_size_names_shapes():
    with pytest.raises(ValueError, match=r"\(2, 5\).*\(4, 3\)"):
        nn.Linear(3, 4)(cr.ones(2, 5))


# --------------------------------------------------------------------------- activations
ACTIVATIONS = [
    (nn.ReLU(), torch.nn.ReLU()),
    (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    (nn.LeakyReLU(), torch.nn.LeakyReLU()),
    (nn.Sigmoid(), torch.nn.Sigmoid()),
    (nn.Tanh(), torch.nn.Tanh()),
    (nn.GELU(), torch.nn.GELU()),
    (nn.GELU("tanh"), torch.nn.GELU("tanh")),
    (nn.ELU(0.7), torch.nn.ELU(0.7)),
    (nn.Softplus(), torch.nn.Softplus()),
    (nn.Softplus(beta=2.0, threshold=3.0), torch.nn.Softplus(beta=2.0, threshold=3.0)),
    (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
    (nn.Softmax(dim=0), torch.nn.Softmax(dim=0)),
    (nn.LogSoftmax(dim=1), torch.nn.LogSoftmax(dim=1)),
    (nn.LogSoftmax(dim=-1), torch.nn.LogSoftmax(dim=-1)),
    (nn.Identity(), torch.nn.Identity()),
    (nn.Flatten(), torch.nn.Flatten()),
    (nn.Flatten(0, 1), torch.nn.Flatten(0, 1)),
]


@pytest.mark.parametrize("ours,theirs", ACTIVATIONS, ids=lambda m: repr(m))
def test_activation_matches_torch(rng, ours, theirs):
    x = rng.normal(scale=3.0, size=(4, 3, 5))
    x[0, 0, :3] = [0.5, 1.5, 2.0]  # near the Softplus(beta=2, threshold=3) switch
    run_both(ours, theirs, x)


def test_step_is_heaviside_with_zero_gradient():
    x = cr.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    y = nn.Step()(x)
    assert y.tolist() == [0.0, 1.0, 1.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_activation_reprs_match_torch():
    for ours, theirs in ACTIVATIONS[:11]:
        assert repr(ours) == repr(theirs)


# --------------------------------------------------------------------------- BatchNorm1d
@pytest.mark.parametrize("shape", [(8, 3), (6, 3, 5)])
@pytest.mark.parametrize("momentum", [0.1, None, 0.5])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_train_steps_then_eval_match_torch(rng, shape, momentum, affine):
    bn = nn.BatchNorm1d(3, momentum=momentum, affine=affine, dtype=cr.float64)
    ref = torch.nn.BatchNorm1d(3, momentum=momentum, affine=affine).double()
    if affine:
        bn.weight.data[:] = rng.uniform(0.5, 2.0, 3)
        bn.bias.data[:] = rng.normal(size=3)
    to_torch(bn, ref)
    for step in range(3):
        x = rng.normal(loc=step, scale=1 + step, size=shape)
        run_both(bn, ref, x, seed=step)
        for name, buf in ref.named_buffers():
            close(bn.state_dict()[name], buf)
        if affine:  # the next step starts from the same (updated) parameters
            bn.zero_grad()
            ref.zero_grad()
    assert int(bn.num_batches_tracked.data) == 3
    bn.eval()
    ref.eval()
    run_both(bn, ref, rng.normal(size=shape), seed=9)
    close(bn.running_var, ref.running_var)  # eval leaves the running stats alone


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval(rng):
    bn = nn.BatchNorm1d(4, track_running_stats=False, dtype=cr.float64).eval()
    ref = torch.nn.BatchNorm1d(4, track_running_stats=False).double().eval()
    assert list(bn.state_dict()) == list(ref.state_dict()) == ["weight", "bias"]
    run_both(bn, ref, rng.normal(size=(5, 4)))


def test_batchnorm_running_var_uses_unbiased_variance():
    bn = nn.BatchNorm1d(1, momentum=1.0, dtype=cr.float64)
    bn(cr.tensor(np.array([[1.0], [3.0]])))
    assert bn.running_mean.tolist() == [2.0] and bn.running_var.tolist() == [2.0]


def test_batchnorm_errors():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"\(N, 3\).*\(4, 2\)"):
        bn(cr.ones(4, 2))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(cr.ones(1, 3))


def test_batchnorm_float32_default_and_repr_match_torch():
    bn = nn.BatchNorm1d(5, eps=1e-3, momentum=None)
    assert bn.weight.dtype == np.float32 and bn.running_mean.dtype == np.float32
    theirs = repr(torch.nn.BatchNorm1d(5, eps=1e-3, momentum=None))
    assert repr(bn) == theirs.replace("bias=True, ", "")  # newer torch lists its bias flag


# --------------------------------------------------------------------------- Dropout
def test_dropout_is_reproducible_with_manual_seed():
    layer = nn.Dropout(0.3)
    cr.manual_seed(7)
    a = layer(cr.ones(50, 20)).data
    cr.manual_seed(7)
    b = layer(cr.ones(50, 20)).data
    assert np.array_equal(a, b)
    assert not np.array_equal(a, layer(cr.ones(50, 20)).data)


def test_dropout_scales_survivors_and_keeps_the_mean():
    cr.manual_seed(0)
    x = cr.tensor(np.full((400, 250), 2.0), requires_grad=True)
    y = nn.Dropout(0.25)(x)
    values = np.unique(y.data)
    np.testing.assert_allclose(values, [0.0, 2.0 / 0.75])
    assert abs((y.data == 0).mean() - 0.25) < 0.01
    assert abs(y.data.mean() - 2.0) < 0.03
    y.sum().backward()  # the gradient is the same mask: 1/(1-p) where kept, 0 where dropped
    np.testing.assert_allclose(x.grad.data, y.data / 2.0)


def test_dropout_is_identity_in_eval_and_for_p_zero():
    x = cr.tensor(np.arange(6.0))
    assert nn.Dropout(0.5).eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert nn.Dropout(1.0)(x).tolist() == [0.0] * 6
    assert nn.functional.dropout(x, 0.9, training=False) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


# --------------------------------------------------------------------------- containers
def test_sequential_indexing_slicing_append():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    net = nn.Sequential(a, b)
    assert len(net) == 2 and net[0] is a and net[-1] is b and list(net) == [a, b]
    net.append(c)
    assert net[2] is c and list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    head = net[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    assert net(cr.ones(4, 2)).shape == (4, 1)
    net.insert(0, nn.Identity())
    assert list(net)[1:] == [a, b, c] and "3.weight" in net.state_dict()
    with pytest.raises(IndexError, match="out of range"):
        net[7]
    with pytest.raises(TypeError, match="must be a Module"):
        nn.Sequential(nn.Linear(2, 2), lambda x: x)


def test_sequential_from_ordered_dict_keeps_names():
    from collections import OrderedDict

    net = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(net.state_dict()) == ["fc.weight", "fc.bias"]
    assert net.fc is net[0] and isinstance(net[1], nn.Tanh)


def test_modulelist_registers_parameters():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
    layers.append(nn.Linear(2, 1))
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    assert isinstance(layers[1:], nn.ModuleList) and len(layers[1:]) == 2
    with pytest.raises(NotImplementedError):
        layers(cr.ones(2))


def test_concat_matches_torch_cat_of_branches(rng):
    net = nn.Sequential(
        nn.Concat(nn.Linear(3, 2), nn.Sequential(nn.Linear(3, 4), nn.Tanh())),
        nn.Linear(6, 1),
    ).double()

    class TorchConcat(torch.nn.ModuleList):
        def forward(self, x):
            return torch.cat([m(x) for m in self], dim=-1)

    ref = torch.nn.Sequential(
        TorchConcat([torch.nn.Linear(3, 2), torch.nn.Sequential(torch.nn.Linear(3, 4),
                                                                torch.nn.Tanh())]),
        torch.nn.Linear(6, 1),
    ).double()
    to_torch(net, ref)
    run_both(net, ref, rng.normal(size=(5, 3)))


def test_concat_along_axis_zero_and_needs_a_branch():
    both = nn.Concat(nn.Identity(), nn.Identity(), axis=0)
    assert both(cr.ones(2, 3)).shape == (4, 3)
    with pytest.raises(ValueError, match="at least one branch"):
        nn.Concat()
