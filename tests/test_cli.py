"""The `chainrule` command: train / predict / evaluate / demo, files written, exit codes."""

import csv
import json
import subprocess
import sys
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


def _assert_png(path):
    from matplotlib.image import imread

    assert path.read_bytes()[:8] == PNG, f"{path} is not a PNG"
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert image.shape[2] in (3, 4) and image.std() > 0  # not a blank canvas


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """`chainrule train` with every default (digits), run once for the tests below."""
    out = tmp_path_factory.mktemp("digits")
    started = time.perf_counter()
    code = main(["train", "--out", str(out), "--no-progress"])
    return code, out, time.perf_counter() - started


def test_train_with_defaults_reaches_97_percent_on_digits_and_writes_its_files(digits_run,
                                                                             capsys):
    code, out, seconds = digits_run
    assert code == 0
    assert seconds < 60
    run = json.loads((out / "run.json").read_text())
    assert run["data"] == "digits" and run["task"] == "classification"
    assert run["test"]["accuracy"] >= 0.97
    for name in ("model.safetensors", "history.json", "history.csv", "history.png",
                 "confusion_matrix.png"):
        assert (out / name).is_file(), name
    assert not (out / "decision_boundary.png").exists()  # 64 inputs: no 2-D picture
    _assert_png(out / "history.png")
    _assert_png(out / "confusion_matrix.png")
    hist = json.loads((out / "history.json").read_text())
    assert hist["epochs"] == list(range(1, run["epochs"] + 1))
    assert hist["history"]["val_accuracy"][-1] == pytest.approx(run["test"]["accuracy"],
                                                                abs=0.006)
    with open(out / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == run["epochs"] and float(rows[0]["loss"]) > float(rows[-1]["loss"])


def test_the_saved_model_takes_raw_features_and_reproduces_the_test_accuracy(digits_run,
                                                                           capsys):
    _, out, _ = digits_run
    model = cr.load_model(out / "model.safetensors")
    X, y = cr.datasets.digits()
    acc = cr.train.evaluate(model, None, (X, y), ["accuracy"])["accuracy"]
    assert acc > 0.98  # mostly training data, unscaled: the scaling is inside the model
    assert main(["evaluate", str(out / "model.safetensors"), "digits"]) == 0
    text = capsys.readouterr().out
    reported = float(text.split("accuracy:")[1].split()[0])
    run = json.loads((out / "run.json").read_text())
    assert reported == pytest.approx(run["test"]["accuracy"], abs=1e-5)
    assert "359" in text


def test_predict_writes_one_row_per_input_with_class_probabilities(digits_run, tmp_path,
                                                                   capsys):
    _, out, _ = digits_run
    X, y = cr.datasets.digits()
    src = tmp_path / "rows.csv"
    np.savetxt(src, X[:25], delimiter=",", fmt="%g")  # no header: all 64 columns are features
    dest = tmp_path / "pred.csv"
    assert main(["predict", str(out / "model.safetensors"), str(src), "--output",
                 str(dest)]) == 0
    with open(dest) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 25 and list(rows[0])[:2] == ["prediction", "p_0"]
    labels = np.array([int(r["prediction"]) for r in rows])
    assert np.mean(labels == y[:25]) >= 0.9
    probs = np.array([[float(r[f"p_{k}"]) for k in range(10)] for r in rows])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert main(["predict", str(out / "model.safetensors"), str(src)]) == 0  # to stdout
    assert capsys.readouterr().out.count("\n") == 26


def test_train_on_a_2d_toy_set_writes_a_decision_boundary_and_prints_progress(tmp_path,
                                                                            capsys):
    out = tmp_path / "moons"
    assert main(["train", "--data", "moons", "--epochs", "30", "--hidden", "16",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "epoch 30/30" in text and "test accuracy:" in text
    assert float(text.split("test accuracy:")[1].split()[0]) > 0.9
    _assert_png(out / "decision_boundary.png")
    net = cr.load_model(out / "model.safetensors")
    assert [type(m).__name__ for m in net.children()] == ["Linear", "ReLU", "Linear"]


def test_xor_trains_on_all_four_rows_with_tanh(tmp_path, capsys):
    out = tmp_path / "xor"
    assert main(["train", "--data", "xor", "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "test accuracy: 1.0000 (4 samples" in text
    run = json.loads((out / "run.json").read_text())
    assert run["activation"] == "tanh" and run["split"] is None


def test_csv_regression_round_trip_in_the_data_units(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2)) * [1.0, 50.0] + [0.0, 300.0]
    y = 4 * X[:, 0] + 0.1 * X[:, 1] + 500
    path = tmp_path / "houses.csv"
    with open(path, "w") as f:
        f.write("size,age,price\n")
        for (a, b), t in zip(X, y):
            f.write(f"{a:.5f},{b:.5f},{t:.5f}\n")
    out = tmp_path / "run"
    assert main(["train", "--data", f"csv:{path}", "--target", "price", "--epochs", "60",
                 "--out", str(out), "--no-progress"]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["task"] == "regression" and run["test"]["r2"] > 0.95
    assert not (out / "confusion_matrix.png").exists()
    capsys.readouterr()
    # predict reads the feature columns by name and ignores the target column
    assert main(["predict", str(out / "model.safetensors"), str(path)]) == 0
    pred = np.array([float(v) for v in capsys.readouterr().out.split()[1:]])
    assert pred.shape == (200,) and np.abs(pred - y).mean() < 0.1 * y.std()
    assert main(["evaluate", str(out / "model.safetensors"), f"csv:{path}",
                 "--target", "price"]) == 0
    assert "r2:" in capsys.readouterr().out


def test_csv_with_text_labels(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 2))
    path = tmp_path / "pets.csv"
    with open(path, "w") as f:
        f.write("kind,w,h\n")
        for a, b in X:
            f.write(f"{'cat' if a + b > 0 else 'dog'},{a:.4f},{b:.4f}\n")
    out = tmp_path / "run"
    assert main(["train", "--data", f"csv:{path}", "--target", "kind", "--epochs", "40",
                 "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["predict", str(out / "model.safetensors"), str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "prediction,p_cat,p_dog"
    assert {line.split(",")[0] for line in lines[1:]} <= {"cat", "dog"}


# ------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("argv", [
    ["train", "--epochs", "zero"],
    ["train", "--epochs", "-3"],
    ["train", "--data", "nosuchdata"],
    ["train", "--hidden", "64,abc"],
    ["train", "--optimizer", "lbfgs"],
    ["evaluate", "model.safetensors"],
    ["frobnicate"],
    [],
])
def test_wrong_arguments_print_usage_and_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "usage: chainrule" in err and "Traceback" not in err


def test_a_bad_input_cell_names_its_line(digits_run, tmp_path, capsys):
    _, out, _ = digits_run
    bad = tmp_path / "bad.csv"
    bad.write_text(",".join(["1"] * 64) + "\n" + ",".join(["1"] * 63 + ["oops"]) + "\n")
    assert main(["predict", str(out / "model.safetensors"), str(bad)]) == 1
    err = capsys.readouterr().err
    # One line of error (after a one-line warning: a file without a header is read by
    # position).
    error = [line for line in err.splitlines() if "error" in line]
    assert len(error) == 1 and "line 2" in error[0] and "'oops' is not a number" in error[0]
    assert all(line.startswith("chainrule") for line in err.splitlines())
    short = tmp_path / "short.csv"
    short.write_text("1,2,3\n")
    assert main(["predict", str(out / "model.safetensors"), str(short)]) == 1
    assert "expects 64 features" in capsys.readouterr().err


def test_user_errors_are_one_line_and_exit_1(tmp_path, capsys):
    cases = [
        ["train", "--data", f"csv:{tmp_path / 'missing.csv'}"],
        ["train", "--data", f"mnist:{tmp_path}"],
        ["evaluate", str(tmp_path / "missing.safetensors"), "digits"],
        ["predict", str(tmp_path / "missing.safetensors"), "x.csv"],
    ]
    (tmp_path / "junk.safetensors").write_bytes(b"not a model at all")
    cases.append(["evaluate", str(tmp_path / "junk.safetensors"), "digits"])
    for argv in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("chainrule ") and "error:" in err, err


def test_exit_codes_through_a_real_process(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "chainrule.cli", *args],
                              capture_output=True, text=True, timeout=60)

    missing = run("predict", str(tmp_path / "nope.safetensors"), "in.csv")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert missing.stderr.strip().count("\n") == 0 and "nope.safetensors" in missing.stderr
    bad = run("train", "--lr", "fast")
    assert bad.returncode == 2 and "usage:" in bad.stderr and "Traceback" not in bad.stderr
    assert run("--help").returncode == 0


def test_demo_dispatches_lazily_and_says_so_when_missing(monkeypatch, capsys):
    import types

    calls = []
    fake = types.ModuleType("chainrule.demos")
    fake.DEMOS = {"xor": "the xor demo"}
    fake.run = lambda name: calls.append(name) or {"ok": True}
    monkeypatch.setitem(sys.modules, "chainrule.demos", fake)
    monkeypatch.setattr(cr, "demos", fake, raising=False)
    assert main(["demo", "xor"]) == 0 and calls == ["xor"]
    assert main(["demo", "nope"]) == 2 and "unknown demo 'nope'" in capsys.readouterr().err
    assert main(["demo"]) == 0 and "xor" in capsys.readouterr().out
    monkeypatch.setitem(sys.modules, "chainrule.demos", None)  # as if not installed
    monkeypatch.delattr(cr, "demos", raising=False)
    assert main(["demo", "xor"]) == 1
    assert "chainrule.demos is missing" in capsys.readouterr().err


def test_mnist_folder_of_idx_files_trains_and_evaluates_on_its_test_files(tmp_path, capsys):
    X, y = cr.datasets.digits()
    images = np.zeros((len(X), 28, 28), np.uint8)
    images[:, 10:18, 10:18] = (X.reshape(-1, 8, 8) * 15).astype(np.uint8)  # 0..240
    for prefix, rows in (("train", slice(0, 400)), ("t10k", slice(400, 500))):
        cr.datasets.write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", images[rows])
        cr.datasets.write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", y[rows].astype(np.uint8))
    out = tmp_path / "run"
    assert main(["train", "--data", f"mnist:{tmp_path}", "--epochs", "10", "--batch-size", "32",
                 "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "(100 samples, the data's own test set)" in text
    assert main(["evaluate", str(out / "model.safetensors"), f"mnist:{tmp_path}"]) == 0
    text = capsys.readouterr().out
    assert "samples: 100 (the data's test set)" in text
    accuracy = float(text.split("accuracy:")[1].split()[0])
    assert accuracy > 0.85
    run = json.loads((out / "run.json").read_text())
    assert accuracy == pytest.approx(run["test"]["accuracy"], abs=1e-5)
