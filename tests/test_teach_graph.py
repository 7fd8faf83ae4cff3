"""cr.teach.draw_graph: real SVG/PNG from graphviz's dot, and the .dot fallback without it."""

import re
import shutil
import sys
import xml.etree.ElementTree as ET

import pytest

import chainrule as cr
from chainrule import teach
from chainrule.demos.autograd_demo import build as lecture_graph

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="graphviz's dot program is not installed")


@needs_dot
def test_svg_is_well_formed_and_shows_the_lecture_graph(tmp_path):
    a, b, c, d = lecture_graph()
    d.backward(retain_graph=True)
    path = teach.draw_graph(d, tmp_path / "d.svg")
    assert path == tmp_path / "d.svg"
    root = ET.parse(path).getroot()  # raises on malformed XML
    texts = {el.text for el in root.iter() if el.tag.endswith("text") and el.text}
    assert {"a", "b", "c = add", "d = mul", "value 28", "grad 11", "grad 4"} <= texts
    assert {"∂ = 7", "∂ = 4", "∂ = 1"} <= texts  # local derivatives on the edges


@needs_dot
def test_png_has_the_png_signature(tmp_path):
    matplotlib_image = pytest.importorskip("matplotlib.image")
    *_, d = lecture_graph()
    path = teach.draw_graph(d, tmp_path / "graph.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = matplotlib_image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 20 and pixels.shape[1] > 20


def test_missing_dot_program_writes_the_dot_source_and_says_how_to_install(tmp_path, monkeypatch,
                                                                            capsys, recwarn):
    *_, d = lecture_graph()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    path = teach.draw_graph(d, tmp_path / "graph.svg")
    err = capsys.readouterr().err
    assert "install graphviz: apt-get install graphviz" in err
    assert err.count("\n") == 1 and "graph.dot" in err  # one line, not a warning
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]
    assert path == tmp_path / "graph.dot"
    assert not (tmp_path / "graph.svg").exists()
    source = path.read_text(encoding="utf-8")
    assert source.startswith("digraph") and "d = mul" in source and "c = add" in source


def test_dot_failing_to_run_also_falls_back(tmp_path, monkeypatch, capsys):
    graphviz = pytest.importorskip("graphviz")
    *_, d = lecture_graph()

    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/dot")
    monkeypatch.setattr(graphviz.Digraph, "pipe", missing)
    path = teach.draw_graph(d, tmp_path / "graph.png")
    assert path.suffix == ".dot" and path.exists()
    assert "brew install graphviz" in capsys.readouterr().err


def test_dot_suffix_writes_source_without_warning(tmp_path, recwarn):
    *_, d = lecture_graph()
    path = teach.draw_graph(d, tmp_path / "g.dot", show_values=False)
    assert "value" not in path.read_text(encoding="utf-8")
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]


def test_unknown_suffix_is_refused(tmp_path):
    *_, d = lecture_graph()
    with pytest.raises(ValueError, match=r"draw_graph: .*\.svg, \.png"):
        teach.draw_graph(d, tmp_path / "g.jpeg")


def test_parameters_leaves_and_constants_are_styled_apart():
    class Parameter(cr.Tensor):  # what cr.nn.Parameter is for the drawer: a class name
        pass

    w = Parameter(cr.ones(2, 3).data, requires_grad=True, name="w")
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True, name="x")
    k = cr.tensor([5.0, 6.0], name="k")
    source = teach.to_dot(((w @ x) * k).sum()).source
    node_lines = [line for line in source.splitlines() if "label=" in line]
    by_name = {line.split('label="')[1].split("\\n")[0]: line for line in node_lines}
    assert "box3d" in by_name["w"] and "filled" in by_name["w"]
    assert "ellipse" in by_name["x"] and "#cfe2ff" in by_name["x"]
    assert "dashed" in by_name["k"] and "gray" in by_name["k"]
    assert "peripheries=2" in by_name["sum"]  # the output
    assert "shape (2, 3)" in by_name["w"]


def test_a_freed_graph_is_still_drawn_with_grads_and_edge_derivatives(tmp_path):
    a, _, _, d = lecture_graph()
    d.backward()  # frees the saved arrays (the README's order: backward, then draw)
    source = teach.draw_graph(d, tmp_path / "g.dot").read_text(encoding="utf-8")
    assert "grad 11" in source and "∂ = 7" in source


def test_missing_graphviz_package_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    *_, d = lecture_graph()
    with pytest.raises(ImportError, match=r"chainrule\[teach\]"):
        teach.draw_graph(d, tmp_path / "g.svg")


def test_drawing_after_backward_keeps_the_lecture_edge_labels():
    a, b, c, d = lecture_graph()
    d.backward()  # frees the saved arrays; add's and mul's rules need none
    source = teach.to_dot(d).source
    assert {"∂ = 7", "∂ = 4", "∂ = 1"} <= set(re.findall(r"∂ = [0-9.e+-]+", source))
    assert "freed" not in source


def test_drawing_after_backward_says_which_edges_lost_their_derivative():
    x = cr.tensor(2.0, requires_grad=True, name="x")
    y = (x ** 3).sum()  # pow by a scalar keeps the exponent in its saved arrays
    y.backward()
    source = teach.to_dot(y).source
    assert "no local derivative on the edges of pow" in source
    assert "retain_graph=True" in source


def test_parameters_are_labelled_by_their_module_path():
    cr.manual_seed(0)
    net = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.Tanh(), cr.nn.Linear(3, 1))
    loss = net(cr.ones(4, 2)).mean()
    source = teach.to_dot(loss).source
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert name in source
    assert "Parameter" not in source
