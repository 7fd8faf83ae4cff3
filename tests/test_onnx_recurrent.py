"""cr.onnx.export of Embedding, LSTM, GRU and RNN: onnxruntime reproduces chainrule to 1e-5."""

import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _run(model, sample, path):
    proto = cr.onnx.export(model, sample, path)
    session = ort.InferenceSession(os.fspath(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": sample})[0]
    with cr.no_grad():
        want = model(cr.tensor(sample))
    want = want[0] if isinstance(want, tuple) else want
    return proto, got, want.data


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("layers,bidirectional,bias,batch_first",
                         [(1, False, True, False), (2, True, True, False),
                          (2, False, False, True), (1, True, True, True)])
def test_recurrent_layers_match_onnxruntime(tmp_path, kind, layers, bidirectional, bias,
                                            batch_first):
    cr.manual_seed(0)
    kw = {"nonlinearity": "relu"} if kind == "RNN" and layers == 2 else {}
    model = getattr(nn, kind)(4, 5, num_layers=layers, bidirectional=bidirectional, bias=bias,
                              batch_first=batch_first, **kw)
    sample = np.random.default_rng(0).normal(size=(3, 7, 4)).astype(np.float32)
    proto, got, want = _run(model, sample, tmp_path / "rnn.onnx")
    assert kind in [n.op_type for n in proto.graph.node]
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_unbatched_sequence_exports(tmp_path):
    cr.manual_seed(1)
    sample = np.random.default_rng(1).normal(size=(6, 3)).astype(np.float32)
    _, got, want = _run(nn.GRU(3, 4, bidirectional=True), sample, tmp_path / "gru.onnx")
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_embedding_is_a_gather_on_integer_ids(tmp_path):
    cr.manual_seed(2)
    model = nn.Sequential(nn.Embedding(11, 4, padding_idx=0), nn.Linear(4, 3))
    ids = np.array([[0, 3, 10], [3, 3, 1]], dtype=np.int64)
    proto, got, want = _run(model, ids, tmp_path / "emb.onnx")
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert proto.graph.node[0].op_type == "Gather"
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_token_ids_to_embedding_lstm_linear_model(tmp_path):
    """The charlstm demo's model (a Module of its own with a registered converter) exports
    whole: token ids in, next-character logits out."""
    from chainrule.demos.charlstm_demo import CharLSTM

    cr.manual_seed(3)
    model = CharLSTM(61, embedding_dim=8, hidden_size=16)
    ids = np.random.default_rng(3).integers(0, 61, (12, 2)).astype(np.int64)
    proto, got, want = _run(model, ids, tmp_path / "charlstm.onnx")
    assert [n.op_type for n in proto.graph.node][:2] == ["Gather", "LSTM"]
    assert got.shape == (12, 2, 61)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    other = np.random.default_rng(4).integers(0, 61, (12, 2)).astype(np.int64)
    session = ort.InferenceSession(os.fspath(tmp_path / "charlstm.onnx"),
                                   providers=["CPUExecutionProvider"])
    with cr.no_grad():
        np.testing.assert_allclose(session.run(None, {"input": other})[0],
                                   model(cr.tensor(other))[0].data, rtol=1e-5, atol=1e-5)
