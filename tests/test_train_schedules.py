"""fit(scheduler_interval=...): per-batch lr schedules, their History, exact resume, CLI."""

import json
import math

import numpy as np
import pytest
from test_train import StopAt  # the simulated Ctrl-C shared with the resume tests

import chainrule as cr
from chainrule.cli import main
from chainrule.optim import lr_scheduler
from chainrule.train import Callback, fit


def _moons(n=100, dtype=np.float64):
    X, y = cr.datasets.moons(n, noise=0.1, seed=0)
    return X.astype(dtype), y


def _mlp(seed=0, dropout=0.0, dtype=np.float64):
    cr.manual_seed(seed)
    layers = [cr.nn.Linear(2, 8, dtype=dtype), cr.nn.Tanh()]
    if dropout:
        layers.append(cr.nn.Dropout(dropout))
    layers.append(cr.nn.Linear(8, 2, dtype=dtype))
    return cr.nn.Sequential(*layers)


def _weights(model):
    return {k: np.array(getattr(v, "data", v), copy=True) for k, v in model.state_dict().items()}


def _warmup(step):  # linear warm-up over 5 steps, then constant
    return min(1.0, (step + 1) / 5)


class BatchLRs(Callback):
    """Records run.lr after every batch: the rate the next step will use."""

    def __init__(self):
        self.lrs = []

    def on_batch_end(self, run, batch, logs):
        self.lrs.append(run.lr)


# --------------------------------------------------------------------------- per-batch stepping
def test_cosine_over_all_batches_follows_torch_step_by_step_and_ends_at_eta_min():
    torch = pytest.importorskip("torch")
    X, y = _moons(100)
    epochs, batch_size = 4, 16
    steps = math.ceil(len(X) / batch_size)  # 7
    model = _mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps, eta_min=0.01)
    seen = BatchLRs()
    hist = fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=epochs,
               batch_size=batch_size, scheduler=sched, scheduler_interval="batch",
               callbacks=[seen], progress=False, seed=0)

    t_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2, momentum=0.9)
    t_sched = torch.optim.lr_scheduler.CosineAnnealingLR(t_opt, T_max=epochs * steps,
                                                         eta_min=0.01)
    expected = []
    for _ in range(epochs * steps):
        t_opt.step()
        t_sched.step()
        expected.append(t_sched.get_last_lr()[0])
    assert len(seen.lrs) == epochs * steps == sched.last_epoch
    np.testing.assert_allclose(seen.lrs, expected, rtol=1e-12, atol=1e-15)
    # History: the lr at the end of each epoch, i.e. after its last batch's step.
    assert hist["lr"] == [seen.lrs[e * steps - 1] for e in range(1, epochs + 1)]
    assert hist["lr"][-1] == pytest.approx(0.01, abs=1e-12)


def test_per_batch_fit_equals_the_hand_written_loop_with_a_lambda_warmup():
    X, y = _moons(60)
    loss_fn = cr.nn.CrossEntropyLoss()
    model = _mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.3)
    sched = lr_scheduler.LambdaLR(opt, _warmup)
    fit(model, loss_fn, opt, (X, y), epochs=2, batch_size=8, shuffle=False, metrics=(),
        scheduler=sched, scheduler_interval="batch", progress=False)

    ref = _mlp()
    ref_opt = cr.optim.SGD(ref.parameters(), lr=0.3)
    ref_sched = lr_scheduler.LambdaLR(ref_opt, _warmup)
    lrs = []
    for _ in range(2):
        for lo in range(0, len(X), 8):
            lrs.append(ref_opt.param_groups[0]["lr"])
            ref_opt.zero_grad()
            loss_fn(ref(cr.Tensor(X[lo:lo + 8])), cr.Tensor(y[lo:lo + 8])).backward()
            ref_opt.step()
            ref_sched.step()
    assert lrs[:6] == pytest.approx([0.06, 0.12, 0.18, 0.24, 0.3, 0.3])  # the warm-up ran
    w, w_ref = _weights(model), _weights(ref)
    for k in w_ref:
        np.testing.assert_array_equal(w[k], w_ref[k])


def test_step_lr_per_batch_with_one_epoch_of_steps_trains_exactly_like_per_epoch():
    # StepLR(step_size=len(loader)) per batch changes the lr after each epoch's last batch,
    # just as StepLR(step_size=1) per epoch does: same weights. Only the History differs by
    # definition: per batch it reads the lr after that last step.
    X, y = _moons(50)
    steps = math.ceil(50 / 16)
    runs = {}
    for interval, step_size in (("epoch", 1), ("batch", steps)):
        model = _mlp()
        opt = cr.optim.SGD(model.parameters(), lr=0.1)
        sched = lr_scheduler.StepLR(opt, step_size=step_size, gamma=0.5)
        hist = fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=3, batch_size=16,
                   scheduler=sched, scheduler_interval=interval, progress=False, seed=3)
        runs[interval] = (_weights(model), hist, opt.param_groups[0]["lr"])
    (w_e, hist_e, lr_e), (w_b, hist_b, lr_b) = runs["epoch"], runs["batch"]
    for k in w_e:
        np.testing.assert_array_equal(w_b[k], w_e[k])
    assert hist_b["loss"] == hist_e["loss"]
    assert hist_e["lr"] == [0.1, 0.05, 0.025]     # the lr each epoch trained with
    assert hist_b["lr"] == [0.05, 0.025, 0.0125]  # the lr at the end of each epoch
    assert lr_e == lr_b == 0.0125


