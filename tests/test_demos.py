"""The lecture notes' examples: every demo reproduces the notes' numbers, and every example
script runs to completion."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chainrule import demos

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_logic_gates_match_the_truth_tables():
    result = demos.run("logic")
    assert result["AND_correct"] and result["OR_correct"] and result["NAND_correct"]
    # σ(20 + 20 − 30) = σ(10): the notes' AND neuron is confident, not just right.
    assert result["AND"][3] == pytest.approx(1 / (1 + np.exp(-10)))


def test_xor_by_hand_learned_and_impossible_for_the_perceptron(tmp_path):
    result = demos.run("xor", out_dir=tmp_path)
    assert np.array_equal(result["by_hand"] > 0.5, [False, True, True, False])
    assert result["accuracy"] == 1.0
    assert result["perceptron_accuracy"] < 1.0
    assert result["losses"][-1] < 0.01 < result["losses"][0]
    assert Path(result["picture"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_dd_da_is_11_in_the_autograd_demo(tmp_path):
    result = demos.run("autograd", out_dir=tmp_path)
    assert result["dd_da"] == 11 and result["dd_db"] == 4
    assert "7 + 4 = 11" in result["explain"]
    assert Path(result["picture"]).exists()


def test_circle_demo_recovers_centre_and_radius():
    result = demos.run("circle")
    from chainrule.demos.circle_demo import TRUE_CENTRE, TRUE_RADIUS

    assert abs(result["centre"][0] - TRUE_CENTRE[0]) < 0.1
    assert abs(result["centre"][1] - TRUE_CENTRE[1]) < 0.1
    assert abs(result["radius"] - TRUE_RADIUS) < 0.1


def test_tutorial_loss_falls():
    from chainrule.demos.tutorial_demo import main

    losses = main(steps=60)["losses"]
    assert losses[-1] < 1e-3 * losses[0]


def test_jacobian_of_wx_is_w():
    result = demos.run("jacobian")
    assert result["equal"]
    np.testing.assert_array_equal(result["jacobian"], result["W"])


def test_classic_and_autograd_agree():
    assert demos.run("classic")["max_difference"] < 1e-12


def test_unknown_demo_names_the_choices():
    with pytest.raises(KeyError, match="choose from"):
        demos.run("nope")


@pytest.mark.parametrize("name", sorted(demos.DEMOS))
def test_example_script_exits_0(name, tmp_path):
    script = EXAMPLES / f"{name}.py"
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
