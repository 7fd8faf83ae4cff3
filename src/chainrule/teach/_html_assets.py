"""The style sheet and the script of the backprop page (:func:`chainrule.teach.to_html`).

The script computes nothing: it shows step ``k`` of the trace that Python recorded (which
edges are lit, each node's gradient so far, the running sums), moving on buttons and keys.
"""

PAGE_CSS = """
body { font-family: Helvetica, Arial, sans-serif; margin: 18px; color: #1f2328;
       background: #ffffff; }
h1 { font-size: 20px; margin: 0 0 6px 0; }
h2 { font-size: 16px; margin: 0 0 6px 0; color: #9a3412; }
.intro { margin: 0 0 10px 0; max-width: 980px; font-size: 14px; }
#controls { margin: 8px 0 12px 0; }
#controls button { font-size: 15px; padding: 5px 12px; margin-right: 6px; border-radius: 6px;
                   border: 1px solid #8c959f; background: #f6f8fa; cursor: pointer; }
#controls button:disabled { color: #8c959f; cursor: default; }
#step { background: #ffedd5 !important; border-color: #ea580c !important; font-weight: bold; }
#status { font-size: 15px; margin-left: 10px; font-weight: bold; }
#layout { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
#canvas { border: 1px solid #d0d7de; border-radius: 8px; overflow: auto; max-width: 100%;
          background: #fbfbfd; }
#side { min-width: 380px; max-width: 620px; flex: 1; }
#text { white-space: pre-wrap; font-size: 13px; background: #fff7ed; border: 1px solid #fed7aa;
        border-radius: 6px; padding: 8px; margin: 0 0 12px 0; min-height: 60px; }
#grads { border-collapse: collapse; font-size: 13px; width: 100%; }
#grads th, #grads td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; }
#grads th { background: #f6f8fa; }
#grads tr.complete td { background: #dcfce7; font-weight: bold; }
.node rect { stroke: #57606a; stroke-width: 1.4; }
.node.op rect { fill: #fff2cc; }
.node.leaf rect { fill: #cfe2ff; }
.node.param rect { fill: #b6d7a8; }
.node.const rect { fill: #f2f2f2; stroke: #a0a0a0; stroke-dasharray: 5 3; }
.node.output rect { stroke-width: 3; }
.node.active rect { stroke: #ea580c; stroke-width: 4; }
.node text { font-size: 12px; fill: #1f2328; }
.node text.head { font-weight: bold; font-size: 13px; }
.node text.grad { fill: #6e7781; }
.node.reached text.grad { fill: #c2410c; font-weight: bold; }
.node.complete text.grad { fill: #15803d; font-weight: bold; }
.edge { fill: none; stroke: #8c959f; stroke-width: 1.6; }
.edge.nograd { stroke: #c8c8c8; stroke-dasharray: 4 3; }
.edge.lit { stroke: #ea580c; stroke-width: 4; }
.edge.done { stroke: #16a34a; stroke-width: 2.4; }
.elabel { font-size: 12px; fill: #57606a; paint-order: stroke; stroke: #fbfbfd;
          stroke-width: 4px; }
.elabel.lit { fill: #c2410c; font-weight: bold; font-size: 13px; }
.elabel.done { fill: #15803d; }
"""

PAGE_JS = """
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("trace").textContent);
  var last = T.steps.length - 1, k = 0;
  var $ = function (id) { return document.getElementById(id); };
  function show(i) {
    k = Math.max(0, Math.min(last, i));
    var s = T.steps[k], complete = {}, lit = {};
    s.complete.forEach(function (id) { complete[id] = true; });
    s.edges.forEach(function (e) { lit[e.edge] = e.text; });
    T.nodes.forEach(function (n) {
      var g = $(n.id), grad = $("g-" + n.id);
      g.classList.toggle("active", s.node === n.id);
      g.classList.toggle("reached", n.id in s.grads);
      g.classList.toggle("complete", !!complete[n.id]);
      if (grad) { grad.textContent = clip("grad " + (n.id in s.grads ? s.grads[n.id] : "—")); }
    });
    T.edges.forEach(function (e) {
      var path = $(e.id), label = $("el-" + e.id), on = e.id in lit;
      var done = e.step !== undefined && e.step < k;
      path.classList.toggle("lit", on);
      path.classList.toggle("done", done && !on);
      label.classList.toggle("lit", on);
      label.classList.toggle("done", done && !on);
      label.textContent = on ? lit[e.id] : e.local;
    });
    Object.keys(T.final).forEach(function (name) {
      var leaf = T.final[name], cell = $("sum-" + leaf.id), row = $("row-" + leaf.id);
      var finished = !!complete[leaf.id];
      cell.textContent = s.sums[leaf.id] || "—";
      cell.setAttribute("data-values", finished && leaf.values ? JSON.stringify(leaf.values) : "");
      row.classList.toggle("complete", finished);
    });
    $("title").textContent = s.title;
    $("text").textContent = s.text.join("\\n");
    $("status").textContent = "step " + k + " of " + last + (k === last ? ": done" : "");
    document.body.setAttribute("data-done", k === last ? "true" : "false");
    document.body.setAttribute("data-step", String(k));
    $("step").disabled = $("end").disabled = k === last;
    $("back").disabled = $("reset").disabled = k === 0;
  }
  function clip(text) { return text.length <= 36 ? text : text.slice(0, 35) + "\\u2026"; }
  $("step").addEventListener("click", function () { show(k + 1); });
  $("back").addEventListener("click", function () { show(k - 1); });
  $("reset").addEventListener("click", function () { show(0); });
  $("end").addEventListener("click", function () { show(last); });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "ArrowRight" || ev.key === " ") { show(k + 1); }
    else if (ev.key === "ArrowLeft") { show(k - 1); }
    else if (ev.key === "Home") { show(0); }
    else if (ev.key === "End") { show(last); }
    else { return; }
    ev.preventDefault();
  });
  show(0);
})();
"""
