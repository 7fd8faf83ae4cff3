"""The program builder: names every array of a captured step, allocates the buffers once and
collects the straight-line source of the replay."""

import re

import numpy as np

from chainrule.jit.capture import Unsupported
from chainrule.tensor import _wrap

_NAME = re.compile(r"\b[a-z]+\d+\b")
_TRANSPOSE = re.compile(r"^([a-z]+\d+)\.T$")


def _slow_dot(a, b):
    """Whether ``np.dot(a, b)`` would run slower than ``np.matmul(a, b)`` (the same BLAS call
    and bits): above 256k multiply-adds matmul was as fast or faster here, up to 10% with a
    transposed first operand (a weight gradient ``g.T @ h``: W1's 1000x64 @ 64x100, 92
    against 84 us) and 18% with a short inner dimension (W4's 256x10 @ 10x4096, 0.53 against
    0.45 ms); below that, dot's lighter dispatch wins (0.6 us of a 1.3 us call on W3's 8x4 @
    4x2)."""
    return a.shape[0] * a.shape[1] * b.shape[1] >= 1 << 18


class Refuse(Exception):
    """Raised by a replay before it changes any state: the call runs eagerly (and captures)."""


class Builder:
    """Arrays by name (``ns``), the lines of the replay, and which names are which kind."""

    def __init__(self):
        self.ns = {"np": np, "Refuse": Refuse, "wrap": _wrap}
        self.names = {}  # id(array) -> name
        self.kind = {}  # name -> "input" | "param" | "const" | "buf" | "view"
        self.lines = []
        self.prologue = []
        self.dynamic = set()  # names assigned inside the replay (views of per-call arrays)
        self.viewed = set()  # buffers that some static view looks into
        self._keep = []
        self._count = 0
        self.backward_from = 1 << 30
        self.created = set()  # ids of arrays the captured step wrapped (Tape.created)
        self._numbers = {}  # (value, dtype) -> the 0-d constant of number()
        self.view_exprs = {}  # static view name -> the expression that made it

    # ------------------------------------------------------------------ naming
    def bind(self, array, kind, prefix):
        name = f"{prefix}{self._count}"
        self._count += 1
        self.ns[name] = array
        self.kind[name] = kind
        if isinstance(array, np.ndarray):
            self.names[id(array)] = name
            self._keep.append(array)
        return name

    def const(self, value):
        if isinstance(value, np.ndarray) and id(value) in self.names:
            return self.names[id(value)]
        return self.bind(value, "const", "k")

    def value(self, tensor):
        """The name of a tensor's array: a buffer, an input, a parameter or a constant."""
        name = self.names.get(id(tensor.data))
        if name is not None:
            return name
        if tensor._backward is not None:
            raise Unsupported(f"the output of op {tensor.op!r} was made outside the ops the "
                              "capture sees")
        if tensor.requires_grad:
            raise Unsupported("a tensor requiring grad that is not a parameter the step knows")
        if id(tensor.data) in self.created and tensor.data.ndim > 0:
            raise Unsupported("a tensor made inside the step outside the ops the capture sees "
                              "(e.g. an integer cast such as .long(), or cr.tensor(...) of "
                              "computed data): it may depend on the inputs")
        base = tensor.data
        while isinstance(base, np.ndarray) and base.base is not None:
            base = base.base
            if id(base) in self.names and self.kind[self.names[id(base)]] != "const":
                raise Unsupported("a tensor derived from the step's inputs outside the ops the "
                                  "capture sees (e.g. .detach() or a NumPy round trip)")
        return self.const(tensor.data)

    def snapshot(self):
        """The builder's state, to :meth:`restore` when a region's kernels cannot be lowered."""
        return (dict(self.ns), dict(self.names), dict(self.kind), len(self.lines),
                len(self.prologue), set(self.dynamic), set(self.viewed))

    def restore(self, state):
        ns, names, kind, n_lines, n_prologue, dynamic, viewed = state
        self.ns, self.names, self.kind = ns, names, kind
        del self.lines[n_lines:], self.prologue[n_prologue:]
        self.dynamic, self.viewed = dynamic, viewed
        self.view_exprs = {n: e for n, e in self.view_exprs.items() if n in kind}

    # ------------------------------------------------------------------ code
    def emit(self, line):
        self.lines.append(line)

    def number(self, value, like):
        """Python number ``value`` as an operand next to array ``like``: a 0-d array of like's
        float dtype, bound once, which NumPy would have converted the number to anyway (NEP 50:
        same loop, same bits), for about half the cost of the call (a Python scalar operand
        adds ~0.45 us to a ufunc call). Other dtypes keep the literal."""
        dtype = self.ns[like].dtype
        if type(value) not in (int, float) or dtype.kind != "f":
            return repr(value)
        key = (value, dtype.str)
        if key not in self._numbers:
            self._numbers[key] = self.const(np.array(value, dtype=dtype))
        return self._numbers[key]

    def call(self, fn, *args):
        """A fresh buffer holding ``fn(*args)``; emits ``fn(*args, out=buffer)``.

        Same numbers, fewer per-call costs: a transposed parameter is a view made once, and a
        2-D float ``matmul`` is ``np.dot`` (the same BLAS call, less dispatch)."""
        args = [self._static_transpose(a) for a in args]
        arrays = [self.ns[a] for a in args if a in self.kind and isinstance(self.ns[a], np.ndarray)]
        dtypes = {a.dtype for a in arrays}
        if fn == "np.matmul" and len(args) == 2 and len(arrays) == 2 and len(dtypes) == 1 \
                and arrays[0].ndim == 2 and arrays[1].ndim == 2 and arrays[0].dtype.kind == "f" \
                and not _slow_dot(*arrays):
            fn = "np.dot"
        text = ", ".join(args)
        with np.errstate(all="ignore"):
            probe = eval(f"{fn}({text})", self.ns)
        out = self.bind(np.array(probe, copy=True), "buf", "t")
        self.emit(f"{fn}({text}, out={out})")
        return out

    def _static_transpose(self, arg):
        match = _TRANSPOSE.match(arg)
        if match is None or match.group(1) in self.dynamic or match.group(1) not in self.kind:
            return arg
        return self.view(arg)

    def inplace(self, fn, target, other=None, first=True):
        if other is None:
            self.emit(f"{fn}({target}, out={target})")
        elif first:
            self.emit(f"{fn}({target}, {other}, out={target})")
        else:
            self.emit(f"{fn}({other}, {target}, out={target})")

    def view(self, expr):
        """A view such as ``t3.reshape(...)``: made once if it looks into a fixed buffer,
        otherwise each replay (a copy would go stale)."""
        used = [n for n in _NAME.findall(expr) if n in self.kind]
        with np.errstate(all="ignore"):
            result = eval(expr, self.ns)
        static = not any(n in self.dynamic for n in used) and any(
            isinstance(self.ns[n], np.ndarray) and np.shares_memory(result, self.ns[n])
            for n in used)
        if static:
            self.viewed.update(used)
            name = self.bind(result, "view", "v")
            self.view_exprs[name] = expr  # (re-evaluated if a buffer is renamed later)
            return name
        name = self.bind(result, "view", "d")
        self.dynamic.add(name)
        self.emit(f"{name} = {expr}")
        return name

    def guard_targets(self, target, classes):
        """A class-index target outside ``0..classes-1``: given to the step, the replay refuses
        before it changes anything (the eager run then raises); computed inside the step, it
        raises eager's IndexError where eager would."""
        dtype = self.ns[target].dtype if isinstance(self.ns.get(target), np.ndarray) else None
        if dtype is not None and dtype.kind == "i":  # one reduction: a negative is huge unsigned
            bad = f"{target}.size and {target}.view(np.uint{dtype.itemsize * 8}).max() >= {classes}"
        else:
            bad = f"{target}.size and ({target}.min() < 0 or {target}.max() >= {classes})"
        if target in self.dynamic:
            self.lines.append(
                f"if {bad}: raise IndexError('cross_entropy: target ' + str({target}[({target} "
                f"< 0) | ({target} >= {classes})][0]) + ' is out of range for {classes} classes')")
        else:
            self.prologue.append(
                f"if {bad}: raise Refuse('cross_entropy: a target outside 0..{classes - 1}')")

    def out_name(self, rec):
        return self.names[id(rec.out.data)]
