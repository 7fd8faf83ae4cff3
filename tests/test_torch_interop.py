"""cr.torch_interop: the same weights give the same outputs in chainrule and PyTorch."""

import pickle
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.torch_interop import (
    from_torch_module,
    from_torch_state_dict,
    to_torch_module,
    to_torch_state_dict,
)

torch = pytest.importorskip("torch")

TOL = {"rtol": 1e-10, "atol": 1e-10}


def _model():
    cr.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(5, 8), nn.BatchNorm1d(8), nn.GELU(), nn.Dropout(0.3),
        nn.Concat(nn.Sequential(nn.Linear(8, 4), nn.Tanh()), nn.Linear(8, 3), nn.Identity()),
        nn.Softplus(beta=2.0, threshold=3.0), nn.Linear(15, 6), nn.LeakyReLU(0.1),
        nn.Linear(6, 6), nn.ELU(0.5), nn.Linear(6, 6), nn.Sigmoid(), nn.Linear(6, 3),
        nn.LogSoftmax(dim=1),
    ).double()
    rng = np.random.default_rng(0)
    for _ in range(3):  # move BatchNorm's running statistics away from their initial values
        model(cr.tensor(rng.normal(1.0, 2.0, size=(16, 5))))
    return model.eval()


def _x(n=9, features=5, seed=1):
    return np.random.default_rng(seed).normal(size=(n, features))


def test_state_dict_keys_shapes_and_dtypes_match_pytorch_names():
    model = _model()
    sd = to_torch_state_dict(model.state_dict())
    assert list(sd) == list(model.state_dict())
    assert "1.running_mean" in sd and "4.0.0.weight" in sd
    assert sd["0.weight"].shape == (8, 5) and sd["0.weight"].dtype == torch.float64
    assert sd["1.num_batches_tracked"].dtype == torch.int64
    sd["0.weight"][0, 0] = 123.0  # copies by default: the chainrule model is untouched
    assert model[0].weight.data[0, 0] != 123.0


def test_chainrule_to_torch_gives_the_same_outputs():
    model = _model()
    twin = to_torch_module(model)
    assert not twin.training and not twin[3].training  # modes follow the chainrule model
    x = _x()
    with torch.no_grad():
        got = twin(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, model(cr.tensor(x)).data, **TOL)


def test_torch_weights_load_into_chainrule_and_match():
    # the other direction: a PyTorch-built (and PyTorch-trained) model's weights into chainrule
    torch.manual_seed(0)
    tnet = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 7),
                               torch.nn.ReLU(), torch.nn.Linear(7, 2)).double()
    opt = torch.optim.SGD(tnet.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        tnet(torch.from_numpy(_x(seed=5))).pow(2).sum().backward()
        opt.step()
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 7), nn.ReLU(),
                          nn.Linear(7, 2)).double()
    model.load_state_dict(from_torch_state_dict(tnet.state_dict()))
    x = _x()
    with torch.no_grad():
        want = tnet(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(cr.tensor(x)).data, want, **TOL)


def test_from_torch_module_round_trip_and_gradients_agree():
    model = _model()
    back = from_torch_module(to_torch_module(model))
    x = _x()
    np.testing.assert_allclose(back(cr.tensor(x)).data, model(cr.tensor(x)).data, **TOL)
    # the rebuilt networks train alike: same gradient of the same loss
    twin = to_torch_module(model)
    xt = torch.from_numpy(x)
    twin(xt).sum().backward()
    model(cr.tensor(x)).sum().backward()
    np.testing.assert_allclose(model[0].weight.grad.data, twin[0].weight.grad.numpy(), **TOL)


def test_training_mode_batchnorm_and_dropout_free_model_agree_in_train_mode():
    cr.manual_seed(3)
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6, momentum=None), nn.ReLU(),
                          nn.Linear(6, 2)).double()
    twin = to_torch_module(model)
    assert twin.training
    x = _x(features=4)
    out = model(cr.tensor(x)).data
    with torch.no_grad():
        tout = twin(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, tout, **TOL)  # batch statistics on both sides
    np.testing.assert_allclose(model[1].running_var.data, twin[1].running_var.numpy(), **TOL)


def test_float32_models_stay_float32():
    cr.manual_seed(4)
    twin = to_torch_module(nn.Sequential(nn.Linear(3, 2)))
    assert twin[0].weight.dtype == torch.float32


def test_unknown_layer_is_named():
    class Swish(nn.Module):
        def forward(self, x):
            return x * x.sigmoid()

    with pytest.raises(TypeError, match=r"Swish at '1'"):
        to_torch_module(nn.Sequential(nn.Linear(2, 2), Swish()))
    with pytest.raises(TypeError, match="PixelShuffle"):  # Conv1d is supported since issue 9
        from_torch_module(torch.nn.Sequential(torch.nn.PixelShuffle(2)))


def test_torch_side_extra_modules_pickle():
    twin = to_torch_module(_model())
    again = pickle.loads(pickle.dumps(twin))
    x = torch.from_numpy(_x())
    with torch.no_grad():
        np.testing.assert_array_equal(again(x).numpy(), twin(x).numpy())


def test_importing_chainrule_does_not_import_torch():
    code = "import sys, chainrule.torch_interop; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False"
