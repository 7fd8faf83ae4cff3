"""Capture: run one step eagerly while recording every op, backward, zero_grad and optimiser step.

The ops report themselves through ``chainrule.ops.base._observer``; the few other things a
step does (``backward()``, ``optimizer.step()``, ``zero_grad()``) and the things a replay cannot
express (``.item()``, ``bool(t)``, in-place tensor updates, random draws) are seen by patching
their methods for the duration of the capture only.
"""

import functools
import sys
from dataclasses import dataclass, field

import numpy as np

from chainrule import autograd, backend
from chainrule.autograd import GradMode
from chainrule.ops import base
from chainrule.optim.lr_scheduler import LRScheduler
from chainrule.optim.optimizer import Optimizer
from chainrule.tensor import Tensor


class Unsupported(Exception):
    """Raised while lowering a captured step that the tape cannot express (the reason says what)."""


@dataclass
class OpRecord:
    out: Tensor
    parents: tuple
    op: str
    saved: tuple
    extra: object = None  # op-specific inputs that are not parents (cross_entropy's target)
    req: tuple = ()
    region: object = None  # the outermost library call that made it (a Region) or None


@dataclass
class Region:
    """One outermost call of a library function (an op, ``F.*``, a Tensor method, a creation
    function) or of a stateful module (batch norm) during the capture.

    Lowering replays a region kernel by kernel when every op in it has a rule; otherwise it
    replays the call itself on the replay's arrays (its backward through the engine), so that
    any op the library has, its Python bookkeeping (running statistics) and its random draws
    replay exactly as eager."""

    fn: object
    args: tuple
    kwargs: dict
    grad_enabled: bool
    op_start: int
    event_start: int
    op_stop: int = 0
    event_stop: int = 0
    out: object = None
    problems: list = field(default_factory=list)  # what only an opaque replay can repeat
    created: set = field(default_factory=set)  # ids of arrays wrapped inside the call


@dataclass
class Tape:
    """What one eager run of the step did, in order."""

    ops: list = field(default_factory=list)
    # ("op", i), ("backward", root, grads), ("zero_grad", opt, set_to_none),
    # ("step", opt, stepped params), ("inplace", t, ufunc, other), ("zero_", t), ("call", fn)
    events: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # why the step cannot be replayed
    by_tensor: dict = field(default_factory=dict)  # output tensor -> its OpRecord
    created: set = field(default_factory=set)  # ids of arrays wrapped during the step
    in_dropout: bool = False  # inside nn.dropout: its random draw is replayed, not refused
    regions: list = field(default_factory=list)  # outermost library calls, in order (Region)
    region: object = None  # the Region being recorded now

    def flag(self, reason):
        """Note something a kernel-by-kernel replay cannot repeat: inside a library call the
        call is then replayed as a whole, elsewhere the step runs eagerly."""
        if self.region is not None:
            self.region.problems.append(reason)
        else:
            self.problems.append(reason)


_VALUE_READS = ("item", "__bool__", "__float__", "__int__", "__index__", "tolist", "numpy")
_INPLACE = ("fill_", "copy_", "uniform_", "normal_", "clamp_", "mul_", "div_")


def _all_optimizers():
    return _subclasses(Optimizer)


def _subclasses(root):
    seen, todo = [], [root]
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo.extend(cls.__subclasses__())
    return seen


