"""cr.train: fit / evaluate / predict, History, callbacks, divergence, exact resume."""

import io
import json
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.train import (
    Callback,
    EarlyStopping,
    History,
    ModelCheckpoint,
    TrainingDivergedError,
    evaluate,
    fit,
    predict,
)
from chainrule.train.progress import LineReporter, RichReporter


def _moons(n=120, dtype=np.float32):
    X, y = cr.datasets.moons(n, noise=0.1, seed=0)
    return X.astype(dtype), y


def _mlp(dtype=np.float32, hidden=16, dropout=0.0, seed=0):
    cr.manual_seed(seed)
    layers = [cr.nn.Linear(2, hidden, dtype=dtype), cr.nn.Tanh()]
    if dropout:
        layers.append(cr.nn.Dropout(dropout))
    layers.append(cr.nn.Linear(hidden, 2, dtype=dtype))
    return cr.nn.Sequential(*layers)


def _weights(model):
    return {k: np.array(getattr(v, "data", v), copy=True) for k, v in model.state_dict().items()}


class Snapshots(Callback):
    """Records the weights after every epoch."""

    def __init__(self):
        self.by_epoch = {}

    def on_epoch_end(self, run, epoch, logs):
        self.by_epoch[epoch] = _weights(run.model)


class FakeScore(Callback):
    """Puts a scripted value into the logs, so callbacks after it see a known curve."""

    def __init__(self, values, name="val_score"):
        self.values, self.name = values, name

    def on_epoch_end(self, run, epoch, logs):
        logs[self.name] = self.values[epoch - 1]


# ------------------------------------------------------------------------------------ fit
def test_fit_learns_moons_and_logs_every_epoch(tmp_path):
    X, y = _moons()
    model = _mlp()
    opt = cr.optim.Adam(model.parameters(), lr=0.05)
    hist = fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=15, batch_size=16,
               val_data=(X[:40], y[:40]), progress=False, seed=0)
    assert isinstance(hist, History)
    assert hist.epochs == list(range(1, 16))
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"}
    assert all(len(col) == 15 for col in hist.history.values())
    assert hist["loss"][-1] < hist["loss"][0] / 2
    assert hist["accuracy"][-1] > 0.9
    assert hist["lr"] == [0.05] * 15
    assert all(s > 0 for s in hist["seconds"])
    # val numbers equal an independent evaluate() of the final weights
    final = evaluate(model, cr.nn.CrossEntropyLoss(), (X[:40], y[:40]), ["accuracy"])
    assert final["loss"] == pytest.approx(hist["val_loss"][-1], rel=1e-6)
    assert final["accuracy"] == hist["val_accuracy"][-1]

    hist.to_json(tmp_path / "h.json")
    hist.to_csv(tmp_path / "h.csv")
    back = History.from_json(tmp_path / "h.json")
    assert back.history == hist.history and back.epochs == hist.epochs
    rows = (tmp_path / "h.csv").read_text().splitlines()
    assert rows[0].split(",") == ["epoch", *hist.history]
    assert len(rows) == 16 and float(rows[-1].split(",")[1]) == hist["loss"][-1]
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_fit_train_loss_is_the_sample_weighted_mean_of_batch_losses():
    X, y = _moons(50, np.float64)
    model = _mlp(np.float64)
    opt = cr.optim.SGD(model.parameters(), lr=0.0)  # lr 0: the weights never change
    hist = fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=1, batch_size=16,
               progress=False, shuffle=False)
    full = evaluate(model, cr.nn.CrossEntropyLoss(), (X, y), batch_size=7)
    assert hist["loss"][0] == pytest.approx(full["loss"], rel=1e-12)


def test_fit_accepts_dataset_and_dataloader_and_counts_each_sample_once():
    X, y = _moons(40)
    seen = []

    class Count(Callback):
        def on_batch_end(self, run, batch, logs):
            seen.append(logs["size"])

    model = _mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    fit(model, cr.nn.CrossEntropyLoss(), opt, cr.data.TensorDataset(X, y), epochs=2,
        batch_size=16, callbacks=[Count()], progress=False)
    assert seen == [16, 16, 8] * 2
    seen.clear()
    loader = cr.data.DataLoader(cr.data.TensorDataset(X, y), batch_size=32, shuffle=True,
                                seed=3)
    fit(model, cr.nn.CrossEntropyLoss(), opt, loader, epochs=1, callbacks=[Count()],
        progress=False)
    assert seen == [32, 8]
    with pytest.raises(ValueError, match="seed"):
        fit(model, cr.nn.CrossEntropyLoss(), opt, loader, epochs=1, seed=1, progress=False)
    with pytest.raises(ValueError, match=r"\(X, y\)"):
        fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y, y), epochs=1, progress=False)


