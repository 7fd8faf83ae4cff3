"""cr.explain: the lecture's a = 4, b = 3, c = a + b, d = a * c walk-through, routes checked
against PyTorch, and the promise that explaining changes nothing in the user's graph."""

import io
import re
import sys

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.demos.autograd_demo import build as lecture_graph


def lines_of(text):
    return [line.strip() for line in text.splitlines()]


def test_explain_dd_da_is_11():
    *_, d = lecture_graph()
    lines = lines_of(cr.explain(d, echo=False))
    # dd/da: the direct route through d = a * c (holding c fixed, ∂d/∂a = c = 7) plus the route
    # through c (∂d/∂c · ∂c/∂a = a · 1 = 4)
    assert "d ← a (direct): 7" in lines
    assert "d ← c ← a: 4 × 1 = 4" in lines
    assert "dd/da = 7 + 4 = 11" in lines
    assert "d ← c ← b: 4 × 1 = 4" in lines
    assert "dd/db = 4" in lines
    # the local derivative of every edge, as on the slide
    edges = {line.split()[0]: line.split()[1] for line in lines if line.startswith("∂")}
    assert edges == {"∂c/∂a": "1", "∂c/∂b": "1", "∂d/∂a": "7", "∂d/∂c": "4"}


def test_explain_prints_and_returns_the_same_walkthrough(capsys):
    *_, d = lecture_graph()
    text = cr.explain(d)
    printed = capsys.readouterr().out
    assert "dd/da = 7 + 4 = 11" in text
    assert "dd/da = 7 + 4 = 11" in printed  # rich tables or plain text, the routes read the same


def test_explain_without_rich_prints_plain_text(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "rich.console", None)  # makes `import rich.console` fail
    *_, d = lecture_graph()
    text = cr.explain(d)
    assert capsys.readouterr().out == text


def test_explain_writes_to_a_path_or_an_open_file(tmp_path, capsys):
    *_, d = lecture_graph()
    text = cr.explain(d, file=tmp_path / "walk.txt")
    assert (tmp_path / "walk.txt").read_text(encoding="utf-8") == text
    buffer = io.StringIO()
    assert cr.explain(d, file=buffer) == buffer.getvalue()
    assert capsys.readouterr().out == ""  # file= replaces printing to the screen


def test_explain_leaves_grads_and_graph_untouched():
    a, b, c, d = lecture_graph()
    b.grad = cr.tensor(100.0)  # a stale gradient the user has not zeroed yet
    cr.explain(d, echo=False)
    assert a.grad is None and c.grad is None and d.grad is None
    assert b.grad.item() == 100.0
    d.backward()  # saved arrays were not freed by explain
    assert (a.grad.item(), b.grad.item()) == (11.0, 104.0)


def test_explain_refuses_non_scalar():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"explain: needs a scalar .*shape \(2,\)"):
        cr.explain(x * 2, echo=False)


def test_explain_refuses_a_tensor_without_graph():
    with pytest.raises(ValueError, match="does not require grad"):
        cr.explain(cr.tensor(1.0) * 2, echo=False)


def test_explain_after_backward_freed_the_graph_says_retain_graph():
    *_, d = lecture_graph()
    d.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        cr.explain(d, echo=False)


def test_explain_after_backward_with_retain_graph_works():
    a, _, _, d = lecture_graph()
    d.backward(retain_graph=True)
    assert "dd/da = 7 + 4 = 11" in lines_of(cr.explain(d, echo=False))
    assert a.grad.item() == 11.0


def test_the_same_input_twice_gives_two_routes():
    x = cr.tensor(3.0, requires_grad=True, name="x")
    y = x * x
    y.name = "y"
    lines = lines_of(cr.explain(y, echo=False))
    assert "y ←(input 1) x (direct): 3" in lines
    assert "y ←(input 2) x (direct): 3" in lines
    assert "dy/dx = 3 + 3 = 6" in lines


def test_unnamed_nodes_are_labelled_by_op_and_short_id():
    x = cr.tensor(2.0, requires_grad=True)
    text = cr.explain(cr.exp(x) * 3, echo=False)
    assert re.search(r"\bleaf#\d+\b", text) and re.search(r"\bexp#\d+\b", text)
    assert re.search(r"\bconst#\d+\b", text)  # the 3