class capturing:
    """``with capturing() as tape:`` records what runs inside the block."""

    def __init__(self, modules=()):
        self.tape = Tape()
        self._undo = []
        self.modules = list(modules)  # the step's modules: functions they hold are wrapped too

    def _patch(self, owner, name, value):
        if name in owner.__dict__:
            self._undo.append((owner, name, owner.__dict__[name]))
        else:
            self._undo.append((owner, name, None))
        setattr(owner, name, value)

    def __enter__(self):
        if base._observer is not None:
            raise RuntimeError("compile: a captured step cannot itself capture (nested compile)")
        try:
            return self._install()
        except BaseException:
            self.__exit__()
            raise

    def _install(self):
        tape = self.tape

        def observe(out, parents, op, saved):
            extra = None
            if op == "cross_entropy":  # its class-index target is not a parent: read it here
                frame = sys._getframe(3)
                if frame.f_code.co_name == "cross_entropy":
                    extra = frame.f_locals.get("target")
            rec = OpRecord(out, parents, op, saved, extra, tuple(p.requires_grad for p in parents),
                           tape.region)
            tape.by_tensor[out] = rec
            tape.events.append(("op", len(tape.ops)))
            tape.ops.append(rec)

        base._observer = observe
        self._undo.append((base, "_observer", None))
        backward = Tensor.backward

        def recorded_backward(t, gradient=None, retain_graph=False):
            grads = {}
            if gradient is not None:
                tape.flag("backward(gradient=...) with an explicit upstream gradient")
            tape.events.append(("backward", t, grads))
            out = backward(t, gradient, retain_graph)
            # The arrays backward left in .grad: a later op reading p.grad reads these.
            grads.update({leaf: leaf.grad.data for leaf in autograd._reachable(t)
                          if leaf._backward is None and leaf.grad is not None})
            return out

        self._patch(Tensor, "backward", recorded_backward)
        for name in _VALUE_READS:
            self._patch(Tensor, name, _flagging(getattr(Tensor, name), tape, (
                f"Tensor.{name}() reads a value during the step (value-dependent Python is "
                "fixed at capture)")))
        unflagged_fill = Tensor.fill_  # zero_() is fill_(0): recorded as zero_, not flagged
        for name in _INPLACE:
            if hasattr(Tensor, name):
                self._patch(Tensor, name, _flagging(getattr(Tensor, name), tape, (
                    f"an in-place tensor update ({name}) outside an optimiser")))
        # Tensor's in-place arithmetic (+=, -=, add_, ...) goes through ops.inplace.ufunc_,
        # looked up on the module at call time, so patching the module sees every call.
        from chainrule.ops import inplace as inplace_ops

        inplace = inplace_ops.ufunc_

        def recorded_inplace(t, ufunc, op, other, what):
            if GradMode.enabled or t._backward is not None or not t.requires_grad:
                tape.flag(f"an in-place update ({what}) of a tensor that is not a "
                                     "parameter under no_grad()")
            elif isinstance(other, Tensor) and other.requires_grad:
                tape.flag(f"an in-place update ({what}) by a tensor requiring grad")
            else:
                tape.events.append(("inplace", t, ufunc, other))
            return inplace(t, ufunc, op, other, what)

        self._patch(inplace_ops, "ufunc_", recorded_inplace)

        def recorded_zero(t):
            tape.events.append(("zero_", t))
            return unflagged_fill(t, 0)

        self._patch(Tensor, "zero_", recorded_zero)
        for name in ("add_", "sub_"):
            self._patch(Tensor, name, _alpha_checked(getattr(Tensor, name), tape))
        for cls in _all_optimizers():
            if "step" in cls.__dict__:
                self._patch(cls, "step", _recording_step(cls.__dict__["step"], tape))
        for cls in _subclasses(LRScheduler):
            if "step" in cls.__dict__:
                self._patch(cls, "step", _recording_scheduler_step(cls.__dict__["step"], tape))
        zero_grad = Optimizer.zero_grad

        def recorded_zero_grad(opt, set_to_none=True):
            tape.events.append(("zero_grad", opt, bool(set_to_none)))
            return zero_grad(opt, set_to_none)

        self._patch(Optimizer, "zero_grad", recorded_zero_grad)
        rng = backend.get_rng

        def flagged_rng(*args, **kwargs):
            if not tape.in_dropout:
                tape.flag("a random draw (a random op other than dropout) in the step")
            return rng(*args, **kwargs)

        self._patch_dropout(tape)
        self._patch_wrap(tape)
        self._patch_grad_utils(tape)
        self._patch_regions(tape)

        rng_of = backend.rng_of

        def flagged_rng_of(*args, **kwargs):
            if not tape.in_dropout:
                tape.flag("a random draw (a random op other than dropout) in the step")
            return rng_of(*args, **kwargs)

        for module in list(sys.modules.values()):
            name = getattr(module, "__name__", "")
            if name.startswith("chainrule") and getattr(module, "get_rng", None) is rng:
                self._patch(module, "get_rng", flagged_rng)
            if name.startswith("chainrule") and getattr(module, "rng_of", None) is rng_of:
                self._patch(module, "rng_of", flagged_rng_of)
        return tape

    def _patch_wrap(self, tape):
        """Note every array wrapped into a tensor during the step: one that no observed op
        made (e.g. ``y.long()``, whose integer cast bypasses the ops) may derive from the
        inputs, and replaying it as a constant would be silently wrong."""
        fast = sys.modules["chainrule.tensor"]._wrap  # (cr.tensor is the factory function)
        created = tape.created

        def noting_wrap(array):
            created.add(id(array))
            if tape.region is not None:
                tape.region.created.add(id(array))
            return fast(array)

        init = Tensor.__init__

        def noting_init(t, *args, **kwargs):
            init(t, *args, **kwargs)
            noting_wrap(t.data)

        self._patch(Tensor, "__init__", noting_init)
        for name, mod in list(sys.modules.items()):
            if not name.startswith("chainrule") or mod is None:
                continue
            for attr in ("_wrap", "_leaf"):
                if getattr(mod, attr, None) is fast:
                    self._patch(mod, attr, noting_wrap)

    def _patch_regions(self, tape):
        """Wrap every library function that can make tensors (and the stateful modules' calls)
        so that each outermost call is recorded as a :class:`Region`."""
        targets = _region_functions()
        wrapped = {}
        for name, mod in list(sys.modules.items()):
            if not name.startswith("chainrule") or mod is None or name.startswith("chainrule.jit"):
                continue
            for attr, value in list(vars(mod).items()):
                if type(value) is _FunctionType and value in targets:
                    if value not in wrapped:
                        wrapped[value] = _region_call(value, tape)
                    self._patch(mod, attr, wrapped[value])
        for attr, value in list(vars(Tensor).items()):
            if type(value) is _FunctionType and value in targets:
                self._patch(Tensor, attr, wrapped.get(value) or _region_call(value, tape))
        classes = {v for mod in list(sys.modules.values()) if mod is not None
                   and getattr(mod, "__name__", "").startswith("chainrule")
                   for v in vars(mod).values()
                   if isinstance(v, type) and v.__module__.startswith("chainrule")}
        for module in self.modules:  # e.g. a Transformer layer's self.activation = gelu
            for attr, value in list(vars(module).items()):
                if type(value) is _FunctionType and value in targets:
                    wrapped.setdefault(value, _region_call(value, tape))
                    self._patch(module, attr, wrapped[value])
        for cls in classes:  # modules keep their functional as staticmethod(conv2d)
            for attr, value in list(vars(cls).items()):
                if isinstance(value, staticmethod) and value.__func__ in targets:
                    fn = value.__func__
                    wrapped.setdefault(fn, _region_call(fn, tape))
                    self._patch(cls, attr, staticmethod(wrapped[fn]))
        from chainrule.nn.module import Module

        # Modules whose call keeps Python state (batch norm's running statistics) replay whole.
        # (Module subclasses install their forward as __call__: patch each class's own.)
        for cls in _subclasses(Module):
            if getattr(cls, "_compile_as_call", False) and "__call__" in cls.__dict__:
                self._patch(cls, "__call__", _region_call(cls.__dict__["__call__"], tape))

    def _patch_grad_utils(self, tape):
        """clip_grad_norm_/clip_grad_value_ rescale the gradients in place: recorded as a call
        that the replay repeats on the step's gradient buffers."""
        from chainrule.nn import utils

        for fname in ("clip_grad_norm_", "clip_grad_value_"):
            original = getattr(utils, fname)

            def recorded(parameters, *args, _original=original, **kwargs):
                params = list(utils._param_list(parameters))
                out = _original(params, *args, **kwargs)
                if tape.region is not None:
                    tape.flag(f"{_original.__name__} inside a library call")
                else:
                    tape.events.append(("grad_call", _original, params, args, kwargs, out))
                return out

            for name, mod in list(sys.modules.items()):
                if name.startswith("chainrule") and getattr(mod, fname, None) is original:
                    self._patch(mod, fname, recorded)

    def _patch_dropout(self, tape):
        """Dropout draws its mask outside the ops: tag its multiply so a replay draws anew."""
        from chainrule.nn import dropout as module

        original = module.dropout

        def recorded_dropout(input, p=0.5, training=True):
            tape.in_dropout = True
            try:
                out = original(input, p, training)
            finally:
                tape.in_dropout = False
            rec = tape.by_tensor.get(out)
            if rec is not None and rec.op == "mul" and 0.0 < float(p) < 1.0:
                mask = rec.parents[1]
                draw_dtype = mask.data.dtype if mask.data.dtype in (np.float32, np.float64) \
                    else np.dtype(np.float32)
                rec.extra = ("dropout", float(p), draw_dtype, mask)
            return out

        for name, mod in list(sys.modules.items()):
            if name.startswith("chainrule") and getattr(mod, "dropout", None) is original:
                self._patch(mod, "dropout", recorded_dropout)

    def __exit__(self, *exc):
        for owner, name, old in reversed(self._undo):
            if old is None and owner is not base:
                delattr(owner, name)
            else:
                setattr(owner, name, old)
        self._undo.clear()
        return False


