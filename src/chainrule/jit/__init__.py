"""Capture and replay: ``cr.compile(step)`` runs a training step (or a forward pass) as one
straight line of NumPy kernels into reused buffers.

The first call with given input shapes runs ``step`` eagerly while recording every op, the
``backward()`` and the optimiser update; later calls replay that tape: a generated Python
function over preallocated arrays, with no Tensor objects, no graph and no dispatch. All
parameters of an optimiser group, their gradients and the optimiser state become views of
one flat array each, so SGD is two ufunc calls and Adam about a dozen, however many layers.
Tensors the step updates itself (the tutorial's ``w -= lr * w.grad`` under no_grad) are
re-homed the same way, one flat array per dtype, when nothing but the tensor holds their
array (not one shared with NumPy through ``from_numpy``), and their updates run as one.
The guards of the program replayed last are one generated condition, checked (with the
identity of the parameter and optimiser arrays) before anything runs.

Replays give the eager step's numbers bit for bit (each rule repeats the eager op's NumPy
calls in the same order; dropout draws a new mask each replay from the library generator, so
a seeded run equals the eager run). What is fixed at capture, as in ``torch.jit.trace`` and
``jax.jit``: Python control flow and Python numbers computed inside the step. Guards decide
when to capture again: input shapes and dtypes (a few are cached, e.g. an epoch's last short
batch), constant arguments, grad mode, ``train()``/``eval()`` of the modules the step refers
to, the identity of the parameter and optimiser-state arrays, new optimiser state or param
groups. Hyper-parameters (a scheduler's ``lr``, momentum, betas, weight decay) are read from
``param_groups`` at every step; a scheduler stepped inside the step is replayed.

Every op the library has replays. Ops with a kernel rule become kernels into buffers: linear,
matmul (2-D), add, sub, mul, div, neg, pow (number exponent), exp, log, sqrt, abs, relu,
leaky_relu, tanh, sigmoid, softmax, log_softmax, clip, sum, mean, reshape, transpose,
mse_loss, cross_entropy (class indices), binary_cross_entropy_with_logits (see
:mod:`chainrule.jit.rules`), plus ``p -= lr * p.grad`` and ``p.grad.zero_()``. Any other
library call (a convolution, pooling, an LSTM, attention, layer or batch norm, an embedding,
gelu, ``y.long()``, ``cr.randn``, ...) is replayed whole on the replay's arrays, its backward
through the engine (:mod:`chainrule.jit.region`): the eager kernels, so the eager numbers, and
its Python bookkeeping (batch norm's running statistics) and random draws happen as eager.
``clip_grad_norm_``/``clip_grad_value_`` in the step run on its gradient buffers.

What runs eagerly, with one warning naming it: ``.item()``, ``bool(t)`` or ``.numpy()`` inside
the step (value-dependent Python), a draw from the library generator made outside its ops
(``backend.get_rng()``), ``cr.tensor`` of a NumPy array computed in the step, an in-place update
of anything but a parameter under no_grad, a custom ``autograd.Function`` in the backward, an
optimiser with its own ``step()`` (every library optimiser has a rule), a backward without
``zero_grad()`` (gradients accumulating across calls). Not detectable, so fixed at capture as in
``jax.jit``: Python state the step reads (a batch counter, a global), NumPy arrays read through
``.data`` and NumPy's own random draws: pass such values in as arguments. A capture patches
the library's functions while it runs: do not run chainrule code in another thread during a
step's first call (replays patch nothing).

>>> import numpy as np, chainrule as cr
>>> model = cr.nn.Linear(3, 1); opt = cr.optim.SGD(model.parameters(), lr=0.1)
>>> @cr.compile
... def step(x, y):
...     loss = cr.nn.functional.mse_loss(model(x), y)
...     opt.zero_grad(); loss.backward(); opt.step()
...     return loss
>>> x, y = cr.tensor(np.ones((4, 3))), cr.tensor(np.zeros((4, 1)))
>>> losses = [step(x, y).item() for _ in range(3)]
>>> step.stats["captures"], step.stats["replays"]
(1, 2)
>>> losses[2] < losses[0]
True
"""

import builtins
import functools
import warnings

import numpy as np

from chainrule.autograd import GradMode
from chainrule.jit.builder import Refuse
from chainrule.jit.capture import Unsupported, capturing
from chainrule.jit.lower import lower
from chainrule.nn.module import Module as _Module
from chainrule.tensor import Tensor