def test_fit_restores_train_mode_and_steps_the_scheduler_once_per_epoch():
    X, y = _moons(40)
    model = _mlp(dropout=0.2).eval()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    sched = cr.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    hist = fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=3, scheduler=sched,
               progress=False)
    assert hist["lr"] == [0.1, 0.05, 0.025]
    assert model.training is False  # the mode it had before fit


def test_reduce_lr_on_plateau_is_stepped_with_the_validation_loss():
    seen = []

    class Recording(cr.optim.lr_scheduler.ReduceLROnPlateau):
        def step(self, metrics):
            seen.append(metrics)
            super().step(metrics)

    X, y = _moons(40)
    model = _mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    sched = Recording(opt, patience=0, factor=0.5)
    hist = fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=3, val_data=(X[:10], y[:10]),
               scheduler=sched, progress=False)
    assert seen == hist["val_loss"]
    seen.clear()
    hist = fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=2, scheduler=sched,
               progress=False)
    assert seen == hist["loss"]  # no validation data: the training loss


# ------------------------------------------------------------------------ evaluate/predict
def test_predict_and_evaluate_are_batched_no_grad_in_eval_mode_and_restore_the_mode():
    X, y = _moons(50)
    model = _mlp(dropout=0.5)
    assert model.training
    a = predict(model, X, batch_size=7)
    b = predict(model, X, batch_size=50)
    assert a.shape == (50, 2) and isinstance(a, np.ndarray)
    np.testing.assert_allclose(a, b, rtol=1e-6)  # dropout off: deterministic
    with cr.no_grad():
        model.eval()
        want = model(cr.Tensor(X)).data
        model.train()
    np.testing.assert_allclose(a, want, rtol=1e-6)
    assert model.training and cr.is_grad_enabled()
    r1 = evaluate(model, cr.nn.CrossEntropyLoss(), (X, y), ["accuracy", "top_1_accuracy"],
                  batch_size=8)
    r2 = evaluate(model, cr.nn.CrossEntropyLoss(), (X, y), ["accuracy"], batch_size=64)
    assert r1["loss"] == pytest.approx(r2["loss"], rel=1e-6)
    assert r1["accuracy"] == r2["accuracy"] == r1["top_1_accuracy"]
    assert model.training
    assert predict(model, cr.data.TensorDataset(X, y)).shape == (50, 2)


# ----------------------------------------------------------------------------- callbacks
def test_early_stopping_stops_after_patience_and_restores_the_best_weights():
    X, y = _moons(40)
    model = _mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.5)
    snaps = Snapshots()
    stop = EarlyStopping(monitor="val_score", patience=2)
    # best at epoch 3; epochs 4 and 5 are worse -> stop after epoch 5, restore epoch 3
    hist = fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=20, progress=False,
               callbacks=[FakeScore([3.0, 2.0, 1.0, 1.5, 1.2, 0.1]), snaps, stop])
    assert hist.epochs == [1, 2, 3, 4, 5]
    assert (stop.best_epoch, stop.stopped_epoch, stop.best) == (3, 5, 1.0)
    now = _weights(model)
    for k in now:
        np.testing.assert_array_equal(now[k], snaps.by_epoch[3][k])
    assert any(not np.array_equal(now[k], snaps.by_epoch[5][k]) for k in now)


def test_early_stopping_on_real_val_loss_and_mode_auto():
    assert EarlyStopping("val_accuracy").mode == "max"
    assert EarlyStopping("val_loss").mode == "min"
    X, y = _moons(60)
    model = _mlp()
    opt = cr.optim.Adam(model.parameters(), lr=0.05)
    stop = EarlyStopping(patience=3)
    hist = fit(model, cr.nn.CrossEntropyLoss(), opt, (X[:30], y[:30]), epochs=40,
               val_data=(X[30:], y[30:]), callbacks=[stop], progress=False, seed=0)
    best = int(np.argmin(hist["val_loss"])) + 1
    assert stop.best_epoch == best
    restored = evaluate(model, cr.nn.CrossEntropyLoss(), (X[30:], y[30:]))["loss"]
    assert restored == pytest.approx(min(hist["val_loss"]), rel=1e-6)
    with pytest.raises(KeyError, match="val_data"):
        fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=1,
            callbacks=[EarlyStopping()], progress=False)


