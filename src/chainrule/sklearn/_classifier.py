"""MLPClassifier: a scikit-learn classifier trained with chainrule.

Outputs and losses by target type:

- multi-class (k ≥ 3 labels): k logits, softmax cross-entropy;
- binary (2 labels): one logit ``z``, ``P(classes_[1]) = σ(z)``, binary cross-entropy;
- multi-label (an indicator matrix ``y`` of shape (n, k)): k logits, one binary
  cross-entropy per column.
"""

import numpy as np
from scipy.special import expit, log_expit, log_softmax
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from chainrule.ops.loss import binary_cross_entropy_with_logits, cross_entropy
from chainrule.sklearn._base import _MLPBase
from chainrule.tensor import Tensor


class MLPClassifier(ClassifierMixin, _MLPBase):
    """Multi-layer perceptron classifier (scikit-learn API) trained by mini-batch descent.

    Hyper-parameters:
        hidden_layer_sizes: widths of the hidden layers, e.g. ``(100,)`` or ``(64, 32)``;
            ``()`` gives logistic regression.
        activation: ``'relu'`` (default), ``'tanh'``, ``'logistic'``/``'sigmoid'``,
            ``'identity'``, ``'leaky_relu'``, ``'elu'``, ``'gelu'``.
        optimizer: ``'adam'`` (default), ``'adamw'``, ``'sgd'`` (with ``momentum``),
            ``'rmsprop'``, ``'adagrad'`` — chainrule.optim, PyTorch's update rules.
        learning_rate: the optimiser's step size (default 1e-3; scikit-learn's
            ``learning_rate_init``). batch_size: ``'auto'`` = min(200, n_samples).
        max_iter: the maximum number of epochs (default 200).
        weight_decay: L2 penalty handed to the optimiser (decoupled for ``'adamw'``).
        early_stopping: hold out ``validation_fraction`` (stratified) and stop when the
            held-out accuracy has not improved by ``tol`` for ``n_iter_no_change`` epochs,
            keeping the best epoch's weights. Without it, training stops when the training
            loss has not improved by ``tol`` for ``n_iter_no_change`` epochs.
        momentum: for ``'sgd'`` (default 0.9). shuffle: reshuffle every epoch (default True).
        random_state: int for reproducible fits (weights, shuffling, split), or None.
        dtype: the network's precision, ``'float64'`` (default, as scikit-learn computes)
            or ``'float32'`` (faster; a row's outputs may then change in the last float32
            bits with the batch it is predicted in, as BLAS blocks differently).
        verbose: print the loss of every epoch.
        compile: run each training step under ``cr.compile`` (captured once per batch
            shape, then replayed into reused buffers; the same fitted weights).

    Fitted attributes: ``classes_``, ``n_features_in_`` (and ``feature_names_in_``),
    ``n_outputs_``, ``out_activation_``, ``loss_curve_`` (mean training loss per epoch),
    ``n_iter_`` (epochs run), ``t_`` (optimiser steps), ``best_loss_``,
    ``validation_scores_``/``best_validation_score_`` (with early stopping), ``model_``
    (the trained ``cr.nn.Sequential``; it returns the logits that ``decision_function``
    gives) and ``optimizer_``.

    >>> import numpy as np
    >>> from chainrule.sklearn import MLPClassifier
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 25, dtype=float)
    >>> y = np.array([0, 1, 1, 0] * 25)  # XOR needs the hidden layer
    >>> clf = MLPClassifier((16,), activation="tanh", learning_rate=0.05, random_state=0)
    >>> clf.fit(X, y).score(X, y)
    1.0
    """

    _y_numeric = False

    def partial_fit(self, X, y, classes=None):
        """Run one epoch over ``(X, y)`` without resetting the network (incremental learning).

        ``classes`` (every label that will ever appear) is required on the first call,
        except for multi-label indicator targets. ``max_iter`` and early stopping do not
        apply: each call is one epoch, and the optimiser's state carries over.

        >>> import numpy as np
        >>> from chainrule.sklearn import MLPClassifier
        >>> clf = MLPClassifier((4,), random_state=0)
        >>> clf = clf.partial_fit(np.eye(3), [0, 1, 2], classes=[0, 1, 2])
        >>> clf.n_iter_, clf.classes_.tolist()
        (1, [0, 1, 2])
        """
        return self._fit(X, y, incremental=True, classes=classes)

    def fit(self, X, y):
        """Train a fresh network on ``X`` (n_samples, n_features) and labels ``y``.

        >>> from chainrule.sklearn import MLPClassifier
        >>> MLPClassifier(max_iter=5, random_state=0).fit([[0.0], [1.0]], ["a", "b"]).classes_
        array(['a', 'b'], dtype='<U1')
        """
        return self._fit(X, y, incremental=False)

    # ------------------------------------------------------------------ targets
    def _encode_targets(self, y, first, classes, dtype, incremental):
        name = type(self).__name__
        check_classification_targets(y)
        target = type_of_target(y, input_name="y")
        if target == "multilabel-indicator":
            if first:
                self._mode, self.out_activation_ = "multilabel", "logistic"
                self.classes_ = np.arange(y.shape[1])
                self.n_outputs_ = y.shape[1]
            elif self._mode != "multilabel" or y.shape[1] != self.n_outputs_:
                raise ValueError(f"{name}.partial_fit: y has {y.shape[1]} label columns, the "
                                 f"fitted model expects {self.n_outputs_}")
            return np.asarray(y, dtype=dtype)
        if target not in ("binary", "multiclass"):
            raise ValueError(f"{name} supports binary, multi-class and multi-label indicator "
                             f"targets, got {target!r} targets")
        y = column_or_1d(y, warn=True)
        if first:
            if classes is None and incremental:
                raise ValueError(f"{name}.partial_fit: classes must be passed on the first "
                                 "call to partial_fit")
            labels = np.unique(y if classes is None else np.asarray(classes))
            if len(labels) < 2:
                raise ValueError(f"{name} needs samples of at least 2 classes in the data, but "
                                 f"the data contains only one class: {labels[0]!r}")
            self.classes_ = labels
            binary = len(labels) == 2
            self._mode = "binary" if binary else "multiclass"
            self.out_activation_ = "logistic" if binary else "softmax"
            self.n_outputs_ = 1 if binary else len(labels)
        elif self._mode == "multilabel":
            raise ValueError(f"{name}.partial_fit: the model was fitted on multi-label "
                             f"targets, got {target!r} targets")
        codes = np.searchsorted(self.classes_, y)
        unknown = self.classes_[np.minimum(codes, len(self.classes_) - 1)] != y
        if unknown.any():
            raise ValueError(f"{name}: y contains labels not in classes_ "
                             f"{self.classes_.tolist()}: {np.unique(y[unknown]).tolist()}")
        if self._mode == "binary":
            return codes.astype(dtype)[:, None]
        return codes.astype(np.int64)

    def _loss(self, outputs, targets):
        if self._mode == "multiclass":
            return cross_entropy(outputs, Tensor(targets))
        return binary_cross_entropy_with_logits(outputs, Tensor(targets))

    def _stratify_holdout(self, y):
        return self._mode != "multilabel"

    def _holdout_score(self, X, y):
        return accuracy_score(y, self._labels(self._proba_from(self._forward(X))))

    # ------------------------------------------------------------------ prediction
    def _log_proba_from(self, z):
        if self._mode == "multiclass":
            return log_softmax(z, axis=1)
        if self._mode == "binary":
            return np.column_stack([log_expit(-z[:, 0]), log_expit(z[:, 0])])
        return log_expit(z)

    def _proba_from(self, z):
        if self._mode == "multiclass":
            return np.exp(log_softmax(z, axis=1))
        if self._mode == "binary":
            p = expit(z[:, 0])
            return np.column_stack([1.0 - p, p])
        return expit(z)

    def _labels(self, proba):
        if self._mode == "multilabel":
            return (proba > 0.5).astype(np.int64)
        return self.classes_[np.argmax(proba, axis=1)]

    def predict(self, X):
        """The most probable class of each row (an indicator row for multi-label targets).

        >>> from chainrule.sklearn import MLPClassifier
        >>> clf = MLPClassifier((4,), learning_rate=0.1, max_iter=50, random_state=0)
        >>> clf.fit([[-1.0], [-2.0], [1.0], [2.0]], [0, 0, 1, 1]).predict([[-3.0], [3.0]])
        array([0, 1])
        """
        return self._labels(self.predict_proba(X))

    def decision_function(self, X):
        """The network's logits: shape (n_samples,) for binary targets (positive means
        ``classes_[1]``), else (n_samples, n_classes).

        >>> from chainrule.sklearn import MLPClassifier
        >>> clf = MLPClassifier((4,), max_iter=5, random_state=0).fit([[0.0], [1.0]], [0, 1])
        >>> clf.decision_function([[0.0], [1.0]]).shape
        (2,)
        """
        z = self._outputs(X)
        return z[:, 0] if self._mode == "binary" else z

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns ordered as ``classes_``
        (computed in float64 from the network's logits).

        >>> from chainrule.sklearn import MLPClassifier
        >>> clf = MLPClassifier((4,), max_iter=5, random_state=0).fit([[0.0], [1.0]], [0, 1])
        >>> float(clf.predict_proba([[0.5]]).sum())
        1.0
        """
        return self._proba_from(self._outputs(X))

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed stably from the logits.

        >>> from chainrule.sklearn import MLPClassifier
        >>> clf = MLPClassifier((4,), max_iter=5, random_state=0).fit([[0.0], [1.0]], [0, 1])
        >>> clf.predict_log_proba([[0.5]]).shape
        (1, 2)
        """
        return self._log_proba_from(self._outputs(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # CSR/CSC inputs are densified one batch at a time
        tags.classifier_tags.multi_label = True
        return tags
