"""Learning-rate schedules that rewrite an optimiser's ``group["lr"]``, as in PyTorch.

Call ``scheduler.step()`` once per epoch (or iteration), after ``optimizer.step()``. The values
follow PyTorch's formulas in the same floating-point order, so they match torch exactly.

>>> import numpy as np, chainrule as cr
>>> w = cr.tensor(np.zeros(1), requires_grad=True)
>>> opt = cr.optim.SGD([w], lr=1.0)
>>> sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> lrs = []
>>> for epoch in range(5):
...     lrs.append(sched.get_last_lr()[0]); opt.step(); sched.step()
>>> lrs
[1.0, 1.0, 0.5, 0.5, 0.25]
"""

import copy
import math
import types
from collections import Counter

from chainrule.optim.optimizer import Optimizer

__all__ = [
    "LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
    "ReduceLROnPlateau",
]


def _check_optimizer(scheduler, optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"{type(scheduler).__name__}: expected a chainrule optimizer, got "
            f"{type(optimizer).__name__}"
        )


class LRScheduler:
    """Base class: keeps ``last_epoch`` and ``base_lrs`` and writes ``get_lr()`` into the groups.

    A subclass implements :meth:`get_lr`, the learning rates for epoch ``last_epoch`` (PyTorch's
    *chainable* form: usually computed from the current ``group["lr"]``). Building a scheduler
    records ``group["initial_lr"]`` and performs the step to epoch 0. ``last_epoch=-1`` starts
    fresh; a value >= 0 resumes and needs ``initial_lr`` in every group.

    >>> import numpy as np, chainrule as cr
    >>> opt = cr.optim.SGD([cr.tensor(np.zeros(1), requires_grad=True)], lr=0.1)
    >>> sched = cr.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    >>> sched.step(); sched.last_epoch, sched.get_last_lr()
    (1, [0.05])
    """

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(self, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: param 'initial_lr' is not specified in "
                        f"param_groups[{i}] when resuming with last_epoch={last_epoch}; load the "
                        "optimizer's state_dict first, or use last_epoch=-1 for a fresh run"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """Learning rates for epoch ``last_epoch``, one per param group (called by :meth:`step`)."""
        raise NotImplementedError

    def get_last_lr(self):
        """The learning rates set by the last :meth:`step`, one per param group."""
        return list(self._last_lr)

    def step(self):
        """Advance one epoch and write the new learning rates into the optimiser's groups."""
        self._step_count += 1
        self.last_epoch += 1
        values = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        """Everything but the optimiser (deep-copied): ``last_epoch``, ``base_lrs``, settings.

        >>> import numpy as np, chainrule as cr
        >>> opt = cr.optim.SGD([cr.tensor(np.zeros(1), requires_grad=True)], lr=0.1)
        >>> sd = cr.optim.lr_scheduler.StepLR(opt, step_size=3).state_dict()
        >>> sd["last_epoch"], sd["step_size"], sd["base_lrs"]
        (0, 3, [0.1])
        """
        return copy.deepcopy({k: v for k, v in self.__dict__.items() if k != "optimizer"})

    def load_state_dict(self, state_dict):
        """Restore a dict from :meth:`state_dict` (then load the optimiser's own state_dict)."""
        self.__dict__.update(copy.deepcopy(state_dict))

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self.get_last_lr()})"


def _current_lrs(optimizer):
    return [group["lr"] for group in optimizer.param_groups]


