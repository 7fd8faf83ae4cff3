"""The backward engine and grad mode.

``backward(root)`` visits the graph that produced ``root`` once, in reverse topological order.
At each node it multiplies the incoming gradient by the node's local derivative (the op's
vector-Jacobian product) and adds the result into each parent's running gradient: the
"multiply along edges, add over routes" dynamic programme of the lecture notes.

>>> import chainrule as cr
>>> x = cr.tensor(3.0, requires_grad=True)
>>> y = x * x + x
>>> y.backward(); x.grad.item()
7.0
"""

import contextlib
import functools
import sys

import numpy as np


class GradMode:
    """Process-wide switches read by every op (class attributes: cheapest lookup)."""

    enabled = True
    anomaly = False


class InplaceLog:
    """Creation stamps (the clock of ``Tensor._seq``) of the latest in-place changes.

    ``last_write``: the latest write into a tensor's array that was *not* recorded (under
    ``no_grad``, or into a tensor that needs no gradient); backward checks a node's inputs for
    such writes only when the node is older than it, so a graph built after the last write (every
    training step after the optimiser's update) costs nothing. ``last_rebase``: the latest
    recorded in-place op; older nodes may name the changed tensor as a parent and are pointed back
    at the version they saw (see :func:`_redirect`).
    """

    last_write = 0
    last_rebase = 0


def is_grad_enabled():
    """True when new operations are recorded for backward.

    >>> is_grad_enabled()
    True
    """
    return GradMode.enabled


class _GradModeSwitch:
    """Sets grad mode inside a ``with`` block or a decorated function; re-entrant (the previous
    modes are a stack, so recursion and nesting restore correctly)."""

    mode = True

    def __init__(self):
        self._previous = []

    def __enter__(self):
        self._previous.append(GradMode.enabled)
        GradMode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        GradMode.enabled = self._previous.pop()
        return False

    def __call__(self, func):
        mode = self.mode

        @functools.wraps(func)
        def switched(*args, **kwargs):
            previous = GradMode.enabled
            GradMode.enabled = mode
            try:
                return func(*args, **kwargs)
            finally:
                GradMode.enabled = previous

        return switched


class set_grad_enabled(_GradModeSwitch):
    """Turn graph recording on or off inside a ``with`` block or a decorated function.

    >>> import chainrule as cr
    >>> with set_grad_enabled(False):
    ...     (cr.tensor(1.0, requires_grad=True) * 2).requires_grad
    False
    """

    def __init__(self, mode):
        super().__init__()
        self.mode = bool(mode)


class no_grad(_GradModeSwitch):
    """Context manager and decorator (``@cr.no_grad()`` or bare ``@cr.no_grad``) that stops
    recording the graph, e.g. for weight updates.

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0], requires_grad=True)
    >>> with cr.no_grad():
    ...     (w * 2).requires_grad
    False
    """

    mode = False

    def __new__(cls, func=None):
        if callable(func):  # bare decorator: @no_grad
            return cls()(func)
        return super().__new__(cls)

    def __init__(self, func=None):
        super().__init__()


class enable_grad(_GradModeSwitch):
    """Re-enable recording inside a ``no_grad`` region.

    >>> import chainrule as cr
    >>> with cr.no_grad(), cr.enable_grad():
    ...     (cr.tensor(1.0, requires_grad=True) * 2).requires_grad
    True
    """

    mode = True


class detect_anomaly(contextlib.ContextDecorator):
    """Check every gradient for NaN/inf during backward and name the op that produced it.

    >>> import chainrule as cr
    >>> with cr.detect_anomaly():
    ...     x = cr.tensor(float("inf"), requires_grad=True); cr.exp(x).backward()
    Traceback (most recent call last):
    ...
    FloatingPointError: backward of 'exp' produced a non-finite gradient for input 0 (shape ())
    """

    def __init__(self):
        self._previous = []

    def __enter__(self):
        self._previous.append(GradMode.anomaly)
        GradMode.anomaly = True
        return self

    def __exit__(self, *exc):
        GradMode.anomaly = self._previous.pop()
        return False


FREED_GRAPH_MESSAGE = (
    "backward: trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed): node '{op}' released its saved arrays after "
    "the first backward. Specify retain_graph=True in the first .backward() call if you need to "
    "backward through the graph again, or recompute the forward pass."
)


