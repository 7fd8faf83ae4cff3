"""Architectures as JSON configs, and networks that actually train: nested Sequential and Concat
learn with a manual SGD loop, and their state_dict rebuilds an identical network."""

import json
from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def concat_net():
    """The lectures' f(x) = f1(x) ⊕ f2(x) followed by a head, with every kind of layer."""
    return nn.Sequential(
        nn.Concat(
            nn.Sequential(nn.Linear(2, 8), nn.Tanh()),
            nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.BatchNorm1d(8)),
            axis=-1,
        ),
        nn.Dropout(0.1),
        nn.Linear(16, 8),
        nn.LeakyReLU(0.1),
        nn.Linear(8, 2),
    )


def xor_like_data(n=128, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 2))
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.int64)
    return cr.tensor(x.astype(np.float32)), cr.tensor(y)


def sgd_train(net, loss_fn, x, y, steps=150, lr=0.1):
    losses = []
    for _ in range(steps):
        loss = loss_fn(net(x), y)
        net.zero_grad()
        loss.backward()
        with cr.no_grad():
            for p in net.parameters():
                p -= lr * p.grad.data
        losses.append(loss.item())
    return losses


def test_concat_network_trains_and_state_dict_rebuilds_it():
    cr.manual_seed(0)
    net = concat_net()
    x, y = xor_like_data()
    losses = sgd_train(net, nn.CrossEntropyLoss(), x, y)
    assert losses[-1] < 0.5 * losses[0]
    net.eval()
    accuracy = (net(x).data.argmax(1) == y.data).mean()
    assert accuracy > 0.85

    fresh = concat_net()
    fresh.load_state_dict(net.state_dict())
    fresh.eval()
    np.testing.assert_array_equal(fresh(x).data, net(x).data)
    assert int(fresh.state_dict()["0.1.2.num_batches_tracked"]) == 150


def test_nested_sequential_regression_trains_in_float64():
    cr.manual_seed(1)
    net = nn.Sequential(nn.Sequential(nn.Linear(1, 16), nn.GELU()),
                        nn.Sequential(nn.Linear(16, 16), nn.Softplus()), nn.Linear(16, 1))
    net.double()
    x = cr.tensor(np.linspace(-2, 2, 64).reshape(-1, 1))
    y = cr.tensor(np.sin(x.data))
    losses = sgd_train(net, nn.MSELoss(), x, y, steps=300, lr=0.1)
    assert losses[-1] < 0.05 * losses[0]


def roundtrip(net):
    record = json.loads(json.dumps(nn.module_to_config(net)))
    rebuilt = nn.module_from_config(record)
    rebuilt.load_state_dict(net.state_dict())
    return record, rebuilt


def test_config_round_trip_rebuilds_nested_sequential_and_concat():
    cr.manual_seed(2)
    net = concat_net()
    net.train()
    net(cr.ones(4, 2))  # move the BatchNorm statistics away from their defaults
    record, rebuilt = roundtrip(net)
    assert record["class"] == "Sequential"
    assert record["children"][0]["class"] == "Concat"
    assert record["children"][0]["config"] == {"axis": -1}
    assert record["children"][2] == {"class": "Linear", "name": "2", "children": [],
                                     "config": {"in_features": 16, "out_features": 8,
                                                "bias": True}}
    assert repr(rebuilt) == repr(net)
    assert list(rebuilt.state_dict()) == list(net.state_dict())
    x = cr.tensor(np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32))
    np.testing.assert_array_equal(rebuilt.eval()(x).data, net.eval()(x).data)


def test_every_builtin_layer_round_trips_its_config():
    layers = [
        nn.Linear(3, 2, bias=False), nn.Linear(2, 2, dtype=cr.float64), nn.Identity(),
        nn.Flatten(0, 1), nn.ReLU(), nn.LeakyReLU(0.3), nn.Sigmoid(), nn.Tanh(), nn.GELU("tanh"),
        nn.ELU(0.5), nn.Softplus(2.0, 10.0), nn.Softmax(0), nn.LogSoftmax(1), nn.Step(),
        nn.Dropout(0.3), nn.BatchNorm1d(4, eps=1e-3, momentum=None, affine=False),
        nn.BatchNorm1d(2, track_running_stats=False), nn.ModuleList([nn.Linear(1, 1)]),
        nn.MSELoss(reduction="sum"), nn.L1Loss(), nn.HuberLoss(delta=2.0),
        nn.BCELoss(weight=[1.0, 2.0]), nn.BCEWithLogitsLoss(pos_weight=[3.0]),
        nn.CrossEntropyLoss(weight=[1.0, 2.0], ignore_index=1, label_smoothing=0.1),
        nn.NLLLoss(reduction="none"),
    ]
    for layer in layers:
        record, rebuilt = roundtrip(layer)
        assert type(rebuilt) is type(layer)
        assert rebuilt.get_config() == layer.get_config(), type(layer).__name__
        assert repr(rebuilt) == repr(layer)
    assert nn.module_to_config(nn.Linear(2, 2, dtype=cr.float64))["config"]["dtype"] == "float64"
    assert roundtrip(nn.Linear(2, 2, dtype=cr.float64))[1].weight.dtype == np.float64


def test_custom_names_and_custom_classes():
    net = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert list(roundtrip(net)[1].state_dict()) == ["hidden.weight", "hidden.bias"]

    class Scale(nn.Module):
        def __init__(self, factor):
            super().__init__()
            self.factor = factor

        def forward(self, x):
            return x * self.factor

        def get_config(self):
            return {"factor": self.factor}

    record = nn.module_to_config(nn.Sequential(Scale(3.0)))
    with pytest.raises(ValueError, match="unknown module class 'Scale'"):
        nn.module_from_config(record)
    rebuilt = nn.module_from_config(record, registry={"Scale": Scale})
    assert rebuilt(cr.ones(2)).tolist() == [3.0, 3.0]
    with pytest.raises(ValueError, match="'class'"):
        nn.module_from_config({"config": {}})