_FunctionType = type(_subclasses)
# Tensor methods that are not ops (or are recorded by their own patches above).
_NOT_REGIONS = {"backward", "register_hook", "retain_grad", "requires_grad_", "size", "dim",
                "numel", *_VALUE_READS, *_INPLACE}
# Tensor's operator methods that are ops (the in-place ones go through ops.inplace instead).
_OPERATORS = {f"__{name}__" for name in (
    "add radd sub rsub mul rmul truediv rtruediv floordiv rfloordiv mod rmod pow rpow matmul "
    "rmatmul neg pos abs invert and rand or ror xor rxor lshift rshift eq ne lt le gt ge "
    "getitem").split()}
_REGION_MODULES = ("chainrule.ops.", "chainrule.creation", "chainrule.nn.functional",
                   "chainrule.nn.normalization", "chainrule.tensor")
_NOT_REGION_MODULES = ("chainrule.ops.base", "chainrule.ops.inplace", "chainrule.ops.registry",
                       "chainrule.ops._blas")


def _region_functions():
    """The library functions whose outermost calls become Regions: the public functions of
    the op, creation and functional modules, and Tensor's op methods."""
    found = set()
    for name, mod in list(sys.modules.items()):
        if mod is None or not name.startswith(_REGION_MODULES) or name in _NOT_REGION_MODULES:
            continue
        for attr, value in vars(mod).items():
            if (type(value) is _FunctionType and not attr.startswith("_")
                    and not attr.endswith("_") and getattr(value, "__module__", "") == name):
                found.add(value)
    for attr, value in vars(Tensor).items():
        if type(value) is not _FunctionType or attr in _NOT_REGIONS or attr.endswith("_"):
            continue
        if attr in _OPERATORS or not attr.startswith("_"):
            found.add(value)
    return found


