"""The multilayer perceptron as the lecture notes write it: layer-wise forward, delta-rule backward.

Plain NumPy, no autograd: every derivative below is written out by hand, so this module is the
reference the autograd engine is tested against: backpropagation as it was done before autograd.

Notation (notes 000 and 002), for ``L`` weight layers with sizes ``n_0, ..., n_L``::

    a^0 = x
    z^l = W^l a^(l-1) + b^l          W^l: (n_l, n_(l-1)),  b^l: (n_l,)
    a^l = sigma(z^l)                 sigma: the hidden activation; f^L at the output layer

For a design matrix ``X`` (m samples as rows, the notes' ``Z = XW + B``) the same equations read,
one row per sample::

    A^0 = X,   Z^l = A^(l-1) (W^l)^T + b^l,   A^l = sigma(Z^l)        Z^l, A^l: (m, n_l)

Backward, with ``delta^l = dC/dz^l``, per sample (column vectors)::

    delta^L = dC/da^L * f^L'(z^L)                    (* = elementwise, the notes' circled dot)
    delta^l = (W^(l+1))^T delta^(l+1) * sigma'(z^l)
    dC/dW^l = delta^l (a^(l-1))^T
    dC/db^l = delta^l

and in rows: ``Delta^l = (Delta^(l+1) W^(l+1)) * sigma'(Z^l)``, ``dC/dW^l = (Delta^l)^T A^(l-1)``
(the sum of the per-sample outer products) and ``dC/db^l`` = the column sums of ``Delta^l``.

The cost ``C`` is a mean over the batch, so its ``1/m`` is already inside ``delta^L``.

Indexing: Python lists are 0-based, so ``W[l-1]`` and ``b[l-1]`` hold ``W^l`` and ``b^l``, while
``z[l]``, ``a[l]`` and ``delta[l]`` hold ``z^l``, ``a^l`` and ``delta^l`` (``a[0] = X``;
``z[0]`` and ``delta[0]`` are ``None``). ``W[l-1]`` has the shape ``(out, in)`` of PyTorch's and
chainrule's ``nn.Linear`` weight, so ``get_params()`` loads straight into such layers.
"""

import numpy as np

__all__ = ["MLP"]


# --- activations: sigma(z) and sigma'(z), the latter from z and a = sigma(z) (whichever is cheaper)


def _sigmoid(z):
    # 0.5 (1 + tanh(z/2)) is the logistic function without exp overflow for large |z|.
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _sigmoid_prime(z, a):
    return a * (1.0 - a)


def _tanh_prime(z, a):
    return 1.0 - a * a


def _relu(z):
    return np.maximum(z, 0.0)


def _relu_prime(z, a):
    return (z > 0).astype(z.dtype)


def _identity(z):
    return z


def _identity_prime(z, a):
    return np.ones_like(z)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))  # shift: same result, no overflow
    return e / e.sum(axis=1, keepdims=True)


_ACTIVATIONS = {
    "sigmoid": (_sigmoid, _sigmoid_prime),
    "tanh": (np.tanh, _tanh_prime),
    "relu": (_relu, _relu_prime),
    "identity": (_identity, _identity_prime),
}
_LOSSES = ("mse", "bce", "cross_entropy")
_DEFAULT_OUTPUT = {"mse": "identity", "bce": "sigmoid", "cross_entropy": "softmax"}


