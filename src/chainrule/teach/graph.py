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
import warnings
from pathlib import Path

import numpy as np

from chainrule.teach._files import atomic_write, suffix_format
from chainrule.teach.explainer import (
    _kind,
    _num,
    _summary,
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
    name = t.name or names.get(id(t))
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
    for x in tensors:
        if x._backward is None:
            continue
        locals_ = _edge_labels(x) if show_values else ()
        for i, p in enumerate(x.parents):
            attrs = {"color": "gray60", "style": "dashed"} if not p.requires_grad else {}
            if i < len(locals_) and locals_[i]:
                attrs["label"] = locals_[i]
            dot.edge(ids[id(p)], ids[id(x)], **attrs)
    return dot


def _edge_labels(node):
    """Local derivatives ∂node/∂input for scalar edges (empty when the graph was freed)."""
    if node.data.size != 1 or node._saved is None:
        return ()
    try:
        locals_ = local_derivatives(node)
    except Exception:  # a drawing should never fail because a backward rule did
        return ()
    return tuple(f"∂ = {_num(np.asarray(g).reshape(-1)[0])}"
                 if g is not None and np.size(g) == 1 else "" for g in locals_)


def _dot_fallback(dot, path, reason):
    dot_path = Path(path).with_suffix(".dot")
    atomic_write(dot_path, lambda f: f.write(dot.source.encode("utf-8")))
    warnings.warn(
        f"draw_graph: {reason}, so {str(path)!r} could not be rendered; wrote the graph's DOT "
        f"source to {str(dot_path)!r} instead. To get images, {INSTALL_HINT}; then run "
        f"`dot -T{Path(path).suffix.lstrip('.') or 'svg'} {dot_path.name} -o {Path(path).name}`",
        UserWarning,
        stacklevel=3,
    )
    return dot_path


def draw_graph(t, path, show_values=True, names=None):
    """Draw the graph that produced ``t`` into ``path``; the format comes from the suffix:
    ``.svg``, ``.png``, ``.pdf`` (rendered by graphviz's ``dot`` program) or ``.dot`` (source).

    Nodes show the op name or the tensor's name and the shape; with ``show_values`` scalars
    also show their value, any ``.grad`` and each edge its local derivative. ``names`` labels
    unnamed tensors (a Module, by its ``named_parameters()``, or a dict ``{name: tensor}``).
    When the ``dot`` program is not installed the DOT source is written next to ``path`` (same
    name, ``.dot``) with a warning telling how to install graphviz. Returns the path actually
    written.

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
