"""Draw a computational graph with graphviz: the lecture's boxes and arrows, for real tensors.

One graph node per tensor, arrows from each input to the tensor its op produced. Op results are
rounded boxes labelled with the op (and the tensor's name when set); leaves that require grad
are blue ellipses, Parameters green 3-D boxes, constants grey and dashed; the output has a
double border. For scalar graphs the values, any ``.grad`` already computed and the local
derivative on every edge are shown.

>>> import chainrule as cr
>>> a = cr.tensor(4.0, requires_grad=True, name="a"); d = a * (a + 3)
>>> "mul" in to_dot(d).source
True
"""

import shutil
import sys
from pathlib import Path

import numpy as np

from chainrule.teach._files import atomic_write, suffix_format
from chainrule.teach.explainer import (
    _kind,
    _num,
    _summary,
    display_name,
    graph_nodes,
    local_derivatives,
    tensor_names,
)

INSTALL_HINT = "install graphviz: apt-get install graphviz (Debian/Ubuntu) or brew install graphviz"

_STYLES = {
    "op": {"shape": "box", "style": "rounded,filled", "fillcolor": "#fff2cc"},
    "leaf": {"shape": "ellipse", "style": "filled,bold", "fillcolor": "#cfe2ff"},
    "param": {"shape": "box3d", "style": "filled,bold", "fillcolor": "#b6d7a8"},
    "const": {"shape": "ellipse", "style": "dashed", "color": "gray60", "fontcolor": "gray45"},
}


def _graphviz():
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "chainrule.teach.draw_graph needs the graphviz Python package: "
            "pip install 'chainrule[teach]' (and the dot program: " + INSTALL_HINT + ")"
        ) from None
    return graphviz


def _label(t, kind, show_values, escape, names):
    name = display_name(t, names)
    name = escape(name) if name else None
    if kind == "op":
        head = f"{name} = {t.op}" if name else t.op
    else:
        head = name or ("Parameter" if kind == "param" else kind)
    lines = [head, f"shape {tuple(t.data.shape)}"]
    if show_values:
        if t.data.size == 1:
            lines.append(f"value {_num(t.data.reshape(-1)[0])}")
        elif t.data.size <= 4:
            lines.append(f"value {_summary(t.data)}")
        if t.grad is not None:
            lines.append(f"grad {_summary(t.grad.data)}")
    return "\\n".join(lines)  # DOT's centred line break


def to_dot(t, show_values=True, names=None):
    """The computational graph of ``t`` as a ``graphviz.Digraph`` (renders inline in Jupyter).

    >>> import chainrule as cr
    >>> x = cr.tensor(2.0, requires_grad=True, name="x"); y = (x * x).sum()
    >>> dot = to_dot(y); dot.source.count("->")
    3
    """
    graphviz = _graphviz()
    dot = graphviz.Digraph("chainrule", graph_attr={"rankdir": "LR"},
                           node_attr={"fontname": "Helvetica", "fontsize": "11"},
                           edge_attr={"fontname": "Helvetica", "fontsize": "10"})
    tensors = graph_nodes(t)
    names = tensor_names(names)
    ids = {id(x): f"n{k}" for k, x in enumerate(tensors)}
    for x in tensors:
        kind = _kind(x)
        attrs = dict(_STYLES[kind])
        if x is t:
            attrs["peripheries"] = "2"
        dot.node(ids[id(x)], _label(x, kind, show_values, graphviz.escape, names), **attrs)
    unlabelled = set()  # ops whose edge derivatives backward() already freed
    for x in tensors:
        if x._backward is None:
            continue
        locals_ = _edge_labels(x, unlabelled) if show_values else ()
        for i, p in enumerate(x.parents):
            attrs = {"color": "gray60", "style": "dashed"} if not p.requires_grad else {}
            if i < len(locals_) and locals_[i]:
                attrs["label"] = locals_[i]
            dot.edge(ids[id(p)], ids[id(x)], **attrs)
    if unlabelled:
        dot.attr(label=freed_note(unlabelled), labelloc="b", fontname="Helvetica",
                 fontsize="10", fontcolor="gray30")
    return dot