class MLP:
    """A fully connected network trained by the layer-wise delta rule (notes 000, 002).

    Forward, for a design matrix ``X`` of shape ``(m, n_0)``::

        A^0 = X,  Z^l = A^(l-1) (W^l)^T + b^l,  A^l = sigma(Z^l)  (f^L = output_activation at L)

    Losses (``C``, a mean so that it matches ``chainrule.nn.functional``'s ``reduction='mean'``):

    - ``'mse'``: ``C = 1/(m n_L) sum_i sum_k (a^L_ik - y_ik)^2``, the mean over *all elements*
      (no 1/2), as ``mse_loss``; ``dC/da^L = 2 (a^L - y) / (m n_L)``.
    - ``'bce'``: ``C = -1/(m n_L) sum_ik [y log a^L + (1 - y) log(1 - a^L)]``, the mean over all
      elements (= the mean over the batch for one output unit), as ``binary_cross_entropy``.
    - ``'cross_entropy'``: ``C = -1/m sum_i log a^L_(i, y_i)`` with ``a^L = softmax(z^L)`` and
      integer class targets ``y_i``, as ``cross_entropy(logits, targets)``.

    Parameters: ``W[l-1]`` (shape ``(n_l, n_(l-1))``) and ``b[l-1]`` (shape ``(n_l,)``) hold layer
    ``l``; ``forward`` keeps ``z[l]``, ``a[l]``; ``backward`` keeps ``delta[l]``, ``dW``, ``db``.
    Initialisation: Glorot uniform ``U(-r, r)``, ``r = sqrt(6 / (n_in + n_out))``, for
    sigmoid/tanh/identity and He uniform ``r = sqrt(6 / n_in)`` for relu; biases start at zero.

    Args:
        layer_sizes: ``[n_0, n_1, ..., n_L]``, at least two entries.
        activation: hidden activation, one of ``'sigmoid'``, ``'tanh'``, ``'relu'``, ``'identity'``.
        output_activation: ``f^L``; ``None`` picks ``'identity'`` for mse, ``'sigmoid'`` for bce,
            ``'softmax'`` for cross_entropy. bce needs ``'sigmoid'``, cross_entropy ``'softmax'``.
        loss: ``'mse'``, ``'bce'`` or ``'cross_entropy'``.
        seed: seeds the initial weights and the default shuffling of ``fit``; ``None`` draws from
            the library generator (``cr.manual_seed``).
        dtype: float dtype of parameters and activations.

    >>> net = MLP([2, 3, 1], loss="bce", seed=0)
    >>> [w.shape for w in net.W], [b.shape for b in net.b]
    ([(3, 2), (1, 3)], [(3,), (1,)])
    >>> net.forward(np.zeros((4, 2))).shape
    (4, 1)
    """

    def __init__(self, layer_sizes, activation="sigmoid", output_activation=None, loss="mse",
                 seed=None, dtype=np.float64):
        sizes = [int(n) for n in layer_sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"MLP: layer_sizes must list at least two positive sizes "
                             f"[n_0, ..., n_L], got {list(layer_sizes)}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"MLP: activation must be one of {sorted(_ACTIVATIONS)}, "
                             f"got {activation!r}")
        if loss not in _LOSSES:
            raise ValueError(f"MLP: loss must be one of {list(_LOSSES)}, got {loss!r}")
        if output_activation is None:
            output_activation = _DEFAULT_OUTPUT[loss]
        if output_activation not in (*_ACTIVATIONS, "softmax"):
            raise ValueError(f"MLP: output_activation must be one of "
                             f"{sorted((*_ACTIVATIONS, 'softmax'))}, got {output_activation!r}")
        if loss == "bce" and output_activation != "sigmoid":
            raise ValueError(f"MLP: loss 'bce' needs output_activation 'sigmoid' (outputs must be "
                             f"probabilities), got {output_activation!r}")
        if loss == "cross_entropy" and output_activation != "softmax":
            raise ValueError(f"MLP: loss 'cross_entropy' needs output_activation 'softmax', "
                             f"got {output_activation!r}")
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"MLP: dtype must be a float dtype, got {self.dtype}")
        self.layer_sizes = sizes
        self.L = len(sizes) - 1
        self.activation = activation
        self.output_activation = output_activation
        self.loss_name = loss
        self.seed = seed
        self._own_rng = np.random.default_rng(seed) if seed is not None else None

        rng = self._rng()
        self.W, self.b = [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            r = np.sqrt(6.0 / n_in) if activation == "relu" else np.sqrt(6.0 / (n_in + n_out))
            self.W.append(rng.uniform(-r, r, size=(n_out, n_in)).astype(self.dtype))
            self.b.append(np.zeros(n_out, dtype=self.dtype))
        self.z, self.a, self.delta = [], [], []
        self.dW, self.db = None, None

    def __repr__(self):
        return (f"MLP({self.layer_sizes}, activation={self.activation!r}, "
                f"output_activation={self.output_activation!r}, loss={self.loss_name!r})")

    def _rng(self):
        if self._own_rng is not None:
            return self._own_rng
        from chainrule.backend import get_rng  # the generator cr.manual_seed reseeds

        return get_rng()

    # --- checks -----------------------------------------------------------------------------

    def _check_X(self, method, X):
        X = np.asarray(X, dtype=self.dtype)
        n0 = self.layer_sizes[0]
        if X.ndim != 2 or X.shape[1] != n0:
            hint = " (one sample: X.reshape(1, -1))" if X.ndim == 1 and X.shape[0] == n0 else ""
            raise ValueError(f"MLP.{method}: X has shape {X.shape} but layer_sizes[0] = {n0} "
                             f"needs a design matrix of shape (m, {n0}){hint}")
        return X

    def _check_y(self, method, y, m):
        """Targets as the loss needs them: (m, n_L) floats, or (m,) int64 class indices."""
        nL = self.layer_sizes[-1]
        y = np.asarray(y)
        given = y.shape
        if self.loss_name == "cross_entropy":
            if y.ndim == 2 and y.shape[1] == 1:
                y = y[:, 0]
            if y.shape != (m,):
                raise ValueError(f"MLP.{method}: cross_entropy targets must be class indices of "
                                 f"shape ({m},) for {m} samples, got shape {given}")
            if y.dtype.kind not in "iub":
                if y.dtype.kind != "f" or not np.all(y == np.round(y)):
                    raise ValueError(f"MLP.{method}: cross_entropy targets must be integer class "
                                     f"indices, got {y.dtype} values that are not all whole")
            y = y.astype(np.int64)
            if y.size and (y.min() < 0 or y.max() >= nL):
                raise ValueError(f"MLP.{method}: class indices must lie in [0, {nL}) for "
                                 f"{nL} outputs, got range [{y.min()}, {y.max()}]")
            return y
        if y.ndim == 1 and nL == 1:
            y = y[:, None]
        if y.shape != (m, nL):
            one = f" or ({m},)" if nL == 1 else ""
            raise ValueError(f"MLP.{method}: y has shape {given} but expected ({m}, {nL}){one}: "
                             f"{m} samples (rows of X), {nL} output unit(s)")
        y = y.astype(self.dtype)
        if self.loss_name == "bce" and y.size and (y.min() < 0 or y.max() > 1):
            raise ValueError(f"MLP.{method}: bce targets must lie in [0, 1], "
                             f"got range [{y.min()}, {y.max()}]")
        return y

    # --- forward, cost, backward ----------------------------------------------------------

    def forward(self, X):
        """Compute ``a^L`` for the design matrix ``X`` (m, n_0); keep every ``z[l]`` and ``a[l]``.

        >>> net = MLP([2, 2], activation="identity", seed=0)
        >>> net.set_params([np.eye(2)], [np.ones(2)]).forward(np.array([[1.0, 2.0]]))
        array([[2., 3.]])
        """
        a = self._check_X("forward", X)
        self.z, self.a = [None], [a]
        sigma = _ACTIVATIONS[self.activation][0]
        for l in range(1, self.L + 1):
            z = a @ self.W[l - 1].T + self.b[l - 1]  # Z^l = A^(l-1) (W^l)^T + b^l
            if l < self.L:
                a = sigma(z)
            elif self.output_activation == "softmax":
                a = _softmax(z)
            else:
                a = _ACTIVATIONS[self.output_activation][0](z)
            self.z.append(z)
            self.a.append(a)
        return a

    def _cost(self, y):
        """C for the last forward pass and checked targets ``y``."""
        aL, zL = self.a[-1], self.z[-1]
        if self.loss_name == "mse":
            return float(np.mean((aL - y) ** 2))
        if self.loss_name == "bce":
            # -[y log s(z) + (1-y) log(1-s(z))] = softplus(z) - y z, computed from z so that a
            # saturated sigmoid (a == 0 or 1 in floating point) still gives a finite cost.
            return float(np.mean(np.logaddexp(0.0, zL) - y * zL))
        # -log softmax(z)_y = logsumexp(z) - z_y, again from z for the same reason.
        zmax = zL.max(axis=1)
        lse = zmax + np.log(np.exp(zL - zmax[:, None]).sum(axis=1))
        return float(np.mean(lse - zL[np.arange(len(y)), y]))

    def _delta_L(self, y):
        """delta^L = dC/dz^L for the last forward pass (the 1/m of the mean included)."""
        aL, zL = self.a[-1], self.z[-1]
        m = aL.shape[0]
        if self.loss_name == "bce":
            # dC/da = (a - y) / (a (1 - a)) / N and sigmoid'(z) = a (1 - a): the product cancels
            # to (a - y) / N exactly, with no division by a (1 - a), which is 0 when a saturates.
            return (aL - y) / aL.size
        if self.loss_name == "cross_entropy":
            # softmax is not elementwise (a_k depends on every z_j), so "dC/da * f'(z)" does not
            # apply: the Jacobian product (da/dz)^T dC/da with dC/da_k = -[k = y] / a_k
            # simplifies to a - onehot(y).
            d = aL.copy()
            d[np.arange(m), y] -= 1.0
            return d / m
        dC_da = 2.0 * (aL - y) / aL.size  # mse, mean over all m * n_L elements
        if self.output_activation == "softmax":
            # softmax Jacobian-vector product: (da/dz)^T g = a * (g - sum_k g_k a_k)
            return aL * (dC_da - np.sum(dC_da * aL, axis=1, keepdims=True))
        return dC_da * _ACTIVATIONS[self.output_activation][1](zL, aL)

    def backward(self, y):
        """Backpropagate the cost of the last ``forward`` against targets ``y``.

        Fills ``delta[l]`` and the gradients ``dW[l-1] = dC/dW^l``, ``db[l-1] = dC/db^l``
        (the same shapes as ``W``, ``b``) and returns ``(dW, db)``.

        >>> net = MLP([2, 1], seed=0); _ = net.forward(np.ones((3, 2)))
        >>> dW, db = net.backward(np.zeros(3)); dW[0].shape, db[0].shape
        ((1, 2), (1,))
        """
        if len(self.a) != self.L + 1:
            raise RuntimeError("MLP.backward: call forward(X) first; backward uses its z and a")
        y = self._check_y("backward", y, self.a[0].shape[0])
        sigma_prime = _ACTIVATIONS[self.activation][1]
        delta = self._delta_L(y)
        self.delta = [None] * (self.L + 1)
        self.dW, self.db = [None] * self.L, [None] * self.L
        for l in range(self.L, 0, -1):
            self.delta[l] = delta
            self.dW[l - 1] = delta.T @ self.a[l - 1]  # sum_i delta_i (a^(l-1)_i)^T
            self.db[l - 1] = delta.sum(axis=0)
            if l > 1:  # delta^(l-1) = (W^l)^T delta^l * sigma'(z^(l-1)), in rows
                delta = (delta @ self.W[l - 1]) * sigma_prime(self.z[l - 1], self.a[l - 1])
        return self.dW, self.db

    def gradients(self, X, y):
        """``forward(X)`` then ``backward(y)``: returns ``(dW, db)``.

        >>> net = MLP([2, 1], seed=0)
        >>> [g.shape for g in net.gradients(np.ones((3, 2)), np.zeros(3))[0]]
        [(1, 2)]
        """
        self.forward(X)
        return self.backward(y)

    def loss(self, X, y):
        """The cost ``C`` (see the class docstring) of the network on ``(X, y)``, a float.

        >>> net = MLP([2, 1], activation="identity", seed=0)
        >>> net.set_params([np.zeros((1, 2))], [np.zeros(1)]).loss(np.ones((2, 2)), [3.0, 1.0])
        5.0
        """
        a = self.forward(X)
        return self._cost(self._check_y("loss", y, a.shape[0]))

    def step(self, lr):
        """One gradient-descent step with the last gradients: ``W^l -= lr dC/dW^l`` (in place).

        >>> net = MLP([1, 1], seed=0); _ = net.gradients([[1.0]], [1.0]); net.step(0.1)
        """
        if self.dW is None:
            raise RuntimeError("MLP.step: no gradients yet; call backward(y) first")
        for W, b, dW, db in zip(self.W, self.b, self.dW, self.db):
            W -= lr * dW
            b -= lr * db

    # --- training and prediction -------------------------------------------------------------

    def fit(self, X, y, epochs=100, lr=0.1, batch_size=None, seed=None, shuffle=True):
        """Minibatch stochastic gradient descent; returns the list of per-epoch losses.

        Each epoch visits the samples once (in a fresh random order when ``shuffle``), in batches
        of ``batch_size`` (``None``: the whole set, i.e. batch gradient descent), and takes one
        step ``W^l -= lr dC/dW^l, b^l -= lr dC/db^l`` per batch. The epoch's loss is the mean of
        the batch losses seen during the epoch (before each step), weighted by batch size.
        ``seed`` seeds the shuffling; ``None`` uses the model's generator.

        >>> X = np.array([[0., 0], [0, 1], [1, 0], [1, 1]]); y = np.array([0., 1, 1, 1])
        >>> hist = MLP([2, 1], loss="bce", seed=0).fit(X, y, epochs=200, lr=1.0)
        >>> hist[-1] < hist[0]
        True
        """
        X = self._check_X("fit", X)
        y = self._check_y("fit", y, X.shape[0])
        m = X.shape[0]
        bs = m if batch_size is None else int(batch_size)
        if bs < 1:
            raise ValueError(f"MLP.fit: batch_size must be a positive int or None, "
                             f"got {batch_size}")
        if epochs < 0 or lr <= 0:
            raise ValueError(f"MLP.fit: need epochs >= 0 and lr > 0, got epochs={epochs}, lr={lr}")
        rng = np.random.default_rng(seed) if seed is not None else self._rng()
        history = []
        for _ in range(int(epochs)):
            order = rng.permutation(m) if shuffle else np.arange(m)
            total = 0.0
            for start in range(0, m, bs):
                idx = order[start:start + bs]
                self.forward(X[idx])
                total += self._cost(y[idx]) * len(idx)
                self.backward(y[idx])
                self.step(lr)
            history.append(total / m)
        return history

    def predict_proba(self, X):
        """The output ``a^L``: sigmoid probabilities (bce) or softmax rows (cross_entropy).

        >>> p = MLP([2, 3], loss="cross_entropy", seed=0).predict_proba(np.ones((1, 2)))
        >>> p.shape, round(float(p.sum()), 12)
        ((1, 3), 1.0)
        """
        if self.loss_name == "mse":
            raise ValueError("MLP.predict_proba: needs loss 'bce' or 'cross_entropy'; this model "
                             "uses 'mse' (use predict for its outputs)")
        return self.forward(X)

    def predict(self, X):
        """Predictions: ``a^L`` for mse; labels 0/1 (threshold 0.5) for bce, shape ``(m,)`` with
        one output unit; class indices ``argmax_k a^L_k`` for cross_entropy.

        >>> MLP([2, 1], loss="bce", seed=0).predict(np.zeros((3, 2)))
        array([1, 1, 1])
        """
        a = self.forward(X)
        if self.loss_name == "mse":
            return a
        if self.loss_name == "cross_entropy":
            return a.argmax(axis=1)
        labels = (a >= 0.5).astype(np.int64)
        return labels[:, 0] if labels.shape[1] == 1 else labels

    def score(self, X, y):
        """Accuracy of ``predict`` on ``(X, y)`` (classification losses only).

        >>> MLP([2, 1], loss="bce", seed=0).score(np.zeros((2, 2)), [1, 0])
        0.5
        """
        if self.loss_name == "mse":
            raise ValueError("MLP.score: accuracy needs loss 'bce' or 'cross_entropy'; this model "
                             "uses 'mse' (use loss(X, y))")
        pred = self.predict(X)
        y = self._check_y("score", y, pred.shape[0])
        if self.loss_name == "bce" and pred.ndim == 1:
            y = y[:, 0]
        return float(np.mean(pred == y))

    # --- parameters ---------------------------------------------------------------------------

    def get_params(self):
        """Copies of the parameters, ``(W, b)``: lists with ``W[l-1]`` (n_l, n_(l-1)), ``b[l-1]``
        (n_l,).

        >>> W, b = MLP([3, 2], seed=0).get_params(); W[0].shape, b[0].shape
        ((2, 3), (2,))
        """
        return [W.copy() for W in self.W], [b.copy() for b in self.b]

    def set_params(self, W, b):
        """Load parameters (copied, cast to ``dtype``) laid out as ``get_params``; returns self.

        >>> net = MLP([3, 2], seed=0); W, b = net.get_params()
        >>> net.set_params(W, b) is net
        True
        """
        W, b = list(W), list(b)
        if len(W) != self.L or len(b) != self.L:
            raise ValueError(f"MLP.set_params: need {self.L} weight matrices and {self.L} bias "
                             f"vectors for layer_sizes {self.layer_sizes}, "
                             f"got {len(W)} and {len(b)}")
        newW, newb = [], []
        for l in range(1, self.L + 1):
            Wl = np.array(W[l - 1], dtype=self.dtype)
            bl = np.array(b[l - 1], dtype=self.dtype)
            want = (self.layer_sizes[l], self.layer_sizes[l - 1])
            if Wl.shape != want:
                raise ValueError(f"MLP.set_params: W[{l - 1}] (layer {l}) must have shape "
                                 f"(n_{l}, n_{l - 1}) = {want}, got {Wl.shape}")
            if bl.shape != (want[0],):
                raise ValueError(f"MLP.set_params: b[{l - 1}] (layer {l}) must have shape "
                                 f"({want[0]},), got {bl.shape}")
            newW.append(Wl)
            newb.append(bl)
        self.W, self.b = newW, newb
        self.dW = self.db = None
        return self