_EAGER = object()  # cache entry: this signature runs eagerly (after one warning)
_MISS = object()  # a fast guard's answer: not this program, take the full lookup


class CompileWarning(UserWarning):
    """A compiled step (or part of its signatures) runs eagerly; the message says why."""


def compile(fn=None, *, debug=False, cache_size=8):
    """Compile a training step or forward pass written with ordinary chainrule code.

    Usable as ``cr.compile(step)``, ``@cr.compile`` or ``@cr.compile(debug=True)`` (which
    prints each captured program). ``step`` takes tensors or arrays (other arguments are
    constants of the capture: a new value captures again) and returns a tensor, a tuple of
    tensors or None; a replay returns new tensors without a graph.

    >>> import chainrule as cr
    >>> double = cr.compile(lambda x: x * 2)
    >>> double(cr.tensor([1.0, 2.0])).tolist(), double(cr.tensor([3.0, 4.0])).tolist()
    ([2.0, 4.0], [6.0, 8.0])
    """
    if fn is None:
        return lambda f: Compiled(f, debug=debug, cache_size=cache_size)
    return Compiled(fn, debug=debug, cache_size=cache_size)


class Compiled:
    """A compiled step: call it like the function; ``tape`` lists the last program.

    >>> import chainrule as cr
    >>> f = cr.compile(lambda x: (x * x).sum())
    >>> _ = f(cr.tensor([1.0, 2.0])); print(f.tape.splitlines()[-2].strip())
    np.add.reduce(t1, axis=None, keepdims=False, out=t2)
    """

    def __init__(self, fn, debug=False, cache_size=8):
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.debug = debug
        self.cache_size = cache_size
        self.stats = {"captures": 0, "replays": 0, "eager": 0}
        self._cache = {}
        self._store = None
        self._last = None
        self._fast = None  # (number of arguments, guard-and-replay) of the last program replayed
        self._warned = set()
        self._modules = _modules_of(fn)

    @property
    def tape(self):
        """The kernels and buffers of the most recently captured program (text)."""
        if self._last is None:
            return "(nothing captured yet: call the compiled step first)"
        return self._last.listing()

    def _key(self, args, kwargs):
        parts = []
        append = parts.append
        for a in args:
            if isinstance(a, Tensor):
                d = a.data
                append((d.shape, d.dtype, a.requires_grad))
            elif isinstance(a, np.ndarray):
                append(("array", a.shape, a.dtype))
            elif isinstance(a, _Module):  # a model passed in: its train/eval mode is a guard too
                append(("module", id(a), tuple([m.training for m in a.modules()])))
            else:
                append(("value", type(a), a))
        if kwargs:
            append(tuple(sorted(kwargs.items())))
        append(GradMode.enabled)
        append(tuple([m.training for m in self._modules]))
        return tuple(parts)

    def __call__(self, *args, **kwargs):
        fast = self._fast
        if fast is not None and fast[0] == len(args) and not kwargs:
            try:
                out = fast[1](*args)
            except Refuse:  # refused mid-step: capture again (not a second partial replay)
                self._cache.clear()
                self._store = self._fast = None
                return self._capture(self._key(args, kwargs), args, kwargs)
            if out is not _MISS:
                self.stats["replays"] += 1
                return out
        try:
            key = self._key(args, kwargs)
            program = self._cache.get(key)  # hashes the key: unhashable constants raise here
        except TypeError:
            self._warn("an argument that is not a tensor, an array or a hashable constant")
            self.stats["eager"] += 1
            return self.fn(*args, **kwargs)
        if program is _EAGER:
            self.stats["eager"] += 1
            return self.fn(*args, **kwargs)
        if program is not None:
            if program.store.intact():
                try:
                    out = program.replay(*[a.data if isinstance(a, Tensor) else a for a in args
                                           if isinstance(a, (Tensor, np.ndarray))])
                    self.stats["replays"] += 1
                    self._fast = program.fast
                    return out
                except Refuse:
                    pass
            self._cache.clear()  # a parameter was replaced: every program is stale
            self._store = None
            self._fast = None
        return self._capture(key, args, kwargs)

    def _capture(self, key, args, kwargs):
        self.stats["captures"] += 1
        modules = self._modules + [m for a in args if isinstance(a, _Module) for m in a.modules()]
        with capturing(modules) as tape:
            result = self.fn(*args, **kwargs)
        arrays = []
        for a in args:
            if isinstance(a, Tensor):
                if a.requires_grad:
                    return self._eager_from_now(key, result, "an input tensor that requires grad")
                arrays.append(a.data)
            elif isinstance(a, np.ndarray):
                arrays.append(a)
        if any(isinstance(v, (Tensor, np.ndarray)) for v in kwargs.values()):
            return self._eager_from_now(key, result, "a tensor passed as a keyword argument")
        try:
            program = lower(tape, arrays, result, self._store)
        except Unsupported as e:
            return self._eager_from_now(key, result, str(e))
        if program.store is not self._store:
            self._cache.clear()
            self._store = program.store
        if len(self._cache) >= self.cache_size:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = program
        self._last = program
        program.fast = self._fast = _fast_path(key, args, self._modules, program)
        if self.debug:
            print(program.listing())
        return result

    def _eager_from_now(self, key, result, reason):
        self._cache[key] = _EAGER
        self._warn(reason)
        return result

    def _warn(self, reason):
        if reason in self._warned:
            return
        self._warned.add(reason)
        name = getattr(self.fn, "__qualname__", repr(self.fn))
        warnings.warn(f"compile: {name} runs eagerly: {reason}", CompileWarning, stacklevel=3)


