"""Lowering: a captured :class:`~chainrule.jit.capture.Tape` becomes one straight-line Python
function over preallocated NumPy buffers (forward kernels, the backward the engine ran, and
the optimiser updates), with no Tensor objects, no graph and no dispatch."""

import re

import numpy as np

from chainrule import autograd, backend
from chainrule.jit.builder import _NAME, Builder
from chainrule.jit.capture import Unsupported
from chainrule.jit.optim import FlatStore, step_function
from chainrule.jit.peephole import (  # (the line patterns are shared with the passes there)
    _ELEMENTWISE,
    _SCALED,
    _UPDATE,
    merge_raw_updates,
    scalar_arithmetic,
    size_one_operands_as_scalars,
)
from chainrule.jit.region import flat_tensors, lower_opaque, lower_opaque_backward
from chainrule.jit.rules import RULES
from chainrule.tensor import Tensor, _wrap

_NP_CALL = re.compile(r"\bnp\.([a-z_]+(?:\.reduce)?)\(")


def _bind_np(scope, path):
    name = "_np_" + path.replace(".", "_")
    if name not in scope:
        obj = np
        for part in path.split("."):
            obj = getattr(obj, part)
        scope[name] = obj
    return name


_UFUNC_LINE = re.compile(r"^(\s*)np\.([a-z_]+)\((.*)\)$")


