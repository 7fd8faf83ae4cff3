"""What MLPClassifier and MLPRegressor share: hyper-parameters, the network, the optimiser,
the mini-batch training loop and the stopping rules.

Randomness: every draw an estimator makes (initial weights, the shuffle of each epoch, the
early-stopping split) comes from its own ``numpy.random.Generator`` seeded from
``random_state``, so an int ``random_state`` gives the same fit on every run and in every
process. ``random_state=None`` draws that seed from NumPy's global ``RandomState``
(scikit-learn's convention). chainrule's own generator (``cr.manual_seed``) is left exactly
where it was: building the layers would advance it, so its state is saved and restored.
"""

import numbers
import warnings

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from chainrule import nn, optim
from chainrule.autograd import no_grad
from chainrule.backend import get_rng
from chainrule.tensor import Tensor

_ACTIVATIONS = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,  # scikit-learn's name
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
}
_OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "adagrad")
_DTYPES = {"float32": np.dtype(np.float32), "float64": np.dtype(np.float64)}
_PREDICT_CHUNK = 4096  # rows per forward pass at prediction time (bounds memory)


def _positive_int(value, name, owner, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{owner}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _real(value, name, owner, low, high=np.inf, low_open=False, high_open=False):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        ok = (value > low if low_open else value >= low) and (
            value < high if high_open else value <= high)
    if not ok:
        lo, hi = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{owner}: {name} must be a number in {lo}{low}, {high}{hi}, "
                         f"got {value!r}")
    return float(value)


