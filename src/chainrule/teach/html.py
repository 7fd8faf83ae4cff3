"""``to_html(loss, path)``: one self-contained page that plays the backward pass node by node.

The page is a single HTML file with an inline SVG drawing and a little vanilla JavaScript: no
network, no CDN, no external file, so it opens from disk, a mail attachment or a course page.
The layout is computed here, in Python (columns by depth in the graph, rows ordered to keep
edges short). Every number on the page comes from :func:`backprop_trace`, which runs the ops'
own backward functions; the script only shows step ``k`` of the recorded trace.

Buttons or the arrow keys (→ step, ← back, Home, End) move through the steps: the active op is
outlined, its edges light up with upstream gradient × local derivative, and each input's box
shows its running sum, until every leaf holds its gradient (the slide's dd/da = 7 + 4 = 11).

>>> import chainrule as cr, tempfile, os
>>> a = cr.tensor(4.0, requires_grad=True, name="a"); b = cr.tensor(3.0, requires_grad=True,
...     name="b")
>>> c = a + b; c.name = "c"; d = a * c; d.name = "d"
>>> page = to_html(d, os.path.join(tempfile.mkdtemp(), "backprop.html"))
>>> text = page.read_text(encoding="utf-8")
>>> "dd/da = 7 + 4 = 11" in text, "http" in text.replace("http://www.w3.org", "")
(True, False)
"""

import html
import json

from chainrule.teach._files import atomic_write, suffix_format
from chainrule.teach._html_assets import PAGE_CSS, PAGE_JS
from chainrule.teach.backprop_trace import backprop_trace

_W, _GAP_X, _LINE, _PAD, _GAP_Y = 220, 100, 17, 9, 34


def _layout(nodes):
    """``{id: (x, y, height)}``: columns by depth, rows ordered by the neighbours' heights."""
    by_id = {n["id"]: n for n in nodes}
    col, consumers = {}, {n["id"]: [] for n in nodes}
    for n in nodes:  # inputs come before the ops that use them
        col[n["id"]] = 1 + max((col[i] for i in n["inputs"]), default=-1)
        for i in n["inputs"]:
            consumers[i].append(n["id"])
    for n in nodes:  # an input sits just left of the first op that uses it
        if not n["inputs"] and consumers[n["id"]]:
            col[n["id"]] = max(0, min(col[c] for c in consumers[n["id"]]) - 1)
    height = {n["id"]: _PAD * 2 + _LINE * _lines(n) for n in nodes}
    order = {n["id"]: k for k, n in enumerate(nodes)}
    columns = {}
    for n in nodes:
        columns.setdefault(col[n["id"]], []).append(n["id"])
    y = {}

    def place(ids):
        total = sum(height[i] for i in ids) + _GAP_Y * (len(ids) - 1)
        top = -total / 2
        for i in ids:
            y[i] = top + height[i] / 2  # the centre
            top += height[i] + _GAP_Y

    for c in sorted(columns):
        place(columns[c])
    for _ in range(3):  # order by the mean height of the neighbours, twice each way
        for c in sorted(columns):
            columns[c].sort(key=lambda i: (_mean(y, by_id[i]["inputs"] or consumers[i]),
                                           order[i]))
            place(columns[c])
    top = min(y[i] - height[i] / 2 for i in y)
    # 40 px above the top row: room for the long edges routed over the boxes
    return {i: (col[i] * (_W + _GAP_X) + 20, y[i] - height[i] / 2 - top + 40, height[i])
            for i in y}


def _mean(y, ids):
    placed = [y[i] for i in ids if i in y]
    return sum(placed) / len(placed) if placed else 0.0


def _lines(node):
    return 4 if node["kind"] != "const" else 3


def _head(node):
    if node["kind"] == "op":
        return node["label"] if node["label"].startswith(node["op"] + "#") else (
            f"{node['label']} = {node['op']}")
    return node["label"]


def _svg(trace):
    nodes, edges = trace["nodes"], trace["edges"]
    pos = _layout(nodes)
    width = max(x for x, _, _ in pos.values()) + _W + 20
    height = max(y + h for _, y, h in pos.values()) + 20
    by_id = {n["id"]: n for n in nodes}
    out = [f'<svg id="graph" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
           f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
           f'aria-label="computational graph of {html.escape(trace["output"])}">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="11" '
           'markerHeight="11" markerUnits="userSpaceOnUse" orient="auto"><path '
           'd="M 0 0 L 10 5 L 0 10 z" fill="context-stroke"/></marker></defs>']
    labels = []
    outgoing = {}  # each node's out-edges, top to bottom, so that they leave apart
    for e in edges:
        outgoing.setdefault(e["from"], []).append(e)
    for out_edges in outgoing.values():
        # long edges leave from the top: they are routed above the boxes they pass
        out_edges.sort(key=lambda e: (pos[e["to"]][0] - pos[e["from"]][0] <= _W + _GAP_X,
                                      pos[e["to"]][1], e["index"]))
    for e in edges:
        child = by_id[e["to"]]
        x0, y0, h0 = pos[e["from"]]
        x1, y1, h1 = pos[e["to"]]
        siblings = outgoing[e["from"]]
        sx = x0 + _W
        sy = y0 + h0 * (siblings.index(e) + 1) / (len(siblings) + 1)
        tx, ty = x1, y1 + h1 * (e["index"] + 1) / (len(child["inputs"]) + 1)
        cls = "edge" if e["grad"] else "edge nograd"
        d, (lx, ly) = _route(sx, sy, tx, ty, pos, x0, x1)
        out.append(f'<path id="{e["id"]}" class="{cls}" d="{d}" marker-end="url(#arrow)"/>')
        labels.append(f'<text id="el-{e["id"]}" class="elabel" x="{lx:.1f}" y="{ly - 5:.1f}" '
                      f'text-anchor="middle">{html.escape(e["local"])}</text>')
    for n in nodes:
        x, y, h = pos[n["id"]]
        classes = f"node {n['kind']}" + (" output" if n["output"] else "")
        rows = [(_head(n), "head"), (f"value {n['value']}", "val"),
                (f"shape {n['shape']}", "shape")]
        if n["kind"] != "const":
            rows.append(("grad —", "grad"))
        out.append(f'<g id="{n["id"]}" class="{classes}"><rect x="{x:.1f}" y="{y:.1f}" '
                   f'width="{_W}" height="{h:.1f}" rx="9"/>')
        for k, (text, cls) in enumerate(rows):
            tid = f' id="g-{n["id"]}"' if cls == "grad" else ""
            out.append(f'<text{tid} class="{cls}" x="{x + _W / 2:.1f}" '
                       f'y="{y + _PAD + _LINE * (k + 0.75):.1f}" text-anchor="middle">'
                       f'{html.escape(_clip(text))}</text>')
        out.append("</g>")
    out += labels  # on top of every node and edge
    out.append("</svg>")
    return "\n".join(out)


