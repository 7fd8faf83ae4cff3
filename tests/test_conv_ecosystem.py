"""Convolution, pooling and BatchNorm2d beyond chainrule: ONNX export reproduced by
onnxruntime, torch_interop round trips, and save_model/load_model rebuilding them."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.torch_interop import from_torch_module, to_torch_module

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from chainrule.onnx_export import UnsupportedLayerError  # noqa: E402


def _trained_bn2d(c, seed=0):
    bn = nn.BatchNorm2d(c)
    rng = np.random.default_rng(seed)
    for _ in range(3):
        bn(cr.tensor(rng.normal(1.0, 2.0, (8, c, 5, 5)).astype(np.float32)))
    bn.weight.data[:] = rng.uniform(0.5, 1.5, c)
    bn.bias.data[:] = rng.normal(size=c)
    return bn


def _lenet():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), _trained_bn2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2),
                         nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3))


def _pools():
    return nn.Sequential(nn.Conv2d(2, 4, (3, 2), dilation=(1, 2), padding="same"),
                         nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
                         nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False),
                         nn.AdaptiveMaxPool2d((3, 7)), nn.Flatten(), nn.Linear(84, 2))


def _padding_modes():
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), nn.Tanh(),
                         nn.Conv2d(3, 2, 3, padding=(1, 2), padding_mode="replicate"),
                         nn.AvgPool2d(3, stride=2, padding=1), nn.AdaptiveAvgPool2d((5, 1)))


def _one_d():
    return nn.Sequential(nn.Conv1d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2),
                         nn.Conv1d(4, 4, 3, stride=2, dilation=2, bias=False),
                         nn.AvgPool1d(2, ceil_mode=True), nn.Flatten())


def _unflatten_first():
    return nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 3, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(27, 4))


MODELS = {
    "lenet": (_lenet, (3, 1, 12, 12)),
    "pools": (_pools, (3, 2, 9, 11)),
    "padding_modes": (_padding_modes, (2, 2, 10, 12)),
    "conv1d": (_one_d, (3, 3, 20)),
    "unflatten": (_unflatten_first, (3, 64)),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_onnxruntime_reproduces_the_cnn(name, tmp_path):
    cr.manual_seed(0)
    make, shape = MODELS[name]
    model = make()
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    path = tmp_path / f"{name}.onnx"
    cr.onnx.export(model, x[:1], path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x})[0]  # a different batch size than the sample's
    model.eval()
    np.testing.assert_allclose(got, model(cr.tensor(x)).data, rtol=1e-5, atol=1e-5)


def test_onnx_export_names_what_it_cannot_express(tmp_path):
    x = np.zeros((1, 1, 7, 7), np.float32)
    cases = [(nn.AdaptiveAvgPool2d(3), "not an even division"),
             (nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular"), "padding_mode='circular'"),
             (nn.AvgPool2d(2, divisor_override=3), "divisor_override"),
             (nn.MaxPool2d(2, return_indices=True), "returns indices")]
    for layer, message in cases:
        with pytest.raises(UnsupportedLayerError, match=message):
            cr.onnx.export(nn.Sequential(layer), x, tmp_path / "m.onnx")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_torch_round_trip_keeps_weights_and_outputs(name):
    cr.manual_seed(0)
    make, shape = MODELS[name]
    model = make().double()
    model.eval()
    twin = to_torch_module(model)
    assert type(twin[0]).__name__ == type(model[0]).__name__
    x = np.random.default_rng(2).standard_normal(shape)
    expected = model(cr.tensor(x)).data
    np.testing.assert_allclose(twin(torch.from_numpy(x)).detach().numpy(), expected,
                               rtol=1e-10, atol=1e-12)
    back = from_torch_module(twin)
    assert repr(back) == repr(model)
    np.testing.assert_allclose(back(cr.tensor(x)).data, expected, rtol=1e-12, atol=1e-12)


def test_from_torch_module_builds_the_classic_mnist_cnn():
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3, 1), torch.nn.ReLU(), torch.nn.Conv2d(32, 64, 3, 1),
        torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(9216, 10)).eval()
    ours = from_torch_module(theirs)
    x = np.random.default_rng(3).standard_normal((2, 1, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(ours(cr.tensor(x)).data,
                               theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-4,
                               atol=1e-5)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_save_model_and_load_model_rebuild_the_architecture(name, tmp_path):
    cr.manual_seed(0)
    make, shape = MODELS[name]
    model = make()
    cr.save_model(model, tmp_path / "m.safetensors")
    loaded = cr.load_model(tmp_path / "m.safetensors")
    assert repr(loaded) == repr(model)
    model.eval()
    loaded.eval()
    x = cr.tensor(np.random.default_rng(4).standard_normal(shape).astype(np.float32))
    np.testing.assert_array_equal(loaded(x).data, model(x).data)