def _split_args(text):
    """``text``'s top-level comma-separated parts (brackets nest: ``t1[k2, k3]`` is one)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _positional_out(line):
    """``np.f(a, b, out=t)`` as ``np.f(a, b, t)`` where ``f`` is a ufunc taking that many
    inputs (or np.dot) and ``out`` is its only keyword; any other line unchanged."""
    match = _UFUNC_LINE.match(line)
    if match is None:
        return line
    indent, name, inner = match.groups()
    fn = getattr(np, name, None)
    args = _split_args(inner)
    if not args[-1].startswith("out=") or any("=" in a for a in args[:-1]):
        return line
    n_in = 2 if fn is np.dot else getattr(fn, "nin", None) if isinstance(fn, np.ufunc) else None
    if n_in != len(args) - 1 or fn in (np.maximum, np.minimum):  # (NumPy 2 deprecates these)
        return line
    return f"{indent}np.{name}({', '.join(args[:-1])}, {args[-1][4:]})"


class Program:
    """One compiled step: ``run(arrays)`` replays it; ``source`` is its text."""

    def __init__(self, builder, source, n_inputs, store, buffers):
        self.source = source
        self.n_inputs = n_inputs
        self.store = store
        self.buffers = buffers  # name -> (shape, dtype, kind), for the listing
        self.fast = None  # (n, guard-and-replay) for Compiled's fast path, set by Compiled
        scope = builder.ns
        # np.add(a, b, out=t) -> _np_add(a, b, t): one global lookup per kernel, not two, and
        # no keyword parsing (about 0.17 us of a 0.5 us call on small arrays).
        fast = "\n".join(_positional_out(line) for line in source.splitlines())
        fast = _NP_CALL.sub(lambda m: _bind_np(scope, m.group(1)) + "(", fast)
        exec(compile(fast, "<chainrule.compile>", "exec"), scope)
        self.replay = scope["replay"]

    def run(self, arrays):
        return self.replay(*arrays)

    def listing(self):
        """The kernels and buffers of the step, as text."""
        lines = ["# buffers"]
        for name, (shape, dtype, kind) in self.buffers.items():
            lines.append(f"#   {name:<6} {kind:<6} {dtype} {shape}")
        return "\n".join(lines) + "\n" + self.source


def _leaves(tape):
    leaves, seen = [], set()
    for rec in tape.ops:
        for p, req in zip(rec.parents, rec.req):
            if req and p._backward is None and p not in seen:
                seen.add(p)
                leaves.append(p)
    return leaves


def lower(tape, arrays, result, store=None):
    """The :class:`Program` replaying ``tape``; raises Unsupported for what it cannot express.

    ``arrays``: the step's array arguments in order. ``store``: a :class:`FlatStore` to reuse
    (from an earlier capture of the same step with other shapes)."""
    if tape.problems:
        raise Unsupported(tape.problems[0])
    b = Builder()
    b.created = tape.created
    params = []
    for i, a in enumerate(arrays):
        name = b.bind(np.array(a, copy=True), "input", "x")
        b.names[id(a)] = name
        params.append(f"a{i}")
    leaves = _leaves(tape)
    steps = [(e[1], e[2]) for e in tape.events if e[0] == "step"]
    if store is None or set(store.leaves) != set(leaves) or not store.intact():
        updated = {e[1] for e in tape.events if e[0] == "inplace"}
        store = FlatStore(leaves, steps, updated)
    for p in leaves:
        b.bind(p.data, "param", "p")
    grad_name = {p: b.bind(store.grad[p], "grad", "g") for p in leaves}
    grad_leaf = {name: p for p, name in grad_name.items()}
    state = dict.fromkeys(leaves, "unknown")  # none / zero / value: each leaf's .grad
    uncleared = set()
    regions = {}  # event index -> the regions starting there
    for region in tape.regions:
        regions.setdefault(region.event_start, []).append(region)
    skip_to = 0
    for index, event in enumerate(tape.events + [("end",)]):
        for region in regions.get(index, ()):
            _lower_region(b, tape, region)
            skip_to = max(skip_to, region.event_stop)
        if index < skip_to:
            continue
        kind = event[0]
        if kind == "end":
            break
        if kind == "op":
            _lower_op(b, tape.ops[event[1]])
        elif kind == "backward":
            for leaf, array in event[2].items():  # later reads of leaf.grad read its buffer
                if leaf in grad_name:
                    b.names[id(array)] = grad_name[leaf]
            for leaf, g in _lower_backward(b, tape, event[1]):
                if state[leaf] == "value":
                    raise Unsupported("two backward passes reach one parameter in a step")
                if state[leaf] == "unknown":
                    uncleared.add(leaf)
                state[leaf] = "value"
                _deliver(b, g, grad_name[leaf], store.grad[leaf])
        elif kind == "zero_grad":
            opt, set_to_none = event[1], event[2]
            for group in opt.param_groups:
                for p in group["params"]:
                    if p not in state:
                        continue
                    if set_to_none:
                        state[p] = "none"
                    else:
                        if state[p] == "value":
                            b.emit(f"{grad_name[p]}.fill(0)")
                        state[p] = "zero"
        elif kind == "inplace":  # p -= lr * p.grad under no_grad, as Tensor._inplace does
            t, ufunc, other = event[1], event[2], event[3]
            if isinstance(other, Tensor):
                other = b.value(other)
            elif isinstance(other, np.ndarray):
                other = b.const(other)
            else:
                other = repr(other)
            target = b.value(t)
            # (eager passes casting='same_kind', NumPy's default: left out, out= is positional)
            b.emit(f"np.{ufunc.__name__}({target}, {other}, out={target})")
        elif kind == "zero_":
            name = b.value(event[1])
            leaf = grad_leaf.get(name)
            if leaf is None:
                raise Unsupported("zero_() of a tensor other than a parameter's .grad")
            b.emit(f"{name}.fill(0)")
            state[leaf] = "zero"
        elif kind == "call":  # a Python call replayed as is (a scheduler's step)
            b.emit(f"{b.const(event[1])}()")
        elif kind == "grad_call":  # clip_grad_norm_ & co. on the gradients as they are now
            _lower_grad_call(b, event, store, leaves, state)
        else:  # an optimiser step
            opt, stepped = event[1], event[2]
            for p in stepped:
                if p in state and state[p] not in ("value", "zero"):
                    raise Unsupported("optimizer.step() before backward in the step")
            b.emit(f"{b.const(step_function(opt, store))}()")
    for leaf in leaves:  # the step set p.grad = None itself (the tutorial's loop)
        if leaf.grad is None and state[leaf] in ("value", "zero"):
            state[leaf] = "none"
    for leaf in uncleared:
        if state[leaf] == "value":
            raise Unsupported("backward without zero_grad() in the step: gradients would "
                              "accumulate across calls")
    grads, nones = _grads_as_left(store, leaves, state)
    exposed = {grad_name[p] for p in leaves if state[p] == "value"}
    _scale_dead_gradients_in_place(b, set(grad_leaf), exposed)
    merge_raw_updates(b, store)
    if grads or nones:
        b.emit(f"{b.const(_grad_setter(grads, nones))}()")
    b.emit(f"return {_outputs(b, result)}")
    _reuse_dead_buffers(b)
    size_one_operands_as_scalars(b)
    scalar_arithmetic(b)
    body = b.prologue + b.lines
    source = f"def replay({', '.join(params)}):\n"
    source += "".join(f"    np.copyto({b.names[id(a)]}, a{i})\n" for i, a in enumerate(arrays))
    source += "".join(f"    {line}\n" for line in body)
    buffers = {n: (getattr(v, "shape", ()), getattr(v, "dtype", type(v).__name__), b.kind[n])
               for n, v in b.ns.items() if n in b.kind and b.kind[n] != "unused"
               and isinstance(v, np.ndarray)}
    return Program(b, source, len(arrays), store, buffers)




def _scale_dead_gradients_in_place(b, grad_names, exposed):
    """``p -= lr * p.grad`` at the end of a step: when nothing reads ``p.grad`` afterwards
    (it is set to None or zeroed), scale the gradient in its own buffer instead of a
    temporary the size of the parameter, as a careful NumPy programmer writes it (the same
    numbers: the same multiply, written elsewhere)."""
    lines = b.lines
    tail = len(lines)  # the updates must be the step's last kernels (zeroing may follow)
    while tail > 0 and (lines[tail - 1].endswith(".fill(0)") or _UPDATE.match(lines[tail - 1])
                        or _SCALED.match(lines[tail - 1])):
        tail -= 1
    for i in range(tail, len(lines) - 1):
        scaled, update = _SCALED.match(lines[i]), _UPDATE.match(lines[i + 1])
        if scaled is None or update is None or update.group(2) != scaled.group(3):
            continue
        a, c, tmp = scaled.groups()
        grad = c if c in grad_names else a if a in grad_names else None
        if grad is None or grad in exposed or b.kind.get(tmp) != "buf" or tmp in b.viewed:
            continue
        names = [n for n, v in b.ns.items() if v is b.ns[grad]]  # a kernel may write into it
        later = [line for line in lines[i + 2:]
                 if any(re.search(rf"\b{n}\b", line) for n in names)]
        others = [line for j, line in enumerate(lines) if j not in (i, i + 1)
                  and re.search(rf"\b{tmp}\b", line)]
        if others or any(line != f"{grad}.fill(0)" for line in later):
            continue
        lines[i] = f"np.multiply({a}, {c}, out={grad})"
        lines[i + 1] = lines[i + 1].replace(f", {tmp}, ", f", {grad}, ")


_CONST_CALL = re.compile(r"\bk\d+(\.\w+)?\(")


def _reuse_dead_buffers(b):
    """An elementwise kernel whose input buffer is read by nothing after it writes into that
    buffer instead of a fresh one (``relu(h)`` into ``h``, a gradient times a mask into the
    gradient): fewer buffers, a smaller working set, the same numbers (each element is read
    before it is written)."""
    lines = b.lines
    words = [set(_NAME.findall(line)) for line in lines]
    first_use, last_use = {}, {}
    for i, names in enumerate(words):
        # A call replayed whole keeps references to its arrays for its backward (and a Python
        # call may keep anything): what it is given stays live to the end.
        end = len(lines) if _CONST_CALL.search(lines[i]) else i
        for name in names:
            first_use.setdefault(name, i)
            last_use[name] = max(last_use.get(name, -1), end)
    owners = {}  # id(array) -> how many names hold it (a delivered gradient has two)
    for name in b.kind:
        if isinstance(b.ns.get(name), np.ndarray):
            owners[id(b.ns[name])] = owners.get(id(b.ns[name]), 0) + 1

    def plain(name, viewed_ok=False):
        array = b.ns.get(name)
        return (b.kind.get(name) == "buf" and (viewed_ok or name not in b.viewed)
                and name not in b.dynamic and isinstance(array, np.ndarray)
                and owners.get(id(array)) == 1)

    def views_of(name):  # the static views into ``name``, re-made after a rename
        return [v for v, expr in b.view_exprs.items() if re.search(rf"\b{name}\b", expr)]

    renamed = set()
    for i, line in enumerate(lines):
        match = _ELEMENTWISE.match(line)
        if match is None or not isinstance(getattr(np, match.group(1), None), np.ufunc):
            continue
        out = match.group(3)
        if not plain(out, viewed_ok=True) or first_use.get(out) != i:
            continue
        views = views_of(out)
        if out in b.viewed and not views:
            continue
        for arg in match.group(2).split(", "):
            if (arg != out and plain(arg) and last_use.get(arg) == i
                    and b.ns[arg].shape == b.ns[out].shape and b.ns[arg].dtype == b.ns[out].dtype
                    and b.ns[arg].strides == b.ns[out].strides):
                renamed.add(out)
                pattern = re.compile(rf"\b{out}\b")
                for j in range(i, len(lines)):
                    lines[j] = pattern.sub(arg, lines[j])
                    words[j] = {arg if n == out else n for n in words[j]}
                last_use[arg] = max(last_use.get(out, i),
                                    max((last_use.get(v, i) for v in views), default=i))
                for v in views:  # the view now looks into the buffer that holds the values
                    b.view_exprs[v] = pattern.sub(arg, b.view_exprs[v])
                    b.ns[v] = eval(b.view_exprs[v], b.ns)
                    b.viewed.add(arg)
                break
    for out in renamed:  # the buffers nothing writes into now
        b.kind[out] = "unused"


def _lower_region(b, tape, region):
    """A library call: kernel by kernel when every op in it has a rule, else replayed whole."""
    ops = tape.ops[region.op_start:region.op_stop]
    region.replay = None
    if not region.problems and all(rec.op in RULES for rec in ops):
        state = b.snapshot()
        try:
            for rec in ops:
                _lower_op(b, rec)
            if all(id(t.data) in b.names for t in flat_tensors(region.out)):
                return
        except Unsupported:
            pass
        b.restore(state)
    lower_opaque(b, tape, region)


def _lower_grad_call(b, event, store, leaves, state):
    fn, params, args, kwargs, out = event[1:]
    grads, nones = _grads_as_left(store, leaves, state)
    call = b.const(_grad_call(fn, params, args, kwargs, grads, nones))
    if isinstance(out, Tensor):
        name = b.bind(out.data, "view", "d")
        b.dynamic.add(name)
        b.emit(f"{name} = {call}()")
    else:
        b.emit(f"{call}()")


def _grad_call(fn, params, args, kwargs, grads, nones):
    """``fn(params, ...)`` with every ``p.grad`` the step's gradient buffer (results written
    back where ``fn`` replaced an array instead of writing into it)."""
    setter = _grad_setter(grads, nones)

    def call():
        setter()
        out = fn(params, *args, **kwargs)
        for p, t in grads.items():
            if p.grad is not t:
                p.grad = t
            if t.data is not store_of[p]:
                np.copyto(store_of[p], t.data, casting="unsafe")
                t.data = store_of[p]
        return out.data if isinstance(out, Tensor) else out

    store_of = {p: t.data for p, t in grads.items()}
    call.__qualname__ = fn.__name__
    return call


def _lower_op(b, rec):
    rule = RULES.get(rec.op)
    if rule is None:
        raise Unsupported(f"op {rec.op!r} has no compiled rule")
    if isinstance(rec.extra, tuple) and rec.extra[0] == "dropout":
        _redraw_mask(b, *rec.extra[1:])
    names = [b.value(p) for p in rec.parents]
    name = rule[0](b, rec, *names)
    got = b.ns[name]
    want = rec.out.data
    if got.shape != want.shape or got.dtype != want.dtype:
        raise Unsupported(f"the compiled rule for {rec.op!r} made {got.dtype} {got.shape}, "
                          f"eager made {want.dtype} {want.shape}")
    b.names[id(want)] = name


def _redraw_mask(b, p, draw_dtype, mask):
    """nn.dropout's mask, drawn again at every replay from the library generator (the same
    calls in the same order as eager: the same draws as an eager run with the same seed)."""
    shape = mask.data.shape
    draw = b.bind(np.empty(shape, draw_dtype), "buf", "t")
    keep = b.bind(np.empty(shape, bool), "buf", "t")
    out = b.bind(np.empty_like(mask.data), "buf", "t")
    rng = b.const(backend.get_rng)
    scale = b.const(mask.data.dtype.type(1.0 / (1.0 - p)))
    b.emit(f"{rng}().random({shape!r}, dtype=np.{np.dtype(draw_dtype).name}, out={draw})")
    b.emit(f"np.greater_equal({draw}, {p!r}, out={keep})")
    b.emit(f"np.copyto({out}, {keep})")
    b.emit(f"np.multiply({out}, {scale}, out={out})")
    b.names[id(mask.data)] = out


def _lower_backward(b, tape, root):
    """The backward engine's traversal, as kernels; returns [(leaf, gradient name)]."""
    seed = b.const(np.ones(root.data.shape, dtype=root.data.dtype))
    grads = {root: seed}
    start = len(b.kind)
    b.backward_from = start
    delivered = []
    done = set()  # opaque regions whose backward is emitted
    for node in autograd._reachable(root):
        g = grads.pop(node, None)
        if g is None:
            continue
        if node._backward is None:
            delivered.append((node, g))
            continue
        if node._retain:
            raise Unsupported("retain_grad() on an intermediate tensor in the step")
        rec = tape.by_tensor.get(node)
        if rec is None:
            raise Unsupported(f"op {node.op!r} was recorded outside the capture")
        region = rec.region
        if region is not None and region.replay is not None:  # replayed whole: its engine
            if id(region) in done:
                raise Unsupported(f"a gradient reached {node.op!r} inside a library call "
                                  "after its backward")
            grads[node] = g
            if not any(t is node for t in region.replay[2]):
                raise Unsupported(f"a gradient reached {node.op!r} inside a library call "
                                  "from outside it")
            done.add(id(region))
            lower_opaque_backward(b, region, grads)
            continue
        names = [b.value(p) for p in rec.parents]
        parent_grads = RULES[rec.op][1](b, rec, g, *names)
        for parent, pg in zip(node.parents, parent_grads):
            if pg is not None and parent.requires_grad:
                prev = grads.get(parent)
                grads[parent] = pg if prev is None else b.call("np.add", prev, pg)
    return delivered


