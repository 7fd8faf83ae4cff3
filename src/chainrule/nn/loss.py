"""Loss layers: ``loss_fn(input, target)`` with ``reduction='mean' | 'sum' | 'none'``.

Each calls one fused, numerically stable primitive (MSE, BCE, BCE-with-logits,
cross-entropy, NLL) or a short composition (L1, Huber). Class weights are buffers, so they
appear in ``state_dict`` as in PyTorch.

>>> import chainrule as cr
>>> loss_fn = cr.nn.CrossEntropyLoss()
>>> round(loss_fn(cr.tensor([[0.0, 0.0]]), cr.tensor([1])).item(), 6)
0.693147
"""

import numpy as np

from chainrule.backend import get_default_dtype
from chainrule.nn import functional as F
from chainrule.nn.module import Module
from chainrule.tensor import Tensor

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "L1Loss", "MSELoss",
    "NLLLoss",
]


def _as_buffer(value):
    """A weight argument as a float Tensor (lists take the default dtype, arrays keep theirs)."""
    if value is None or isinstance(value, Tensor):
        return value
    tensor = Tensor(value)
    if tensor.data.dtype.kind != "f":
        tensor.data = tensor.data.astype(get_default_dtype())
    return tensor


def _to_list(value):
    return None if value is None else np.asarray(getattr(value, "data", value)).tolist()


class _Loss(Module):
    # What the target is ("regression", "binary" or "classes"): `fit` matches targets to
    # outputs and picks its default metrics by it (chainrule.train.loop.loss_kind).
    target_kind = None

    def __init__(self, reduction="mean"):
        super().__init__()
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def get_config(self):
        return {"reduction": self.reduction}


class MSELoss(_Loss):
    """Mean squared error ``(input − target)²``, reduced.

    >>> import chainrule as cr
    >>> cr.nn.MSELoss()(cr.tensor([1.0, 3.0]), cr.tensor([1.0, 1.0])).item()
    2.0
    """

    target_kind = "regression"

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error ``|input − target|``, reduced.

    >>> import chainrule as cr
    >>> cr.nn.L1Loss(reduction="sum")(cr.tensor([1.0, 3.0]), cr.tensor([0.0, 0.0])).item()
    4.0
    """

    target_kind = "regression"

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """``½·d²`` for ``|d| < delta``, else ``delta·(|d| − ½·delta)`` with ``d = input − target``.

    >>> import chainrule as cr
    >>> cr.nn.HuberLoss(delta=1.0)(cr.tensor([3.0]), cr.tensor([0.0])).item()
    2.5
    """

    target_kind = "regression"

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        if delta <= 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta}")
        self.delta = float(delta)

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)

    def get_config(self):
        return {"reduction": self.reduction, "delta": self.delta}


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities ``−w·[y·log p + (1 − y)·log(1 − p)]`` (logs
    clamped at −100). Prefer :class:`BCEWithLogitsLoss` on raw scores.

    >>> import chainrule as cr
    >>> round(cr.nn.BCELoss()(cr.tensor([0.5]), cr.tensor([1.0])).item(), 6)
    0.693147
    """

    target_kind = "binary"

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", _as_buffer(weight))

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)

    def get_config(self):
        return {"weight": _to_list(self.weight), "reduction": self.reduction}


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits, fused with the sigmoid so it never overflows:
    ``−w·[p·y·log σ(x) + (1 − y)·log(1 − σ(x))]`` with ``p = pos_weight`` (per class).

    >>> import chainrule as cr
    >>> round(cr.nn.BCEWithLogitsLoss()(cr.tensor([0.0]), cr.tensor([1.0])).item(), 6)
    0.693147
    """

    target_kind = "binary"

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", _as_buffer(weight))
        self.register_buffer("pos_weight", _as_buffer(pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)

    def get_config(self):
        return {"weight": _to_list(self.weight), "reduction": self.reduction,
                "pos_weight": _to_list(self.pos_weight)}


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy on logits ``(N, C)`` (or ``(C,)``, ``(N, C, d1, ...)``) against
    class indices or class probabilities, fused with log-softmax.

    ``weight`` rescales classes, targets equal to ``ignore_index`` are skipped, and
    ``label_smoothing`` mixes the target with the uniform distribution.

    >>> import chainrule as cr
    >>> loss = cr.nn.CrossEntropyLoss(label_smoothing=0.1)
    >>> round(loss(cr.tensor([[0.0, 0.0]]), cr.tensor([0])).item(), 6)
    0.693147
    """

    target_kind = "classes"

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}"
            )
        self.register_buffer("weight", _as_buffer(weight))
        self.ignore_index = int(ignore_index)
        self.label_smoothing = float(label_smoothing)

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)

    def get_config(self):
        return {"weight": _to_list(self.weight), "ignore_index": self.ignore_index,
                "reduction": self.reduction, "label_smoothing": self.label_smoothing}


class NLLLoss(_Loss):
    """Negative log-likelihood on log-probabilities: ``−w[t]·input[t]`` (use after LogSoftmax;
    ``LogSoftmax`` + ``NLLLoss`` equals ``CrossEntropyLoss``).

    >>> import chainrule as cr
    >>> cr.nn.NLLLoss()(cr.tensor([[-1.0, -2.0]]), cr.tensor([0])).item()
    1.0
    """

    target_kind = "classes"

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", _as_buffer(weight))
        self.ignore_index = int(ignore_index)

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)

    def get_config(self):
        return {"weight": _to_list(self.weight), "ignore_index": self.ignore_index,
                "reduction": self.reduction}