def test_route_products_sum_to_the_gradient_pytorch_computes():
    values = {"a": 0.7, "b": -1.3, "c": 2.1}

    def f(m, a, b, c):
        u = a * b + a
        v = m.tanh(u) * m.exp(b)
        return v / (a - c) + u * c

    ours = {k: cr.tensor(np.float64(v), requires_grad=True, name=k) for k, v in values.items()}
    text = cr.explain(f(cr, **ours), echo=False)
    theirs = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for k, v in values.items()}
    f(torch, **theirs).backward()
    for name, leaf in theirs.items():
        # e.g. "d(add#12)/da = 0.25 - 1.5 + 3 = 1.75": one term per route, then the sum
        (match,) = [m for ln in lines_of(text)
                    if (m := re.fullmatch(rf"d\(add#\d+\)/d{name} = (.+) = (\S+)", ln))]
        terms = [float(t) for t in match.group(1).replace(" - ", " + -").split(" + ")]
        assert float(match.group(2)) == pytest.approx(leaf.grad.item(), rel=1e-5)
        assert sum(terms) == pytest.approx(leaf.grad.item(), rel=1e-4)
        assert len(terms) >= 2  # each leaf is reached by more than one route here


def test_vector_graph_shows_jacobian_shapes_and_keeps_leaf_grads():
    cr.manual_seed(0)
    W = cr.randn(3, 4, requires_grad=True)
    W.name = "W"
    bias = cr.zeros(3, requires_grad=True)
    bias.name = "bias"
    x = cr.tensor([1.0, 2.0, 3.0, 4.0], name="x")
    loss = (W @ x + bias).mean()
    W.grad = cr.ones(3, 4)
    text = cr.explain(loss, echo=False)
    assert "Jacobian (3, 12)" in text  # ∂(W@x)/∂W: 3 outputs, 12 weights
    assert "Jacobian (1, 3)" in text  # ∂mean/∂(its input)
    assert "Jacobian (3, 3)" in text  # ∂(z + bias)/∂bias
    assert np.array_equal(W.grad.data, np.ones((3, 4))) and bias.grad is None
    # the gradient it reports is the one backward computes: dmean/dW[i, j] = x[j] / 3
    line = [ln for ln in lines_of(text) if ln.startswith("d(mean#") and "/dW = " in ln][0]
    assert "shape (3, 4), mean 0.833333, min 0.333333, max 1.33333" in line


def test_route_explosion_is_capped_and_counted():
    x = cr.tensor(1.0, requires_grad=True, name="x")
    h = x
    for _ in range(30):  # every step doubles the number of routes from x to h
        h = h * 0.5 + h * 0.5
    lines = lines_of(cr.explain(h, echo=False, max_routes=5))
    assert f"x: {2**30} routes" in lines
    assert f"… {2**30 - 5} more routes omitted" in lines
    assert lines[-1].endswith(f"+ … ({2**30 - 5} more) = 1")


def test_explaining_a_leaf_is_trivial():
    a = cr.tensor(4.0, requires_grad=True, name="a")
    assert "da/da = 1" in lines_of(cr.explain(a, echo=False))


def test_a_model_names_its_parameters():
    nn = pytest.importorskip("chainrule.nn")
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    loss = (model(cr.randn(4, 2)) ** 2).mean()
    text = cr.explain(loss, names=model, echo=False)
    for name, _ in model.named_parameters():
        assert f"{name}: 1 route" in lines_of(text)
    assert "Jacobian (4, 12)" in text  # tanh's output (4, 3) into the second linear's rows
    assert all(p.grad is None for p in model.parameters())


def test_parameters_are_named_by_their_module_path_without_names():
    nn = pytest.importorskip("chainrule.nn")
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    loss = (model(cr.randn(4, 2)) ** 2).mean()
    text = cr.explain(loss, echo=False)
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert f"{name}: 1 route" in lines_of(text)
    assert "param#" not in text


def test_module_paths_follow_nesting_copies_and_pickles():
    import copy
    import pickle

    nn = pytest.importorskip("chainrule.nn")
    net = nn.Sequential(nn.Sequential(nn.Linear(2, 2), nn.ReLU()), nn.Linear(2, 1))
    net.add_module("head", nn.Linear(1, 1))
    expected = [name for name, _ in net.named_parameters()]
    assert [p._module_path for p in net.parameters()] == expected
    assert expected[0] == "0.0.weight" and expected[-1] == "head.bias"
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert [p._module_path for p in clone.parameters()] == expected
