"""chainrule.teach: tools that show backpropagation at work.

- :func:`explain` walks through a scalar graph as the lecture does: values, local
  derivatives on every edge, and for each leaf "multiply along each route, add the routes".
- :func:`draw_graph` draws the computational graph with graphviz (SVG, PNG or DOT).
- :func:`plot_decision_boundary`, :func:`plot_history`, :func:`plot_confusion_matrix` write
  matplotlib figures to files.

Optional dependencies (graphviz, matplotlib, rich: ``pip install 'chainrule[teach]'``) are
imported only when a function needs them.

>>> import chainrule as cr
>>> a = cr.tensor(4.0, requires_grad=True, name="a")
>>> "da/da = 1" in cr.explain(a, echo=False)
True
"""

from chainrule.teach.explainer import explain, graph_nodes, local_derivatives, tensor_names
from chainrule.teach.graph import draw_graph, to_dot
from chainrule.teach.plots import (
    confusion_matrix,
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_history,
)

__all__ = [
    "confusion_matrix",
    "draw_graph",
    "explain",
    "graph_nodes",
    "local_derivatives",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_history",
    "tensor_names",
    "to_dot",
]
