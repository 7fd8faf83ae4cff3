"""The notes' computational graph: a = 4, b = 3, c = a + b, d = a · c.

``d`` depends on ``a`` along two routes: directly (∂d/∂a holding c fixed = c = 7) and through
``c`` (∂d/∂c · ∂c/∂a = a · 1 = 4). Backpropagation multiplies local derivatives along each
route and adds the routes: dd/da = 7 + 4 = 11, and dd/db = 4.

With ``html=True`` (``chainrule demo autograd --html``) it also writes ``backprop.html``: a
self-contained page that steps through the same backward pass node by node.
"""

import chainrule as cr
from chainrule.demos import output_dir


def build():
    a = cr.tensor(4.0, requires_grad=True, name="a")
    b = cr.tensor(3.0, requires_grad=True, name="b")
    c = a + b
    c.name = "c"
    d = a * c
    d.name = "d"
    return a, b, c, d


def main(out_dir=None, html=False):
    a, b, c, d = build()
    text = cr.explain(d)
    page = None
    if html:  # before backward(): the page replays the engine's own backward rules
        page = cr.teach.to_html(d, output_dir(out_dir, "autograd") / "backprop.html")
        print(f"\ninteractive backward pass written to {page} (open it in a browser; "
              "→ steps, ← goes back)")
    d.backward()
    print(f"\nd.backward(): a.grad = {a.grad.item():g}, b.grad = {b.grad.item():g}")
    picture = None
    try:
        from chainrule.teach import draw_graph

        folder = output_dir(out_dir, "autograd")
        picture = draw_graph(d, folder / "abcd_graph.svg")
        print(f"graph drawing written to {picture}")
    except ImportError as err:
        print(f"(no graph drawing: {err})")
    return {"dd_da": a.grad.item(), "dd_db": b.grad.item(), "explain": text, "picture": picture,
            "page": page}


if __name__ == "__main__":
    main()
