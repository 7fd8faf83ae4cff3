"""Issue 10, class 1: losses check shapes; fit matches targets and picks metrics by the task."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import functional as F

torch = pytest.importorskip("torch")

ELEMENTWISE = [
    ("mse_loss", cr.nn.MSELoss, torch.nn.MSELoss),
    ("l1_loss", cr.nn.L1Loss, torch.nn.L1Loss),
    ("huber_loss", cr.nn.HuberLoss, torch.nn.HuberLoss),
]


@pytest.mark.parametrize("op, ours, theirs", ELEMENTWISE)
def test_a_column_output_against_a_flat_target_warns_naming_both_shapes(op, ours, theirs):
    rng = np.random.default_rng(0)
    out, target = rng.normal(size=(5, 1)), rng.normal(size=5)
    with pytest.warns(UserWarning, match=rf"{op}: Using a target size \(5,\) that is different "
                                         r"to the input size \(5, 1\)") as ours_w:
        value = ours()(cr.tensor(out), cr.tensor(target)).item()
    with pytest.warns(UserWarning, match="target size") as theirs_w:  # PyTorch warns as well
        expected = theirs()(torch.tensor(out), torch.tensor(target)).item()
    assert len(ours_w) == len(theirs_w) == 1
    assert value == pytest.approx(expected, rel=1e-12)  # and the (5, 5) broadcast is the same


@pytest.mark.parametrize("op, ours, theirs", ELEMENTWISE)
def test_equal_shapes_and_shapes_that_cannot_broadcast_do_not_warn(op, ours, theirs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours()(cr.ones(4, 1), cr.zeros(4, 1))
        with pytest.raises(ValueError, match=op):
            ours()(cr.ones(4, 2), cr.zeros(3))


def test_class_index_losses_given_float_labels_say_class_labels_must_be_integers():
    logits = cr.tensor(np.zeros((3, 4), np.float32))
    labels = cr.tensor(np.array([0.0, 1.0, 3.0], np.float32))
    with pytest.raises(TypeError, match=r"cross_entropy: class labels must be integers, got a "
                                        r"float32 target of shape \(3,\) for input of shape "
                                        r"\(3, 4\)"):
        cr.nn.CrossEntropyLoss()(logits, labels)
    with pytest.raises(TypeError, match="nll_loss: class labels must be integers"):
        cr.nn.NLLLoss()(logits, labels)
    # class probabilities of the input's shape are still a valid cross-entropy target
    probs = cr.tensor(np.full((3, 4), 0.25, np.float32))
    assert cr.nn.CrossEntropyLoss()(logits, probs).item() == pytest.approx(np.log(4), rel=1e-6)


def _regression_data(n=64):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3).astype(np.float32)  # 1-D, as from a CSV
    return X, y


def _fit_linear(y, loss_fn, **kw):
    X, _ = _regression_data()
    cr.manual_seed(0)
    model = cr.nn.Linear(3, 1)
    hist = cr.train.fit(model, loss_fn, cr.optim.Adam(model.parameters(), lr=0.05), (X, y),
                        epochs=40, batch_size=16, progress=False, seed=0, **kw)
    return model, hist


@pytest.mark.parametrize("loss_fn", [cr.nn.MSELoss(), cr.nn.L1Loss(), cr.nn.HuberLoss(),
                                     F.mse_loss])
def test_fit_reshapes_a_flat_target_for_a_one_output_model(loss_fn):
    X, y = _regression_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no broadcasting warning: fit matched the shapes
        flat, hist = _fit_linear(y, loss_fn)
    column, _ = _fit_linear(y[:, None], loss_fn)
    assert np.array_equal(flat.weight.data, column.weight.data)  # exactly the (N, 1) run
    assert hist["loss"][-1] < 0.1 * hist["loss"][0]  # it learned (broadcasting learns nothing)
    out = cr.train.evaluate(flat, cr.nn.MSELoss(), (X, y), metrics=["mae"])
    assert out["loss"] < 0.1


def test_fit_default_metrics_suit_the_task():
    X, y = _regression_data()
    _, hist = _fit_linear(y, cr.nn.MSELoss(), val_data=(X, y))
    assert "accuracy" not in hist and "val_accuracy" not in hist
    Xc, yc = cr.datasets.iris()
    cr.manual_seed(0)
    net = cr.nn.Linear(4, 3)
    hist = cr.train.fit(net, cr.nn.CrossEntropyLoss(), cr.optim.Adam(net.parameters(), 0.01),
                        (Xc, yc), epochs=2, progress=False, seed=0)
    assert "accuracy" in hist
    # an unknown loss function: integer targets are classes, float targets are not
    hist = cr.train.fit(net, lambda o, t: F.cross_entropy(o, t),
                        cr.optim.SGD(net.parameters(), 0.01), (Xc, yc), epochs=1,
                        progress=False, seed=0)
    assert "accuracy" in hist


def test_accuracy_on_a_one_class_data_set_is_one():
    X = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)
    y = np.zeros(20, np.int64)
    cr.manual_seed(0)
    model = cr.nn.Linear(2, 1)  # one class: one score per sample
    with cr.no_grad():
        model.bias.data[...] = -5.0  # a "negative" score: read as a binary logit, class 0...
        model.weight.data[...] = 0.0
    hist = cr.train.fit(model, cr.nn.CrossEntropyLoss(), cr.optim.SGD(model.parameters(), 0.1),
                        (X, y), epochs=1, val_data=(X, y), progress=False, seed=0)
    assert hist["accuracy"][-1] == 1.0 and hist["val_accuracy"][-1] == 1.0
    with cr.no_grad():
        model.bias.data[...] = 5.0  # ...and a positive one: still the only class
    out = cr.train.evaluate(model, cr.nn.CrossEntropyLoss(), (X, y), metrics="auto")
    assert out["accuracy"] == 1.0


def test_the_sklearn_regressor_trains_on_a_flat_target_without_broadcasting():
    pytest.importorskip("sklearn")
    from chainrule.sklearn import MLPRegressor

    X, y = _regression_data(128)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        reg = MLPRegressor((), max_iter=200, learning_rate=0.05, random_state=0).fit(X, y)
    assert reg.predict(X).shape == (128,) and reg.score(X, y) > 0.99
