"""``explain(t)``: the lecture's walk-through of backpropagation, done on a real graph.

For a scalar output it lists every node (value and accumulated gradient), every edge with its
local derivative, and for every leaf the routes to the output: "multiply the edges of a route,
add the routes". It reads the same graph the engine uses (``.op``, ``.parents``, each op's
backward function) and never calls ``backward()``: no leaf's ``.grad`` changes and no saved
array is freed.

>>> import chainrule as cr
>>> a = cr.tensor(4.0, requires_grad=True, name="a")
>>> b = cr.tensor(3.0, requires_grad=True, name="b")
>>> c = a + b; c.name = "c"; d = a * c; d.name = "d"
>>> text = explain(d, echo=False)
>>> "dd/da = 7 + 4 = 11" in text, "dd/db = 4" in text
(True, True)
"""

import os
import sys
from dataclasses import dataclass, field

import numpy as np

from chainrule.ops.registry import rule_texts
from chainrule.teach._render import plain_text, print_rich
from chainrule.tensor import Tensor

# What each op's local derivative is, per input: the rule the numbers come from (one line per
# input, from the op table in chainrule.ops.registry, which also generates docs/operators.md).
_RULES = rule_texts()
# The fused attention-family primitives (tested by their own oracle suite) state theirs here.
_RULES.update({
    "layer_norm": ("g ↦ r(ĝ − mean ĝ − x̂·mean(ĝ·x̂)), ĝ = γg", "g ↦ Σ g·x̂", "g ↦ Σ g"),
    "scaled_dot_product_attention": ("dQ = dA K·s, dA = P⊙(dP − Σ dP⊙P), dP = g Vᵀ",
                                     "dK = dAᵀ Q·s", "dV = Pᵀ g", "dM = dA"),
    "attention_weights": ("dQ = dA K·s, dA = P⊙(g − Σ g⊙P)", "dK = dAᵀ Q·s", "dM = dA"),
    "packed_attention": ("[dQ dK dV] from dV = Pᵀ g, dA = P⊙(g Vᵀ − Σ g Vᵀ⊙P)", "dM = dA"),
})


# shape, indexing and linear algebra ops (issue 12, opsshape)
from chainrule.ops import indexing as _indexing  # noqa: E402
from chainrule.ops import linalg as _linalg  # noqa: E402
from chainrule.ops import shape_extra as _shape_extra  # noqa: E402

for _module in (_shape_extra, _indexing, _linalg):
    _RULES.update(_module.BACKWARD_RULES)
_RULES.update({  # convolution and pooling (ops/conv.py, ops/pooling.py)
    "conv2d": ("g ↦ col2im(Wᵀ @ g)", "g ↦ g @ colsᵀ", "g ↦ Σ_{n,y,x} g"),
    "conv1d": ("g ↦ col2im(Wᵀ @ g)", "g ↦ g @ colsᵀ", "g ↦ Σ_{n,x} g"),
    "max_pool2d": ("g ↦ g at each window's first maximum, 0 elsewhere",),
    "max_pool1d": ("g ↦ g at each window's first maximum, 0 elsewhere",),
    "avg_pool2d": ("g ↦ g / divisor into every cell of the window",),
    "avg_pool1d": ("g ↦ g / divisor into every cell of the window",),
    "adaptive_avg_pool2d": ("g ↦ A_hᵀ @ g @ A_w",),
    "adaptive_max_pool2d": ("g ↦ g at each window's maximum",),
    "pad": ("g ↦ g without the padding (summed where modes copy a cell)",),
})


_ROUTE_STEPS = 6  # a longer route shows its first and last 6 steps


@dataclass
class _Node:
    tensor: Tensor
    label: str
    kind: str  # "op", "leaf", "param" or "const"
    grad: np.ndarray | None = None


@dataclass
class _Edge:
    child: _Node
    parent: _Node
    index: int  # which input of the child's op
    local: np.ndarray  # the parent's gradient for a unit upstream gradient (1ᵀJ)
    twin: bool = False  # the same parent feeds the child more than once (x * x)


@dataclass
class _LeafRoutes:
    leaf: _Node
    routes: list  # each: (edges from the output down to the leaf, contribution ndarray)
    total: int  # number of routes in the graph (may exceed len(routes))


@dataclass
class _Report:
    output: _Node
    nodes: list
    edges: list
    leaves: list = field(default_factory=list)
    leaves_total: int = 0


