"""cr.teach.to_html: the interactive backprop page, its numbers, and the page in a real browser.

The browser tests drive headless Chromium (Debian's ``chromium`` and ``chromium-driver``,
installed by ``.ci/run``) through selenium: they press "step" until the page says it is done,
read the leaves' gradients from the page and check a screenshot is a real picture.
"""

import io
import json
import shutil
import tempfile

import numpy as np
import pytest

import chainrule as cr
from chainrule import teach
from chainrule.demos.autograd_demo import build as lecture_graph


def small_mlp_loss(seed=0):
    cr.manual_seed(seed)
    net = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.Tanh(), cr.nn.Linear(3, 1))
    x, y = cr.randn(4, 2), cr.randn(4, 1)
    loss = cr.nn.functional.mse_loss(net(x), y)
    loss.name = "loss"
    return net, loss


# ------------------------------------------------------------------ the trace (no browser)
def test_dd_da_is_7_plus_4_is_11_step_by_step():
    a, b, c, d = lecture_graph()
    trace = teach.backprop_trace(d)
    titles = [s["title"] for s in trace["steps"]]
    assert titles == ["start: dd/dd = 1", "backward through d = mul", "backward through c = add",
                      "done: every leaf holds its gradient"]
    first, second = trace["steps"][1], trace["steps"][2]
    by_id = {n["id"]: n["label"] for n in trace["nodes"]}
    assert {by_id[i]: v for i, v in first["sums"].items()} == {
        "d": "dd/dd = 1", "a": "dd/da = 7", "c": "dd/dc = 4"}
    assert [e["text"] for e in first["edges"]] == ["1 × 7 = 7", "1 × 4 = 4"]
    assert [e["text"] for e in second["edges"]] == ["4 × 1 = 4", "4 × 1 = 4"]
    assert trace["final"]["a"] == {"id": "n0", "sum": "dd/da = 7 + 4 = 11", "shape": "scalar",
                                   "values": [11.0]}
    assert trace["final"]["b"]["sum"] == "dd/db = 4"
    # a is complete only after c has sent its share; b once c is done
    assert "n0" not in first["complete"] and "n0" in second["complete"]
    assert a.grad is None and b.grad is None  # nothing was modified
    d.backward()
    assert a.grad.item() == 11.0


def test_mlp_trace_gives_the_engine_gradients_without_touching_grad():
    net, loss = small_mlp_loss()
    trace = teach.backprop_trace(loss)
    assert all(p.grad is None for p in net.parameters())
    loss.backward()
    assert set(trace["final"]) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    for name, p in net.named_parameters():
        got = np.array(trace["final"][name]["values"]).reshape(p.shape)
        np.testing.assert_allclose(got, p.grad.data, rtol=1e-6, atol=1e-7)
    shapes = {n["label"]: n["shape"] for n in trace["nodes"]}
    assert shapes["0.weight"] == "3×2" and shapes["loss"] == "scalar"


def test_page_is_one_self_contained_file(tmp_path):
    *_, d = lecture_graph()
    page = teach.to_html(d, tmp_path / "backprop.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<script>" in page
    for external in ("<link", " src=", "@import", "https:", "cdn"):
        assert external not in page
    assert page.replace("http://www.w3.org/2000/svg", "").count("http") == 0
    assert "dd/da = 7 + 4 = 11" in page


def test_after_backward_the_lecture_page_still_works_but_saved_arrays_are_needed(tmp_path):
    a, _, _, d = lecture_graph()
    d.backward()  # add and mul need no saved arrays
    assert teach.backprop_trace(d)["final"]["a"]["values"] == [11.0]
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = (x ** 3).sum()
    y.backward()
    freed = r"to_html: node '(sum|pow)' already released.*call to_html before"
    with pytest.raises(RuntimeError, match=freed):
        teach.to_html(y, tmp_path / "p.html")


def test_bad_input_is_refused_clearly(tmp_path):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="to_html: needs a scalar"):
        teach.to_html(x * 2, tmp_path / "p.html")
    with pytest.raises(ValueError, match="to_html: cannot tell the format"):
        teach.to_html((x * 2).sum(), tmp_path / "p.svg")