def topological_order(root):
    """Nodes that need a gradient, parents before children.

    Every recorded node carries a creation number (``_seq``) and an op's inputs always exist
    before its output, so sorting the reachable nodes by that number is a topological order.
    The walk is iterative: a chain of 100,000 ops needs no recursion.

    >>> import chainrule as cr
    >>> a = cr.tensor(1.0, requires_grad=True); b = a * 2; c = b + a
    >>> [t.op for t in topological_order(c)]
    [None, 'mul', 'add']
    """
    order = _reachable(root)
    order.reverse()
    return order


def _reachable(root):
    """Nodes reachable from ``root`` that need a gradient, children before parents."""
    # Tensors hash by identity (object.__hash__), so they key sets and dicts directly.
    nodes = [root]
    seen = {root}
    add = seen.add
    append = nodes.append
    last_rebase = InplaceLog.last_rebase
    for node in nodes:  # the list grows while we walk it: a breadth-first sweep
        if node._seq < last_rebase:
            _redirect(node)
        for parent in node.parents:
            if parent.requires_grad and parent not in seen:
                add(parent)
                append(parent)
    nodes.sort(key=_by_seq, reverse=True)
    return nodes


def _by_seq(node):
    return node._seq


def _redirect(node):
    """Point ``node`` at the versions of its parents that it saw when it was recorded.

    A recorded in-place op keeps the changed tensor's identity and moves its old history into a
    hidden tensor, the in-place node's first parent. A parent newer than ``node`` has been changed
    in place since: walk its chain of first parents back to the version older than ``node``.
    """
    seq = node._seq
    parents = node.parents
    for p in parents:
        if p._seq > seq:
            break
    else:
        return
    fixed = []
    for p in parents:
        while p._seq > seq:
            p = p.parents[0]
        fixed.append(p)
    node.parents = tuple(fixed)


# Which inputs a backward function reads (``fn -> (reads_output, input indices)``); functions not
# listed are assumed to read their output and every input. Only consulted when a tensor was
# changed in place after the node was recorded, so that e.g. ``add`` (which reads nothing) does
# not complain about a later change of its input.
SAVED_READS = {}


def reads(fn, output=False, inputs=()):
    """Declare what backward function ``fn`` reads of its node (for the in-place check)."""
    SAVED_READS[fn] = (bool(output), tuple(inputs))
    return fn


INPLACE_MESSAGE = (
    "backward of '{op}': an array it saved for backward ({what}, shape {shape}) was modified in "
    "place by '{by}' after the forward pass, so the gradient would be wrong. Use an out-of-place "
    "op (e.g. `x = x * 2` instead of `x.mul_(2)`) or change a .clone() of the tensor. (Writes "
    "through `.data` or through a view of another tensor are not tracked.)"
)


def _check_versions(node):
    """Raise if an array ``node``'s backward reads was written in place after it was recorded."""
    seq = node._seq
    spec = SAVED_READS.get(node._backward)
    read_out, read_inputs = spec if spec is not None else (True, None)
    candidates = [(node, "its output")] if read_out else []
    for i, p in enumerate(node.parents):
        if read_inputs is None or i in read_inputs:
            candidates.append((p, f"input {i}"))
    for t, what in candidates:
        stamp = getattr(t, "_modified", None)
        if stamp is not None and stamp[0] > seq:
            raise RuntimeError(INPLACE_MESSAGE.format(
                op=node.op, what=what, shape=t.data.shape, by=stamp[1]))


def _wrap(array):  # replaced by tensor.py with its fast Tensor constructor
    raise RuntimeError("chainrule.tensor was not imported")


