"""chainrule.teach: tools that show backpropagation at work.

- :func:`explain` walks through a scalar graph as the lecture does: values, local
  derivatives on every edge, and for each leaf "multiply along each route, add the routes".
- :func:`draw_graph` draws the computational graph with graphviz (SVG, PNG or DOT).
- :func:`to_html` writes one self-contained page that steps through the backward pass node by
  node (buttons, arrow keys), every number from the engine's own backward rules.
- :mod:`chainrule.teach.lab`: the lectures' claims as experiments (``chainrule lab NAME``).
- :func:`plot_decision_boundary`, :func:`plot_history`, :func:`plot_confusion_matrix` write
  matplotlib figures to files.

Optional dependencies (graphviz, matplotlib, rich: ``pip install 'chainrule[teach]'``) are
imported only when a function needs them.

>>> import chainrule as cr
>>> a = cr.tensor(4.0, requires_grad=True, name="a")
>>> "da/da = 1" in cr.explain(a, echo=False)
True
"""

from chainrule.teach.backprop_trace import backprop_trace
from chainrule.teach.explainer import explain, graph_nodes, local_derivatives, tensor_names
from chainrule.teach.graph import draw_graph, to_dot
from chainrule.teach.html import to_html
from chainrule.teach.plots import (
    confusion_matrix,
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_history,
)


def __getattr__(name):
    # The lab imports nn, optim and classic: load it on first use, not with chainrule.
    if name == "lab":
        from importlib import import_module

        return import_module("chainrule.teach.lab")
    raise AttributeError(f"module 'chainrule.teach' has no attribute {name!r}")


__all__ = [
    "backprop_trace",
    "confusion_matrix",
    "draw_graph",
    "explain",
    "graph_nodes",
    "lab",
    "local_derivatives",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_history",
    "tensor_names",
    "to_dot",
    "to_html",
]