def _deliver(b, g, target_name, target):
    """Make the leaf's gradient array hold ``g``: by writing the kernel that made ``g`` straight
    into it where that is safe, else with one copy."""
    arr = b.ns[g]
    names = list(b.kind)
    fresh = (b.kind[g] == "buf" and g not in b.viewed and names.index(g) >= b.backward_from
             and arr.shape == target.shape and arr.dtype == target.dtype
             and not getattr(b, "_delivered", set()).intersection({g}))
    if fresh:
        b.ns[g] = target
        b._delivered = getattr(b, "_delivered", set()) | {g}
        return
    b.emit(f"np.copyto({target_name}, {g}, casting='unsafe')")


def _grads_as_left(store, leaves, state):
    """What each leaf's ``.grad`` is at this point of the step: {leaf: tensor of its gradient
    buffer} and the leaves whose ``.grad`` is None."""
    grads = {p: _wrap(store.grad[p]) for p in leaves if state[p] in ("value", "zero")}
    return grads, [p for p in leaves if state[p] == "none"]


def _grad_setter(grads, nones):
    pairs = list(grads.items())

    def set_grads():
        for p, t in pairs:
            p.grad = t
        for p in nones:
            p.grad = None

    return set_grads


def _outputs(b, result):
    if result is None:
        return "None"
    if isinstance(result, Tensor):
        return f"wrap({b.value(result)}.copy())"
    if isinstance(result, (tuple, list)):
        items = ", ".join(_outputs(b, r) for r in result)
        return f"({items},)" if isinstance(result, tuple) else f"[{items}]"
    raise Unsupported(f"the step returns a {type(result).__name__}; return tensors (or None)")
