"""Optimiser steps over flat buffers: every parameter of a group (and its gradient and state)
is a view of one array, so an update is the eager kernel called once for the whole group.

The kernels are the eager optimisers' own (``_sgd_kernel``, ``_adam_kernel``) and the
hyper-parameters are read from ``param_groups`` at every step, so a scheduler's learning rate
takes effect and the numbers equal the eager step's bit for bit (the kernels are elementwise).
"""

import numpy as np

from chainrule.jit.builder import Refuse
from chainrule.jit.capture import Unsupported
from chainrule.optim.adam import Adam, _adam_kernel
from chainrule.optim.sgd import SGD, _sgd_kernel


class FlatStore:
    """Parameters, gradients and optimiser state re-homed into flat arrays, one per group."""

    def __init__(self, leaves, steps):
        self.leaves = list(leaves)
        self.grad = {}  # leaf -> its gradient array (a flat view where it is optimised)
        self.chunks = {}  # (id(opt), group index) -> [chunk dict]
        self.checks = []  # (object, attribute or key, expected array): identity guards
        self.state_keys = []  # (a parameter's optimiser state, its keys when flattened)
        leafset = set(self.leaves)
        done = set()
        for opt, stepped in steps:
            if type(opt) not in (SGD, Adam) and not (isinstance(opt, Adam)
                                                    and "step" not in type(opt).__dict__):
                raise Unsupported(f"optimizer {type(opt).__name__} has no compiled rule "
                                  "(SGD, Adam and AdamW do)")
            for gi, group in enumerate(opt.param_groups):
                params = [p for p in group["params"] if p in stepped]
                for p in params:
                    if p not in leafset:
                        raise Unsupported("an optimiser steps a parameter that gets no "
                                          "gradient from the captured backward")
                    if p in done:
                        raise Unsupported("a parameter in two optimiser groups")
                    done.add(p)
                self.chunks[(id(opt), gi)] = self._chunks(opt, params)
        for p in self.leaves:
            if p not in self.grad:
                self.grad[p] = np.empty_like(p.data)
                self.checks.append((p, "data", p.data))

    def _chunks(self, opt, params):
        if not params:
            return []
        same = len({p.data.dtype for p in params}) == 1 and len(
            {opt.state[p].get("step") for p in params}) == 1
        groups = [params] if same else [[p] for p in params]
        return [self._flatten(opt, ps) for ps in groups]

    def _flatten(self, opt, params):
        dtype = params[0].data.dtype
        sizes = [p.data.size for p in params]
        total = sum(sizes)

        def flat_of(arrays):
            flat = np.empty(total, dtype)
            views, start = [], 0
            for a, n in zip(arrays, sizes):
                v = flat[start:start + n].reshape(a.shape)
                v[...] = a
                views.append(v)
                start += n
            return flat, views

        flat_p, pviews = flat_of([p.data for p in params])
        for p, v in zip(params, pviews):
            p.data = v
            self.checks.append((p, "data", v))
        flat_g, gviews = flat_of([p.data for p in params])  # values overwritten by backward
        for p, v in zip(params, gviews):
            self.grad[p] = v
        for p in params:
            self.state_keys.append((opt.state[p], frozenset(opt.state[p])))
        states = {}
        keys = set.intersection(*(set(opt.state[p]) for p in params)) if params else set()
        for key in sorted(keys):
            arrays = [opt.state[p][key] for p in params]
            if all(isinstance(a, np.ndarray) and a.shape == p.data.shape
                   for a, p in zip(arrays, params)):
                flat, views = flat_of(arrays)
                for p, v in zip(params, views):
                    opt.state[p][key] = v
                    self.checks.append((opt.state[p], key, v))
                states[key] = flat
        return {"params": params, "p": flat_p, "g": flat_g, "state": states}

    def intact(self):
        """True while no parameter or state array was replaced (e.g. by load_state_dict)."""
        for obj, key, expected in self.checks:
            current = getattr(obj, key) if key == "data" else obj.get(key)
            if current is not expected:
                return False
        # New state (momentum or amsgrad switched on after capture) needs flattening too.
        return all(len(state) == len(keys) for state, keys in self.state_keys)


def step_function(opt, store):
    """A no-argument function doing ``opt.step()`` on the flat buffers."""
    plan = [(group, store.chunks.get((id(opt), gi), []))
            for gi, group in enumerate(opt.param_groups)]
    run = opt._run
    groups = opt.param_groups
    sizes = [len(g["params"]) for g in groups]
    step = _adam_step(opt, plan, run) if isinstance(opt, Adam) else _sgd_step(plan, run)

    def checked_step():
        if len(groups) != len(sizes) or any(len(g["params"]) != n for g, n in zip(groups, sizes)):
            raise Refuse("the optimiser's parameter groups changed after capture")
        step()

    return checked_step


def _sgd_step(plan, run):
    def step():
        for group, chunks in plan:
            if group["momentum"] != 0 and any("momentum_buffer" not in c["state"]
                                              for c in chunks):
                raise Refuse("SGD: momentum switched on after capture")
        for group, chunks in plan:
            momentum = group["momentum"]
            scalars = [-group["lr"], momentum, 1 - group["dampening"], group["weight_decay"],
                       group["nesterov"], group["maximize"], False]
            chunked = momentum != 0 or group["weight_decay"] != 0
            for c in chunks:
                buf = c["state"]["momentum_buffer"] if momentum != 0 else None
                run(_sgd_kernel, (c["p"], c["g"], buf), scalars, chunked)

    return step


def _adam_step(opt, plan, run):
    state = opt.state

    def step():
        for group, chunks in plan:
            if group["amsgrad"] and any("max_exp_avg_sq" not in c["state"] for c in chunks):
                raise Refuse("Adam: amsgrad switched on after capture")
        for group, chunks in plan:
            lr = group["lr"]
            beta1, beta2 = group["betas"]
            wd = group["weight_decay"]
            decay = None
            if group["decoupled_weight_decay"]:
                decay, wd = (1 - lr * wd if wd != 0 else None), 0
            for c in chunks:
                params = c["params"]
                step = state[params[0]]["step"] + 1.0
                for p in params:
                    state[p]["step"] = step
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                step_size = lr / bias_correction1
                s = c["state"]
                run(_adam_kernel,
                    (c["p"], c["g"], s["exp_avg"], s["exp_avg_sq"],
                     s["max_exp_avg_sq"] if group["amsgrad"] else None),
                    (1 - beta1, beta2, 1 - beta2, bias_correction2**0.5, group["eps"],
                     -step_size, wd, decay, group["maximize"]))

    return step