def _accumulate(tensor, g, may_steal=True):
    """Add gradient array ``g`` into ``tensor.grad`` (a leaf, or a node that retains grad)."""
    dtype = tensor.data.dtype
    if g.__class__ is not np.ndarray:  # a NumPy scalar from a 0-d reduction: immutable
        g = np.asarray(g)
    if g.dtype != dtype:
        g = g.astype(dtype)
    if g.shape != tensor.data.shape:
        g = np.broadcast_to(g, tensor.data.shape)
    current = tensor.grad
    if current is None:
        # Keep ``g`` itself as the new .grad when nobody else holds it: the references are
        # the engine's local, this parameter and getrefcount's argument. Anything more means
        # it is shared (e.g. add hands one gradient to both inputs) and must be copied.
        if not (may_steal and sys.getrefcount(g) <= 3 and g.base is None
                and g.flags.writeable):
            g = g.copy()
        tensor.grad = _wrap(g)
    elif current.data.flags.writeable:
        current.data += g
    else:
        current.data = current.data + g


def backward(root, gradient=None, retain_graph=False):
    """Backpropagate from ``root``, accumulating into the ``.grad`` of every leaf that needs it.

    ``gradient`` is dL/droot (same shape as ``root``); it may be omitted for a one-element root.
    Each node's saved arrays are released once used unless ``retain_graph=True``.
    """
    if not root.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no graph to backpropagate "
            "through; create the inputs with requires_grad=True (and not under cr.no_grad())"
        )
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: the output has shape {root.data.shape}; gradients can be created "
                "implicitly only for one-element outputs. Reduce it first (e.g. y.sum()) or pass "
                "gradient=<array of the same shape> (dL/dy)"
            )
        seed = np.ones(root.data.shape, dtype=root.data.dtype)
    else:
        seed = np.asarray(getattr(gradient, "data", gradient), dtype=root.data.dtype)
        if seed.shape != root.data.shape:
            raise ValueError(
                f"backward: gradient has shape {seed.shape} but the output has shape "
                f"{root.data.shape}; they must match"
            )
    anomaly = GradMode.anomaly
    last_write = InplaceLog.last_write
    grads = {root: seed}
    del seed
    pop = grads.pop
    get = grads.get
    for node in _reachable(root):
        g = pop(node, None)
        if g is None:
            continue
        fn = node._backward
        if fn is None:  # a leaf: keep or add the gradient
            _accumulate(node, g)
            continue
        if node._retain:
            _accumulate(node, g, may_steal=False)
        if node._saved is None:
            raise RuntimeError(FREED_GRAPH_MESSAGE.format(op=node.op))
        if node._seq < last_write:
            _check_versions(node)
        parent_grads = fn(g, node)
        del g
        if anomaly:
            _check_finite(node, parent_grads)
        for parent, pg in zip(node.parents, parent_grads):
            if pg is not None and parent.requires_grad:
                prev = get(parent)
                grads[parent] = pg if prev is None else prev + pg
        del parent_grads, pg
        if not retain_graph:
            node._saved = None


def _check_finite(node, parent_grads):
    for i, (parent, pg) in enumerate(zip(node.parents, parent_grads)):
        if pg is not None and parent.requires_grad and not np.all(np.isfinite(pg)):
            raise FloatingPointError(
                f"backward of '{node.op}' produced a non-finite gradient for input {i} "
                f"(shape {parent.data.shape})"
            )


class inference_mode(_GradModeSwitch):
    """PyTorch's ``torch.inference_mode``: here the same as :class:`no_grad` (chainrule has no
    separate inference tensors); ``inference_mode(False)`` records as usual.

    >>> import chainrule as cr
    >>> with cr.inference_mode():
    ...     (cr.tensor(1.0, requires_grad=True) * 2).requires_grad
    False
    """

    def __new__(cls, mode=True):
        if callable(mode):  # bare decorator: @inference_mode
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        super().__init__()
        self.mode = not bool(mode)