# ------------------------------------------------------------------ in a real browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium "
                    "chromium-driver); .ci/run installs it")
    webdriver = pytest.importorskip("selenium.webdriver",
                                    reason="selenium is not installed (pip install selenium)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--window-size=1280,800"):
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="chainrule-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _open(browser, path):
    browser.get(path.resolve().as_uri())
    assert browser.find_element("tag name", "body").get_attribute("data-done") == "false"


def _press_step_until_done(browser, limit=50):
    presses = 0
    while browser.find_element("tag name", "body").get_attribute("data-done") != "true":
        assert presses < limit, "the page never reached its last step"
        browser.find_element("id", "step").click()
        presses += 1
    return presses


def _leaf_cells(browser):
    cells = {}
    for row in browser.find_elements("css selector", "#grads tbody tr"):
        name = row.find_element("css selector", ".leafname").text
        cell = row.find_element("css selector", ".sum")
        cells[name] = (cell.text, cell.get_attribute("data-values"))
    return cells


def _assert_real_picture(png):
    image = pytest.importorskip("matplotlib.image")
    pixels = image.imread(io.BytesIO(png))
    assert pixels.shape[0] >= 400 and pixels.shape[1] >= 600
    rgb = (pixels[..., :3] * 255).round().astype(np.uint8).reshape(-1, 3)
    colours, counts = np.unique(rgb, axis=0, return_counts=True)
    assert len(colours) > 100  # boxes, edges, text: not a blank or one-colour page
    assert counts.max() / len(rgb) < 0.97


def test_browser_steps_the_lecture_graph_to_dd_da_11(browser, tmp_path):
    *_, d = lecture_graph()
    _open(browser, teach.to_html(d, tmp_path / "abcd.html"))
    assert browser.find_element("id", "status").text == "step 0 of 3"
    browser.find_element("id", "step").click()
    assert _leaf_cells(browser)["a"][0] == "dd/da = 7"  # the direct route only
    assert browser.find_element("id", "el-e2").text == "1 × 7 = 7"  # the lit edge d ← a
    assert _press_step_until_done(browser) == 2
    cells = _leaf_cells(browser)
    assert cells["a"] == ("dd/da = 7 + 4 = 11", "[11]")
    assert cells["b"] == ("dd/db = 4", "[4]")
    assert browser.find_element("id", "g-n0").text == "grad 11"
    assert browser.find_element("id", "step").get_attribute("disabled") == "true"
    _assert_real_picture(browser.get_screenshot_as_png())
    # the arrow keys move too: back one step, then Home to the start
    body = browser.find_element("tag name", "body")
    body.send_keys("\ue012")  # ArrowLeft
    assert body.get_attribute("data-step") == "2"
    body.send_keys("\ue011")  # Home
    assert body.get_attribute("data-step") == "0" and _leaf_cells(browser)["a"][0] == "—"


def test_browser_reads_the_mlp_gradients_that_backward_computes(browser, tmp_path):
    net, loss = small_mlp_loss()
    page = teach.to_html(loss, tmp_path / "mlp.html")
    loss.backward()
    _open(browser, page)
    body = browser.find_element("tag name", "body")
    for _ in range(20):  # step with the arrow key this time
        if body.get_attribute("data-done") == "true":
            break
        body.send_keys("\ue014")  # ArrowRight
    assert body.get_attribute("data-done") == "true"
    cells = _leaf_cells(browser)
    assert set(cells) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    for name, p in net.named_parameters():
        text, values = cells[name]
        assert text.startswith(f"dloss/d({name}) = ")
        np.testing.assert_allclose(np.array(json.loads(values)).reshape(p.shape), p.grad.data,
                                   rtol=1e-6, atol=1e-7)
    weight_box = browser.find_element("id", "n1").text  # 0.weight: shape and summary
    assert "shape 3×2" in weight_box and "grad mean" in weight_box
    _assert_real_picture(browser.get_screenshot_as_png())