def test_model_checkpoint_keeps_the_best_epoch(tmp_path):
    X, y = _moons(40)
    model = _mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.5)
    snaps = Snapshots()
    path = tmp_path / "best.safetensors"
    ckpt = ModelCheckpoint(path, monitor="val_score", save_best_only=True, mode="max")
    fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=4, progress=False,
        callbacks=[FakeScore([0.2, 0.9, 0.5, 0.7]), snaps, ckpt])
    best = cr.load_model(path)
    for k, v in best.state_dict().items():
        np.testing.assert_array_equal(getattr(v, "data", v), snaps.by_epoch[2][k])
    every = ModelCheckpoint(str(tmp_path / "m-{epoch:02d}.safetensors"), save_weights_only=True)
    fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=2, progress=False,
        callbacks=[every])
    assert sorted(p.name for p in tmp_path.glob("m-*")) == ["m-01.safetensors",
                                                            "m-02.safetensors"]
    assert set(cr.load(tmp_path / "m-02.safetensors")) == set(model.state_dict())


# ---------------------------------------------------------------------------- divergence
class NaNAt:
    """Cross-entropy that returns NaN on its ``call``-th call (counting from 1)."""

    def __init__(self, call):
        self.call, self.calls = call, 0
        self.base = cr.nn.CrossEntropyLoss()

    def __call__(self, out, target):
        self.calls += 1
        loss = self.base(out, target)
        return loss * float("nan") if self.calls == self.call else loss


def test_nan_loss_stops_naming_epoch_and_batch_and_keeps_the_last_good_checkpoint(tmp_path):
    X, y = _moons(40)  # batch 16: 3 batches per epoch
    model = _mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    snaps = Snapshots()
    path = tmp_path / "run.ckpt"
    with pytest.raises(TrainingDivergedError) as info:
        fit(model, NaNAt(3 * 2 + 2), opt, (X, y), epochs=5, batch_size=16, progress=False,
            callbacks=[snaps], checkpoint=path)
    err = info.value
    assert (err.epoch, err.batch) == (3, 2) and math.isnan(err.loss)
    assert "epoch 3/5, batch 2/3" in str(err) and str(path) in str(err)
    assert err.checkpoint == str(path) and err.history.epochs == [1, 2]
    fresh = _mlp(seed=9)
    ck = cr.io.load_checkpoint(path, model=fresh)
    assert ck["epoch"] == 2
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(v.data, snaps.by_epoch[2][k])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's overflow warnings on the way
def test_a_real_explosion_raises_diverged_with_inf_or_nan():
    X = np.random.default_rng(0).standard_normal((64, 3)).astype(np.float32) * 100
    y = X.sum(axis=1, keepdims=True)
    model = cr.nn.Linear(3, 1)
    opt = cr.optim.SGD(model.parameters(), lr=10.0)
    with pytest.raises(TrainingDivergedError, match=r"epoch \d+/50, batch \d+/4"):
        fit(model, cr.nn.MSELoss(), opt, (X, y), epochs=50, batch_size=16, metrics=(),
            progress=False)


# --------------------------------------------------------------------------------- resume
class StopAt(Callback):
    """Simulates a crash (Ctrl-C) in the middle of an epoch."""

    def __init__(self, epoch, batch):
        self.epoch, self.batch = epoch, batch

    def on_batch_end(self, run, batch, logs):
        if run.epoch == self.epoch and batch == self.batch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("seed", [None, 7])
