"""Module and Parameter: registration, traversal, state_dict (PyTorch's keys), loading, modes,
casting, repr."""

import copy
import pickle

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn


def mlp():
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4), nn.Linear(4, 2),
                         nn.Sigmoid())


def torch_mlp():
    t = torch.nn
    return t.Sequential(t.Linear(3, 4), t.ReLU(), t.BatchNorm1d(4), t.Linear(4, 2), t.Sigmoid())


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 3)
        self.scale = nn.Parameter(cr.ones(3))
        self.register_buffer("steps", np.zeros((), dtype=np.int64))
        self.fc2 = nn.Linear(3, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x) * self.scale)


# --------------------------------------------------------------------------- Parameter
def test_parameter_is_a_leaf_tensor_requiring_grad():
    p = nn.Parameter(cr.zeros(2))
    assert isinstance(p, cr.Tensor) and p.requires_grad and p.is_leaf
    assert not nn.Parameter(cr.zeros(2), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:\ntensor([0., 0.]")
    arr = np.ones(3)
    assert nn.Parameter(arr).data is arr  # wraps without copying


def test_parameter_survives_deepcopy_and_pickle():
    p = nn.Parameter(np.arange(3.0))
    p.grad = cr.tensor(np.ones(3))
    for q in (copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert type(q) is nn.Parameter and q.requires_grad
        assert q.tolist() == [0.0, 1.0, 2.0] and q.grad.tolist() == [1.0, 1.0, 1.0]
        assert q.data is not p.data


# --------------------------------------------------------------------------- registration
def test_attributes_register_parameters_buffers_and_children_in_order():
    m = TwoLayer()
    assert [n for n, _ in m.named_parameters()] == [
        "scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in m.named_children()] == ["fc1", "fc2"]
    assert [n for n, _ in m.named_modules()] == ["", "fc1", "fc2"]
    assert [n for n, _ in m.named_buffers()] == ["steps"]
    assert list(m.state_dict()) == [
        "scale", "steps", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert m.num_parameters() == 3 + 6 + 3 + 3 + 1
    assert m(cr.ones(5, 2)).shape == (5, 1)


def test_plain_attributes_and_tensors_are_not_registered():
    m = nn.Module()
    m.lr = 0.1
    m.t = cr.tensor([1.0], requires_grad=True)
    assert list(m.parameters()) == [] and m.state_dict() == {}


def test_reassignment_moves_between_registries_and_delete_unregisters():
    m = TwoLayer()
    m.fc1 = nn.Identity()
    assert "fc1.weight" not in m.state_dict()
    with pytest.raises(TypeError, match="parameter 'scale'"):
        m.scale = cr.ones(3)
    m.scale = None
    assert "scale" not in m.state_dict() and m.scale is None
    del m.fc2
    assert [n for n, _ in m.named_children()] == ["fc1"]


def test_assigning_parameters_before_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(cr.ones(1))

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Broken()


def test_shared_parameters_appear_once():
    shared = nn.Linear(2, 2)
    net = nn.Sequential(shared, nn.Tanh(), shared)
    assert len(list(net.parameters())) == 2
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_call_is_forward_and_subclasses_can_override():
    class Double(nn.Linear):
        def forward(self, x):
            return super().forward(x) * 2

    layer = Double(2, 2)
    x = cr.ones(1, 2)
    np.testing.assert_allclose(layer(x).data, 2 * nn.Linear.forward(layer, x).data)
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(x)


# --------------------------------------------------------------------------- state_dict
def test_state_dict_keys_equal_torch():
    assert list(mlp().state_dict()) == list(torch_mlp().state_dict())
    assert all(isinstance(v, np.ndarray) for v in mlp().state_dict().values())


def test_state_dict_round_trip_through_torch_gives_same_outputs():
    ours, theirs = mlp().double(), torch_mlp().double()
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(6, 3))
    for mode in (True, False):  # training (batch stats) and eval (running stats)
        ours.train(mode)
        theirs.train(mode)
        np.testing.assert_allclose(ours(cr.tensor(x)).data,
                                   theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    fresh = mlp().double()
    fresh.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(v, theirs.state_dict()[k].numpy(), err_msg=k)
    assert int(fresh.state_dict()["2.num_batches_tracked"]) == 1


def test_load_state_dict_copies_in_place_and_casts():
    net = mlp()
    weight_array = net[0].weight.data
    state = {k: np.array(v, dtype=np.float64) + 1 for k, v in mlp().state_dict().items()}
    result = net.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert net[0].weight.data is weight_array and weight_array.dtype == np.float32
    np.testing.assert_allclose(weight_array, state["0.weight"].astype(np.float32))
    state["0.weight"][0, 0] = 99  # no aliasing with the source
    assert net[0].weight.data[0, 0] != 99


def test_load_state_dict_errors_name_keys_and_shapes():
    net = mlp()
    state = dict(net.state_dict())
    del state["3.bias"]
    state["9.weight"] = np.zeros(2)
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(state)
    assert 'Missing key(s) in state_dict: "3.bias"' in str(err.value)
    assert 'Unexpected key(s) in state_dict: "9.weight"' in str(err.value)
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert missing == ["3.bias"] and unexpected == ["9.weight"]

    bad = dict(net.state_dict())
    before = net[0].bias.data.copy()
    bad["0.bias"] = np.full(4, 5.0)  # fits, but must not be applied: another entry fails
    bad["3.weight"] = np.zeros((4, 2))
    with pytest.raises(RuntimeError, match=r"size mismatch for 3.weight.*\(4, 2\).*\(2, 4\)"):
        net.load_state_dict(bad)
    np.testing.assert_array_equal(net[0].bias.data, before)


# --------------------------------------------------------------------------- modes, grads, dtype
def test_train_eval_propagate_to_every_module():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.BatchNorm1d(2)))
    assert net.eval() is net
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad_sets_none_or_zeros():
    net = nn.Sequential(nn.Linear(2, 2))
    net(cr.ones(3, 2)).sum().backward()
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.data == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_apply_visits_children_first_then_self():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Tanh()))
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "Tanh", "Sequential", "Sequential"]


