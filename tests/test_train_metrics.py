"""cr.train.metrics: hand-checked numbers and scikit-learn as the oracle."""

import numpy as np
import pytest
from sklearn import metrics as skm

import chainrule as cr
from chainrule.train.metrics import (
    accuracy,
    get_metric,
    higher_is_better,
    mae,
    mse,
    predicted_labels,
    r2,
    top_k_accuracy,
)


def test_accuracy_of_multiclass_logits_takes_the_row_argmax():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 0.1, 3.0], [1.0, 5.0, 2.0], [0.0, 0.0, 1.0]])
    y = np.array([0, 2, 2, 1])
    assert accuracy(y, logits) == 0.5
    assert accuracy(np.eye(3)[y], logits) == 0.5  # one-hot targets
    assert accuracy(cr.tensor(y), cr.tensor(logits)) == 0.5  # Tensors too


def test_binary_accuracy_rule_logits_versus_probabilities():
    y = np.array([1, 0, 1, 0])
    logits = np.array([[0.3], [-0.2], [2.0], [-5.0]])  # values outside [0, 1]: logits, z >= 0
    assert accuracy(y, logits) == 1.0
    probs = np.array([0.6, 0.4, 0.9, 0.1])  # all in [0, 1]: probabilities, p >= 0.5
    assert accuracy(y, probs) == 1.0
    # logits that happen to lie in [0, 1] are read as probabilities unless told
    z = np.array([0.3, 0.2])
    assert predicted_labels(z).tolist() == [0, 0]
    assert predicted_labels(z, from_logits=True).tolist() == [1, 1]
    assert accuracy(np.array([1.0, 1.0]), z, from_logits=True) == 1.0
    assert accuracy(np.array([[1.0], [0.0]]), np.array([1, 1])) == 0.5  # integer predictions


def test_accuracy_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match=r"accuracy.*\(3,\).*\(2, 2\)"):
        accuracy(np.zeros(3), np.zeros((2, 2)))


def test_top_k_accuracy_matches_sklearn():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((200, 6))
    y = rng.integers(0, 6, 200)
    for k in (1, 2, 3, 5):
        assert top_k_accuracy(y, scores, k=k) == pytest.approx(
            skm.top_k_accuracy_score(y, scores, k=k, labels=range(6)))
    assert top_k_accuracy(y, scores, k=6) == 1.0
    assert top_k_accuracy(y, scores, k=1) == accuracy(y, scores)


def test_regression_metrics_match_sklearn_and_hand_numbers():
    assert mse([1.0, 2.0, 3.0], [1.0, 2.0, 5.0]) == pytest.approx(4 / 3)
    assert mae([1.0, 2.0, 3.0], [1.0, 2.0, 5.0]) == pytest.approx(2 / 3)
    assert r2([1.0, 2.0, 3.0], [1.0, 2.0, 4.0]) == pytest.approx(0.5)
    rng = np.random.default_rng(1)
    y = rng.standard_normal((50, 3))
    p = y + 0.3 * rng.standard_normal((50, 3))
    assert mse(y, p) == pytest.approx(skm.mean_squared_error(y, p))
    assert mae(y, p) == pytest.approx(skm.mean_absolute_error(y, p))
    assert r2(y, p) == pytest.approx(skm.r2_score(y, p))
    # (N,) targets against (N, 1) outputs: the same numbers, not an (N, N) broadcast
    assert mse(y[:, 0], p[:, :1]) == pytest.approx(skm.mean_squared_error(y[:, 0], p[:, 0]))
    assert r2(np.ones(4), np.ones(4)) == 1.0 and r2(np.ones(4), np.zeros(4)) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        mse(np.zeros((4, 2)), np.zeros((4, 3)))


def test_get_metric_names_and_callables():
    assert get_metric("accuracy")[1] is accuracy
    assert get_metric("MSE") == ("mse", mse)
    name, fn = get_metric("top_3_accuracy")
    assert name == "top_3_accuracy"
    y, s = np.array([0, 1]), np.array([[0.1, 0.2, 0.3, 0.4], [0.0, 1.0, 0.0, 0.0]])
    assert fn(y, s) == 0.5

    def my_metric(y_true, y_pred):
        return 0.25

    assert get_metric(my_metric) == ("my_metric", my_metric)
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        get_metric("f1")
    assert higher_is_better("val_accuracy") and higher_is_better("top5_accuracy")
    assert not higher_is_better("val_mae") and higher_is_better("r2")
