"""chainrule.sklearn: behaviour beyond scikit-learn's generic checks (accuracy on real data,
target types, incremental learning, determinism, early stopping, optimisers, pickling)."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import chainrule as cr
from chainrule.backend import get_rng
from chainrule.sklearn import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def _one_blas_thread():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 3.0], [3.0, 0.0], [-3.0, -3.0]])
    y = np.repeat([0, 1, 2], 40)
    X = centers[y] + rng.normal(size=(120, 2))
    return X, y


def test_pipeline_with_standard_scaler_reaches_97_percent_on_digits():
    X, y = cr.datasets.digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y,
                                                        random_state=0)
    clf = make_pipeline(StandardScaler(), MLPClassifier((128,), random_state=0))
    assert clf.fit(X_train, y_train).score(X_test, y_test) >= 0.97
    assert clf[-1].loss_curve_[-1] < 0.05 * clf[-1].loss_curve_[0]


def test_string_labels_come_back_as_strings(blobs):
    X, y = blobs
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = MLPClassifier((16,), learning_rate=0.05, max_iter=60, random_state=0).fit(X, names)
    assert clf.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    assert clf.predict(X).dtype == names.dtype
    assert clf.score(X, names) > 0.95
    proba = clf.predict_proba(X)
    assert proba.shape == (120, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-10)


def test_binary_uses_one_logit_and_two_probability_columns(blobs):
    X, y = blobs
    keep = y < 2
    X, y = X[keep], np.where(y[keep] == 1, "yes", "no")
    clf = MLPClassifier((8,), learning_rate=0.05, max_iter=60, random_state=0).fit(X, y)
    assert clf.model_[-1].out_features == 1 and clf.out_activation_ == "logistic"
    z = clf.decision_function(X)
    proba = clf.predict_proba(X)
    assert z.shape == (80,) and proba.shape == (80, 2)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-12)
    assert (clf.predict(X) == np.where(z > 0, "yes", "no")).all()
    assert clf.score(X, y) > 0.95


def test_multilabel_indicator_targets(blobs):
    X, y = blobs
    Y = np.column_stack([y == 0, y != 1, X[:, 0] > 0]).astype(int)
    clf = MLPClassifier((32,), learning_rate=0.05, max_iter=150, random_state=0).fit(X, Y)
    assert clf.classes_.tolist() == [0, 1, 2] and clf.n_outputs_ == 3
    assert clf.predict(X).shape == (120, 3) and clf.predict_proba(X).shape == (120, 3)
    assert clf.score(X, Y) > 0.9  # subset accuracy: every label of a row right


def test_multi_output_regression_keeps_the_target_shape():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(200, 3))
    Y = np.column_stack([X[:, 0] * X[:, 1], np.sin(2 * X[:, 2])])
    reg = MLPRegressor((32,), activation="tanh", learning_rate=0.01, batch_size=32,
                       max_iter=150, random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (200, 2) and reg.n_outputs_ == 2
    assert reg.score(X, Y) > 0.9
    one = MLPRegressor((4,), max_iter=2, random_state=0).fit(X, Y[:, 0])
    assert one.predict(X).shape == (200,)
    column = MLPRegressor((4,), max_iter=2, random_state=0).fit(X, Y[:, :1])
    assert column.predict(X).shape == (200, 1)


def test_partial_fit_continues_training_and_needs_classes_first(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="classes must be passed"):
        MLPClassifier().partial_fit(X, y)
    clf = MLPClassifier((16,), learning_rate=0.02, random_state=0)
    for _ in range(15):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    assert clf.n_iter_ == 15 and len(clf.loss_curve_) == 15
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]
    assert clf.t_ == 15  # 120 samples: one batch per epoch ('auto' = min(200, n))
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X[:3], [0, 1, 7])
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :1], y)


def test_partial_fit_equals_fit_epoch_by_epoch(blobs):
    X, y = blobs
    params = dict(hidden_layer_sizes=(8,), learning_rate=0.01, n_iter_no_change=100,
                  random_state=3)
    full = MLPClassifier(max_iter=5, **params).fit(X, y)
    step = MLPClassifier(**params)
    for _ in range(5):
        step.partial_fit(X, y, classes=[0, 1, 2])
    np.testing.assert_array_equal(full.decision_function(X), step.decision_function(X))


def test_training_is_deterministic_and_leaves_the_library_rng_alone(blobs):
    X, y = blobs
    cr.manual_seed(123)
    expected_draw = get_rng().random()
    cr.manual_seed(123)
    a = MLPClassifier((16,), max_iter=10, random_state=7).fit(X, y)
    assert get_rng().random() == expected_draw  # fit neither used nor advanced cr's generator
    b = MLPClassifier((16,), max_iter=10, random_state=7).fit(X, y)
    c = MLPClassifier((16,), max_iter=10, random_state=8).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.array_equal(a.model_[0].weight.data, c.model_[0].weight.data)


def test_global_numpy_state_untouched_with_int_random_state(blobs):
    X, y = blobs
    state = np.random.get_state()[1].copy()  # noqa: NPY002 - the global state is the subject
    MLPClassifier((4,), max_iter=3, random_state=0).fit(X, y)
    assert np.array_equal(np.random.get_state()[1], state)  # noqa: NPY002


def test_early_stopping_keeps_the_best_epoch(blobs):
    X, y = blobs
    clf = MLPClassifier((16,), learning_rate=0.05, early_stopping=True, validation_fraction=0.25,
                        n_iter_no_change=3, max_iter=200, random_state=0).fit(X, y)
    assert clf.n_iter_ < 200  # it stopped early
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_) > 0.9


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd", "rmsprop", "adagrad"])
def test_every_optimizer_learns(blobs, optimizer):
    X, y = blobs
    lr = {"sgd": 0.1, "adagrad": 0.1}.get(optimizer, 0.01)
    clf = MLPClassifier((16,), optimizer=optimizer, learning_rate=lr, weight_decay=1e-4,
                        batch_size=32, max_iter=30, random_state=0).fit(X, y)
    assert type(clf.optimizer_).__name__.lower() == optimizer
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu", "leaky_relu",
                                        "elu", "gelu"])
def test_activations_build_the_named_layer(blobs, activation):
    X, y = blobs
    clf = MLPClassifier((6, 5), activation=activation, max_iter=2, random_state=0).fit(X, y)
    kinds = [type(m).__name__ for m in clf.model_]
    assert kinds[0] == kinds[2] == kinds[4] == "Linear" and len(kinds) == 5
    assert kinds[1] == kinds[3] != "Linear"


def test_float32_network_and_sparse_input_match_dense(blobs):
    sparse = pytest.importorskip("scipy.sparse")
    X, y = blobs
    X = np.abs(X) * (np.abs(X) > 1)  # some zeros
    dense = MLPClassifier((8,), max_iter=5, dtype="float32", random_state=0).fit(X, y)
    assert dense.model_[0].weight.dtype == np.float32
    csr = MLPClassifier((8,), max_iter=5, dtype="float32", random_state=0)
    csr.fit(sparse.csr_matrix(X), y)
    np.testing.assert_allclose(csr.predict_proba(sparse.csc_matrix(X)), dense.predict_proba(X),
                               rtol=1e-6)


def test_fitted_model_is_a_chainrule_network_returning_the_logits(blobs):
    X, y = blobs
    clf = MLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
    assert isinstance(clf.model_, cr.nn.Sequential)
    logits = clf.model_(cr.tensor(X)).data
    np.testing.assert_allclose(logits, clf.decision_function(X), rtol=1e-12)


def test_pickle_round_trip_keeps_predictions_and_optimizer_state(blobs):
    X, y = blobs
    clf = MLPClassifier((8,), max_iter=5, random_state=0).fit(X, y)
    twin = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(twin.predict_proba(X), clf.predict_proba(X))
    # the optimiser still drives the (unpickled) parameters: training continues identically
    clf.partial_fit(X, y)
    twin.partial_fit(X, y)
    np.testing.assert_array_equal(twin.predict_proba(X), clf.predict_proba(X))
    assert clone(clf).get_params() == clf.get_params()


def test_convergence_warning_when_max_iter_is_reached(blobs):
    X, y = blobs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        MLPClassifier((4,), max_iter=2, random_state=0).fit(X, y)
    assert any(issubclass(w.category, ConvergenceWarning) and "max_iter=2" in str(w.message)
               for w in caught)


@pytest.mark.parametrize("params, match", [
    ({"hidden_layer_sizes": (4, 0)}, "hidden layer size"),
    ({"activation": "swish"}, "activation"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"batch_size": 0}, "batch_size"),
    ({"max_iter": 0}, "max_iter"),
    ({"weight_decay": -1}, "weight_decay"),
    ({"validation_fraction": 1.0}, "validation_fraction"),
    ({"dtype": "int32"}, "dtype"),
])
def test_bad_hyper_parameters_are_named_at_fit(blobs, params, match):
    X, y = blobs
    clf = MLPClassifier(**params)  # constructing never validates (scikit-learn's rule)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)


def test_one_class_is_an_explicit_error():
    with pytest.raises(ValueError, match="only one class"):
        MLPClassifier().fit([[0.0], [1.0]], [1, 1])


def test_non_finite_loss_is_reported():
    X = np.array([[1e200], [-1e200], [1e200], [-1e200]])
    with pytest.raises(ValueError, match="non-finite|inf|nan"):
        with np.errstate(all="ignore"):
            MLPRegressor((4,), learning_rate=1.0, max_iter=3, random_state=0).fit(
                X, [1e200, -1e200, 1e200, -1e200])


def test_feature_names_are_recorded_with_pandas(blobs):
    pd = pytest.importorskip("pandas")
    X, y = blobs
    frame = pd.DataFrame(X, columns=["a", "b"])
    clf = MLPClassifier((4,), max_iter=3, random_state=0).fit(frame, y)
    assert clf.feature_names_in_.tolist() == ["a", "b"]
    assert clf.predict(frame).shape == (120,)
