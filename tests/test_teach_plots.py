"""cr.teach plots: real image files, written atomically, with the right numbers behind them."""

import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import teach
from chainrule.teach.plots import _classes_from_output

image = pytest.importorskip("matplotlib.image")
PNG = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    assert path.read_bytes()[:8] == PNG
    pixels = image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 50 and pixels.shape[1] > 50
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def two_blobs(n=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(size=(n, 2)) * 0.5 + np.where(y[:, None] == 1, 1.5, -1.5)
    return X.astype(np.float32), y


class Recorder:
    """A 'model' with train/eval that records the mode and grad mode it was called in."""

    def __init__(self, fn):
        self.fn, self.training, self.calls = fn, True, []

    def eval(self):
        self.training = False
        return self

    def train(self, mode=True):
        self.training = mode
        return self

    def __call__(self, t):
        self.calls.append((self.training, cr.is_grad_enabled(), t.shape))
        return self.fn(t)


def test_decision_boundary_binary_logits(tmp_path):
    X, y = two_blobs()
    w = cr.tensor([[1.0], [1.0]], requires_grad=True)
    model = Recorder(lambda t: t @ w)  # logits of shape (N, 1)
    path = teach.plot_decision_boundary(model, X, y, tmp_path / "b.png", resolution=40,
                                        title="two blobs")
    assert path == tmp_path / "b.png"
    assert_png(path)
    assert model.calls == [(False, False, (1600, 2))]  # eval mode, no graph, whole grid
    assert model.training is True  # restored


def test_decision_boundary_multiclass_and_probabilities(tmp_path):
    X, y = two_blobs()
    y3 = (X[:, 0] > 0).astype(int) + (X[:, 1] > 1).astype(int)
    scores = lambda t: cr.stack([-t[:, 0], t[:, 0] * 0, t[:, 0] + t[:, 1] - 1], axis=1)
    assert_png(teach.plot_decision_boundary(scores, X, y3, tmp_path / "m.png", resolution=30))
    probs = lambda t: cr.sigmoid(t.sum(axis=1))  # shape (N,), values in [0, 1]
    path = teach.plot_decision_boundary(probs, X, y, tmp_path / "p.svg", resolution=30)
    assert path.read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_binary_outputs_are_thresholded_as_documented():
    logits = np.array([[-2.0], [0.5], [3.0]])
    assert _classes_from_output(logits, "auto", "t")[0].tolist() == [0, 1, 1]  # logits > 0
    probs = np.array([[0.2], [0.5], [0.9]])
    assert _classes_from_output(probs, "auto", "t")[0].tolist() == [0, 1, 1]  # p >= 0.5
    assert _classes_from_output(probs, "logits", "t")[0].tolist() == [1, 1, 1]
    multi = np.array([[0.1, 0.7, 0.2], [3.0, -1.0, 0.0]])
    assert _classes_from_output(multi, "auto", "t")[0].tolist() == [1, 0]


def test_decision_boundary_checks_shapes(tmp_path):
    X, y = two_blobs()
    with pytest.raises(ValueError, match=r"shape \(N, 2\), got \(40, 3\)"):
        teach.plot_decision_boundary(lambda t: t, np.zeros((40, 3)), y, tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"\.png, \.svg, \.pdf"):
        teach.plot_decision_boundary(lambda t: t, X, y, tmp_path / "x.bmp")
    assert list(tmp_path.iterdir()) == []


def test_history_from_a_dict_an_object_and_records(tmp_path):
    h = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.2, 0.8, None], "accuracy": [0.5, 0.7, 0.9]}
    assert_png(teach.plot_history(h, tmp_path / "h.png"))

    class History:
        history = {"loss": [3.0, 2.0, 1.0]}

    assert_png(teach.plot_history(History(), tmp_path / "h2.png"))

    class Epochs:
        epochs = [{"epoch": 1, "loss": 0.9, "val_accuracy": 0.3},
                  {"epoch": 2, "loss": 0.4, "val_accuracy": 0.6}]

    assert_png(teach.plot_history(Epochs(), tmp_path / "h3.png"))


def test_history_without_numbers_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no numeric series"):
        teach.plot_history({"loss": []}, tmp_path / "h.png")
    with pytest.raises(TypeError, match="dict of lists"):
        teach.plot_history(42, tmp_path / "h.png")


def test_confusion_matrix_counts_match_sklearn(tmp_path):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 4, size=200)
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, 4, size=200))
    path, m = teach.plot_confusion_matrix(y_true, y_pred, tmp_path / "c.png",
                                          class_names=["a", "b", "c", "d"])
    assert_png(path)
    assert m.dtype.kind == "i" and m.sum() == 200
    np.testing.assert_array_equal(m, metrics.confusion_matrix(y_true, y_pred))
    for norm in ("true", "pred", "all"):
        _, mn = teach.plot_confusion_matrix(y_true, y_pred, tmp_path / f"c_{norm}.png",
                                            normalize=norm)
        np.testing.assert_allclose(mn, metrics.confusion_matrix(y_true, y_pred, normalize=norm))


def test_confusion_matrix_small_example_and_scores(tmp_path):
    # rows: true class, columns: predicted; score rows are reduced by argmax
    scores = cr.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    path, m = teach.plot_confusion_matrix(cr.tensor([0, 1, 1]), scores, tmp_path / "c.png")
    assert m.tolist() == [[1, 0], [1, 1]]
    _, m = teach.plot_confusion_matrix([0, 1, 1], [0, 1, 0], tmp_path / "c.png", normalize=True)
    assert m.tolist() == [[1.0, 0.0], [0.5, 0.5]]
    _, m = teach.plot_confusion_matrix([0], [0], tmp_path / "c.png", class_names=["x", "y", "z"])
    assert m.shape == (3, 3)
    with pytest.raises(ValueError, match="out of range for 2 classes"):
        teach.plot_confusion_matrix([0, 2], [0, 1], tmp_path / "c.png", class_names=["x", "y"])


def test_missing_matplotlib_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"chainrule\[teach\]"):
        teach.plot_history({"loss": [1.0]}, tmp_path / "h.png")
