"""RMSprop: divide the gradient by a running root mean square of recent gradients."""

import numpy as np

from chainrule.optim.optimizer import Optimizer, _lerp_


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture 6e), exactly as ``torch.optim.RMSprop`` (single-tensor path).

    For each parameter :math:`\theta` with gradient :math:`g_t`; ``state[p]`` holds ``step``,
    ``square_avg`` :math:`v`, and ``momentum_buffer`` :math:`b` / ``grad_avg`` :math:`\bar g`
    when used, all starting at 0::

        g_t = -g_t                                   if maximize
        g_t = g_t + weight_decay * theta             if weight_decay != 0
        v_t = alpha * v_{t-1} + (1 - alpha) * g_t * g_t
        if centered:
            gbar_t = gbar_{t-1} + (1 - alpha) * (g_t - gbar_{t-1})    (lerp)
            avg = sqrt(v_t - gbar_t * gbar_t) + eps
        else:
            avg = sqrt(v_t) + eps
        if momentum > 0:
            b_t = momentum * b_{t-1} + g_t / avg;   theta = theta - lr * b_t
        else:
            theta = theta - lr * g_t / avg

    >>> import numpy as np, chainrule as cr
    >>> w = cr.tensor(np.array([1.0]), requires_grad=True)
    >>> opt = cr.optim.RMSprop([w], lr=0.01, alpha=0.75)
    >>> (w * w).sum().backward(); opt.step(); round(w.item(), 6)   # 1 - 0.01 * 2 / sqrt(0.25*4)
    0.98
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, maximize=False, foreach=None):
        defaults = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay,
                    "momentum": momentum, "centered": centered, "maximize": maximize,
                    "foreach": foreach}
        super().__init__(params, defaults)

    _non_negative = {**Optimizer._non_negative, "momentum": "momentum value",
                     "alpha": "alpha value"}

    def _update(self, group, units):
        run, zeros_like = self._run, np.zeros_like
        alpha = group["alpha"]
        momentum = group["momentum"]
        centered = group["centered"]
        scalars = (alpha, 1 - alpha, group["eps"], -group["lr"], group["weight_decay"],
                   momentum, group["maximize"])
        for param, grad, pstate in units:
            if not pstate:
                pstate["step"] = 0.0
                pstate["square_avg"] = zeros_like(param)
                if momentum > 0:
                    pstate["momentum_buffer"] = zeros_like(param)
                if centered:
                    pstate["grad_avg"] = zeros_like(param)
            pstate["step"] += 1.0
            run(_rmsprop_kernel,
                (param, grad, pstate["square_avg"], pstate["grad_avg"] if centered else None,
                 pstate["momentum_buffer"] if momentum > 0 else None),
                scalars)

    def _state_keys(self, group):
        keys = {"step", "square_avg"}
        if group["momentum"] > 0:
            keys.add("momentum_buffer")
        if group["centered"]:
            keys.add("grad_avg")
        return keys


def _rmsprop_kernel(param, grad, square_avg, grad_avg, buf, tmp, tmp2, gbuf,
                    alpha, w, eps, neg_lr, wd, momentum, maximize):
    """One RMSprop update of ``param`` in place (torch's single-tensor order of operations)."""
    if maximize:
        grad = np.negative(grad, out=gbuf)
    if wd != 0:  # grad + wd * param
        np.multiply(param, wd, out=tmp)
        grad = np.add(grad, tmp, out=gbuf)
    square_avg *= alpha  # then addcmul: v + ((1 - alpha) * g) * g
    np.multiply(grad, w, out=tmp)
    tmp *= grad
    square_avg += tmp
    if grad_avg is not None:  # centered: sqrt(v - gbar * gbar)
        _lerp_(grad_avg, grad, w, tmp)
        np.multiply(grad_avg, grad_avg, out=tmp)
        np.subtract(square_avg, tmp, out=tmp)
        np.sqrt(tmp, out=tmp)
    else:
        np.sqrt(square_avg, out=tmp)
    tmp += eps  # tmp is now avg
    if buf is not None:
        buf *= momentum
        buf += np.divide(grad, tmp, out=tmp)
        param += np.multiply(buf, neg_lr, out=tmp)
    else:  # addcdiv: param + ((-lr) * g) / avg
        np.multiply(grad, neg_lr, out=tmp2)
        param += np.divide(tmp2, tmp, out=tmp2)