def _region_call(fn, tape):
    """``fn`` recording its outermost calls as Regions."""

    @functools.wraps(fn)
    def region_call(*args, **kwargs):
        if tape.region is not None:
            return fn(*args, **kwargs)
        region = Region(fn, args, kwargs, GradMode.enabled, len(tape.ops), len(tape.events))
        tape.region = region
        try:
            out = fn(*args, **kwargs)
        finally:
            tape.region = None
        region.out = out
        region.op_stop, region.event_stop = len(tape.ops), len(tape.events)
        if any(e[0] != "op" for e in tape.events[region.event_start:region.event_stop]):
            region.problems.append("a call that updates state")
        if region.op_stop > region.op_start or region.created:
            tape.regions.append(region)
        else:  # made nothing the replay needs (a shape query, a Python value)
            tape.problems.extend(region.problems)
        return out

    return region_call


def _flagging(method, tape, reason):
    def flagged(self, *args, **kwargs):
        tape.flag(reason)
        return method(self, *args, **kwargs)

    return flagged


def _recording_step(method, tape):
    def recorded_step(opt, closure=None):
        if closure is not None:
            tape.flag("optimizer.step(closure)")
        stepped = {p for group in opt.param_groups for p in group["params"] if p.grad is not None}
        tape.events.append(("step", opt, stepped))
        return method(opt, closure)

    return recorded_step


def _recording_scheduler_step(method, tape):
    def recorded_step(sched, *args, **kwargs):
        if args or kwargs:
            tape.flag(f"{type(sched).__name__}.step(...) with a value (e.g. a metric)")
        else:
            tape.events.append(("call", functools.partial(method, sched)))
        return method(sched, *args, **kwargs)

    return recorded_step


def _alpha_checked(method, tape):
    def checked(t, other, alpha=1):
        if alpha != 1:
            tape.flag(f"Tensor.{method.__name__}(..., alpha=...) in the step")
        return method(t, other, alpha)

    return checked
