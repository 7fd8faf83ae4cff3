"""cr.onnx.export: the files pass onnx.checker and onnxruntime reproduces the models."""

import os
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from chainrule.onnx_export import UnsupportedLayerError, register  # noqa: E402


def _trained_batchnorm(features, seed=0):
    """A BatchNorm1d whose running statistics are not the initial zeros and ones."""
    bn = nn.BatchNorm1d(features)
    rng = np.random.default_rng(seed)
    for _ in range(5):
        bn(cr.tensor(rng.normal(2.0, 3.0, size=(32, features)).astype(np.float32)))
    bn.weight.data[:] = rng.uniform(0.5, 1.5, features)
    bn.bias.data[:] = rng.normal(size=features)
    return bn


def _mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 4))


def _every_activation():
    return nn.Sequential(
        nn.Linear(6, 8), nn.LeakyReLU(0.2), nn.Linear(8, 8), nn.ELU(0.7),
        nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 8), nn.GELU("tanh"),
        nn.Linear(8, 8), nn.Softplus(beta=2.0, threshold=3.0), nn.Linear(8, 8), nn.Softplus(),
        nn.Sigmoid(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3), nn.LogSoftmax(dim=1),
    )


def _batchnorm_dropout_softmax():
    return nn.Sequential(nn.Linear(6, 12), _trained_batchnorm(12), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(12, 5), nn.Softmax(dim=-1))


def _concat_branches():
    # the lectures' f(x) = f1(x) ⊕ f2(x) ⊕ x, then a perceptron step
    return nn.Sequential(
        nn.Concat(nn.Sequential(nn.Linear(6, 5), nn.Tanh()), nn.Identity(), nn.Linear(6, 2)),
        nn.Linear(13, 3), nn.Step(),
    )


def _flatten_images():
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.GELU(), nn.Linear(8, 2))


def _linear_on_sequences():
    # Linear on a 3-D input (MatMul + Add), softmax over the middle axis, merge the last two
    return nn.Sequential(nn.Linear(4, 5), nn.Softmax(dim=1), nn.Flatten(start_dim=1, end_dim=2))


ARCHITECTURES = {
    "mlp": (_mlp, (6,)),
    "every_activation": (_every_activation, (6,)),
    "batchnorm_dropout_softmax": (_batchnorm_dropout_softmax, (6,)),
    "concat_branches": (_concat_branches, (6,)),
    "flatten_images": (_flatten_images, (3, 4)),
    "linear_on_sequences": (_linear_on_sequences, (3, 4)),
}


def _session(path):
    return ort.InferenceSession(os.fspath(path), providers=["CPUExecutionProvider"])


def _check_round_trip(model, features, path, dtype=np.float32, **export_kw):
    rng = np.random.default_rng(42)
    sample = rng.normal(size=(2, *features)).astype(dtype)
    cr.onnx.export(model, sample, path, **export_kw)
    loaded = onnx.load(os.fspath(path))
    onnx.checker.check_model(loaded, full_check=True)
    first = loaded.graph.input[0].type.tensor_type.shape.dim[0]
    assert first.dim_param == "batch"  # dynamic batch dimension
    session = _session(path)
    model.eval()
    for batch in (1, 7, 33):
        x = (2 * rng.normal(size=(batch, *features))).astype(dtype)
        want = model(cr.tensor(x)).data
        got = session.run(None, {"input": x})[0]
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    return loaded


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_onnxruntime_reproduces_the_model(name, tmp_path):
    cr.manual_seed(0)
    make, features = ARCHITECTURES[name]
    _check_round_trip(make(), features, tmp_path / f"{name}.onnx")


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_operator_from_opset_20(approximate, tmp_path):
    cr.manual_seed(1)
    model = nn.Sequential(nn.Linear(6, 8), nn.GELU(approximate), nn.Linear(8, 2))
    proto = _check_round_trip(model, (6,), tmp_path / "gelu.onnx", opset=20)
    assert "Gelu" in [n.op_type for n in proto.graph.node]
    assert proto.opset_import[0].version == 20


def test_float64_model_exports_in_float64(tmp_path):
    cr.manual_seed(2)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(),
                          nn.Linear(8, 3), nn.Softmax()).double()
    proto = _check_round_trip(model, (6,), tmp_path / "f64.onnx", dtype=np.float64)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE


def test_linear_becomes_gemm_with_transposed_weight(tmp_path):
    cr.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1, bias=False))
    proto = cr.onnx.export(model, np.zeros((1, 3), np.float32), tmp_path / "m.onnx",
                           input_name="x", output_name="y")
    gemms = [n for n in proto.graph.node if n.op_type == "Gemm"]
    assert len(gemms) == 2 and all(a.name == "transB" and a.i == 1 for a in gemms[0].attribute)
    weights = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    np.testing.assert_array_equal(weights["0.weight"], model[0].weight.data)  # stored (out, in)
    assert len(gemms[1].input) == 2  # no bias input
    x = np.ones((4, 3), np.float32)
    got = _session(tmp_path / "m.onnx").run(["y"], {"x": x})[0]
    np.testing.assert_allclose(got, model(cr.tensor(x)).data, rtol=1e-6)


def test_export_uses_eval_mode_and_restores_the_training_flag(tmp_path):
    cr.manual_seed(4)
    model = _batchnorm_dropout_softmax()
    model.train()
    cr.onnx.export(model, np.zeros((2, 6), np.float32), tmp_path / "m.onnx")
    assert model.training and all(m.training for m in model.modules())
    x = np.random.default_rng(0).normal(size=(5, 6)).astype(np.float32)
    model.eval()
    np.testing.assert_allclose(_session(tmp_path / "m.onnx").run(None, {"input": x})[0],
                               model(cr.tensor(x)).data, rtol=1e-5, atol=1e-6)