def _bezier(t, a, b, mid):
    """A point of the edge's cubic curve (controls at the middle x / the ends' y)."""
    c1, c2 = (mid, mid) if mid is not None else (a, b)
    u = 1 - t
    return u ** 3 * a + 3 * u * u * t * c1 + 3 * u * t * t * c2 + t ** 3 * b


def _route(sx, sy, tx, ty, pos, x0, x1):
    """The edge's SVG path and its label's anchor. An edge to the next column is one S-curve
    (label at its middle); a longer one rises above the boxes of the columns it crosses, runs
    level there and comes down (label over the level part)."""
    between = [y for x, y, _ in pos.values() if x0 < x < x1]
    if not between:
        mx = (sx + tx) / 2
        d = (f"M {sx:.1f} {sy:.1f} C {mx:.1f} {sy:.1f}, {mx:.1f} {ty:.1f}, {tx - 2:.1f} "
             f"{ty:.1f}")
        return d, (_bezier(0.5, sx, tx, mx), _bezier(0.5, sy, ty, None) - 5)
    yw = min(between) - 14
    xa, xb = sx + _GAP_X / 2, tx - _GAP_X / 2
    ma, mb = (sx + xa) / 2, (xb + tx) / 2
    d = (f"M {sx:.1f} {sy:.1f} C {ma:.1f} {sy:.1f}, {ma:.1f} {yw:.1f}, {xa:.1f} {yw:.1f} "
         f"L {xb:.1f} {yw:.1f} C {mb:.1f} {yw:.1f}, {mb:.1f} {ty:.1f}, {tx - 2:.1f} {ty:.1f}")
    return d, ((xa + xb) / 2, yw - 5)


def _clip(text, n=36):
    return text if len(text) <= n else text[:n - 1] + "…"


def _table(trace):
    rows = []
    for name, leaf in trace["final"].items():
        rows.append(f'<tr id="row-{leaf["id"]}"><td class="leafname">{html.escape(name)}</td>'
                    f'<td>{html.escape(leaf["shape"])}</td>'
                    f'<td class="sum" id="sum-{leaf["id"]}" data-values="">—</td></tr>')
    return ('<table id="grads"><thead><tr><th>leaf</th><th>shape</th><th>gradient so far '
            '(the sum over routes)</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>")


def to_html(loss, path, names=None, title=None):
    """Write the interactive backward-pass page for the scalar ``loss`` to ``path`` (``.html``).

    One self-contained file: the graph as inline SVG (each node with its value, shape and
    gradient so far), buttons and arrow keys to step through the backward pass node by node,
    a panel saying what each step multiplies and adds, and a table of the leaves' gradients.
    Tensors are shown as their shape with a summary (mean, min, max). ``names`` labels
    tensors as in :func:`chainrule.explain`; Parameters are named by their module path.
    Nothing is modified: no ``.grad`` changes and the graph stays usable for ``backward()``.
    Returns the path written.

    >>> import chainrule as cr, tempfile, os
    >>> x = cr.tensor(3.0, requires_grad=True, name="x"); y = x * x
    >>> to_html(y, os.path.join(tempfile.mkdtemp(), "p.html")).suffix
    '.html'
    """
    suffix_format(path, ("html", "htm"), "to_html")
    trace = backprop_trace(loss, names, op_name="to_html")
    heading = title or f"Backpropagation through {trace['output']}, step by step"
    data = json.dumps(trace, ensure_ascii=False).replace("</", "<\\/")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(heading)}</title>
<style>{PAGE_CSS}</style></head>
<body data-done="false">
<h1>{html.escape(heading)}</h1>
<p class="intro">Each step runs one op's backward rule on the gradient that has reached it and
sends every input <em>upstream gradient × local derivative</em>; an input that is reached by
several routes adds them up. Keys: → step, ← back, Home, End.</p>
<div id="controls"><button id="reset" type="button">« reset</button>
<button id="back" type="button">‹ back</button>
<button id="step" type="button">step ›</button>
<button id="end" type="button">run to end »</button>
<span id="status">step 0</span></div>
<div id="layout"><div id="canvas">{_svg(trace)}</div>
<div id="side"><h2 id="title"></h2><pre id="text"></pre>{_table(trace)}</div></div>
<script type="application/json" id="trace">{data}</script>
<script>{PAGE_JS}</script>
</body></html>
"""
    return atomic_write(path, lambda f: f.write(page.encode("utf-8")))