# --------------------------------------------------------------------------- autograd.grad
def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned as a tuple and
    **without** touching any ``.grad`` (``torch.autograd.grad``).

    ``outputs``: a tensor or a sequence of tensors; ``grad_outputs``: dL/d(output) for each (may
    be omitted for one-element outputs). ``inputs`` may be leaves or intermediate tensors. An
    input the outputs do not depend on raises unless ``allow_unused=True`` (then its entry is
    None, or zeros with ``materialize_grads=True``). Saved arrays are freed unless
    ``retain_graph=True``. ``create_graph=True`` (higher-order gradients) is not supported.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> (g,) = cr.autograd.grad((x ** 3).sum(), x); g.tolist(), x.grad
    ([3.0, 12.0], None)
    """
    if create_graph:
        raise NotImplementedError(
            "autograd.grad: create_graph=True (differentiating a gradient again) is not "
            "supported: chainrule's backward computes gradients as NumPy arrays, off the graph"
        )
    outputs = (outputs,) if hasattr(outputs, "_backward") else tuple(outputs)
    inputs = (inputs,) if hasattr(inputs, "_backward") else tuple(inputs)  # e.g. parameters()
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif hasattr(grad_outputs, "_backward") or isinstance(grad_outputs, np.ndarray):
        grad_outputs = (grad_outputs,)
    else:
        grad_outputs = tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"autograd.grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs"
        )
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} does not require grad")
    grads = {}
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise RuntimeError(
                "autograd.grad: an output does not require grad and has no graph; create the "
                "inputs with requires_grad=True (and not under cr.no_grad())"
            )
        seed = _seed_of(out, g, "autograd.grad")
        grads[out] = seed if out not in grads else grads[out] + seed
    wanted = {t: None for t in inputs}
    _backward_into(grads, wanted, bool(retain_graph))
    results = []
    for i, t in enumerate(inputs):
        g = wanted[t]
        if g is None:
            if not allow_unused and not materialize_grads:
                raise RuntimeError(
                    f"autograd.grad: input {i} (shape {t.data.shape}) was not used to compute "
                    "the outputs; pass allow_unused=True to get None for it"
                )
            results.append(_wrap(np.zeros_like(t.data)) if materialize_grads else None)
            continue
        g = np.asarray(g)
        if g.dtype != t.data.dtype:
            g = g.astype(t.data.dtype)
        if g.shape != t.data.shape:
            g = np.broadcast_to(g, t.data.shape)
        results.append(_wrap(np.array(g)))  # own memory: nothing else holds it
    return tuple(results)


def _seed_of(root, gradient, what):
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"{what}: an output has shape {root.data.shape}; gradients can be created "
                "implicitly only for one-element outputs: pass grad_outputs"
            )
        return np.ones(root.data.shape, dtype=root.data.dtype)
    seed = np.asarray(getattr(gradient, "data", gradient), dtype=root.data.dtype)
    if seed.shape != root.data.shape:
        raise ValueError(
            f"{what}: a gradient has shape {seed.shape} but its output has shape "
            f"{root.data.shape}; they must match"
        )
    return seed


def _backward_into(grads, wanted, retain_graph):
    """The engine of :func:`grad`: propagate ``grads`` (node -> array) to every node that
    needs one and record in ``wanted`` the total gradient of each wanted node; leaves' and
    retained nodes' ``.grad`` stay untouched. (``backward`` keeps its own, leaner loop.)"""
    nodes = list(grads)
    seen = set(nodes)
    for node in nodes:
        for parent in node.parents:
            if parent.requires_grad and parent not in seen:
                seen.add(parent)
                nodes.append(parent)
    nodes.sort(key=_by_seq, reverse=True)
    anomaly = GradMode.anomaly
    for node in nodes:
        g = grads.pop(node, None)
        if g is None:
            continue
        if node in wanted:
            wanted[node] = g
        fn = node._backward
        if fn is None:
            continue
        if node._saved is None:
            raise RuntimeError(FREED_GRAPH_MESSAGE.format(op=node.op))
        parent_grads = fn(g, node)
        if anomaly:
            _check_finite(node, parent_grads)
        for parent, pg in zip(node.parents, parent_grads):
            if pg is not None and parent.requires_grad:
                prev = grads.get(parent)
                grads[parent] = pg if prev is None else prev + pg
        if not retain_graph:
            node._saved = None


def __getattr__(name):
    # cr.autograd.Function and friends live in autograd_function.py (it needs Tensor, which
    # imports this module first); cr.autograd.gradcheck is the library's gradcheck.
    if name in ("Function", "FunctionCtx", "once_differentiable", "Variable"):
        from chainrule import autograd_function

        return getattr(autograd_function, name)
    if name in ("gradcheck", "jacobian"):
        import importlib

        return getattr(importlib.import_module("chainrule.gradcheck"), name)
    raise AttributeError(f"module 'chainrule.autograd' has no attribute {name!r}")
