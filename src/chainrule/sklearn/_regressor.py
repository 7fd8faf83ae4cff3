"""MLPRegressor: a scikit-learn regressor trained with chainrule (mean squared error, identity
output; one output per target column)."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score

from chainrule.ops.loss import mse_loss
from chainrule.sklearn._base import _MLPBase
from chainrule.tensor import Tensor


class MLPRegressor(RegressorMixin, _MLPBase):
    """Multi-layer perceptron regressor (scikit-learn API) trained by mini-batch descent on
    the mean squared error.

    ``y`` may be 1-D (predictions are 1-D) or 2-D, shape (n_samples, n_outputs), for
    multi-output regression (predictions are 2-D). The hyper-parameters are those of
    :class:`chainrule.sklearn.MLPClassifier`; with ``early_stopping`` the held-out score is
    R². Scale the targets (e.g. ``TransformedTargetRegressor``) when they are far from unit
    size.

    Fitted attributes: ``n_features_in_``, ``n_outputs_``, ``out_activation_`` (``'identity'``),
    ``loss_curve_``, ``n_iter_``, ``t_``, ``best_loss_``, ``validation_scores_``,
    ``best_validation_score_``, ``model_`` and ``optimizer_``.

    >>> import numpy as np
    >>> from chainrule.sklearn import MLPRegressor
    >>> X = np.linspace(-1, 1, 64)[:, None]
    >>> reg = MLPRegressor((32,), activation="tanh", learning_rate=0.02, batch_size=16,
    ...                    max_iter=300, random_state=0).fit(X, X[:, 0] ** 2)
    >>> bool(reg.score(X, X[:, 0] ** 2) > 0.9)
    True
    """

    _y_numeric = True

    def fit(self, X, y):
        """Train a fresh network on ``X`` (n_samples, n_features) and targets ``y``.

        >>> from chainrule.sklearn import MLPRegressor
        >>> reg = MLPRegressor(max_iter=3, random_state=0)
        >>> reg.fit([[0.0], [1.0]], [[0, 1], [1, 0]]).n_outputs_
        2
        """
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X, y):
        """Run one epoch over ``(X, y)`` without resetting the network (the optimiser's state
        carries over; ``max_iter`` and early stopping do not apply).

        >>> from chainrule.sklearn import MLPRegressor
        >>> reg = MLPRegressor((4,), random_state=0).partial_fit([[0.0], [1.0]], [0.0, 1.0])
        >>> reg.partial_fit([[0.0], [1.0]], [0.0, 1.0]).n_iter_
        2
        """
        return self._fit(X, y, incremental=True)

    def _encode_targets(self, y, first, classes, dtype, incremental):
        width = 1 if y.ndim == 1 else y.shape[1]
        if first:
            self._y_1d = y.ndim == 1
            self.n_outputs_ = width
            self.out_activation_ = "identity"
        elif width != self.n_outputs_:
            raise ValueError(f"{type(self).__name__}.partial_fit: y has {width} output "
                             f"column(s), the fitted model predicts {self.n_outputs_}")
        return np.asarray(y, dtype=dtype).reshape(len(y), width)

    def _loss(self, outputs, targets):
        return mse_loss(outputs, Tensor(targets))

    def _holdout_score(self, X, y):
        return r2_score(y, self._shape(self._forward(X)))

    def _shape(self, outputs):
        return outputs[:, 0] if self._y_1d else outputs

    def predict(self, X):
        """Predicted targets (float64): shape (n_samples,) if fitted on a 1-D ``y``, else
        (n_samples, n_outputs).

        >>> from chainrule.sklearn import MLPRegressor
        >>> MLPRegressor(max_iter=3, random_state=0).fit([[0.0], [1.0]], [0.0, 1.0]).predict(
        ...     [[0.5]]).shape
        (1,)
        """
        return self._shape(self._outputs(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # CSR/CSC inputs are densified one batch at a time
        tags.target_tags.multi_output = True
        return tags