def test_reduce_lr_on_plateau_per_batch_and_an_unknown_interval_are_refused():
    X, y = _moons(20)
    model = _mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    plateau = lr_scheduler.ReduceLROnPlateau(opt)
    before = _weights(model)
    with pytest.raises(ValueError, match="ReduceLROnPlateau cannot be stepped per batch"):
        fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=1, scheduler=plateau,
            scheduler_interval="batch", progress=False)
    np.testing.assert_array_equal(_weights(model)["0.weight"], before["0.weight"])  # no step
    with pytest.raises(ValueError, match="scheduler_interval must be 'epoch' or 'batch'"):
        fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=1, scheduler_interval="step",
            progress=False)
    # ReduceLROnPlateau per epoch still works and still watches the loss.
    hist = fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=2, scheduler=plateau,
               progress=False)
    assert plateau.last_epoch == 2 and len(hist["lr"]) == 2


# --------------------------------------------------------------------------------- resume
@pytest.mark.parametrize("schedule", ["cosine", "warmup"])
@pytest.mark.parametrize("seed", [None, 7])
def test_interrupted_per_batch_run_resumes_to_the_same_weights_and_lr(tmp_path, schedule,
                                                                      seed):
    X, y = _moons(100)
    loss = cr.nn.CrossEntropyLoss()
    epochs, batch_size = 6, 16
    steps = math.ceil(len(X) / batch_size)

    def setup(init_seed):
        model = _mlp(seed=init_seed, dropout=0.3)
        opt = cr.optim.Adam(model.parameters(), lr=0.02)
        if schedule == "cosine":
            sched = lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps, eta_min=1e-3)
        else:  # a plain function: not saved, rebuilt with the scheduler (as in PyTorch)
            sched = lr_scheduler.LambdaLR(opt, lambda step: min(1.0, (step + 1) / 10))
        return model, opt, sched

    kw = dict(epochs=epochs, batch_size=batch_size, val_data=(X[:30], y[:30]),
              scheduler_interval="batch", progress=False, seed=seed)
    model, opt, sched = setup(0)
    cr.manual_seed(123)
    whole = fit(model, loss, opt, (X, y), scheduler=sched, **kw)

    path = tmp_path / "ck.safetensors"
    model2, opt2, sched2 = setup(0)
    cr.manual_seed(123)
    with pytest.raises(KeyboardInterrupt):  # dies mid-epoch 4, its scheduler steps half done
        fit(model2, loss, opt2, (X, y), scheduler=sched2, checkpoint=path,
            callbacks=[StopAt(4, 3)], **kw)
    assert cr.io.load_checkpoint(path)["epoch"] == 3
    # A new process: other initial weights, other RNG state, a fresh scheduler.
    model3, opt3, sched3 = setup(99)
    cr.manual_seed(5)
    resumed = fit(model3, loss, opt3, (X, y), scheduler=sched3, resume=path, checkpoint=path,
                  **kw)
    w1, w3 = _weights(model), _weights(model3)
    for k in w1:
        np.testing.assert_array_equal(w3[k], w1[k])
    assert opt3.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert sched3.last_epoch == sched.last_epoch == epochs * steps
    assert sched3.get_last_lr() == sched.get_last_lr()
    assert resumed.epochs == whole.epochs == list(range(1, epochs + 1))
    for key in ("loss", "accuracy", "val_loss", "lr"):
        assert resumed[key] == whole[key]
    if schedule == "cosine":
        assert whole["lr"][-1] == pytest.approx(1e-3, abs=1e-12)


def test_resuming_with_another_scheduler_interval_is_refused(tmp_path):
    X, y = _moons(40)
    path = tmp_path / "ck.safetensors"
    model = _mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=2)
    fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=1, scheduler=sched,
        scheduler_interval="batch", checkpoint=path, progress=False)
    with pytest.raises(ValueError, match="per batch; resume it with scheduler_interval='batch'"):
        fit(model, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=2, scheduler=sched,
            resume=path, progress=False)


# ------------------------------------------------------------------------------------ CLI
def test_cli_lr_schedules_cosine_per_batch_and_step_per_third(tmp_path, capsys):
    out = tmp_path / "cos"
    # xor: 4 rows, batch 2 -> 2 steps per epoch, cosine over 3 * 2 = 6 steps
    assert main(["train", "--data", "xor", "--epochs", "3", "--batch-size", "2", "--lr", "0.1",
                 "--lr-schedule", "cosine", "--out", str(out), "--no-progress"]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["lr_schedule"] == "cosine"
    lrs = json.loads((out / "history.json").read_text())["history"]["lr"]
    expected = [0.1 * (1 + math.cos(math.pi * k / 6)) / 2 for k in (2, 4, 6)]
    assert lrs == pytest.approx(expected, abs=1e-9)

    out = tmp_path / "step"
    assert main(["train", "--data", "xor", "--epochs", "7", "--lr", "0.1",
                 "--lr-schedule", "step", "--out", str(out), "--no-progress"]) == 0
    lrs = json.loads((out / "history.json").read_text())["history"]["lr"]
    assert lrs == pytest.approx([0.1] * 3 + [0.05] * 3 + [0.025])  # halved every ceil(7/3)

    out = tmp_path / "none"
    assert main(["train", "--data", "xor", "--epochs", "2", "--lr", "0.1",
                 "--out", str(out), "--no-progress"]) == 0
    assert json.loads((out / "history.json").read_text())["history"]["lr"] == [0.1, 0.1]
    capsys.readouterr()
    assert main(["train", "--lr-schedule", "linear"]) == 2
    assert "--lr-schedule" in capsys.readouterr().err
