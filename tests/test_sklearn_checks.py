"""scikit-learn's own estimator test suite on chainrule.sklearn's estimators.

Nothing is marked as an expected failure. Two checks can skip, depending on the environment,
never on the estimators:

- ``check_array_api_input`` skips unless ``SCIPY_ARRAY_API`` is set. With NumPy inputs (the
  only namespace it tries for estimators without array-API support) the variable only has to
  exist, so the test sets it for that one check and the check runs.
- ``check_classifier_data_not_an_array`` / ``check_regressor_data_not_an_array`` skip their
  pandas half when pandas is not installed ("pandas is not installed: not checking estimators
  for pandas objects"); with pandas present they pass.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from chainrule.sklearn import MLPClassifier, MLPRegressor

# Small networks and few epochs keep the suite fast; the learning rates are high enough that
# the checks' accuracy (> 0.83) and R² (> 0.5) thresholds are met within 20 epochs.
ESTIMATORS = [
    MLPClassifier(hidden_layer_sizes=(16,), learning_rate=0.02, max_iter=20, random_state=0),
    MLPClassifier(hidden_layer_sizes=(8, 8), activation="tanh", optimizer="sgd",
                  learning_rate=0.1, early_stopping=True, max_iter=20,
                  random_state=0),
    MLPRegressor(hidden_layer_sizes=(16,), learning_rate=0.02, batch_size=32, max_iter=20,
                 random_state=0),
]


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Tiny matrices: BLAS threads only fight over the cores (10x slower on a busy box)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1):
        yield


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check, monkeypatch):
    if "check_array_api_input" in str(check):
        monkeypatch.setenv("SCIPY_ARRAY_API", "1")  # see the module docstring
    check(estimator)
