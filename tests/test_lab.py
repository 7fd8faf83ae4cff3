"""The lab: each experiment's claim checked on the numbers it returns (behaviour, not pixels).

Sizes are small so the whole file runs in seconds; the experiments' defaults are larger.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.teach import lab


def test_universal_approximation_error_falls_with_width():
    r = lab.approximation(widths=(1, 4, 16), steps=800)
    errors = r["errors"]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < errors[0] / 10
    # the reported error is the fitted curve's, measured against the target itself
    np.testing.assert_allclose(errors, np.mean((r["fits"] - r["y"]) ** 2, axis=1))


def test_vanishing_gradient_in_a_10_layer_sigmoid_stack_and_relu_he_closes_the_gap():
    configs = ("sigmoid, default init", "ReLU, He init", "ReLU, He init × 2.5 (too large)")
    r = lab.depth(depth=10, steps=1, configs=configs)
    sigmoid, relu_he, too_large = r["ratio"]
    assert sigmoid < 1e-4  # the first layer's δ is orders of magnitude below the last's
    assert abs(np.log10(relu_he)) < 0.2 * abs(np.log10(sigmoid))  # most of the gap closed
    assert too_large > 100  # exploding: the first layer's δ far above the last's
    # vanishing is geometric: every layer's δ is smaller than the next one's
    assert np.all(np.diff(r["delta"][0, 0]) > 0)
    # the gradients of the weights tell the same story
    wg = r["weight_grad"][0, 0]
    assert wg[0] / wg[-1] < 1e-4


def test_batch_norm_and_xavier_shrink_the_sigmoid_gap():
    r = lab.depth(depth=10, steps=1, configs=("sigmoid, default init", "sigmoid, Xavier init",
                                              "sigmoid + batch norm"))
    default, xavier, batch_norm = r["ratio"]
    assert default < xavier < batch_norm


def test_cross_entropy_escapes_saturation_in_fewer_steps_than_mse():
    r = lab.losses(max_steps=400)
    assert r["steps"]["cross-entropy"] is not None and r["steps"]["MSE"] is not None
    assert r["steps"]["cross-entropy"] * 10 < r["steps"]["MSE"]
    g = r["grad_at_start"]
    assert g["cross-entropy"] > 100 * g["MSE"]
    # the measured gradients are the textbook ones at w = w0, b = 0
    x, y = r["x"], r["y"]
    p = 1 / (1 + np.exp(-r["w0"] * x))
    np.testing.assert_allclose(g["MSE"], abs(np.mean(2 * (p - y) * p * (1 - p) * x)), rtol=1e-4)
    np.testing.assert_allclose(g["cross-entropy"], abs(np.mean((p - y) * x)), rtol=1e-4)


def test_momentum_reaches_the_quadratic_minimum_in_fewer_steps_than_gd():
    r = lab.optimizers(surfaces=("quadratic",), names=("GD", "momentum", "Nesterov"),
                       max_steps=700)
    steps = r["steps"]["quadratic"]
    assert None not in steps.values()
    assert steps["momentum"] < steps["GD"] / 2 and steps["Nesterov"] < steps["GD"] / 2
    path = r["paths"]["quadratic"]["momentum"]
    assert np.hypot(*path[-1]) < 1e-3 and np.hypot(*path[-2]) >= 1e-3


def test_the_learning_rate_sweep_too_small_right_too_large_divergent():
    sweep = lab.optimizers(surfaces=("saddle",), names=("GD",), max_steps=1)["sweep_steps"]
    assert sweep["right"] < sweep["too large"] < sweep["too small"]
    assert sweep["divergent"] is None


def test_adaptive_steps_leave_the_saddle_sooner_than_gd():
    r = lab.optimizers(surfaces=("saddle",), names=("GD", "Adam"), max_steps=400)
    assert r["steps"]["saddle"]["Adam"] < r["steps"]["saddle"]["GD"]


def test_minibatch_noise_escapes_the_saddle_full_batch_does_not():
    r = lab.minibatch(n_seeds=4, steps=200)
    assert r["escaped"] == {"full-batch GD": 0, "minibatch SGD": 4}
    np.testing.assert_allclose(r["final_loss"]["full-batch GD"], 0.25, atol=1e-6)  # the saddle
    assert all(s is not None for s in r["escape_steps"]["minibatch SGD"])


def test_xor_needs_a_hidden_layer_whose_representation_is_linearly_separable():
    r = lab.features(steps=400)
    assert r["network_accuracy"] == 1.0
    raw, _, after = r["perceptrons"]
    assert not raw.converged and r["perceptron_raw"] <= 0.75  # XOR defeats the perceptron
    assert after.converged and r["perceptron_hidden_after"] == 1.0  # separable when hidden
    # an independent check: a least-squares linear fit on the hidden features separates too
    H = np.column_stack([r["hidden_after"], np.ones(len(r["y"]))])
    w = np.linalg.lstsq(H, 2.0 * r["y"] - 1, rcond=None)[0]
    assert np.all((H @ w > 0) == (r["y"] == 1))


def test_circles_too_become_separable_in_the_hidden_layer():
    r = lab.features(dataset="circles", steps=400)
    assert r["perceptron_raw"] < 0.8 and r["perceptron_hidden_after"] == 1.0


def test_experiments_are_seeded():
    a = lab.minibatch(n_seeds=2, steps=30, seed=3)
    b = lab.minibatch(n_seeds=2, steps=30, seed=3)
    for m in a["paths"]:
        for pa, pb in zip(a["paths"][m], b["paths"][m]):
            np.testing.assert_array_equal(pa, pb)


def test_bad_arguments_name_the_experiment():
    with pytest.raises(ValueError, match="approximation: unknown target 'cos'"):
        lab.approximation(target="cos")
    with pytest.raises(ValueError, match="depth: unknown configuration 'elu'"):
        lab.depth(configs=("elu",))
    with pytest.raises(KeyError, match="lab: unknown experiment 'nope'"):
        lab.run("nope")


SMALL = {
    "approximation": {"widths": (1, 4), "steps": 20},
    "depth": {"depth": 4, "steps": 3},
    "losses": {"max_steps": 30},
    "optimizers": {"max_steps": 40, "sweep_steps": 40},
    "minibatch": {"n_seeds": 2, "steps": 30},
    "features": {"steps": 30, "epochs": 5},
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_every_lab_prints_its_claim_and_writes_readable_pngs(name, tmp_path):
    image = pytest.importorskip("matplotlib.image")
    r = lab.run(name, out_dir=tmp_path, echo=False, **SMALL[name])
    assert r["report"].startswith("Claim (notes") and "Measured" in r["report"]
    assert r["pictures"] and all(p.parent == tmp_path for p in r["pictures"])
    for path in r["pictures"]:
        pixels = image.imread(path)
        assert pixels.shape[0] > 300 and pixels.shape[1] > 600  # a real figure, not a stub
        assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 50


def test_cli_lab_lists_runs_and_refuses(tmp_path, capsys):
    assert main(["lab"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in lab.LABS)
    assert main(["lab", "nope"]) == 2
    assert "unknown experiment 'nope'" in capsys.readouterr().err
    assert main(["lab", "losses", "--out", str(tmp_path), "--seed", "1",
                 "--set", "max_steps=400"]) == 0
    out = capsys.readouterr().out
    assert "cross" in out and "MSE" in out and (tmp_path / "losses.png").exists()
    assert main(["lab", "losses", "--set", "colour=red"]) == 1
    err = capsys.readouterr().err
    assert "lab losses: " in err and "colour" in err and "max_steps" in err


def test_cli_demo_autograd_html_writes_the_page(tmp_path, capsys):
    assert main(["demo", "autograd", "--html", "--out", str(tmp_path)]) == 0
    page = (tmp_path / "backprop.html").read_text(encoding="utf-8")
    assert "dd/da = 7 + 4 = 11" in page
    assert "backprop.html" in capsys.readouterr().out
    assert main(["demo", "xor", "--html"]) == 1
    assert "--html is for the autograd demo" in capsys.readouterr().err


def test_lab_is_reachable_from_the_top_level():
    assert cr.teach.lab.depth is lab.depth