class _MLPBase(BaseEstimator):
    """A multi-layer perceptron ``Linear → act → … → Linear`` trained by mini-batch descent.

    Subclasses encode targets (``_encode_targets``), give the loss (``_loss``), score a
    held-out set (``_holdout_score``) and turn outputs into predictions.
    """

    # scikit-learn reads the hyper-parameters from this signature (get_params, clone).
    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, optimizer="adam",
                 learning_rate=1e-3, batch_size="auto", max_iter=200, weight_decay=0.0,
                 momentum=0.9, shuffle=True, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, tol=1e-4, random_state=None, dtype="float64",
                 verbose=False, compile=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.weight_decay = weight_decay
        self.momentum = momentum
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.dtype = dtype
        self.verbose = verbose
        self.compile = compile

    # ------------------------------------------------------------------ hyper-parameters
    def _checked_params(self):
        """Validate the hyper-parameters once per fit (scikit-learn forbids it in __init__)."""
        owner = type(self).__name__
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
            sizes = (sizes,)
        try:
            sizes = tuple(sizes)
        except TypeError:
            raise ValueError(f"{owner}: hidden_layer_sizes must be an int or a sequence of "
                             f"ints, got {self.hidden_layer_sizes!r}") from None
        sizes = tuple(_positive_int(s, "each hidden layer size", owner) for s in sizes)
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"{owner}: activation must be one of {sorted(_ACTIVATIONS)}, "
                             f"got {self.activation!r}")
        if self.optimizer not in _OPTIMIZERS:
            raise ValueError(f"{owner}: optimizer must be one of {list(_OPTIMIZERS)}, "
                             f"got {self.optimizer!r}")
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            _positive_int(self.batch_size, "batch_size ('auto' or an int)", owner)
        try:
            dtype = np.dtype(self.dtype)
        except TypeError:
            dtype = None
        if dtype not in _DTYPES.values():
            raise ValueError(f"{owner}: dtype must be 'float32' or 'float64', got {self.dtype!r}")
        return {
            "sizes": sizes,
            "dtype": dtype,
            "lr": _real(self.learning_rate, "learning_rate", owner, 0, low_open=True),
            "max_iter": _positive_int(self.max_iter, "max_iter", owner),
            "weight_decay": _real(self.weight_decay, "weight_decay", owner, 0),
            "momentum": _real(self.momentum, "momentum", owner, 0, 1),
            "validation_fraction": _real(self.validation_fraction, "validation_fraction",
                                         owner, 0, 1, low_open=True, high_open=True),
            "n_iter_no_change": _positive_int(self.n_iter_no_change, "n_iter_no_change",
                                              owner),
            "tol": _real(self.tol, "tol", owner, 0),
        }

    # ------------------------------------------------------------------ network
    def _build(self, n_in, n_out, p):
        """Make ``model_`` (Glorot-uniform weights drawn from the estimator's generator)."""
        library_rng = get_rng()
        saved = library_rng.bit_generator.state  # Linear() draws from it; put it back after
        try:
            layers, width = [], n_in
            for size in p["sizes"]:
                layers += [nn.Linear(width, size, dtype=p["dtype"]),
                           _ACTIVATIONS[self.activation]()]
                width = size
            layers.append(nn.Linear(width, n_out, dtype=p["dtype"]))
        finally:
            library_rng.bit_generator.state = saved
        # scikit-learn's initialisation: U(±sqrt(k / (fan_in + fan_out))), k = 2 for logistic.
        k = 2.0 if self.activation in ("logistic", "sigmoid") else 6.0
        for layer in layers:
            if isinstance(layer, nn.Linear):
                fan_out, fan_in = layer.weight.shape
                bound = np.sqrt(k / (fan_in + fan_out))
                layer.weight.data[...] = self._rng.uniform(-bound, bound, layer.weight.shape)
                layer.bias.data[...] = self._rng.uniform(-bound, bound, layer.bias.shape)
        self.model_ = nn.Sequential(*layers)
        self.optimizer_ = self._make_optimizer(p)

    def _make_optimizer(self, p):
        params, lr, wd = list(self.model_.parameters()), p["lr"], p["weight_decay"]
        if self.optimizer == "sgd":
            return optim.SGD(params, lr=lr, momentum=p["momentum"], weight_decay=wd)
        if self.optimizer == "adamw":
            return optim.AdamW(params, lr=lr, weight_decay=wd)
        maker = {"adam": optim.Adam, "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad}
        return maker[self.optimizer](params, lr=lr, weight_decay=wd)

    # ------------------------------------------------------------------ data
    def _validate_X(self, X, reset):
        X = validate_data(self, X, accept_sparse=("csr", "csc"), dtype=(np.float64, np.float32),
                          reset=reset)
        return X.tocsr() if sparse.issparse(X) else X

    @staticmethod
    def _dense(X, dtype):
        X = X.toarray() if sparse.issparse(X) else X
        return np.asarray(X, dtype=dtype)

    def _outputs(self, X):
        """The network's raw outputs (logits for a classifier) for user input ``X``."""
        check_is_fitted(self, "model_")
        return self._forward(self._validate_X(X, reset=False))

    def _forward(self, X):
        """Raw outputs for a validated ``X``, as float64, in eval mode and in chunks."""
        dtype = self.model_[0].weight.dtype
        self.model_.eval()
        with no_grad():
            outs = [self.model_(Tensor(self._dense(X[s:s + _PREDICT_CHUNK], dtype))).data
                    for s in range(0, X.shape[0], _PREDICT_CHUNK)]
        return np.concatenate(outs).astype(np.float64, copy=False)

    # ------------------------------------------------------------------ training
    def _fit(self, X, y, incremental, classes=None):
        p = self._checked_params()
        first = not (incremental and hasattr(self, "model_"))
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None")
        X, y = validate_data(self, X, y, accept_sparse=("csr", "csc"),
                             dtype=(np.float64, np.float32), multi_output=True,
                             y_numeric=self._y_numeric, reset=first)
        X = X.tocsr() if sparse.issparse(X) else X
        if sparse.issparse(y):
            y = y.toarray()
        Y = self._encode_targets(y, first, classes, p["dtype"], incremental)
        if first:
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            self._rng = np.random.default_rng(seed)
            self._build(X.shape[1], self.n_outputs_, p)
            self.loss_curve_, self.n_iter_, self.t_, self.best_loss_ = [], 0, 0, np.inf
            self._no_improvement = 0
        X = X.astype(p["dtype"]) if sparse.issparse(X) else X
        if incremental:  # one epoch over the given data; early stopping does not apply
            self._epoch(X, Y, p)
            return self
        return self._fit_epochs(X, y, Y, p)

    def _fit_epochs(self, X, y, Y, p):
        Xv = yv = best_state = None
        self.validation_scores_ = self.best_validation_score_ = None
        if self.early_stopping:
            X, Xv, Y, _, y, yv = self._holdout_split(X, Y, y, p["validation_fraction"])
            self.validation_scores_, self.best_validation_score_ = [], -np.inf
        for _ in range(p["max_iter"]):
            loss = self._epoch(X, Y, p)
            if self.early_stopping:
                score = self._holdout_score(Xv, yv)
                self.validation_scores_.append(score)
                improved = score >= self.best_validation_score_ + p["tol"]
                if score > self.best_validation_score_:
                    self.best_validation_score_ = score
                    best_state = {k: v.copy() for k, v in self.model_.state_dict().items()}
            else:
                improved = loss <= self.best_loss_ - p["tol"]
            self.best_loss_ = min(self.best_loss_, loss)
            self._no_improvement = 0 if improved else self._no_improvement + 1
            if self._no_improvement > p["n_iter_no_change"]:  # scikit-learn's rule
                if self.verbose:
                    print(f"No improvement for {p['n_iter_no_change']} consecutive epochs "
                          f"(tol={p['tol']}); stopping.")
                break
        else:
            warnings.warn(
                f"{type(self).__name__}: reached max_iter={p['max_iter']} epochs and the "
                "optimisation has not converged yet; raise max_iter or learning_rate.",
                ConvergenceWarning, stacklevel=4,  # point at the caller of fit()
            )
        if best_state is not None:  # early stopping keeps the best epoch's weights
            self.model_.load_state_dict(best_state)
        self.model_.eval()
        return self

    def _holdout_split(self, X, Y, y, fraction):
        if X.shape[0] < 2:
            raise ValueError(f"{type(self).__name__}: early_stopping needs at least 2 samples "
                             f"to hold out a validation set, got n_samples={X.shape[0]}")
        seed = int(self._rng.integers(np.iinfo(np.int32).max))
        stratify = y if self._stratify_holdout(y) else None
        try:
            return train_test_split(X, Y, y, test_size=fraction, random_state=seed,
                                    stratify=stratify)
        except ValueError:  # a class too rare to stratify: split at random instead
            return train_test_split(X, Y, y, test_size=fraction, random_state=seed)

    def _stratify_holdout(self, y):
        return False

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_compiled_step", None)  # generated code: rebuilt on the next fit
        return state

    def _training_step(self, model, opt):
        """The training step under cr.compile, kept while the model and optimiser are."""
        cached = getattr(self, "_compiled_step", None)
        if cached is not None and cached[0] is model and cached[1] is opt:
            return cached[2]
        from chainrule.jit import compile as compile_step

        def training_step(xb, yb):
            loss = self._loss(model(Tensor(xb)), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        self._compiled_step = (model, opt, compile_step(training_step))
        return self._compiled_step[2]

    def _epoch(self, X, Y, p):
        """One pass over ``(X, Y)`` in mini-batches; returns the mean training loss."""
        n = X.shape[0]
        size = min(200, n) if self.batch_size == "auto" else min(int(self.batch_size), n)
        order = self._rng.permutation(n) if self.shuffle else None
        model, opt, total = self.model_, self.optimizer_, 0.0
        model.train()
        step = self._training_step(model, opt) if self.compile else None
        for start in range(0, n, size):
            rows = slice(start, start + size) if order is None else order[start:start + size]
            if step is not None:  # compile=True: the same step, captured once and replayed
                loss = step(self._dense(X[rows], p["dtype"]), np.ascontiguousarray(Y[rows]))
            else:
                loss = self._loss(model(Tensor(self._dense(X[rows], p["dtype"]))), Y[rows])
                opt.zero_grad()
                loss.backward()
                opt.step()
            value = float(loss.data)
            if not np.isfinite(value):
                raise ValueError(
                    f"{type(self).__name__}.fit: the training loss became {value} at epoch "
                    f"{self.n_iter_ + 1}; standardise the inputs (e.g. StandardScaler) or "
                    f"lower learning_rate (now {p['lr']})")
            total += value * (min(size, n - start))
            self.t_ += 1
        model.eval()
        loss = total / n
        self.n_iter_ += 1
        self.loss_curve_.append(loss)
        if self.verbose:
            print(f"Iteration {self.n_iter_}, loss = {loss:.8f}")
        return loss