def test_to_double_float_cast_parameters_grads_and_buffers_in_place():
    net = mlp()
    params = list(net.parameters())
    net(cr.ones(3, 3)).sum().backward()
    net.double()
    assert all(a is b for a, b in zip(net.parameters(), params, strict=True))
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in params)
    assert net[2].running_mean.dtype == np.float64
    assert net[2].num_batches_tracked.dtype == np.int64
    assert net(cr.tensor(np.ones((3, 3)))).dtype == np.float64
    net.float()
    assert all(p.dtype == np.float32 for p in params)
    assert net.to("cpu") is net
    with pytest.raises(ValueError, match="device"):
        net.to(device="cuda")


def test_requires_grad_false_freezes_parameters():
    net = nn.Linear(2, 2).requires_grad_(False)
    assert net.num_parameters(trainable_only=True) == 0 and net.num_parameters() == 6


def test_repr_matches_torch():
    assert repr(mlp()) == repr(torch_mlp()).replace("bias=True, track", "track")


def test_deepcopy_gives_independent_module():
    net = mlp()
    clone = copy.deepcopy(net)
    assert type(clone[0].weight) is nn.Parameter
    clone[0].weight.data += 1
    assert not np.allclose(clone[0].weight.data, net[0].weight.data)
    assert clone.state_dict()["0.weight"] is clone[0].weight.data


def test_get_submodule_and_missing_get_config():
    net = nn.Sequential(nn.Sequential(nn.Linear(2, 2)))
    assert isinstance(net.get_submodule("0.0"), nn.Linear)
    with pytest.raises(AttributeError, match="no sub-module '3'"):
        net.get_submodule("0.3")
    with pytest.raises(NotImplementedError, match="TwoLayer does not define get_config"):
        TwoLayer().get_config()


def test_a_custom_call_in_a_base_class_is_not_bypassed():
    class Logged(nn.Module):
        calls = 0

        def __call__(self, *args):
            Logged.calls += 1
            return self.forward(*args)

    class Net(Logged):
        def forward(self, x):
            return x + 1

    assert Net()(cr.ones(1)).tolist() == [2.0] and Logged.calls == 1
    assert nn.Linear.__call__ is nn.Linear.forward  # the fast path for ordinary layers
