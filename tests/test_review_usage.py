"""Regression tests for bugs found by using the `chainrule` command and the library's tools
the way a user does (CSV files, tiny data, NaN cells, explain after backward, odd plots)."""

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main


def _write_csv(path, header, rows):
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _regression_rows(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    price = 2 * X[:, 0] - X[:, 1] + 0.5
    return [[*x, p] for x, p in zip(X.tolist(), price.tolist())]


def _metrics(text):
    return {k: float(v) for k, v in (line.split(": ", 1) for line in text.splitlines()
                                     if line.split(": ")[0] in ("mse", "mae", "r2"))}


# ---------------------------------------------------------------------- chainrule evaluate
def test_evaluate_uses_the_target_column_the_model_was_trained_on(tmp_path, capsys):
    # Trained to predict column 'a' from (b, c, price); evaluating the same file without
    # --target must not silently score the model against the last column instead.
    data = _write_csv(tmp_path / "houses.csv", ["a", "b", "c", "price"], _regression_rows())
    out = tmp_path / "run"
    assert main(["train", "--data", f"csv:{data}", "--target", "a", "--epochs", "3",
                 "--out", str(out), "--no-progress"]) == 0
    trained = json.loads((out / "run.json").read_text())["test"]
    capsys.readouterr()
    assert main(["evaluate", str(out / "model.safetensors"), f"csv:{data}"]) == 0
    got = _metrics(capsys.readouterr().out)
    assert got["mse"] == pytest.approx(trained["mse"], rel=1e-5)


def test_evaluate_picks_feature_columns_by_name(tmp_path, capsys):
    rows = _regression_rows()
    data = _write_csv(tmp_path / "houses.csv", ["a", "b", "c", "price"], rows)
    shuffled = _write_csv(tmp_path / "shuffled.csv", ["price", "c", "a", "b"],
                          [[r[3], r[2], r[0], r[1]] for r in rows])
    out = tmp_path / "run"
    assert main(["train", "--data", f"csv:{data}", "--epochs", "3", "--out", str(out),
                 "--no-progress"]) == 0
    capsys.readouterr()
    model = str(out / "model.safetensors")
    assert main(["evaluate", model, f"csv:{data}", "--all"]) == 0
    same_order = _metrics(capsys.readouterr().out)
    assert main(["evaluate", model, f"csv:{shuffled}", "--all"]) == 0
    assert _metrics(capsys.readouterr().out) == pytest.approx(same_order, rel=1e-5)


# ------------------------------------------------------------------------- chainrule train
def test_train_on_one_row_per_class_trains_and_tests_on_all_rows(tmp_path, capsys):
    # The stratified split cannot hold anything out: this used to end in a traceback
    # ("evaluate: the data set is empty").
    data = _write_csv(tmp_path / "two.csv", ["a", "b", "y"], [[1, 2, 0], [3, 4, 1]])
    out = tmp_path / "run"
    assert main(["train", "--data", f"csv:{data}", "--epochs", "2", "--out", str(out),
                 "--no-progress"]) == 0
    assert "all 2 rows" in capsys.readouterr().out
    assert (out / "model.safetensors").exists()
    assert json.loads((out / "run.json").read_text())["split"] is None


@pytest.mark.parametrize("text", ["y\n1\n2\n3\n", "a;b;y\n1;2;0\n3;4;1\n5;6;0\n"])
def test_train_rejects_a_csv_without_feature_columns(tmp_path, capsys, text):
    # A one-column (or semicolon-separated) file used to build an MLP with 0 inputs.
    data = tmp_path / "one_column.csv"
    data.write_text(text)
    assert main(["train", "--data", f"csv:{data}", "--epochs", "2",
                 "--out", str(tmp_path / "run"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "no feature columns" in err and "Traceback" not in err


def test_train_rejects_nan_cells_naming_the_row_and_column(tmp_path, capsys):
    # 'nan' parses as a number: it used to reach training and the plots (a matplotlib
    # traceback, "Axis limits cannot be NaN or Inf").
    rng = np.random.default_rng(1)
    rows = [[("nan" if i == 5 else x0), x1, int(x0 > 0)]
            for i, (x0, x1) in enumerate(rng.normal(size=(40, 2)).tolist())]
    data = _write_csv(tmp_path / "nan.csv", ["a", "b", "y"], rows)
    assert main(["train", "--data", f"csv:{data}", "--epochs", "2",
                 "--out", str(tmp_path / "run"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "row 6" in err and "'a'" in err and "nan" in err


# ---------------------------------------------------------------------------------- cr.save
def test_save_a_key_named_like_the_safetensors_header_entry(tmp_path):
    # A tensor named __metadata__ clashed with safetensors' own header entry: the save
    # succeeded and wrote a file nobody could load.
    path = tmp_path / "x.safetensors"
    cr.save({"__metadata__": np.arange(3.0), "n": 1}, path)
    back = cr.load(path)
    np.testing.assert_array_equal(back["__metadata__"], np.arange(3.0))
    assert back["n"] == 1


# ---------------------------------------------------------------------------------- explain
def test_explain_after_backward_says_the_graph_was_freed():
    p = cr.tensor(2.0, requires_grad=True)
    loss = (p * p).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="released its saved arrays"):
        cr.explain(loss, echo=False)


# ------------------------------------------------------------------------------------ plots
def test_confusion_matrix_takes_labels_as_a_column_vector():
    from chainrule.teach.plots import confusion_matrix

    y_true = np.array([[0], [1], [1]])
    y_pred = np.array([[0], [1], [0]])
    assert confusion_matrix(y_true, y_pred).tolist() == [[1, 0], [1, 1]]


def test_decision_boundary_skips_nan_points_and_rejects_empty_input(tmp_path):
    from chainrule.teach.plots import plot_decision_boundary

    X = np.array([[0.0, 0.0], [1.0, 1.0], [np.nan, 0.5]])
    y = np.array([0, 1, 0])
    path = plot_decision_boundary(lambda t: t.sum(axis=1) - 1, X, y, tmp_path / "b.png",
                                  resolution=10)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="plot_decision_boundary"):
        plot_decision_boundary(lambda t: t.sum(axis=1), X[:0], y[:0], tmp_path / "e.png")


def test_predict_rejects_nan_cells_naming_the_row(tmp_path):
    from chainrule.train.prepare import read_features

    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\nnan,3\n")
    with pytest.raises(ValueError, match=r"data row 2 .*column 'a'"):
        read_features(path, ["a", "b"], 2)


def test_confusion_matrix_with_string_labels_says_how_to_encode_them():
    from chainrule.teach import confusion_matrix

    with pytest.raises(ValueError, match="class indices"):
        confusion_matrix(np.array(["cat", "dog"]), np.array(["cat", "cat"]))