def test_unsupported_layer_is_named_and_the_old_file_survives(tmp_path):
    class Swish(nn.Module):
        def forward(self, x):
            return x * x.sigmoid()

    path = tmp_path / "m.onnx"
    path.write_bytes(b"previous export")
    model = nn.Sequential(nn.Linear(2, 2), Swish())
    with pytest.raises(UnsupportedLayerError, match=r"Swish at '1'"):
        cr.onnx.export(model, np.zeros((1, 2), np.float32), path)
    assert path.read_bytes() == b"previous export"
    assert os.listdir(tmp_path) == ["m.onnx"]  # no temporary file left behind


def test_batchnorm_without_running_stats_is_refused(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3, track_running_stats=False))
    with pytest.raises(UnsupportedLayerError, match="running statistics"):
        cr.onnx.export(model, np.zeros((2, 2), np.float32), tmp_path / "m.onnx")


def test_subclass_that_overrides_forward_is_not_exported_as_its_base(tmp_path):
    class Shifted(nn.ReLU):
        def forward(self, x):
            return super().forward(x) + 1.0

    with pytest.raises(UnsupportedLayerError, match="Shifted"):
        cr.onnx.export(Shifted(), np.zeros((1, 2), np.float32), tmp_path / "m.onnx")


def test_register_adds_a_converter(tmp_path):
    class Double(nn.Module):
        def forward(self, x):
            return x * 2.0

    @register(Double)
    def _double(graph, module, x, value, path):
        return graph.node("Mul", [x, graph.const(2.0, path + ".two")], path)

    model = nn.Sequential(nn.Linear(3, 2), Double())
    _check_round_trip(model, (3,), tmp_path / "double.onnx")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fitted_sklearn_estimator_exports_through_model_(tmp_path):
    from chainrule.sklearn import MLPClassifier

    X, y = cr.datasets.iris()
    X = (X - X.mean(0)) / X.std(0)
    clf = MLPClassifier((16,), learning_rate=0.02, max_iter=50, random_state=0).fit(X, y)
    cr.onnx.export(clf.model_, X[:1], tmp_path / "iris.onnx", dtype="float32")
    logits = _session(tmp_path / "iris.onnx").run(None, {"input": X.astype(np.float32)})[0]
    np.testing.assert_array_equal(clf.classes_[logits.argmax(1)], clf.predict(X))


def test_missing_onnx_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now raises ImportError
    with pytest.raises(ImportError, match=r"chainrule\[onnx\]"):
        cr.onnx.export(_mlp(), np.zeros((1, 6), np.float32), tmp_path / "m.onnx")


def test_bad_arguments_are_explained(tmp_path):
    with pytest.raises(ValueError, match="opset"):
        cr.onnx.export(_mlp(), np.zeros((1, 6), np.float32), tmp_path / "m.onnx", opset=11)
    with pytest.raises(TypeError, match="nn.Module"):
        cr.onnx.export(lambda x: x, np.zeros((1, 6), np.float32), tmp_path / "m.onnx")


# ---------------------------------------------------------------------- LayerNorm (issue 9)
def _layer_norm_mlp():
    ln = nn.LayerNorm(8, eps=1e-4)
    rng = np.random.default_rng(5)
    ln.weight.data[:] = rng.uniform(0.5, 1.5, 8)
    ln.bias.data[:] = rng.normal(size=8)
    return nn.Sequential(nn.Linear(6, 8), ln, nn.ReLU(), nn.Linear(8, 3))


@pytest.mark.parametrize("opset", [17, 13])
def test_layer_norm_exports_as_layer_normalization(opset, tmp_path):
    cr.manual_seed(6)
    proto = _check_round_trip(_layer_norm_mlp(), (6,), tmp_path / "ln.onnx", opset=opset)
    ops = [n.op_type for n in proto.graph.node]
    assert ("LayerNormalization" in ops) == (opset >= 17)


def test_layer_norm_over_two_axes_without_bias_exports(tmp_path):
    cr.manual_seed(7)
    model = nn.Sequential(nn.Linear(4, 5), nn.LayerNorm((3, 5), bias=False), nn.Flatten())
    _check_round_trip(model, (3, 4), tmp_path / "ln2.onnx")


@pytest.mark.parametrize("norm_first,activation", [(False, "relu"), (True, "gelu")])
def test_transformer_encoder_exports_for_onnxruntime(norm_first, activation, tmp_path):
    cr.manual_seed(8)
    layer = nn.TransformerEncoderLayer(8, 2, 16, activation=activation, batch_first=True,
                                       norm_first=norm_first)
    model = nn.Sequential(nn.Linear(4, 8), nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8)),
                          nn.Linear(8, 3))
    proto = _check_round_trip(model, (5, 4), tmp_path / "encoder.onnx")
    assert [n.op_type for n in proto.graph.node].count("Softmax") == 2


def test_sequence_first_encoder_layer_is_refused_by_name(tmp_path):
    layer = nn.TransformerEncoderLayer(8, 2, 16)  # batch_first=False
    with pytest.raises(UnsupportedLayerError, match="batch_first=True"):
        cr.onnx.export(nn.Sequential(layer), np.zeros((5, 2, 8), np.float32),
                       tmp_path / "no.onnx")
