"""save_model / load_model rebuild Embedding and the recurrent layers from their configs."""

import numpy as np

import chainrule as cr


def test_saved_models_with_embedding_and_lstm_rebuild(tmp_path):
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Embedding(12, 5, padding_idx=0),
                             cr.nn.GRU(5, 6, num_layers=2, bidirectional=True)).double()
    path = tmp_path / "seq.safetensors"
    cr.save_model(model, path)
    back = cr.load_model(path)
    assert repr(back) == repr(model)
    ids = cr.tensor(np.array([[1, 0, 11], [4, 4, 2]]))
    np.testing.assert_array_equal(back(ids)[0].data, model(ids)[0].data)


def test_the_demo_model_saves_with_a_registry(tmp_path):
    from chainrule.demos.charlstm_demo import CharLSTM

    cr.manual_seed(1)
    model = CharLSTM(61, embedding_dim=8, hidden_size=16)
    cr.save_model(model, tmp_path / "char.safetensors")
    back = cr.load_model(tmp_path / "char.safetensors", registry={"CharLSTM": CharLSTM})
    ids = cr.tensor(np.array([[3], [7], [9]]))
    np.testing.assert_array_equal(back(ids)[0].data, model(ids)[0].data)
    assert back.lstm.hidden_size == 16
