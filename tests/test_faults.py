"""Issue 10, class 7 (and 2): fault injection. `chainrule train` and the library under SIGINT,
SIGTERM and SIGKILL at seeded random points of training and of saving, a full disk (an
injected ENOSPC), read-only folders, missing extras and corrupt or truncated files.

The promises checked after every fault: the last good checkpoint loads, a resumed run ends
with exactly (bit for bit) the weights of an uninterrupted one, nothing half-written stays in
the run folder, and no file of the user's is overwritten. Tiny data (iris, 8 epochs of a
4-8-3 MLP) and temporary folders only; the subprocesses are the only slow part (~1 s each).
"""

import errno
import importlib.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
import chainrule._atomic as atomic
from chainrule import io
from chainrule.cli import main

DRIVER = Path(__file__).with_name("_fault_driver.py")
SRC = Path(cr.__file__).resolve().parents[1]
EPOCHS = 8
TRAIN = ["--data", "iris", "--epochs", str(EPOCHS), "--hidden", "8", "--batch-size", "16",
         "--no-plots", "--no-progress"]
RNG = np.random.default_rng(20260310)  # the "random" fault points, the same on every run


def _weights(folder):
    state = cr.load(Path(folder) / "model.safetensors")["state_dict"]
    return {k: (v.dtype.str, v.shape, v.tobytes()) for k, v in state.items()}


def _history(folder):
    hist = json.loads((Path(folder) / "history.json").read_text())
    return hist["epochs"], {k: v for k, v in hist["history"].items() if k != "seconds"}


