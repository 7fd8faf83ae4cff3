"""Adagrad: per-coordinate learning rates scaled by the root of the summed squared gradients."""

import numpy as np

from chainrule.optim.optimizer import Optimizer


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), exactly as ``torch.optim.Adagrad`` (dense, single-tensor).

    ``state[p]`` holds ``step`` and ``sum`` :math:`s`, created when the optimiser is built
    (``sum`` filled with ``initial_accumulator_value``). For each parameter with gradient
    :math:`g_t`, at step :math:`t = 1, 2, \ldots`::

        g_t = -g_t                                if maximize
        g_t = g_t + weight_decay * theta          if weight_decay != 0
        clr = lr / (1 + (t - 1) * lr_decay)
        s_t = s_{t-1} + g_t * g_t
        theta = theta - clr * g_t / (sqrt(s_t) + eps)

    >>> import numpy as np, chainrule as cr
    >>> w = cr.tensor(np.array([1.0]), requires_grad=True)
    >>> opt = cr.optim.Adagrad([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); round(w.item(), 6)   # 1 - 0.1 * 2 / sqrt(4)
    0.9
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, maximize=False, foreach=None):
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "maximize": maximize, "foreach": foreach}
        super().__init__(params, defaults)

    _non_negative = {**Optimizer._non_negative, "lr_decay": "lr_decay value",
                     "initial_accumulator_value": "initial_accumulator_value value"}

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        init = group["initial_accumulator_value"]
        for p in group["params"]:  # state is created eagerly, as in PyTorch
            self.state[p] = {"step": 0.0, "sum": np.full_like(p.data, init)}

    def _update(self, group, units):
        run = self._run
        lr = group["lr"]
        lr_decay = group["lr_decay"]
        eps, wd, maximize = group["eps"], group["weight_decay"], group["maximize"]
        for param, grad, pstate in units:
            if not pstate:  # a parameter whose state was cleared
                pstate["step"] = 0.0
                pstate["sum"] = np.full_like(param, group["initial_accumulator_value"])
            step = pstate["step"] = pstate["step"] + 1.0
            clr = lr / (1 + (step - 1) * lr_decay)
            run(_adagrad_kernel, (param, grad, pstate["sum"]), (eps, -clr, wd, maximize))

    def _state_keys(self, group):
        return {"step", "sum"}


def _adagrad_kernel(param, grad, state_sum, tmp, tmp2, gbuf, eps, neg_clr, wd, maximize):
    """One Adagrad update of ``param`` in place (torch's single-tensor order of operations)."""
    if maximize:
        grad = np.negative(grad, out=gbuf)
    if wd != 0:  # grad + wd * param
        np.multiply(param, wd, out=tmp)
        grad = np.add(grad, tmp, out=gbuf)
    state_sum += np.multiply(grad, grad, out=tmp)
    np.sqrt(state_sum, out=tmp)
    tmp += eps
    # addcdiv: param + ((-clr) * g) / std
    np.multiply(grad, neg_clr, out=tmp2)
    param += np.divide(tmp2, tmp, out=tmp2)
