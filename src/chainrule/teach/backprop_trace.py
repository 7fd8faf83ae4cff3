"""The backward pass, step by step, as data: what the interactive page (:func:`to_html`) plays.

:func:`backprop_trace` walks the graph of a scalar ``loss`` in the engine's order (reverse
creation order, :func:`chainrule.autograd.topological_order`) and, at each op, calls the op's
own backward function on the gradient that has arrived there, exactly as ``backward()`` does.
Every edge's contribution (a vector-Jacobian product) and every node's running sum are recorded
as they are added, so the page only shows numbers the engine computed; nothing is differentiated
in JavaScript. No ``.grad`` is touched and no saved array is freed.

>>> import chainrule as cr
>>> a = cr.tensor(4.0, requires_grad=True, name="a"); b = cr.tensor(3.0, requires_grad=True,
...     name="b")
>>> c = a + b; c.name = "c"; d = a * c; d.name = "d"
>>> trace = backprop_trace(d)
>>> [s["title"] for s in trace["steps"]][-1]
'done: every leaf holds its gradient'
>>> trace["final"]["a"]["sum"]
'dd/da = 7 + 4 = 11'
"""

import numpy as np

from chainrule.autograd import topological_order
from chainrule.teach.explainer import (
    _check_graph,
    _d,
    _label_nodes,
    _num,
    _signed_sum,
    _summary,
    graph_nodes,
    tensor_names,
)
from chainrule.teach.graph import survives_backward

_MAX_VALUES = 256  # tensors up to this size carry their full values (for tests and tooltips)


def _values(a):
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(-1).tolist() if a.size <= _MAX_VALUES else None


def _shape_text(a):
    return "scalar" if np.ndim(a) == 0 else "×".join(str(n) for n in np.shape(a))


def _short_num(x):
    return f"{float(x):.3g}"


def _value_text(a):
    """A value as its box shows it (the shape has its own line): a scalar's number, a few
    values, or the mean and the range.

    >>> _value_text(np.arange(6.0).reshape(2, 3))
    'mean 2.5 in [0, 5]'
    """
    a = np.asarray(a, dtype=np.float64)
    if a.size == 1:
        return _num(a.reshape(-1)[0])
    if a.size <= 3:
        return "[" + ", ".join(_short_num(v) for v in a.reshape(-1)) + "]"
    if a.size == 0:
        return "(empty)"
    return f"mean {_short_num(a.mean())} in [{_short_num(a.min())}, {_short_num(a.max())}]"


def _backward_of(node, op_name):
    if node._saved is None and not survives_backward(node):
        raise RuntimeError(
            f"{op_name}: node '{node.op}' already released its saved arrays in an earlier "
            f"backward(); call {op_name} before backward(), use backward(retain_graph=True), or "
            "recompute the forward pass"
        )
    return node._backward


def _sum_text(name, terms, total):
    """'dd/da = 7 + 4 = 11' (scalars) or 'dL/dW = Σ of 2 contributions: mean …' (arrays)."""
    if total is None:
        return f"{name} = 0 (nothing has arrived yet)"
    if np.size(total) == 1:
        value = _num(np.asarray(total).reshape(-1)[0])
        if len(terms) <= 1:
            return f"{name} = {value}"
        return f"{name} = {_signed_sum(terms)} = {value}"
    what = "one contribution" if len(terms) == 1 else f"Σ of {len(terms)} contributions"
    return f"{name} = {what}: {_summary(total)}"


