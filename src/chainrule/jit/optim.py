"""Optimiser steps over flat buffers: the parameters of a group (and their gradients and
state) are views of one array each, so an update is the eager kernel called once per group.

The buffers are the optimiser's own :class:`chainrule.optim.flat.Flat` layout, the one eager
``foreach=True`` uses (a parameter above ``SLICE_ABOVE * CHUNK_BYTES``, sliced anyway, keeps its
own arrays), and the update is the optimiser's ``_update``: SGD, Adam, AdamW, RMSprop, Adagrad
and subclasses that keep the library's step. Hyper-parameters are read from ``param_groups``
at every step, so a scheduler's learning rate takes effect, and the numbers equal the eager
step's bit for bit (the kernels are elementwise). The backward writes the gradients straight
into the flat gradient buffer. State present at capture is flattened; state an update would
need that was not there (momentum or amsgrad switched on later) refuses the replay, and the
step is captured again.
"""

import sys

import numpy as np

from chainrule.jit.builder import Refuse
from chainrule.jit.capture import Unsupported
from chainrule.optim.flat import _flatten, _split
from chainrule.optim.optimizer import Optimizer
from chainrule.optim.sgd import SGD


class FlatStore:
    """Parameters, gradients and optimiser state re-homed into flat arrays, one per group (and
    one per dtype for the tensors the step updates itself, see :func:`_raw_flats`)."""

    def __init__(self, leaves, steps, updated=()):
        self.leaves = list(leaves)
        self.grad = {}  # leaf -> its gradient array (a flat view where it is optimised)
        self.groups = {}  # (id(opt), group index) -> ([Flat], loose params)
        self.flats = []
        self.checks = []  # (parameter, expected .data): identity guards outside the Flats
        self.prechecks = {}  # id(optimiser) -> a callable, True while it is as captured
        leafset = set(self.leaves)
        done = set()
        for opt, stepped in steps:
            check_compilable(opt)
            for gi, group in enumerate(opt.param_groups):
                params = [p for p in group["params"] if p in stepped]
                for p in params:
                    if p not in leafset:
                        raise Unsupported("an optimiser steps a parameter that gets no "
                                          "gradient from the captured backward")
                    if p in done:
                        raise Unsupported("a parameter in two optimiser groups")
                    done.add(p)
                flats, loose = opt._group_flats(group, params)  # eager foreach's too
                for flat in flats:
                    self.grad.update(zip(flat.params, flat.gviews))
                self.flats.extend(flats)
                self.groups[(id(opt), gi)] = (flats, loose)
        rest = [p for p in self.leaves if p not in self.grad]
        self.raw = _raw_flats([p for p in rest if p in updated])
        for _, grads, params in self.raw:
            self.grad.update(zip(params, _split(grads, params)))
        for p in rest:
            if p not in self.grad:
                self.grad[p] = np.empty_like(p.data)
            self.checks.append((p, p.data))

    def intact(self):
        """True while no parameter or state array was replaced (e.g. by load_state_dict) and
        no state was added."""
        for p, array in self.checks:  # (plain loops: this runs before every replay)
            if p.data is not array:
                return False
        for flat in self.flats:
            if not flat.intact():
                return False
        for check in self.prechecks.values():
            if not check():
                return False
        return True


def _refcount_when_only_its_tensor_holds():
    """What ``sys.getrefcount(t.data)`` reads for a tensor ``t`` held in a local variable when
    nothing else holds its array: measured on this interpreter, in the form
    :func:`_raw_flats` reads it (``gc.get_referrers`` would not do: it does not see a running
    function's local variables)."""
    from chainrule.tensor import Tensor

    t = Tensor(np.zeros(1))
    return sys.getrefcount(t.data)


def _raw_flats(params):
    """``[(flat, flat gradients, params)]``: tensors the step updates in place itself (``p -=
    lr * p.grad``, no optimiser) re-homed as views of one flat array per dtype, like an
    optimiser group's, so that the update can run once over all of them. Only arrays that
    nothing but their tensor holds are moved (not one shared with NumPy by ``from_numpy``)."""
    by_dtype, alone = {}, _refcount_when_only_its_tensor_holds()
    for p in params:
        if p.data.base is None and sys.getrefcount(p.data) == alone:
            by_dtype.setdefault(p.data.dtype, []).append(p)
    flats = []
    for group in by_dtype.values():
        if len(group) > 1:
            flat, views = _flatten([p.data for p in group])
            for p, view in zip(group, views):
                p.data = view
            flats.append((flat, np.empty_like(flat), group))
    return flats


