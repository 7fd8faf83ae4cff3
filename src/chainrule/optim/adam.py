"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

import numpy as np

from chainrule.optim.optimizer import Optimizer, _lerp_


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), exactly as ``torch.optim.Adam`` (single-tensor path).

    For each parameter :math:`\theta` with gradient :math:`g_t`, at step :math:`t = 1, 2, \ldots`
    (``state[p]["step"]``), with ``state[p]["exp_avg"]`` :math:`m` and ``["exp_avg_sq"]`` :math:`v`
    starting at 0::

        g_t = -g_t                              if maximize
        theta = theta * (1 - lr * weight_decay) if decoupled_weight_decay (AdamW)
        g_t = g_t + weight_decay * theta        otherwise, if weight_decay != 0
        m_t = m_{t-1} + (1 - beta1) * (g_t - m_{t-1})        (lerp: beta1 m + (1 - beta1) g)
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t * g_t
        v_max = max(v_max, v_t); use v_max for v_t below      if amsgrad
        denom = sqrt(v_t) / sqrt(1 - beta2**t) + eps
        theta = theta - (lr / (1 - beta1**t)) * m_t / denom

    so ``eps`` is added after the bias correction of :math:`\sqrt{v}`, as PyTorch does.

    >>> import numpy as np, chainrule as cr
    >>> w = cr.tensor(np.array([1.0, -1.0]), requires_grad=True)
    >>> opt = cr.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w   # the first step moves each weight by ~lr
    tensor([ 0.9, -0.9], dtype=float64, requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, maximize=False, decoupled_weight_decay=False, foreach=None):
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize,
                    "decoupled_weight_decay": decoupled_weight_decay, "foreach": foreach}
        super().__init__(params, defaults)

    def _validate(self, group):
        super()._validate(group)
        name = type(self).__name__
        betas = group.get("betas", (0.9, 0.999))
        if len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name}: invalid beta parameter at index {i}: {beta}")

    def _update(self, group, units):
        run, zeros_like = self._run, np.zeros_like
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        wd = group["weight_decay"]
        amsgrad = group["amsgrad"]
        decay = None  # AdamW's factor on the weights
        if group["decoupled_weight_decay"]:
            decay, wd = (1 - lr * wd if wd != 0 else None), 0
        for param, grad, pstate in units:
            if not pstate:
                pstate["step"] = 0.0
                pstate["exp_avg"] = zeros_like(param)
                pstate["exp_avg_sq"] = zeros_like(param)
                if amsgrad:
                    pstate["max_exp_avg_sq"] = zeros_like(param)
            step = pstate["step"] = pstate["step"] + 1.0
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            step_size = lr / bias_correction1
            bias_correction2_sqrt = bias_correction2**0.5
            run(_adam_kernel,
                (param, grad, pstate["exp_avg"], pstate["exp_avg_sq"],
                 pstate["max_exp_avg_sq"] if amsgrad else None),
                (1 - beta1, beta2, 1 - beta2, bias_correction2_sqrt, group["eps"], -step_size,
                 wd, decay, group["maximize"]))

    def _state_keys(self, group):
        keys = {"step", "exp_avg", "exp_avg_sq"}
        return keys | {"max_exp_avg_sq"} if group["amsgrad"] else keys


def _adam_kernel(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, tmp, tmp2, gbuf,
                 w1, beta2, w2, bias_correction2_sqrt, eps, neg_step_size, wd, decay, maximize):
    """One Adam update of ``param`` in place (torch's single-tensor order of operations)."""
    if maximize:
        grad = np.negative(grad, out=gbuf)
    if decay is not None:
        param *= decay
    elif wd != 0:  # grad + wd * param
        np.multiply(param, wd, out=tmp)
        grad = np.add(grad, tmp, out=gbuf)
    _lerp_(exp_avg, grad, w1, tmp)
    exp_avg_sq *= beta2  # then addcmul: v + ((1 - beta2) * g) * g
    np.multiply(grad, w2, out=tmp)
    tmp *= grad
    exp_avg_sq += tmp
    if max_exp_avg_sq is not None:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        np.sqrt(max_exp_avg_sq, out=tmp)
    else:
        np.sqrt(exp_avg_sq, out=tmp)
    tmp /= bias_correction2_sqrt
    tmp += eps
    # addcdiv: param + ((-step_size) * m) / denom
    np.multiply(exp_avg, neg_step_size, out=tmp2)
    param += np.divide(tmp2, tmp, out=tmp2)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``.

    The same update as :class:`Adam`, except that weight decay shrinks the weights directly
    before the moment updates, ``theta = theta * (1 - lr * weight_decay)``, instead of adding
    ``weight_decay * theta`` to the gradient (so it never enters :math:`m` or :math:`v`)::

        theta = theta * (1 - lr * weight_decay)
        m_t = beta1 m_{t-1} + (1 - beta1) g_t;   v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
        theta = theta - (lr / (1 - beta1**t)) * m_t / (sqrt(v_t) / sqrt(1 - beta2**t) + eps)

    >>> import numpy as np, chainrule as cr
    >>> w = cr.tensor(np.array([1.0]), requires_grad=True)
    >>> opt = cr.optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * 0).sum().backward(); opt.step(); w    # zero gradient: only the decay acts
    tensor([0.95], dtype=float64, requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False, foreach=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True,
                         foreach=foreach)

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # an AdamW always decouples, whatever was saved
            group["decoupled_weight_decay"] = True