def backprop_trace(loss, names=None, op_name="backprop_trace"):
    """The graph of the scalar ``loss`` and its backward pass, one step per op, as plain data.

    Returns a dict with ``nodes`` (id, label, kind, op, shape, value text, inputs), ``edges``
    (id, from parent, to child, the local derivative ∂child/∂parent from a unit upstream
    gradient), ``steps`` (step 0 seeds the output with 1; each next step processes one op: the
    gradient that arrived, every edge's contribution and the running sum it leaves in the
    parent; the last step says every leaf is done) and ``final`` (per leaf: its gradient's
    text and, for tensors up to 256 elements, its values). ``names`` labels tensors as in
    :func:`chainrule.explain`.

    >>> import chainrule as cr
    >>> x = cr.tensor(3.0, requires_grad=True, name="x"); y = x * x; y.name = "y"
    >>> backprop_trace(y)["final"]["x"]["values"]
    [6.0]
    """
    _check_graph(loss, op_name)
    tensors = graph_nodes(loss)
    labelled = _label_nodes(tensors, tensor_names(names))
    index = {id(t): k for k, t in enumerate(tensors)}
    out_label = labelled[id(loss)].label
    dname = {id(t): f"d{_d(out_label)}/d{_d(labelled[id(t)].label)}" for t in tensors}

    nodes = []
    for k, t in enumerate(tensors):
        n = labelled[id(t)]
        nodes.append({"id": f"n{k}", "label": n.label, "kind": n.kind, "op": t.op or "",
                      "shape": _shape_text(t.data), "value": _value_text(t.data),
                      "inputs": [f"n{index[id(p)]}" for p in t.parents],
                      "output": t is loss, "leaf": t._backward is None and t.requires_grad})
    edges, edge_of = [], {}
    for t in tensors:
        for i, p in enumerate(t.parents):
            eid = f"e{len(edges)}"
            edge_of[(id(t), i)] = eid
            edges.append({"id": eid, "from": f"n{index[id(p)]}", "to": f"n{index[id(t)]}",
                          "index": i, "grad": bool(p.requires_grad), "local": ""})

    order = [t for t in reversed(topological_order(loss)) if t._backward is not None]
    waiting = {}  # how many ops still have to send each tensor a contribution
    for t in order:
        for p in t.parents:
            if p.requires_grad:
                waiting[id(p)] = waiting.get(id(p), 0) + 1
    complete = [f"n{index[id(loss)]}"]

    grads = {id(loss): np.ones_like(loss.data)}
    terms = {id(loss): ["1"]}
    sums = {id(loss): _sum_text(dname[id(loss)], [], grads[id(loss)])}
    steps = [{"title": f"start: {dname[id(loss)]} = 1", "node": f"n{index[id(loss)]}",
              "text": [f"The output {out_label} seeds the backward pass with "
                       f"{dname[id(loss)]} = 1."],
              "edges": [], **_snapshot(sums, grads, complete, index)}]
    for t in order:
        g = grads.get(id(t))
        if g is None:
            continue
        backward = _backward_of(t, op_name)
        label = labelled[id(t)].label
        unit = backward(np.ones_like(t.data), t)  # the local derivatives, for the labels
        pushed = backward(g, t)  # what the engine sends each input
        lines = [f"{label} = {t.op}(…) holds {sums[id(t)]}; its backward rule sends each input "
                 "upstream gradient × local derivative:"]
        lit = []
        for i, (p, pg, lg) in enumerate(zip(t.parents, pushed, unit)):
            eid = edge_of[(id(t), i)]
            if pg is None or not p.requires_grad:
                continue
            pg = np.asarray(pg)
            edge = edges[int(eid[1:])]
            scalar = np.size(t.data) == 1 and np.size(p.data) == 1
            if scalar:
                local = _num(np.asarray(lg).reshape(-1)[0])
                edge["local"] = f"∂ = {local}"
                contribution = _num(pg.reshape(-1)[0])
                up = _num(np.asarray(g).reshape(-1)[0])
                how = f"{up} × {local} = {contribution}"
            else:
                edge["local"] = f"J {np.size(t.data)}×{np.size(p.data)}"
                contribution = _summary(pg)
                how = f"vector-Jacobian product → {_shape_text(pg)}: {contribution}"
            prev = grads.get(id(p))
            grads[id(p)] = pg.copy() if prev is None else prev + pg
            terms.setdefault(id(p), []).append(contribution)
            sums[id(p)] = _sum_text(dname[id(p)], terms[id(p)], grads[id(p)])
            parent = labelled[id(p)].label
            lines.append(f"  {label} → {parent}: {how}; now {sums[id(p)]}")
            lit.append({"edge": eid, "text": how if scalar else f"→ {_shape_text(pg)}"})
            edge["step"] = len(steps)
        for p in t.parents:  # a tensor is complete once every op using it has sent its share
            if p.requires_grad:
                waiting[id(p)] -= 1
                if waiting[id(p)] == 0 and id(p) in grads:
                    complete.append(f"n{index[id(p)]}")
        steps.append({"title": f"backward through {label} = {t.op}", "node": f"n{index[id(t)]}",
                      "text": lines, "edges": lit, **_snapshot(sums, grads, complete, index)})
    leaves = [t for t in tensors if t._backward is None and t.requires_grad]
    final = {}
    for t in leaves:
        g = grads.get(id(t))
        final[labelled[id(t)].label] = {
            "id": f"n{index[id(t)]}", "sum": sums.get(id(t), f"{dname[id(t)]} = 0"),
            "shape": _shape_text(t.data),
            "values": _values(g if g is not None else np.zeros_like(t.data))}
    steps.append({"title": "done: every leaf holds its gradient", "node": None,
                  "text": [final[k]["sum"] for k in final], "edges": [],
                  **_snapshot(sums, grads, complete, index)})
    return {"output": out_label, "nodes": nodes, "edges": edges, "steps": steps, "final": final}


def _snapshot(sums, grads, complete, index):
    """The state after one step, keyed by node id ("n3"): running sums as the table shows
    them, each gradient so far as its box shows it, and the nodes whose gradient is final."""
    return {"sums": {f"n{index[k]}": v for k, v in sums.items()},
            "grads": {f"n{index[k]}": _value_text(v) for k, v in grads.items()},
            "complete": list(complete)}
