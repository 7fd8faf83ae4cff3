"""Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay."""

import numpy as np

from chainrule.optim import optimizer as _optimizer
from chainrule.optim.optimizer import Optimizer


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), exactly as ``torch.optim.SGD``.

    For each parameter :math:`\theta` with gradient :math:`g_t` (step :math:`t = 1, 2, \ldots`)::

        g_t = -g_t                              if maximize
        g_t = g_t + weight_decay * theta        if weight_decay != 0
        if momentum != 0:
            b_t = g_t                           at t = 1 (a copy of the gradient)
            b_t = momentum * b_{t-1} + (1 - dampening) * g_t   for t > 1
            g_t = g_t + momentum * b_t          if nesterov, else  g_t = b_t
        theta = theta - lr * g_t

    The buffer ``b`` is ``state[p]["momentum_buffer"]``. Nesterov needs ``momentum > 0`` and
    ``dampening == 0``. Parameters whose ``.grad`` is None are skipped. ``foreach=True``
    updates each group at once over flat buffers (same numbers; see :class:`Optimizer`).

    >>> import numpy as np, chainrule as cr
    >>> w = cr.tensor(np.array([1.0]), requires_grad=True)
    >>> opt = cr.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
    >>> round(w.item(), 6)   # 1 - 0.1*2 = 0.8, then b = 0.9*2 + 1.6 = 3.4: 0.8 - 0.34
    0.46
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 maximize=False, foreach=None):
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach}
        super().__init__(params, defaults)

    _non_negative = {**Optimizer._non_negative, "momentum": "momentum value"}

    def _validate(self, group):
        super()._validate(group)
        momentum = group.get("momentum", 0)
        if group.get("nesterov") and (momentum <= 0 or group.get("dampening", 0) != 0):
            raise ValueError(
                f"SGD: Nesterov momentum requires a momentum and zero dampening, got "
                f"momentum={momentum}, dampening={group.get('dampening', 0)}"
            )

    def _update(self, group, units):
        momentum = group["momentum"]
        if momentum == 0 and group["weight_decay"] == 0 and not group["maximize"]:
            self._plain_update(-group["lr"], units)
            return
        scalars = [-group["lr"], momentum, 1 - group["dampening"], group["weight_decay"],
                   group["nesterov"], group["maximize"], False]
        chunked = momentum != 0 or group["weight_decay"] != 0
        run = self._run
        for param, grad, pstate in units:
            buf = None
            if momentum != 0:
                buf = pstate.get("momentum_buffer")
                scalars[-1] = first = buf is None  # the first buffer is a copy of the grad
                if first:
                    buf = pstate["momentum_buffer"] = np.empty_like(param)
            run(_sgd_kernel, (param, grad, buf), scalars, chunked)

    def _state_keys(self, group):
        return set() if group["momentum"] == 0 else {"momentum_buffer"}

    def _plain_update(self, neg_lr, units):
        """``param += grad * -lr``, the last line of :func:`_sgd_kernel`, inlined for the
        parameters updated in one pass (every step of a small model pays for each Python call
        here). ``-lr`` is a 0-d array of the gradient's float dtype: the value NumPy converts
        the Python float to anyway (NEP 50), without the conversion inside each call."""
        scratch, scales, multiply = self._scratch, {}, np.multiply
        one_pass = _optimizer.SLICE_ABOVE * _optimizer.CHUNK_BYTES  # (read here: tests patch it)
        for param, grad, _ in units:
            if param.nbytes > one_pass and param.flags.c_contiguous \
                    and grad.flags.c_contiguous:  # (sliced, as _run does)
                self._run(_sgd_kernel, (param, grad, None),
                          [neg_lr, 0, 1, 0, False, False, False])
                continue
            key = (param.shape, param.dtype)
            work = scratch.get(key)
            if work is None:
                work = scratch[key] = [np.empty_like(param) for _ in range(3)]
            scale = scales.get(grad.dtype)
            if scale is None:
                scale = scales[grad.dtype] = (np.array(neg_lr, grad.dtype)
                                              if grad.dtype.kind == "f" else neg_lr)
            param += multiply(grad, scale, work[0])


def _sgd_kernel(param, grad, buf, tmp, gbuf, _, neg_lr, momentum, damp, wd, nesterov, maximize,
                first):
    """One SGD update of ``param`` in place (torch's single-tensor order of operations)."""
    if maximize:
        grad = np.negative(grad, out=gbuf)
    if wd != 0:  # grad + wd * param
        np.multiply(param, wd, out=tmp)
        grad = np.add(grad, tmp, out=gbuf)
    if buf is not None:
        if first:
            np.copyto(buf, grad)
        else:
            buf *= momentum
            buf += grad if damp == 1 else np.multiply(grad, damp, out=tmp)
        if nesterov:  # grad + momentum * buf
            np.multiply(buf, momentum, out=tmp)
            grad = np.add(grad, tmp, out=gbuf)
        else:
            grad = buf
    param += np.multiply(grad, neg_lr, out=tmp)
