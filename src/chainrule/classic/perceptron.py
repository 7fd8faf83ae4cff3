"""Rosenblatt's perceptron (1958): one step-activated unit and its error-correcting learning rule.

Plain NumPy. The model is (notes 001, 003)::

    y_hat = step(w . x + b),    step(z) = 1 if z >= 0 else 0

and the rule, applied to one sample at a time::

    w <- w + lr (y - y_hat) x
    b <- b + lr (y - y_hat)

It changes the weights only on a mistake (``y - y_hat`` is then +1 or -1). On linearly separable
data it stops making mistakes after finitely many updates (Novikoff, 1962), so AND and OR are
learned; XOR is not linearly separable, so every epoch keeps making mistakes (Minsky & Papert,
1969), the reason hidden layers and backpropagation were needed.
"""

import numpy as np

__all__ = ["Perceptron"]


def _step(z):
    return (z >= 0).astype(np.int64)


class Perceptron:
    """A single threshold unit trained with Rosenblatt's rule, targets in ``{0, 1}``.

    Weights ``w`` (shape ``(n_inputs,)``) and bias ``b`` start at zero, as in the textbook rule.
    ``fit`` keeps ``mistakes`` (one count per epoch) and ``converged`` (an epoch had none).

    Args:
        n_inputs: number of input features.
        lr: learning rate of the rule (with a zero start any ``lr > 0`` makes the same mistakes;
            it only scales ``w`` and ``b``).
        seed: seeds the order in which ``fit`` visits the samples when shuffling; ``None`` draws
            from the library generator (``cr.manual_seed``).

    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]); y_and = np.array([0, 0, 0, 1])
    >>> p = Perceptron(2, seed=0); _ = p.fit(X, y_and, epochs=50)
    >>> p.predict(X).tolist(), p.converged
    ([0, 0, 0, 1], True)
    """

    def __init__(self, n_inputs, lr=1.0, seed=None):
        n_inputs = int(n_inputs)
        if n_inputs < 1:
            raise ValueError(f"Perceptron: n_inputs must be a positive int, got {n_inputs}")
        if lr <= 0:
            raise ValueError(f"Perceptron: lr must be > 0, got {lr}")
        self.n_inputs = n_inputs
        self.lr = float(lr)
        self.seed = seed
        self._own_rng = np.random.default_rng(seed) if seed is not None else None
        self.w = np.zeros(n_inputs)
        self.b = 0.0
        self.mistakes = []
        self.converged = False

    def __repr__(self):
        return f"Perceptron(n_inputs={self.n_inputs}, lr={self.lr})"

    def _rng(self):
        if self._own_rng is not None:
            return self._own_rng
        from chainrule.backend import get_rng  # the generator cr.manual_seed reseeds

        return get_rng()

    def _check_X(self, method, X):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ValueError(f"Perceptron.{method}: X has shape {X.shape} but n_inputs = "
                             f"{self.n_inputs} needs shape (m, {self.n_inputs})")
        return X

    def _check_y(self, method, y, m):
        y = np.asarray(y)
        if y.shape != (m,):
            raise ValueError(f"Perceptron.{method}: y has shape {y.shape}; expected ({m},), one "
                             f"0/1 label per row of X")
        if not np.all((y == 0) | (y == 1)):
            raise ValueError(f"Perceptron.{method}: labels must be 0 or 1, "
                             f"got values {np.unique(y).tolist()}")
        return y.astype(np.int64)

    def decision_function(self, X):
        """The pre-activation ``z = X w + b``, shape ``(m,)``.

        >>> Perceptron(2).decision_function(np.ones((1, 2))).tolist()
        [0.0]
        """
        return self._check_X("decision_function", X) @ self.w + self.b

    def predict(self, X):
        """Labels ``step(X w + b)`` in ``{0, 1}``, shape ``(m,)``.

        >>> Perceptron(2).predict(np.zeros((2, 2))).tolist()
        [1, 1]
        """
        X = self._check_X("predict", X)
        return _step(X @ self.w + self.b)

    def score(self, X, y):
        """Accuracy of ``predict`` on ``(X, y)``.

        >>> Perceptron(1).score([[1.0], [2.0]], [1, 0])
        0.5
        """
        pred = self.predict(X)
        return float(np.mean(pred == self._check_y("score", y, pred.shape[0])))

    def fit(self, X, y, epochs=100, shuffle=True):
        """Apply the rule sample by sample for up to ``epochs`` passes; returns ``mistakes``.

        ``mistakes[e]`` counts the samples misclassified (and so updated on) during epoch ``e``.
        Training stops after the first epoch without a mistake (then ``converged`` is True:
        no update happened in that epoch, so the final weights classify every sample correctly).
        With ``shuffle`` each epoch visits the samples in a fresh random order.

        >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
        >>> p = Perceptron(2, seed=0); m = p.fit(X, [0, 1, 1, 0], epochs=20)
        >>> len(m), min(m) > 0, p.converged
        (20, True, False)
        """
        X = self._check_X("fit", X)
        y = self._check_y("fit", y, X.shape[0])
        rng = self._rng()
        self.mistakes, self.converged = [], False
        for _ in range(int(epochs)):
            order = rng.permutation(len(X)) if shuffle else range(len(X))
            count = 0
            for i in order:
                error = y[i] - int(X[i] @ self.w + self.b >= 0)  # y - y_hat, in {-1, 0, 1}
                if error:
                    self.w += self.lr * error * X[i]
                    self.b += self.lr * error
                    count += 1
            self.mistakes.append(count)
            if count == 0:
                self.converged = True
                break
        return self.mistakes
