"""torch_interop round-trips Embedding, RNN, LSTM and GRU (and models containing them)."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.torch_interop import from_torch_module, to_torch_module


@pytest.mark.parametrize("make", [
    lambda: cr.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True, dropout=0.2),
    lambda: cr.nn.GRU(3, 4, bias=False),
    lambda: cr.nn.RNN(3, 4, nonlinearity="relu", num_layers=2).double(),
])
def test_recurrent_layers_round_trip(make):
    cr.manual_seed(0)
    layer = make().eval()
    twin = to_torch_module(layer)
    assert type(twin).__name__ == type(layer).__name__
    dtype = layer.weight_ih_l0.data.dtype
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype(dtype)
    ours = layer(cr.tensor(x))[0].data
    theirs = twin(torch.from_numpy(x))[0].detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    back = from_torch_module(twin)
    assert repr(back) == repr(layer)
    for (k, a), (k2, b) in zip(layer.state_dict().items(), back.state_dict().items()):
        assert k == k2 and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_embedding_in_a_sequential_round_trips():
    cr.manual_seed(1)
    model = cr.nn.Sequential(cr.nn.Embedding(9, 4, padding_idx=2), cr.nn.Linear(4, 2))
    twin = to_torch_module(model)
    assert isinstance(twin[0], torch.nn.Embedding) and twin[0].padding_idx == 2
    ids = np.array([[1, 2, 8]])
    np.testing.assert_allclose(twin(torch.from_numpy(ids)).detach().numpy(),
                               model(cr.tensor(ids)).data, rtol=1e-6)
    back = from_torch_module(twin)
    assert back[0].padding_idx == 2
    np.testing.assert_array_equal(back[0].weight.data, model[0].weight.data)


def test_projected_lstm_is_refused_by_name():
    with pytest.raises(TypeError, match="proj_size=2"):
        from_torch_module(torch.nn.LSTM(3, 4, proj_size=2))
