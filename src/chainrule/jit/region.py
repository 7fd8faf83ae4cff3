"""Library calls replayed whole: the ops without a kernel rule (convolutions, recurrent
layers, attention, normalisations, ...) and calls with Python bookkeeping (batch norm's running
statistics) or random draws of their own.

A :class:`~chainrule.jit.capture.Region` whose ops all have rules is lowered kernel by kernel.
Any other region becomes one line of the program, ``d4, d5 = k3(t2, x0)``: the call itself,
made on fresh leaf tensors wrapping the replay's arrays (parameters and module buffers are
passed as the objects they are), and, in the backward, one call that runs the engine over the
small graph that call built. The kernels are then the eager ones, so the numbers are the eager
numbers; what the region saves is nothing, what the rest of the step saves is everything.
"""

import gc
from types import FrameType

import numpy as np

from chainrule import autograd
from chainrule.autograd import GradMode
from chainrule.jit.capture import Unsupported
from chainrule.tensor import Tensor, _wrap

_STEP_KINDS = ("input", "buf", "view", "grad")  # arrays the step computes (or is given)


def flat_tensors(value):
    """The tensors in a (nested) tuple/list result, in order."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in flat_tensors(item)]
    return []


class RegionReplay:
    """The replay of one library call: ``forward(*arrays)`` and ``backward(*grads)``."""

    def __init__(self, region, template, slots, targets):
        self.fn = region.fn
        self.kwargs_template = template[1]
        self.args_template = template[0]
        self.slots = slots  # per substituted argument: whether its leaf requires grad
        self.targets = targets  # per gradient target: a slot index or a parameter object
        self.grad_enabled = region.grad_enabled
        self.name = getattr(region.fn, "__qualname__", type(region.fn).__name__)
        self.outputs = []
        self.leaves = []

    def __repr__(self):
        return f"<call {self.name}>"

    def forward(self, *arrays):
        leaves = []
        for array, requires_grad in zip(arrays, self.slots):
            if requires_grad is None:
                leaves.append(array)
                continue
            t = _wrap(array)
            if requires_grad:
                t.requires_grad = True
            leaves.append(t)
        self.leaves = leaves
        args = _fill(self.args_template, leaves)
        kwargs = {k: _fill(v, leaves) for k, v in self.kwargs_template.items()}
        before = GradMode.enabled
        GradMode.enabled = self.grad_enabled
        try:
            out = self.fn(*args, **kwargs)
        finally:
            GradMode.enabled = before
        self.outputs = flat_tensors(out)
        return [t.data for t in self.outputs]

    def backward(self, *grads):
        seeds = {}
        for t, g in zip(self.outputs, grads):
            if g is not None and t.requires_grad:
                seeds[t] = g if t not in seeds else seeds[t] + g
        wanted_tensors = [self.leaves[k] if isinstance(k, int) else k for k in self.targets]
        wanted = dict.fromkeys(wanted_tensors)
        autograd._backward_into(seeds, wanted, False)
        self.outputs = []
        self.leaves = []
        result = []
        for t in wanted_tensors:
            g = wanted[t]
            if g is None:  # not reached this time: a zero gradient
                g = np.zeros_like(t.data)
            elif g.dtype != t.data.dtype or g.shape != t.data.shape:
                g = np.broadcast_to(np.asarray(g, dtype=t.data.dtype), t.data.shape)
            result.append(g)
        return result


class _Slot:
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


def _fill(template, leaves):
    if isinstance(template, _Slot):
        return leaves[template.index]
    if isinstance(template, tuple) and type(template) is tuple:
        return tuple(_fill(item, leaves) for item in template)
    if isinstance(template, list):
        return [_fill(item, leaves) for item in template]
    return template


def lower_opaque(b, tape, region):
    """Emit the forward call of ``region``; returns its :class:`RegionReplay` (kept on the
    region for the backward)."""
    slot_names, slot_req, slot_of = [], [], {}

    def substitute(value):
        if isinstance(value, Tensor):
            name = b.names.get(id(value.data))
            if name is not None and b.kind[name] in _STEP_KINDS:
                return new_slot(value, name, value.requires_grad)
            if name is None:
                b.value(value)  # (its checks: a true constant, not a hidden result)
            return value  # a parameter, a module buffer or a constant: the object itself
        if isinstance(value, np.ndarray):
            name = b.names.get(id(value))
            if name is not None and b.kind[name] in _STEP_KINDS:
                return new_slot(value, name, False, array=True)
            return value
        if type(value) is tuple:
            return tuple(substitute(v) for v in value)
        if isinstance(value, list):
            return [substitute(v) for v in value]
        return value

    def new_slot(obj, name, requires_grad, array=False):
        key = id(obj)
        if key not in slot_of:
            slot_of[key] = len(slot_names)
            slot_names.append(name)
            slot_req.append(None if array else requires_grad)  # None: passed as the array
        return _Slot(slot_of[key])

    args = substitute(region.args)
    kwargs = {k: substitute(v) for k, v in region.kwargs.items()}
    if getattr(region.fn, "__module__", "") == "chainrule.creation" and region.fn.__name__ in (
            "tensor", "as_tensor", "from_numpy") and region.args:
        data = region.args[0]
        if (isinstance(data, np.ndarray) and data.ndim > 0 and not isinstance(args[0], _Slot)
                and not _held_outside(data, (region.args, region.kwargs, args, kwargs))):
            raise Unsupported(f"cr.{region.fn.__name__}(...) of a NumPy array made inside the "
                              "step: it may depend on the inputs (pass it as an argument)")
    # The tensors the call's graph hangs from: each must be a substituted argument or a leaf.
    made = {id(rec.out) for rec in tape.ops[region.op_start:region.op_stop]}
    targets, seen = [], set()
    for rec in tape.ops[region.op_start:region.op_stop]:
        for p, req in zip(rec.parents, rec.req):
            if not req or id(p) in made or id(p) in seen:
                continue
            seen.add(id(p))
            if id(p) in slot_of:
                targets.append((p, slot_of[id(p)]))
            elif p._backward is None:
                targets.append((p, p))
            else:
                raise Unsupported(f"{_name(region)} reads a tensor of the step it was not given")
    replay = RegionReplay(region, (args, kwargs), slot_req, [k for _, k in targets])
    runner = b.const(replay)
    outputs = flat_tensors(region.out)
    names = []
    for t in outputs:
        if t.requires_grad and t._backward is None and id(t) not in slot_of:
            raise Unsupported(f"{_name(region)} made a tensor requiring grad in the step (a "
                              "new leaf): make it outside the step")
        name = b.bind(t.data, "view", "d")
        b.dynamic.add(name)
        names.append(name)
    call = f"{runner}.forward({', '.join(slot_names)})  # {replay.name}"
    b.emit(f"{', '.join(names)}, = {call}" if names else call)
    region.replay = (replay, runner, outputs, [p for p, _ in targets])
    return replay


def lower_opaque_backward(b, region, grads):
    """Emit the backward call of an opaque region: pops its outputs' gradients from ``grads``
    and adds the gradients of the tensors it hangs from."""
    replay, runner, outputs, targets = region.replay
    gnames = [grads.pop(t, None) for t in outputs]
    names = []
    for p in targets:
        name = b.bind(np.zeros_like(p.data), "view", "d")  # eager grads keep its layout
        b.dynamic.add(name)
        names.append(name)
    call = f"{runner}.backward({', '.join(g or 'None' for g in gnames)})  # {replay.name}"
    b.emit(f"{', '.join(names)}, = {call}" if names else call)
    for p, name in zip(targets, names):
        prev = grads.get(p)
        grads[p] = name if prev is None else b.call("np.add", prev, name)


def _held_outside(array, ours):
    """Whether something other than the recorded call holds ``array`` (a global, a closure,
    an attribute): a constant the step reads. An array nothing else holds was made during the
    step, from who knows what (``x.data * 2``)."""
    for holder in gc.get_referrers(array):
        if any(holder is o for o in ours) or isinstance(holder, (Tensor, FrameType)):
            continue
        return True
    return False


def _name(region):
    return getattr(region.fn, "__qualname__", repr(region.fn))