# --------------------------------------------------------------------------- formatting
def _num(x):
    """A number as the lecture writes it: 7 not 7.0, 6 significant digits."""
    x = float(x)
    return "0" if x == 0 else f"{x:.6g}"


def _is_scalar(a):
    return np.size(a) == 1


def _summary(a):
    """A short description of an array: its values when tiny, else mean/min/max."""
    a = np.asarray(a, dtype=np.float64)
    if a.size == 1:
        return _num(a.reshape(-1)[0])
    if a.size <= 4:
        return "[" + ", ".join(_num(v) for v in a.reshape(-1)) + "]"
    if a.size == 0:
        return "(empty)"
    return f"mean {_num(a.mean())}, min {_num(a.min())}, max {_num(a.max())}"


def _d(label):
    """How a label appears in d-notation: dd/da, d(mean#3)/dW."""
    return label if label.isidentifier() else f"({label})"


# --------------------------------------------------------------------------- analysis
def _kind(t):
    """'op' (made by an op), 'param' (an nn.Parameter), 'leaf' (requires grad) or 'const'."""
    if t._backward is not None:
        return "op"
    if type(t).__name__ == "Parameter":
        return "param"
    return "leaf" if t.requires_grad else "const"


def tensor_names(names):
    """``{id(tensor): name}`` from a Module (its ``named_parameters()``), a dict
    ``{name: tensor}`` or None.

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0], requires_grad=True)
    >>> tensor_names({"w": w}) == {id(w): "w"}
    True
    """
    if names is None:
        return {}
    if hasattr(names, "named_parameters"):
        names = dict(names.named_parameters())
    if not isinstance(names, dict):
        raise TypeError(f"names: expected a Module or a dict {{name: tensor}}, got "
                        f"{type(names).__name__}")
    return {id(t): str(name) for name, t in names.items()}


def display_name(t, names=None):
    """The name a tensor is shown by: its ``.name``, else its name in ``names`` (from
    :func:`tensor_names`), else a Parameter's path in the module that registered it
    (``0.weight``); None when it has none.

    >>> import chainrule as cr
    >>> net = cr.nn.Sequential(cr.nn.Linear(2, 1))
    >>> display_name(net[0].weight), display_name(cr.tensor(1.0))
    ('0.weight', None)
    """
    if t.name:
        return t.name
    name = names.get(id(t)) if names else None
    return name or getattr(t, "_module_path", None)


def _label_nodes(tensors, names=None):
    """Labels: the tensor's name (or its name in ``names``), else op name (or
    leaf/param/const) plus a short number."""
    names = names or {}
    nodes, used = {}, set()
    for k, t in enumerate(tensors):
        kind = _kind(t)
        label = display_name(t, names) or f"{t.op if kind == 'op' else kind}#{k}"
        if label in used:  # two tensors share a name (two layers' "weight")
            label = f"{label}#{k}"
        used.add(label)
        nodes[id(t)] = _Node(t, label, kind)
    return nodes


def _check_graph(t, op_name):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op_name}: expects a chainrule Tensor, got {type(t).__name__}")
    if t.data.size != 1:
        raise ValueError(
            f"{op_name}: needs a scalar (one-element) output such as a loss, got shape "
            f"{t.data.shape}; reduce it first, e.g. y.sum() or y.mean()"
        )
    if not t.requires_grad:
        raise ValueError(
            f"{op_name}: this tensor does not require grad, so no graph was recorded; create the "
            "inputs with requires_grad=True (and not under cr.no_grad())"
        )