def check_compilable(opt):
    """Raise Unsupported unless ``opt``'s step is the library's, over an ``_update`` of the
    library's (whose kernels are elementwise, so that a flat buffer gives the same numbers)."""
    cls = type(opt)
    name = cls.__name__
    for klass in cls.__mro__:
        if klass is Optimizer:
            break
        if "step" in vars(klass):
            raise Unsupported(
                f"optimizer {name} defines its own step(), which has no compiled rule (SGD, "
                "Adam, AdamW, RMSprop, Adagrad and subclasses that keep their step() do)")
    owner = next(k for k in cls.__mro__ if "_update" in vars(k))
    if owner is Optimizer or not owner.__module__.startswith("chainrule.optim."):
        raise Unsupported(f"optimizer {name}: its update ({owner.__name__}._update) is not "
                          "one of the library's, so it has no compiled rule")


def step_function(opt, store):
    """A no-argument function doing ``opt.step()`` on the flat buffers."""
    n_groups = len(opt.param_groups)
    sizes = [len(g["params"]) for g in opt.param_groups]
    plan = []
    for gi in range(n_groups):
        flats, loose = store.groups.get((id(opt), gi), ([], []))
        plan.append((flats, [(f.p, f.g, f.state) for f in flats], loose))
    update, needs, grad = opt._update, opt._state_keys, store.grad
    name = type(opt).__name__

    key_views = [[f.state.keys() for f in flats] for flats, _, _ in plan]  # (live views)

    def structure_intact():
        """True while ``opt`` has the groups, group sizes and state the capture saw: checked
        before each replay (in :meth:`FlatStore.intact`), so that a change made between steps
        (``add_param_group``, momentum switched on) captures again before anything runs."""
        groups = opt.param_groups  # read anew: load_state_dict replaces the group dicts
        if len(groups) != n_groups:
            return False
        for group, n, views, (_, _, loose) in zip(groups, sizes, key_views, plan):
            if len(group["params"]) != n:
                return False
            keys = needs(group)
            if keys:
                for have in views:
                    if not keys <= have:
                        return False
                for p in loose:
                    if not keys <= opt.state[p].keys():
                        return False
        return True

    store.prechecks[id(opt)] = structure_intact  # (a later capture's replaces it: the same)
    general = _general_step(opt, plan, update, grad, structure_intact, name)
    if getattr(update, "__func__", None) is SGD._update and all(
            not loose and all(not f.state for f in flats) for flats, _, loose in plan):
        return _plain_sgd_step(opt, plan, general)
    return general


def _plain_sgd_step(opt, plan, general):
    """SGD without momentum, weight decay or maximize (read at every step: otherwise the
    general step runs) over flat buffers only: the eager kernel's two calls per group,
    ``param += grad * -lr``, with none of the per-group Python of the general step."""
    work = [[(f.p, f.g, np.empty_like(f.p)) for f in flats] for flats, _, _ in plan]
    # -lr as a 0-d array of the parameters' dtype, set each step: what NumPy converts the
    # Python float to anyway (NEP 50), without the conversion inside the call (~0.4 us).
    scales = [np.empty((), flats[0].p.dtype) if flats else None for flats, _, _ in plan]
    multiply, add = np.multiply, np.add

    def step():
        groups = opt.param_groups  # (their structure was checked before the replay)
        for group in groups:
            if group["momentum"] != 0 or group["weight_decay"] != 0 or group["maximize"]:
                return general()
        for group, buffers, scale in zip(groups, work, scales):
            if buffers:
                scale[()] = -group["lr"]
            for p, g, tmp in buffers:
                add(p, multiply(g, scale, tmp), p)  # (positional out: no keyword parsing)

    return step


def _general_step(opt, plan, update, grad, structure_intact, name):
    def step():
        if not structure_intact():  # changed inside this step (by a scheduler, say)
            raise Refuse(f"{name}: the parameter groups or the state the update needs changed "
                         "after capture (e.g. momentum or amsgrad switched on)")
        groups, state = opt.param_groups, opt.state
        for group, (flats, units, loose) in zip(groups, plan):
            if loose:
                units = units + [(p.data, grad[p], state[p]) for p in loose]
            update(group, units)
            for flat in flats:
                flat.publish()

    return step