def _assert_clean(folder):
    """Nothing half-written: no temporary file, and every file there reads."""
    names = sorted(p.name for p in Path(folder).iterdir())
    assert not [n for n in names if n.endswith(".tmp")], names
    for name in names:
        path = Path(folder) / name
        if name.endswith(".json"):
            json.loads(path.read_text())
        elif name.endswith(".safetensors"):
            cr.load(path)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run every resumed one must equal."""
    out = tmp_path_factory.mktemp("reference") / "run"
    assert main(["train", *TRAIN, "--out", str(out)]) == 0
    return out


def _paused(mode, k, out, *extra):
    """Start `chainrule train` in a subprocess and return it once it paused at the point."""
    env = dict(os.environ, PYTHONPATH=f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    proc = subprocess.Popen([sys.executable, str(DRIVER), mode, str(k), "--", "train", *TRAIN,
                             "--out", str(out), *extra], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if line.strip() != "PAUSED":
        proc.kill()
        raise AssertionError(f"the driver did not pause: {line!r} {proc.communicate()}")
    return proc


def _resume(out, capsys):
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--no-progress"]) == 0
    capsys.readouterr()


# -------------------------------------------------------------------------------- signals
def test_sigkill_at_a_random_epoch_then_resume_gives_bit_identical_weights(tmp_path, reference,
                                                                          capsys):
    k = int(RNG.integers(1, EPOCHS))
    out = tmp_path / "run"
    proc = _paused("epoch", k, out)
    proc.kill()  # SIGKILL: no handler runs
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert cr.load(out / "checkpoint.safetensors")["epoch"] == k  # the last good checkpoint
    assert json.loads((out / "run.json").read_text())["status"] == "running"
    _resume(out, capsys)
    assert _weights(out) == _weights(reference)
    assert _history(out) == _history(reference)
    _assert_clean(out)


def test_sigkill_half_way_through_a_checkpoint_keeps_the_previous_one(tmp_path, reference,
                                                                     capsys):
    k = int(RNG.integers(2, EPOCHS + 1))
    out = tmp_path / "run"
    proc = _paused("save", k, out)
    proc.kill()
    proc.communicate(timeout=30)
    temps = [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert len(temps) == 1 and temps[0].startswith(".checkpoint.safetensors.")  # the torn save
    assert cr.load(out / "checkpoint.safetensors")["epoch"] == k - 1  # the old file, intact
    _resume(out, capsys)  # its first save sweeps the dead process's temporary file
    assert _weights(out) == _weights(reference)
    _assert_clean(out)


@pytest.mark.parametrize("sig, code, mode", [(signal.SIGINT, 130, "epoch"),
                                             (signal.SIGTERM, 143, "save")])
def test_sigint_and_sigterm_stop_cleanly_keeping_checkpoint_and_history(tmp_path, reference,
                                                                        capsys, sig, code, mode):
    k = int(RNG.integers(1, EPOCHS))
    out = tmp_path / "run"
    proc = _paused(mode, k, out)
    proc.send_signal(sig)
    (out / "GO").touch()  # let the paused point continue: the signal acts at the next batch
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert "Traceback" not in err and err.count("\n") == 1
    assert f"the checkpoint keeps epoch {k}" in err and f"--resume {out}" in err
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "interrupted" and record["checkpoint_epoch"] == k
    assert cr.load(out / "checkpoint.safetensors")["epoch"] == k  # a save in flight completed
    epochs, _ = _history(out)
    assert epochs == list(range(1, k + 1))  # the history so far
    (out / "GO").unlink()
    _resume(out, capsys)
    assert _weights(out) == _weights(reference)
    assert _history(out) == _history(reference)
    _assert_clean(out)


def test_ctrl_c_in_python_fit_raises_training_interrupted_with_what_survives(tmp_path):
    X, y = cr.datasets.iris()
    k = int(RNG.integers(1, 6))
    ckpt = tmp_path / "ckpt.safetensors"

    class CtrlC(cr.train.Callback):
        def on_batch_end(self, run, batch, logs):
            if run.epoch == k + 1 and batch == 3:
                raise KeyboardInterrupt

    def train(callbacks, resume=None):
        cr.manual_seed(0)
        net = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3))
        opt = cr.optim.Adam(net.parameters(), lr=0.01)
        return net, cr.train.fit(net, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=6,
                                 batch_size=16, progress=False, seed=0, checkpoint=ckpt,
                                 callbacks=callbacks, resume=resume)

    with pytest.raises(cr.train.TrainingInterrupted) as info:
        train([CtrlC()])
    assert isinstance(info.value, KeyboardInterrupt)
    assert info.value.epoch == k + 1 and info.value.history.epochs == list(range(1, k + 1))
    assert info.value.checkpoint == str(ckpt) and cr.load(ckpt)["epoch"] == k
    resumed, _ = train([], resume=ckpt)
    straight, _ = train([])
    for a, b in zip(resumed.parameters(), straight.parameters()):
        assert a.data.tobytes() == b.data.tobytes()


# ----------------------------------------------------------------------------- full disk
class _FullDisk:
    """A file whose writes fail with ENOSPC once ``budget`` bytes have been written."""

    def __init__(self, file, budget):
        self._file, self._budget = file, budget

    def write(self, data):
        data = memoryview(data).cast("B")
        if len(data) > self._budget[0]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._budget[0] -= len(data)
        return self._file.write(data)

    def __getattr__(self, name):
        return getattr(self._file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file.close()
        return False


def test_a_disk_that_fills_up_mid_run_is_one_line_and_keeps_the_last_checkpoint(
        tmp_path, reference, capsys, monkeypatch):
    out = tmp_path / "run"
    # Measure what a run writes, then let the disk fill at a random byte of it.
    sizes = []
    real_fdopen = os.fdopen
    monkeypatch.setattr(atomic.os, "fdopen", lambda *a, **k: _Recording(real_fdopen(*a, **k),
                                                                        sizes))
    assert main(["train", *TRAIN, "--out", str(tmp_path / "measure")]) == 0
    budget = [int(RNG.integers(sizes[0] + 1, sum(sizes) - sizes[-1]))]
    monkeypatch.setattr(atomic.os, "fdopen", lambda *a, **k: _FullDisk(real_fdopen(*a, **k),
                                                                       budget))
    capsys.readouterr()
    assert main(["train", *TRAIN, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err and "Traceback" not in err
    _assert_clean(out)  # the torn write was removed
    done = cr.load(out / "checkpoint.safetensors")["epoch"] if \
        (out / "checkpoint.safetensors").exists() else 0
    assert 0 <= done <= EPOCHS
    monkeypatch.setattr(atomic.os, "fdopen", real_fdopen)  # space freed
    _resume(out, capsys)
    assert _weights(out) == _weights(reference)
    _assert_clean(out)


class _Recording(_FullDisk):
    def __init__(self, file, sizes):
        super().__init__(file, [1 << 62])
        self._sizes = sizes
        sizes.append(0)

    def write(self, data):
        self._sizes[-1] += memoryview(data).nbytes
        return self._file.write(data)


def test_a_full_disk_during_cr_save_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    cr.save({"w": np.arange(10.0)}, path)
    before = path.read_bytes()
    real_fdopen = os.fdopen
    monkeypatch.setattr(atomic.os, "fdopen", lambda *a, **k: _FullDisk(real_fdopen(*a, **k),
                                                                       [100]))
    with pytest.raises(OSError) as info:
        cr.save({"w": np.arange(1000.0)}, path)
    assert info.value.errno == errno.ENOSPC
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == \
        ["w.safetensors"]


# ----------------------------------------------------------------- pre-flight: before training
def _no_epoch_ran(out):
    return not (Path(out) / "checkpoint.safetensors").exists()


def test_a_read_only_output_folder_is_refused_before_training(tmp_path, capsys, monkeypatch):
    out = tmp_path / "ro"
    out.mkdir()
    real_open = os.open

    def read_only(path, flags, *args, **kw):
        if str(path).startswith(str(out)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kw)

    monkeypatch.setattr(os, "open", read_only)  # root ignores chmod: inject the error instead
    assert main(["train", *TRAIN, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write into the output folder" in err
    assert "Read-only file system" in err and _no_epoch_ran(out)


@pytest.mark.parametrize("module, words", [("safetensors", "saving the run needs safetensors"),
                                           ("matplotlib", "the plots need matplotlib")])
def test_a_missing_extra_is_one_line_naming_it_before_training(tmp_path, capsys, monkeypatch,
                                                               module, words):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == module else real(name, *a))
    argv = [a for a in TRAIN if a != "--no-plots"]
    assert main(["train", *argv, "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "pip install 'chainrule[train]'" in err
    assert not (tmp_path / "r").exists()


def test_fit_checks_the_checkpoint_folder_before_the_first_epoch(tmp_path):
    X, y = cr.datasets.iris()
    cr.manual_seed(0)
    net = cr.nn.Linear(4, 3)
    before = net.weight.data.copy()
    with pytest.raises(FileNotFoundError, match="the folder of the checkpoint"):
        cr.train.fit(net, cr.nn.CrossEntropyLoss(), cr.optim.SGD(net.parameters(), 0.1),
                     (X, y), epochs=3, progress=False, checkpoint=tmp_path / "no" / "c.st")
    assert np.array_equal(net.weight.data, before)  # not one step was taken
    with pytest.raises(FileNotFoundError, match="ModelCheckpoint: the folder of"):
        cr.train.fit(net, cr.nn.CrossEntropyLoss(), cr.optim.SGD(net.parameters(), 0.1),
                     (X, y), epochs=3, progress=False,
                     callbacks=[cr.train.ModelCheckpoint(tmp_path / "no" / "best.st")])
    assert np.array_equal(net.weight.data, before)


# ----------------------------------------------------------------- corrupt and crafted files
@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "pickle"])
def test_resume_from_a_damaged_checkpoint_is_one_line(tmp_path, capsys, damage):
    out = tmp_path / "run"
    assert main(["train", *TRAIN, "--epochs", "2", "--out", str(out)]) == 0
    ckpt = out / "checkpoint.safetensors"
    data = bytearray(ckpt.read_bytes())
    if damage == "truncate":
        data = data[: int(RNG.integers(1, len(data) - 1))]
    elif damage == "flip":
        data[-5] ^= 0xFF
    elif damage == "empty":
        data = b""
    else:
        data = b"\x80\x04" + bytes(data[2:])
    ckpt.write_bytes(bytes(data))
    (out / "run.json").write_text((out / "run.json").read_text().replace('"finished"',
                                                                          '"running"'))
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "checkpoint.safetensors" in err and "Traceback" not in err
    assert ckpt.read_bytes() == bytes(data)  # the evidence is left alone


def test_resume_refuses_a_folder_without_a_run_and_extra_options(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["train", "--resume", str(tmp_path / "empty")]) == 1
    assert "holds no run to resume" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "empty"), "--epochs", "3"]) == 1
    assert "drop --epochs" in capsys.readouterr().err


def test_resume_refuses_data_that_changed(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    out = tmp_path / "run"
    assert main(["train", "--data", f"csv:{data}", "--epochs", "2", "--no-plots", "--out",
                 str(out), "--no-progress"]) == 0
    data.write_text("a,b,y\n" + "".join(f"{i},{i % 5},{i % 2}\n" for i in range(40)))
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--no-progress"]) == 1
    assert "changed since the run" in capsys.readouterr().err


def test_predict_and_evaluate_on_crafted_models_are_fast_one_line_errors(tmp_path, capsys):
    rows = tmp_path / "rows.csv"
    rows.write_text("1,2\n")
    cases = {
        "text.safetensors": b'{"not": "safetensors"}',
        "deep.safetensors": (10 ** 6).to_bytes(8, "little") + b"{" * 10 ** 6,
        "huge-header.safetensors": (2 ** 63).to_bytes(8, "little") + b"{}",
        "pickle.safetensors": b"\x80\x04\x95" + bytes(20),
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        for argv in (["predict", str(path), str(rows)], ["evaluate", str(path), "iris"]):
            assert main(argv) == 1
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and "cannot load the model" in err, (name, err)
    assert rows.read_text() == "1,2\n"
    assert io.MAX_NESTING == 100