def graph_nodes(t):
    """Every tensor of ``t``'s graph, constants included, inputs before the ops that use them.

    The order is a depth-first walk that follows each op's inputs left to right, so it reads
    like the expression (``a * (a + b)`` lists a, b, add, mul). It is a topological order.

    >>> import chainrule as cr
    >>> x = cr.tensor(2.0, requires_grad=True); y = x * 3
    >>> [(n.op, n.requires_grad) for n in graph_nodes(y)]
    [(None, True), (None, False), ('mul', True)]
    """
    if t.requires_grad:  # point nodes recorded before an in-place op at the version they saw
        from chainrule.autograd import topological_order

        topological_order(t)
    order, seen = [], {id(t)}
    stack = [(t, iter(t.parents))]
    while stack:  # iterative: a chain of many thousand ops needs no recursion
        node, parents = stack[-1]
        for parent in parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append((parent, iter(parent.parents)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def _check_saved(node):
    # backward() without retain_graph frees each op's saved arrays (``_saved = None``).
    if node._saved is None:
        raise RuntimeError(
            f"explain: node '{node.op}' already released its saved arrays in an earlier "
            "backward(); call explain before backward(), use backward(retain_graph=True), or "
            "recompute the forward pass"
        )


def local_derivatives(node):
    """The local derivative of ``node`` with respect to each of its inputs.

    Runs the op's backward function on a unit upstream gradient (``np.ones_like(node.data)``)
    and keeps the saved arrays, so the graph stays usable. For a scalar node each entry is the
    exact partial derivative ∂node/∂input; for arrays it is the row-sum of the Jacobian (1ᵀJ).
    Inputs that need no gradient give ``None``.

    >>> import chainrule as cr
    >>> a = cr.tensor(4.0, requires_grad=True); c = cr.tensor(7.0, requires_grad=True)
    >>> [float(g) for g in local_derivatives(a * c)]
    [7.0, 4.0]
    """
    if node._backward is None:
        return ()
    _check_saved(node)
    grads = node._backward(np.ones_like(node.data), node)
    return tuple(None if g is None or not p.requires_grad else np.asarray(g)
                 for p, g in zip(node.parents, grads))


def _reverse_pass(order, root):
    """Accumulated gradient d(root)/d(node) for every node, without touching any ``.grad``."""
    grads = {id(root): np.ones_like(root.data)}
    for node in reversed(order):
        g = grads.get(id(node))
        if g is None or node._backward is None:
            continue
        _check_saved(node)
        for p, pg in zip(node.parents, node._backward(g, node)):
            if pg is None or not p.requires_grad:
                continue
            prev = grads.get(id(p))
            grads[id(p)] = np.asarray(pg) if prev is None else prev + pg
    return grads


def _route_contribution(route, root):
    """Push a unit gradient down one route only; summed over routes it gives the gradient.

    For a route of scalars that is the product of its local derivatives.
    """
    if all(e.local.size == 1 and e.child.tensor.data.size == 1 for e in route):
        g = np.ones((), dtype=root.data.dtype)
        for edge in route:
            g = g * edge.local.reshape(())
        return g
    g = np.ones_like(root.data)
    for edge in route:
        child = edge.child.tensor
        g = np.asarray(child._backward(g, child)[edge.index])
    return g


def _routes_from(leaf, output, up, limit):
    """Up to ``limit`` routes from ``leaf`` to ``output``, each as its edges output-first.

    Walks upward (input → the ops that use it) depth-first, trying the op nearest the output
    first, so direct routes come before long ones. Paths are shared linked cells, so a deep
    graph costs no quadratic copying.
    """
    found = []
    stack = [(leaf, None)]  # (node, (edge, rest) cells back down to the leaf)
    while stack and len(found) < limit:
        node, cells = stack.pop()
        if node is output:
            route = []
            while cells is not None:
                edge, cells = cells
                route.append(edge)
            found.append(route)
            continue
        for edge in up.get(id(node.tensor), ()):  # sorted nearest-the-output last
            stack.append((edge.child, (edge, cells)))
    return found


def _route_counts(order, root, down):
    """Number of routes from ``root`` to every node (exact integers: they can grow
    exponentially, e.g. 2**30 for 30 steps of ``h = h*0.5 + h*0.5``)."""
    count = {id(root): 1}
    for node in reversed(order):
        c = count.get(id(node), 0)
        if not c:
            continue
        for edge in down.get(id(node), ()):
            key = id(edge.parent.tensor)
            count[key] = count.get(key, 0) + c
    return count


def _analyze(t, max_routes, max_leaves, names=None):
    tensors = graph_nodes(t)
    order = [n for n in tensors if n.requires_grad]
    position = {id(n): k for k, n in enumerate(order)}
    nodes = _label_nodes(tensors, names)
    grads = _reverse_pass(order, t)
    for key, g in grads.items():
        nodes[key].grad = g

    edges, down, up = [], {}, {}
    for n in order:
        locals_ = local_derivatives(n)
        ids = [id(p) for p in n.parents]
        for i, (p, local) in enumerate(zip(n.parents, locals_)):
            if local is None:
                continue
            edge = _Edge(nodes[id(n)], nodes[id(p)], i, local, twin=ids.count(id(p)) > 1)
            edges.append(edge)
            down.setdefault(id(n), []).append(edge)
            up.setdefault(id(p), []).append(edge)
    for uses in up.values():  # the stack pops the last first: the op nearest the output
        uses.sort(key=lambda e: (position[id(e.child.tensor)], -e.index))

    report = _Report(nodes[id(t)], [nodes[id(x)] for x in tensors], edges)
    leaves = [n for n in order if n._backward is None]
    report.leaves_total = len(leaves)
    counts = _route_counts(order, t, down)
    for leaf_t in leaves[:max_leaves]:
        leaf = nodes[id(leaf_t)]
        total = counts.get(id(leaf_t), 0)
        found = _routes_from(leaf, report.output, up, max_routes) if total else []
        routes = [(r, _route_contribution(r, t)) for r in found]
        report.leaves.append(_LeafRoutes(leaf, routes, total))
    return report


# --------------------------------------------------------------------------- report text
def _route_text(route, contribution, out_label):
    """'d ← c ← a: 4 × 1 = 4' for scalars; Jacobian shapes and a summary for arrays."""
    shown = _elide(route)  # None marks the hidden middle of a long route
    hidden = f"… ({len(route) - len(shown) + 1} steps)"
    path = out_label + "".join(
        f" ← {hidden}" if e is None else
        (f" ←(input {e.index + 1}) " if e.twin else " ← ") + e.parent.label for e in shown)
    direct = " (direct)" if len(route) == 1 else ""
    if all(e.local.size == 1 and e.child.tensor.data.size == 1 for e in route):
        factors = [hidden if e is None else _num(e.local.reshape(-1)[0]) for e in shown]
        factors = [f"({f})" if f.startswith("-") else f for f in factors]
        value = _num(np.asarray(contribution).reshape(-1)[0])
        if len(factors) == 1:
            return f"{path}{direct}: {value}", value
        return f"{path}{direct}: {' × '.join(factors)} = {value}", value
    shapes = " · ".join(hidden if e is None else
                        str((e.child.tensor.data.size, e.parent.tensor.data.size)) for e in shown)
    return f"{path}{direct}: Jacobians {shapes} → {_summary(contribution)}", None


def _elide(route, keep=_ROUTE_STEPS):
    """The first and last ``keep`` edges of a long route, ``None`` standing for the middle."""
    if len(route) <= 2 * keep + 1:
        return route
    return route[:keep] + [None] + route[-keep:]


def _signed_sum(terms):
    """'7 + 4', '0.5 - 2' (a negative term is subtracted, as one would write it)."""
    text = terms[0]
    for t in terms[1:]:
        text += f" - {t[1:]}" if t.startswith("-") else f" + {t}"
    return text


def _sections(report, max_nodes):
    out = report.output
    dout = _d(out.label)
    sections = []
    op_desc = f"{out.tensor.op}({', '.join(_node_label(p, report) for p in out.tensor.parents)})"
    head = (f"explain {out.label}" + (f" = {op_desc}" if out.tensor.op else "")
            + f" = {_summary(out.tensor.data)}: {len(report.nodes)} nodes, "
            f"{len(report.edges)} edges")
    sections.append(("text", [head]))

    rows = []
    for n in report.nodes[:max_nodes]:
        grad = "— (constant)" if n.kind == "const" else (
            "—" if n.grad is None else _summary(n.grad))
        op = n.tensor.op if n.kind == "op" else n.kind
        rows.append([n.label, op, str(tuple(n.tensor.data.shape)),
                     _summary(n.tensor.data), grad])
    more = len(report.nodes) - max_nodes
    sections.append(("table", "1. Forward pass: the nodes, inputs first",
                     ["node", "op", "shape", "value", f"d{dout}/d(node)"], rows,
                     f"… {more} more nodes omitted" if more > 0 else None))

    rows = []
    for e in report.edges[:max_nodes]:
        child, parent = e.child.tensor, e.parent.tensor
        name = f"∂{_d(e.child.label)}/∂{_d(e.parent.label)}"
        if e.twin:
            name += f" (input {e.index + 1})"
        if _is_scalar(child.data) and _is_scalar(parent.data):
            value = _num(np.asarray(e.local).reshape(-1)[0])
        else:
            value = (f"Jacobian {(child.data.size, parent.data.size)}; "
                     f"1ᵀJ: {_summary(e.local)}")
        rules = _RULES.get(child.op, ())
        rule = rules[e.index] if e.index < len(rules) else ""
        if child.op == "pow" and len(child.parents) == 1:
            rule = f"{rules[0]}, p = {_num(child._saved[0])}" if child._saved else rules[0]
        rows.append([name, value, f"{child.op}: {rule}" if rule else child.op])
    more = len(report.edges) - max_nodes
    sections.append(("table", "2. Local derivatives: one per edge, from the op's backward "
                     "rule with a unit upstream gradient",
                     ["edge", "local derivative", "rule"], rows,
                     f"… {more} more edges omitted" if more > 0 else None))

    lines = []
    for lr in report.leaves[:max_nodes]:
        leaf = lr.leaf
        name = f"d{dout}/d{_d(leaf.label)}"
        if leaf.tensor is out.tensor:
            lines += [f"{leaf.label}: the output itself", f"  {name} = 1"]
            continue
        lines.append(f"{leaf.label}: {lr.total} route{'s' if lr.total != 1 else ''}")
        terms = []
        for route, contribution in lr.routes:
            text, term = _route_text(route, contribution, out.label)
            lines.append("  " + text)
            terms.append(term)
        omitted = lr.total - len(lr.routes)
        if omitted > 0:
            lines.append(f"  … {omitted} more route{'s' if omitted != 1 else ''} omitted")
        grad = leaf.grad if leaf.grad is not None else np.zeros_like(leaf.tensor.data)
        if lr.total == 0:
            lines.append(f"  {name} = 0 (no route reaches the output)")
        elif _is_scalar(grad) and all(t is not None for t in terms):
            total = _num(np.asarray(grad).reshape(-1)[0])
            if len(terms) == 1 and omitted <= 0:
                lines.append(f"  {name} = {total}")
            else:
                shown = _signed_sum(terms) + (f" + … ({omitted} more)" if omitted > 0 else "")
                lines.append(f"  {name} = {shown} = {total}")
        else:
            what = "the route's contribution" if lr.total == 1 else (
                f"the sum of the {lr.total} route contributions")
            lines.append(f"  {name} = {what}: shape {tuple(np.shape(grad))}, {_summary(grad)}")
    more = report.leaves_total - len(report.leaves[:max_nodes])
    if more > 0:
        lines.append(f"… {more} more leaves omitted")
    sections.append(("lines", f"3. Routes to {out.label}: multiply the local derivatives along "
                     "each route, add the routes", lines))
    return sections


def _node_label(t, report):
    for n in report.nodes:
        if n.tensor is t:
            return n.label
    return "?"


def explain(t, file=None, *, names=None, max_routes=8, max_nodes=60, echo=True):
    """Walk through backpropagation for the scalar tensor ``t`` as the lecture does.

    Three parts: (1) every node with its value and accumulated gradient d t / d node;
    (2) every edge with its local derivative (exact partials for scalar nodes; for arrays the
    Jacobian's shape ``(out.size, in.size)`` and a summary of 1ᵀJ); (3) for each leaf the routes
    to ``t``, the product of local derivatives along each route and their sum. At most
    ``max_routes`` routes per leaf and ``max_nodes`` nodes/edges/leaves are listed; the rest
    are counted.

    Nodes are labelled by ``.name`` when set, else by ``names`` (a Module, whose parameter
    names such as ``0.weight`` are used, or a dict ``{name: tensor}``), else, for a Parameter,
    by its path in the module that registered it (``0.weight``, ``2.bias``: no ``names``
    needed), else by op and a short number (``mul#3``, ``leaf#0``, ``const#2``).

    Nothing is modified: ``backward()`` is not called, leaves keep their ``.grad`` and the graph
    keeps its saved arrays. The text is returned; it is also printed (rich tables when rich is
    installed) unless ``echo=False``, or written to ``file`` (a path or an open text file).

    >>> import chainrule as cr
    >>> x = cr.tensor(3.0, requires_grad=True, name="x"); y = x * x; y.name = "y"
    >>> print(explain(y, echo=False).splitlines()[-1].strip())
    dy/dx = 3 + 3 = 6
    """
    _check_graph(t, "explain")
    if max_routes < 1 or max_nodes < 1:
        raise ValueError(f"explain: max_routes and max_nodes must be >= 1, got {max_routes}, "
                         f"{max_nodes}")
    sections = _sections(_analyze(t, max_routes, max_nodes, tensor_names(names)), max_nodes)
    text = plain_text(sections)
    if file is not None:
        if hasattr(file, "write"):
            file.write(text)
        else:
            with open(os.fspath(file), "w", encoding="utf-8") as f:
                f.write(text)
    elif echo and not print_rich(sections, sys.stdout):
        sys.stdout.write(text)
    return text