class LambdaLR(LRScheduler):
    """``lr = initial_lr * lr_lambda(epoch)``; one function, or a list with one per group.

    As in PyTorch, ``state_dict`` does not save plain functions and lambdas (only the
    ``__dict__`` of callable objects): rebuild the scheduler with the same function, then load.

    >>> import numpy as np, chainrule as cr
    >>> opt = cr.optim.SGD([cr.tensor(np.zeros(1), requires_grad=True)], lr=1.0)
    >>> sched = cr.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (epoch + 1))
    >>> sched.step(); sched.step(); sched.get_last_lr()
    [0.3333333333333333]
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        _check_optimizer(self, optimizer)
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(
                    f"LambdaLR: expected {n} lr_lambdas (one per param group), got {len(lr_lambda)}"
                )
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"LambdaLR: lr_lambda must be callable, got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        epoch = self.last_epoch
        return [base_lr * fn(epoch) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self):
        state = copy.deepcopy(
            {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        )
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) else copy.deepcopy(fn.__dict__)
            for fn in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict):
        state = {k: v for k, v in state_dict.items() if k != "lr_lambdas"}
        self.__dict__.update(copy.deepcopy(state))
        for fn, saved in zip(self.lr_lambdas, state_dict.get("lr_lambdas", ())):
            if saved is not None:
                fn.__dict__.update(copy.deepcopy(saved))


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    ``lr_epoch = initial_lr * gamma ** (epoch // step_size)`` (computed incrementally).

    >>> import numpy as np, chainrule as cr
    >>> opt = cr.optim.SGD([cr.tensor(np.zeros(1), requires_grad=True)], lr=1.0)
    >>> sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    >>> for _ in range(4): sched.step()
    >>> sched.get_last_lr()
    [0.010000000000000002]
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if not (isinstance(step_size, int) and step_size > 0):
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _current_lrs(self.optimizer)
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each epoch listed in ``milestones``.

    >>> import numpy as np, chainrule as cr
    >>> opt = cr.optim.SGD([cr.tensor(np.zeros(1), requires_grad=True)], lr=1.0)
    >>> sched = cr.optim.lr_scheduler.MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
    >>> lrs = []
    >>> for _ in range(4):
    ...     sched.step(); lrs.append(sched.get_last_lr()[0])
    >>> lrs
    [0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return _current_lrs(self.optimizer)
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [group["lr"] * factor for group in self.optimizer.param_groups]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch: ``lr = initial_lr * gamma**epoch``.

    >>> import numpy as np, chainrule as cr
    >>> opt = cr.optim.SGD([cr.tensor(np.zeros(1), requires_grad=True)], lr=1.0)
    >>> sched = cr.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    >>> sched.step(); sched.step(); sched.get_last_lr()
    [0.25]
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:  # resuming must not move the lr one step ahead of itself
            return _current_lrs(self.optimizer)
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from ``initial_lr`` down to ``eta_min`` over ``T_max`` epochs.

    The closed form is ``eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``;
    like PyTorch, each step applies the recursive form

        lr_t = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi t/T_max)) / (1 + cos(pi (t-1)/T_max))

    (so changes made to ``group["lr"]`` by others carry over), and past ``T_max`` it climbs back
    up (no restarts: the cosine simply continues).

    >>> import numpy as np, chainrule as cr
    >>> opt = cr.optim.SGD([cr.tensor(np.zeros(1), requires_grad=True)], lr=1.0)
    >>> sched = cr.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2)
    >>> sched.step(); round(sched.get_last_lr()[0], 12)
    0.5
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        eta_min, T_max, epoch = self.eta_min, self.T_max, self.last_epoch
        if self._is_initial:
            return _current_lrs(self.optimizer)
        if self._step_count == 1 and epoch > 0:  # resumed with last_epoch >= 0: closed form
            return [
                eta_min + (base_lr - eta_min) * (1 + math.cos(epoch * math.pi / T_max)) / 2
                for base_lr in self.base_lrs
            ]
        if (epoch - 1 - T_max) % (2 * T_max) == 0:  # the bottom of the cosine
            return [
                group["lr"] + (base_lr - eta_min) * (1 - math.cos(math.pi / T_max)) / 2
                for base_lr, group in zip(self.base_lrs, groups)
            ]
        return [
            (1 + math.cos(math.pi * epoch / T_max))
            / (1 + math.cos(math.pi * (epoch - 1) / T_max))
            * (group["lr"] - eta_min)
            + eta_min
            for group in groups
        ]


class ReduceLROnPlateau(LRScheduler):
    """Reduce the learning rate by ``factor`` when a metric stops improving: ``step(metric)``.

    ``mode="min"`` watches a quantity that should fall (a loss), ``"max"`` one that should rise
    (an accuracy). A new value is an improvement when it beats the best so far by
    ``threshold`` (relative, ``best * (1 -/+ threshold)``, or absolute, ``best -/+ threshold``,
    per ``threshold_mode``). After more than ``patience`` epochs without improvement, every
    group's lr becomes ``max(lr * factor, min_lr)`` (changes smaller than ``eps`` are
    skipped) and the count pauses for ``cooldown`` epochs.

    >>> import numpy as np, chainrule as cr
    >>> opt = cr.optim.SGD([cr.tensor(np.zeros(1), requires_grad=True)], lr=1.0)
    >>> sched = cr.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    >>> for loss in [1.0, 0.9, 0.9, 0.9]:
    ...     sched.step(loss)
    >>> sched.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        _check_optimizer(self, optimizer)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor should be < 1.0, got {factor}")
        self.factor = factor
        self.optimizer = optimizer
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"ReduceLROnPlateau: expected {n} min_lrs, got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * n
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}"
            )
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = _current_lrs(optimizer)
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics):
        """Record this epoch's metric (a number, or a one-element tensor) and maybe cut the lr."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _current_lrs(self.optimizer)

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"ReduceLROnPlateau: the optimizer has {len(groups)} param groups but "
                    f"min_lr has {len(self.min_lrs)} values (a group was added?); update min_lrs"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr
