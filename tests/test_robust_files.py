"""Issue 10, classes 3-5: run folders are the user's data, CSV columns are matched by name (or
the user is told), untrusted files are bounded before they cost anything."""

import json
import os
import struct
import time
import tracemalloc

import pytest

import chainrule as cr
from chainrule import io
from chainrule._atomic import atomic_write, sweep_temporary_files
from chainrule.cli import main
from chainrule.train import runfolder

TINY = ["--data", "iris", "--epochs", "2", "--hidden", "4", "--no-plots", "--no-progress"]


def _train(out, *extra):
    return main(["train", *TINY, "--out", str(out), *extra])


def _weights(path):
    return {k: v.tobytes() for k, v in cr.load(path)["state_dict"].items()}


# ------------------------------------------------------------------------------ run folders
def test_two_runs_started_in_the_same_second_get_two_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(time, "strftime", lambda fmt, *a: "20260101-000000")
    folders = {runfolder.claim_default(tmp_path, "iris") for _ in range(3)}
    assert sorted(f.name for f in folders) == ["iris-20260101-000000", "iris-20260101-000000-2",
                                               "iris-20260101-000000-3"]


def test_default_run_folders_are_unique(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(time, "strftime", lambda fmt, *a: "20260101-000000")
    assert main(["train", *TINY]) == 0 and main(["train", *TINY]) == 0
    runs = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert runs == ["iris-20260101-000000", "iris-20260101-000000-2"]


def test_out_on_a_folder_holding_another_run_refuses_without_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", "xor", "--epochs", "3", "--out", str(out),
                 "--no-progress"]) == 0  # with plots: decision_boundary.png among them
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    assert _train(out) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already holds another run" in err and "--overwrite" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing touched
    (out / "notes.txt").write_text("mine")
    assert _train(out, "--overwrite") == 0
    names = {p.name for p in out.iterdir()}
    assert "decision_boundary.png" not in names and "history.png" not in names  # old run gone
    assert json.loads((out / "run.json").read_text())["data"] == "iris"
    assert (out / "notes.txt").read_text() == "mine"  # not a run file: kept


def test_a_users_file_with_a_run_files_name_is_never_overwritten(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "history.csv").write_text("my data\n")
    assert _train(out) == 1
    assert "history.csv" in capsys.readouterr().err
    assert (out / "history.csv").read_text() == "my data\n"


def test_run_json_records_the_seed_and_every_option_to_repeat_the_run(tmp_path, capsys):
    out = tmp_path / "a"
    assert main(["train", "--data", "iris", "--epochs", "3", "--hidden", "5,3", "--seed", "7",
                 "--lr", "0.02", "--optimizer", "sgd", "--lr-schedule", "cosine",
                 "--batch-size", "8", "--test-size", "0.3", "--no-plots", "--out", str(out),
                 "--no-progress"]) == 0
    record = json.loads((out / "run.json").read_text())
    assert record["seed"] == 7 and record["status"] == "finished"
    assert record["options"] == {
        "data": "iris", "target": None, "task": "auto", "hidden": [5, 3], "activation": "relu",
        "arch": "mlp",
        "optimizer": "sgd", "lr": 0.02, "lr_schedule": "cosine", "epochs": 3, "batch_size": 8,
        "test_size": 0.3, "seed": 7, "checkpoint_every": 1, "plots": False, "compile": False}
    again = tmp_path / "b"
    assert main([*record["command"][1:], "--out", str(again), "--no-progress"]) == 0
    assert _weights(out / "model.safetensors") == _weights(again / "model.safetensors")


def test_predict_refuses_to_write_over_its_own_model_or_input(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out) == 0
    rows = tmp_path / "rows.csv"
    rows.write_text("sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n")
    model = out / "model.safetensors"
    saved = model.read_bytes(), rows.read_bytes()
    for target in (model, rows, tmp_path / "." / "rows.csv"):
        capsys.readouterr()
        assert main(["predict", str(model), str(rows), "-o", str(target)]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "write the predictions to another file" in err
    assert (model.read_bytes(), rows.read_bytes()) == saved


def test_the_next_save_sweeps_temporary_files_of_killed_saves_only(tmp_path):
    dead = tmp_path / ".w.safetensors.999999999-0a1b2c3d.tmp"  # no such process
    alive = tmp_path / f".w.safetensors.{os.getpid()}-0a1b2c3d.tmp"  # a save in progress
    legacy_old = tmp_path / ".x.safetensors.0a1b2c3d.tmp"
    legacy_new = tmp_path / ".y.safetensors.1a1b2c3d.tmp"
    user = tmp_path / ".hidden.tmp"
    for p in (dead, alive, legacy_old, legacy_new, user):
        p.write_bytes(b"half")
    os.utime(legacy_old, (time.time() - 7200, time.time() - 7200))
    atomic_write(tmp_path / "other.bin", b"data")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([alive.name, legacy_new.name, user.name, "other.bin"])
    assert sweep_temporary_files(tmp_path) == []


# ------------------------------------------------------------------------------- CSV files
@pytest.fixture(scope="module")
def iris_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("iris")
    assert main(["train", *TINY, "--out", str(out / "run")]) == 0
    return out / "run" / "model.safetensors"


HEADER = "sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)"


@pytest.mark.parametrize("text, words", [
    ("a,b,c,d\n1,2,3,4\n",
     r"line 1 of .*x.csv: the header has no column\(s\) \['sepal length \(cm\)'"),
    (f"{HEADER}\n1,2,3,4\n1,2,3\n", r"line 3 of .*x.csv has 3 cells, expected 4"),
    (f"{HEADER}\n1,2,3,4,5\n", r"line 2 of .*x.csv has 5 cells, expected 4"),
    (f"{HEADER},petal width (cm)\n1,2,3,4,5\n", r"line 1 of .*x.csv: the header repeats the "
                                                r"column name\(s\) \['petal width \(cm\)'\]"),
    (f"{HEADER}\n1,2,'3',4\n", r"line 2, column 'petal length \(cm\)' of .*x.csv: the quoted "
                               r"number "
                               r"\"'3'\" \(remove the quotes"),
    (f"{HEADER}\n1,2,1e39,4\n", r"1e39 at line 2, column 'petal length \(cm\)' of .*x.csv is too "
                                r"large for float32"),
])
def test_predict_names_the_file_line_and_columns_of_a_bad_csv(iris_model, tmp_path, capsys,
                                                              text, words):
    import re

    path = tmp_path / "x.csv"
    path.write_text(text)
    assert main(["predict", str(iris_model), str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert re.search(words, err), err


@pytest.mark.parametrize("content, words", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "is not UTF-8 text"),
    (f"{HEADER}\n1,2,3,\x004\n".encode(), "a binary file, not CSV text"),
    ("sepal_length;x\n1;2\n".encode("utf-16"), "is not UTF-8 text"),
])
def test_binary_and_non_utf8_files_are_named_as_such(iris_model, tmp_path, capsys, content,
                                                     words):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    for argv in (["predict", str(iris_model), str(path)],
                 ["evaluate", str(iris_model), f"csv:{path}"],
                 ["train", "--data", f"csv:{path}", "--out", str(tmp_path / "r")]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and words in err and "x.csv" in err, argv


def test_evaluate_refuses_a_header_without_the_models_columns(iris_model, tmp_path, capsys):
    path = tmp_path / "renamed.csv"
    path.write_text("a,b,c,d,species\n5.1,3.5,1.4,0.2,0\n6.7,3.0,5.2,2.3,2\n")
    assert main(["evaluate", str(iris_model), f"csv:{path}"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no column(s) ['sepal length (cm)'" in err


def test_load_csv_names_values_too_large_for_float32_without_a_warning(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("a,y\n1,0.5\n2,1e39\n")
    with pytest.raises(ValueError, match=r"1e39 at line 3, column 'y' of .*big.csv is too large "
                                         "for float32"):
        cr.datasets.load_csv(path)


# ------------------------------------------------------------------------- untrusted files
def _crafted(tmp_path, edit, name="crafted"):
    net = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.ReLU(), cr.nn.Linear(3, 1))
    good = tmp_path / "good.safetensors"
    cr.save_model(net, good)
    obj = cr.load(good)
    edit(obj["architecture"])
    path = tmp_path / f"{name}.safetensors"
    cr.save(obj, path)
    return path


def _set(size_in, size_out):
    def edit(arch):
        arch["children"][0]["config"].update(in_features=size_in, out_features=size_out)
    return edit


@pytest.mark.parametrize("sizes, words", [
    ((10 ** 12, 3), "asks for a size of 1000000000000, more than the 13 elements"),
    ((60_000, 60_000), r"asks for a layer of sizes \[60000, 60000\], far more than the 13"),
    ((3000, 3000), "needs more than .* bytes of tensors .* the file stores 52 bytes"),
    ((2 ** 62, 2 ** 62), "the architecture asks for a"),
])
def test_a_crafted_architecture_is_refused_before_anything_is_allocated(tmp_path, sizes, words):
    path = _crafted(tmp_path, _set(*sizes))
    tracemalloc.start()
    try:
        with pytest.raises(io.CheckpointError, match=words):
            cr.load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * path.stat().st_size + (1 << 20)  # a small multiple of the file


def test_a_deeply_nested_architecture_is_refused(tmp_path):
    def nest(arch):
        inner = arch["children"][0]["config"]
        for _ in range(150):
            inner["a"] = {}
            inner = inner["a"]

    path = _crafted(tmp_path, nest)
    with pytest.raises(io.CheckpointError, match="nested more than 100 levels"):
        cr.load_model(path)


def test_deeply_nested_and_inconsistent_headers_get_the_librarys_error(tmp_path):
    deep = tmp_path / "deep.safetensors"
    header = b"[" * 200_000
    deep.write_bytes(struct.pack("<Q", len(header)) + header)
    with pytest.raises(io.CheckpointError, match="nested more than 100 levels"):
        cr.load(deep)
    lying = tmp_path / "lying.safetensors"
    header = json.dumps({"w": {"dtype": "F32", "shape": [10 ** 9, 10 ** 9],
                               "data_offsets": [0, 16]}}).encode()
    lying.write_bytes(struct.pack("<Q", len(header)) + header + bytes(16))
    with pytest.raises(io.CheckpointError, match=r"needs 4000000000000000000 bytes but its "
                                                 "offsets span 16"):
        cr.load(lying)
    odd = tmp_path / "odd.safetensors"
    header = json.dumps({"w": {"dtype": "F99", "shape": [1], "data_offsets": [0, 4]}}).encode()
    odd.write_bytes(struct.pack("<Q", len(header)) + header + bytes(4))
    with pytest.raises(io.CheckpointError, match="unknown dtype 'F99'"):
        cr.load(odd)


def test_predict_on_a_crafted_model_is_one_line(tmp_path, capsys):
    path = _crafted(tmp_path, _set(50_000, 50_000))
    rows = tmp_path / "rows.csv"
    rows.write_text("1,2\n")
    assert main(["predict", str(path), str(rows)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the architecture asks for a layer" in err


def test_run_json_command_repeats_arch_and_compile(tmp_path, capsys):
    out = tmp_path / "c"
    assert main(["train", "--data", "digits", "--arch", "cnn", "--epochs", "1", "--compile",
                 "--no-plots", "--out", str(out), "--no-progress"]) == 0
    record = json.loads((out / "run.json").read_text())
    assert record["options"]["arch"] == "cnn" and record["options"]["compile"] is True
    assert "--compile" in record["command"]
    assert record["command"][record["command"].index("--arch") + 1] == "cnn"
