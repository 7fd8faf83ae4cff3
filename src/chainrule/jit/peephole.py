"""Peephole passes over a replay's lines: the same kernels on the same values, called the way
NumPy runs them fastest on small arrays. Each keeps the eager bits (see the tests in
``tests/test_jit_rules.py``).

On 4x8 arrays a ufunc call costs about 0.45 us, but 1 us when an operand is broadcast from a
size-1 array, or when every operand is 0-d (the sum of a loss divided by the batch size),
where NumPy's scalar arithmetic takes 0.15 us.
"""

import re

import numpy as np

from chainrule.jit.builder import _NAME  # a name the builder binds: t3, k12, p0, ...

_ELEMENTWISE = re.compile(r"^np\.([a-z_]+)\(([a-z]+\d+(?:, [a-z]+\d+)*), out=([a-z]+\d+)\)$")
_OPERATORS = {"add": "+", "subtract": "-", "multiply": "*", "true_divide": "/"}


def size_one_operands_as_scalars(b):
    """``np.add(t3, p1, out=t3)`` with ``p1`` of shape (1,) (the bias of one output unit) reads
    ``p1`` through a 0-d view made once: NumPy then takes its scalar-operand loop, not the
    broadcasting one (the same elementwise arithmetic, the same dtype)."""
    for i, line in enumerate(b.lines):
        match = _ELEMENTWISE.match(line)
        if match is None or not isinstance(getattr(np, match.group(1), None), np.ufunc):
            continue
        args, out = match.group(2).split(", "), match.group(3)
        result = _array(b, out)
        if len(args) < 2 or result is None or result.size < 2:
            continue
        if any(_array(b, a) is not None and _array(b, a).dtype != result.dtype for a in args):
            continue  # (NumPy 1.x casts by the value of a 0-d operand: one dtype throughout)
        new = []
        for arg in args:
            array = _array(b, arg)
            if array is not None and array.ndim > 0 and array.size == 1 and arg not in b.dynamic:
                arg = b.view(f"{arg}.reshape(())")  # (static: it looks into arg's memory)
            new.append(arg)
        if new != args:
            b.lines[i] = f"np.{match.group(1)}({', '.join(new)}, out={out})"


def scalar_arithmetic(b):
    """``np.true_divide(t7, k8, out=t7)`` over 0-d arrays (or NumPy scalars) of one float
    dtype as ``t7[()] = t7[()] / k8``: NumPy's scalar arithmetic, the same IEEE operation in
    the same dtype (float32 stays float32), about 0.9 us less per call."""
    for i, line in enumerate(b.lines):
        match = _ELEMENTWISE.match(line)
        if match is None or match.group(1) not in _OPERATORS:
            continue
        args, out = match.group(2).split(", "), match.group(3)
        result = _array(b, out)
        if len(args) != 2 or result is None or result.ndim != 0 or result.dtype not in (
                np.float32, np.float64):
            continue
        operands = []
        for name in args:
            value = b.ns.get(name) if name in b.kind else None
            if isinstance(value, np.ndarray) and value.ndim == 0:
                operands.append(f"{name}[()]")
            elif isinstance(value, np.floating) and name not in b.dynamic:
                operands.append(name)  # (a NumPy scalar bound once: immutable)
            else:
                break
            if value.dtype != result.dtype:
                break
        else:
            op = _OPERATORS[match.group(1)]
            b.lines[i] = f"{out}[()] = {operands[0]} {op} {operands[1]}"


def _array(b, name):
    """The array bound to ``name`` (its value at capture), or None."""
    value = b.ns.get(name) if name in b.kind else None
    return value if isinstance(value, np.ndarray) else None


_SCALED = re.compile(r"^np\.multiply\(([a-z]+\d+), ([a-z]+\d+), out=([a-z]+\d+)\)$")
_UPDATE = re.compile(r"^np\.subtract\(([a-z]+\d+), ([a-z]+\d+), out=\1\)$")
_FILL = re.compile(r"^([a-z]+\d+)\.fill\(0\)$")


def merge_raw_updates(b, store):
    """The tutorial's ``for w in params: w -= lr * w.grad`` (then ``w.grad = None`` or
    ``w.grad.zero_()``) over tensors re-homed in one flat array (``store.raw``, see
    :func:`chainrule.jit.optim._raw_flats`) as one update of the flat arrays,
    ``np.multiply(k, G, out=G); np.subtract(P, G, out=P)``, as the hand-written floor does it.
    Each element sees the same two operations with the same scalar: the same bits. Only where
    the step's last lines touch those tensors and their gradients with exactly that update, of
    every tensor of the flat array, with one scalar value (the lines of other tensors among them
    touch other memory, so the order between the two does not matter)."""
    for flat, grads, params in store.raw:
        pnames = [b.names.get(id(p.data)) for p in params]
        gnames = [b.names.get(id(store.grad[p])) for p in params]
        if None in pnames or None in gnames:
            continue
        lines = b.lines
        tail = len(lines)
        while tail and any(rx.match(lines[tail - 1]) for rx in (_SCALED, _UPDATE, _FILL)):
            tail -= 1
        members = set(pnames) | set(gnames)
        ours = [i for i in range(tail, len(lines)) if set(_NAME.findall(lines[i])) & members]
        plan = _update_plan(b, [lines[i] for i in ours], pnames, gnames)
        if plan is None:
            continue
        scalar, fill = plan
        flat_name, grads_name = b.bind(flat, "param", "p"), b.bind(grads, "grad", "g")
        merged = [f"np.multiply({scalar}, {grads_name}, out={grads_name})",
                  f"np.subtract({flat_name}, {grads_name}, out={flat_name})"]
        if fill:
            merged.append(f"{grads_name}.fill(0)")
        keep = [line for i, line in enumerate(lines) if i not in set(ours)]
        b.lines = keep[:ours[0]] + merged + keep[ours[0]:]


def _update_plan(b, lines, pnames, gnames):
    """``(scalar name, whether the gradients are zeroed)`` when ``lines`` are, for each
    parameter ``p`` with gradient ``g``, exactly ``np.multiply(k, g, out=g)``, then
    ``np.subtract(p, g, out=p)``, then optionally ``g.fill(0)``, with equal scalars ``k``;
    otherwise None."""
    scaled, updated, filled, scalars = {}, {}, set(), []
    for line in lines:
        if (m := _SCALED.match(line)) is not None:
            a, c, out = m.groups()
            grad, k = (c, a) if c == out else (a, c) if a == out else (None, None)
            if grad is None or grad in scaled or grad in updated:
                return None
            scaled[grad] = k
            scalars.append(k)
        elif (m := _UPDATE.match(line)) is not None:
            p, grad = m.groups()
            if grad not in scaled or grad in updated:
                return None
            updated[grad] = p
        elif (m := _FILL.match(line)) is not None and m.group(1) in updated:
            filled.add(m.group(1))
        else:
            return None
    if updated != dict(zip(gnames, pnames)) or filled not in (set(), set(gnames)):
        return None
    values = [_array(b, k) for k in scalars]
    first = values[0]
    if first is None or first.ndim or any(
            v is None or v.dtype != first.dtype or v.tobytes() != first.tobytes()
            for v in values):
        return None
    return scalars[0], bool(filled)