def test_interrupted_and_resumed_run_ends_with_exactly_the_same_weights(tmp_path, seed):
    X, y = _moons(100, np.float64)
    loss = cr.nn.CrossEntropyLoss()

    def setup(init_seed):
        model = _mlp(np.float64, dropout=0.3, seed=init_seed)
        opt = cr.optim.Adam(model.parameters(), lr=0.02)
        sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.7)
        return model, opt, sched

    kw = dict(epochs=6, batch_size=16, val_data=(X[:30], y[:30]), progress=False, seed=seed)
    cr.manual_seed(123)
    model, opt, sched = setup(0)
    cr.manual_seed(123)  # the RNG stream the training itself draws from
    whole = fit(model, loss, opt, (X, y), scheduler=sched, **kw)

    path = tmp_path / "ck.safetensors"
    model2, opt2, sched2 = setup(0)
    cr.manual_seed(123)
    with pytest.raises(KeyboardInterrupt):
        fit(model2, loss, opt2, (X, y), scheduler=sched2, checkpoint=path,
            callbacks=[StopAt(4, 3)], **kw)
    assert cr.io.load_checkpoint(path)["epoch"] == 3
    # A new process: other initial weights, other RNG state; the checkpoint restores all.
    model3, opt3, sched3 = setup(99)
    cr.manual_seed(5)
    resumed = fit(model3, loss, opt3, (X, y), scheduler=sched3, resume=path, checkpoint=path,
                  **kw)
    w1, w3 = _weights(model), _weights(model3)
    assert w1.keys() == w3.keys()
    for k in w1:
        assert w1[k].dtype == np.float64
        np.testing.assert_array_equal(w3[k], w1[k])
    assert resumed.epochs == whole.epochs == [1, 2, 3, 4, 5, 6]
    for key in ("loss", "accuracy", "val_loss", "lr"):
        assert resumed[key] == whole[key]
    # resuming a finished run trains no further
    again = fit(model3, loss, opt3, (X, y), scheduler=sched3, resume=path, **kw)
    assert again.epochs == whole.epochs
    np.testing.assert_array_equal(_weights(model3)["0.weight"], w1["0.weight"])


def test_early_stopping_state_survives_a_resume(tmp_path):
    X, y = _moons(40, np.float64)
    loss = cr.nn.CrossEntropyLoss()
    scores = [3.0, 1.0, 2.0, 2.5, 2.7, 2.9, 3.0, 3.1]  # best at epoch 2, stop after epoch 5

    def run(**kw):
        model = _mlp(np.float64, seed=0)
        opt = cr.optim.SGD(model.parameters(), lr=0.3)
        stop = EarlyStopping("val_score", patience=3)
        cr.manual_seed(1)
        hist = fit(model, loss, opt, (X, y), epochs=8, progress=False, seed=0,
                   callbacks=[FakeScore(scores), stop, *kw.pop("extra", [])], **kw)
        return model, hist, stop

    whole, hist, _ = run()
    path = tmp_path / "ck"
    with pytest.raises(KeyboardInterrupt):
        run(checkpoint=path, extra=[StopAt(4, 1)])
    resumed, hist2, stop = run(resume=path, extra=[Callback()])
    assert hist2.epochs == hist.epochs == [1, 2, 3, 4, 5]
    assert stop.best_epoch == 2
    for k, v in _weights(whole).items():
        np.testing.assert_array_equal(_weights(resumed)[k], v)


def test_resume_errors_are_clear(tmp_path):
    X, y = _moons(20)
    model = _mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(FileNotFoundError, match="nope.ckpt"):
        fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=1, progress=False,
            resume=tmp_path / "nope.ckpt")
    cr.save(model.state_dict(), tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match="not a training checkpoint"):
        fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=1, progress=False,
            resume=tmp_path / "w.safetensors")


# ------------------------------------------------------------------------------- progress
def test_progress_lines_off_terminal_and_silence_with_progress_false(capsys):
    X, y = _moons(40)
    model = _mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=3, progress=False)
    assert capsys.readouterr().out == ""
    fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=3, val_data=(X, y))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("epoch 1/3  loss ")
    assert "val_accuracy" in lines[2] and "\x1b" not in "".join(lines)


def test_rich_progress_bar_on_a_terminal_shows_batches_and_epoch_lines():
    from rich.console import Console

    buf = io.StringIO()
    reporter = RichReporter(Console(file=buf, force_terminal=True, width=120))
    X, y = _moons(40)
    model = _mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=2, batch_size=8,
        progress=reporter)
    text = buf.getvalue()
    assert "epoch 1/2  loss" in text and "epoch 2/2  loss" in text
    assert not reporter.progress.live.is_started  # the live display was stopped


def test_line_reporter_formats_numbers():
    buf = io.StringIO()
    r = LineReporter(buf)
    r.train_begin(10, 5)
    r.epoch_end(3, {"loss": 0.123456, "accuracy": 1.0, "lr": 0.001, "seconds": 1.234})
    assert buf.getvalue() == "epoch  3/10  loss 0.1235  accuracy 1.0000  lr 0.001  1.23s\n"


def test_history_json_is_valid_json_even_with_nan(tmp_path):
    h = History()
    h.append(1, {"loss": float("nan")})
    h.append(2, {"loss": 1.0, "val_loss": 2.0})
    h.to_json(tmp_path / "h.json")
    data = json.loads((tmp_path / "h.json").read_text())
    assert data == {"epochs": [1, 2], "history": {"loss": [None, 1.0],
                                                  "val_loss": [None, 2.0]}}