def freed_note(ops):
    """Why some edges carry no derivative: the sentence shown under a drawing."""
    listed = ", ".join(sorted(ops))
    return (f"no local derivative on the edges of {listed}: backward() freed the arrays "
            "their rules need; draw before backward(), or call backward(retain_graph=True)")


def survives_backward(node):
    """True when ``node``'s backward rule reads only its inputs' and output's values (add,
    mul, div, tanh, ...), which backward() keeps, and not the saved arrays it frees."""
    code = getattr(node._backward, "__code__", None)
    return code is not None and "_saved" not in code.co_names


def scalar_local_derivatives(node, unlabelled=None):
    """∂node/∂input for each input of a one-element ``node`` (None where an input needs no
    gradient), from the op's own backward rule. After a backward() that freed the graph this
    still works for rules that need no saved arrays; otherwise the op's name is added to
    ``unlabelled`` and ``()`` is returned.

    >>> import chainrule as cr
    >>> a = cr.tensor(4.0, requires_grad=True); d = a * 7; d.backward()
    >>> [None if g is None else float(g) for g in scalar_local_derivatives(d)]
    [7.0, None]
    """
    if node.data.size != 1 or node._backward is None:
        return ()
    try:
        if node._saved is not None:
            return local_derivatives(node)
        if survives_backward(node):
            grads = node._backward(np.ones_like(node.data), node)
            return tuple(None if g is None or not p.requires_grad else np.asarray(g)
                         for p, g in zip(node.parents, grads))
    except Exception:  # a drawing should never fail because a backward rule did
        return ()
    if unlabelled is not None:
        unlabelled.add(node.op)
    return ()


def _edge_labels(node, unlabelled):
    """'∂ = 7' for each scalar edge of ``node`` (empty strings where not available)."""
    return tuple(f"∂ = {_num(np.asarray(g).reshape(-1)[0])}"
                 if g is not None and np.size(g) == 1 else ""
                 for g in scalar_local_derivatives(node, unlabelled))


def _dot_fallback(dot, path, reason):
    dot_path = Path(path).with_suffix(".dot")
    atomic_write(dot_path, lambda f: f.write(dot.source.encode("utf-8")))
    # One line, not a Python warning: the user asked for a picture and gets told plainly.
    print(f"draw_graph: {reason}, so wrote the DOT source {str(dot_path)!r} instead of "
          f"{str(path)!r}; to get images, {INSTALL_HINT}", file=sys.stderr)
    return dot_path


def draw_graph(t, path, show_values=True, names=None):
    """Draw the graph that produced ``t`` into ``path``; the format comes from the suffix:
    ``.svg``, ``.png``, ``.pdf`` (rendered by graphviz's ``dot`` program) or ``.dot`` (source).

    Nodes show the op name or the tensor's name and the shape; with ``show_values`` scalars
    also show their value, any ``.grad`` and each edge its local derivative. ``names`` labels
    unnamed tensors (a Module, by its ``named_parameters()``, or a dict ``{name: tensor}``).
    When the ``dot`` program is not installed the DOT source is written next to ``path`` (same
    name, ``.dot``) and one line on stderr tells how to install graphviz. Returns the path
    actually written. Drawn after ``backward()``, edges keep their derivatives where the op's
    rule needs no freed arrays (add, mul, ...); the drawing's caption names the others.

    >>> import chainrule as cr, tempfile, os
    >>> a = cr.tensor(4.0, requires_grad=True, name="a"); d = a * (a + 3)
    >>> out = draw_graph(d, os.path.join(tempfile.mkdtemp(), "d.dot")); out.suffix
    '.dot'
    """
    fmt = suffix_format(path, ("svg", "png", "pdf", "dot"), "draw_graph")
    graphviz = _graphviz()
    dot = to_dot(t, show_values, names)
    if fmt == "dot":
        return atomic_write(path, lambda f: f.write(dot.source.encode("utf-8")))
    if shutil.which("dot") is None:
        return _dot_fallback(dot, path, "the graphviz `dot` program is not on PATH")
    try:
        data = dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        return _dot_fallback(dot, path, "the graphviz `dot` program was not found")
    return atomic_write(path, lambda f: f.write(data))
