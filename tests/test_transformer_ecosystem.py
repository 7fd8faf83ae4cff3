"""LayerNorm, MultiheadAttention and the Transformer encoder outside chainrule: torch_interop
round trips (same outputs both ways), save_model / load_model and architecture configs."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.nn.serialize import module_from_config, module_to_config
from chainrule.torch_interop import from_torch_module, to_torch_module


def _encoder(**kwargs):
    cr.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, **kwargs)
    return nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8, eps=1e-6))


MODELS = {
    "layer_norm": (lambda: nn.LayerNorm((3, 4), bias=False), (2, 3, 4)),
    "mha": (lambda: nn.MultiheadAttention(8, 4, dropout=0.1, batch_first=True), (2, 5, 8)),
    "mha_kdim": (lambda: nn.MultiheadAttention(6, 2, kdim=3, vdim=5), None),
    "layer": (lambda: nn.TransformerEncoderLayer(8, 2, 16, activation="gelu", norm_first=True),
              (5, 2, 8)),
    "encoder": (_encoder, (2, 5, 8)),
}


def _run(model, x):
    if isinstance(model, (nn.MultiheadAttention, torch.nn.MultiheadAttention)):
        return model(x, x, x)[0]
    return model(x)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_torch_round_trip_gives_the_same_outputs(name):
    make, shape = MODELS[name]
    ours = make().double().eval()
    twin = to_torch_module(ours)
    assert list(twin.state_dict()) == list(ours.state_dict())
    back = from_torch_module(twin)
    assert type(back) is type(ours) and back.get_config() == ours.get_config()
    if shape is None:
        return
    x = np.random.default_rng(0).normal(size=shape)
    want = _run(ours, cr.tensor(x)).data
    twin.train()  # torch's inference fast path is not the reference; dropout is 0 or off below
    for mod in twin.modules():
        if isinstance(mod, torch.nn.Dropout):
            mod.p = 0.0
        if isinstance(mod, torch.nn.MultiheadAttention):
            mod.dropout = 0.0
    np.testing.assert_allclose(_run(twin, torch.from_numpy(x)).detach().numpy(), want,
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_run(back, cr.tensor(x)).data, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_save_model_rebuilds_the_architecture(name, tmp_path):
    make, shape = MODELS[name]
    model = make().eval()
    cr.save_model(model, tmp_path / "m.safetensors")
    rebuilt = cr.load_model(tmp_path / "m.safetensors")
    assert repr(rebuilt) == repr(model) and rebuilt.get_config() == model.get_config()
    assert list(rebuilt.state_dict()) == list(model.state_dict())
    if shape is not None:
        x = cr.tensor(np.random.default_rng(1).normal(size=shape).astype(np.float32))
        np.testing.assert_array_equal(_run(rebuilt, x).data, _run(model, x).data)


def test_encoder_config_nests_the_layer_and_norm():
    record = module_to_config(_encoder(activation="gelu"))
    assert record["config"]["encoder_layer"]["class"] == "TransformerEncoderLayer"
    assert record["config"]["norm"]["config"]["eps"] == 1e-6
    rebuilt = module_from_config(record)
    assert rebuilt.layers[1].activation is cr.nn.functional.gelu
    assert rebuilt.norm.eps == 1e-6


def test_custom_activation_cannot_be_saved_by_architecture():
    layer = nn.TransformerEncoderLayer(4, 2, 8, activation=cr.tanh)
    with pytest.raises(TypeError, match="callable activation cannot be saved"):
        cr.save_model(layer, "/tmp/never-written.safetensors")
    with pytest.raises(TypeError, match="custom activation"):
        to_torch_module(layer)


def test_float64_config_keeps_its_dtype():
    rebuilt = module_from_config(module_to_config(nn.MultiheadAttention(4, 2, dtype=cr.float64)))
    assert rebuilt.in_proj_weight.dtype == np.float64