def _fast_path(key, args, modules, program):
    """``(n, fast)``: ``fast(*args)`` (``n`` arguments) is ``program``'s replay behind the
    guards of ``key`` written out as one generated condition (0.3 us for a step with no
    arguments and four modules, where building and hashing the key takes 1.1 us); ``_MISS``
    when any guard fails. None when an argument is of a kind the condition does not cover (a
    module, a constant) or the capture had keyword arguments: such calls take the full
    lookup."""
    scope = {"MISS": _MISS, "GradMode": GradMode, "Tensor": Tensor, "ndarray": np.ndarray,
             "intact": program.store.intact, "replay": program.replay}
    names, checks, passed = [], [], []
    for i, (a, part) in enumerate(zip(args, key)):
        name = f"a{i}"
        names.append(name)
        if type(a) is Tensor:
            shape, dtype, _ = part
            checks.append(f"type({name}) is not Tensor")
            data = f"d{i}"
            checks.append(f"{name}.requires_grad or ({data} := {name}.data).shape != s{i} "
                          f"or {data}.dtype != t{i}")
        elif type(a) is np.ndarray:
            _, shape, dtype = part
            data = name
            checks.append(f"type({name}) is not ndarray or {name}.shape != s{i} "
                          f"or {name}.dtype != t{i}")
        else:
            return None
        scope[f"s{i}"], scope[f"t{i}"] = shape, dtype
        passed.append(data)
    if len(key) != len(args) + 2:  # (captured with keyword arguments)
        return None
    grad_mode, training = key[-2], key[-1]
    scope["grad_mode"] = grad_mode
    checks.append("GradMode.enabled is not grad_mode")
    for i, (m, mode) in enumerate(zip(modules, training)):
        scope[f"m{i}"], scope[f"v{i}"] = m, mode
        checks.append(f"m{i}.training is not v{i}")
    checks.append("not intact()")
    condition = "\n            or ".join(checks)
    source = (f"def fast({', '.join(names)}):\n"
              f"    if ({condition}):\n"
              "        return MISS\n"
              f"    return replay({', '.join(passed)})\n")
    exec(builtins.compile(source, "<chainrule.compile guard>", "exec"), scope)  # (not ours)
    return len(args), scope["fast"]


def _modules_of(fn):
    """The modules a step refers to (closure cells and globals it names), whose train/eval
    mode is a guard."""
    from chainrule.nn.module import Module

    found = []
    code = getattr(fn, "__code__", None)
    objects = [c.cell_contents for c in (getattr(fn, "__closure__", None) or ())
               if _has_contents(c)]
    objects += list(getattr(fn, "__defaults__", None) or ())
    objects += list((getattr(fn, "__kwdefaults__", None) or {}).values())
    if code is not None:
        g = getattr(fn, "__globals__", {})
        objects += [g[n] for n in code.co_names if n in g]
    owner = getattr(fn, "__self__", None)
    if owner is not None:
        objects.append(owner)
        objects += list(vars(owner).values()) if hasattr(owner, "__dict__") else []
    seen = set()
    for obj in objects:
        if isinstance(obj, Module):
            for m in obj.modules():
                if id(m) not in seen:
                    seen.add(id(m))
                    found.append(m)
    return found


def _has_contents(cell):
    try:
        cell.cell_contents  # noqa: B018 (raises ValueError when empty)
    except ValueError:
        return False
    return True


__all__ = ["compile", "Compiled", "CompileWarning"]
