"""scikit-learn estimators backed by chainrule networks: :class:`MLPClassifier` and
:class:`MLPRegressor`.

They follow scikit-learn's contract (``fit``/``predict``/``score``/``partial_fit``,
``get_params``/``set_params``, ``clone``, pipelines, grid search, pickling) and pass its
estimator check suite. The fitted network is ``est.model_``, an ordinary
``cr.nn.Sequential`` that ``cr.onnx.export`` and ``cr.torch_interop`` accept.

>>> from chainrule.sklearn import MLPClassifier
>>> X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 10
>>> y = ["off", "on", "on", "on"] * 10
>>> clf = MLPClassifier(hidden_layer_sizes=(8,), learning_rate=0.05, max_iter=100,
...                     random_state=0).fit(X, y)
>>> clf.predict([[0.0, 0.0], [1.0, 1.0]]).tolist()
['off', 'on']
"""

try:
    import sklearn  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        "chainrule.sklearn needs scikit-learn: pip install 'chainrule[sklearn]'"
    ) from e

from chainrule.sklearn._classifier import MLPClassifier
from chainrule.sklearn._regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
