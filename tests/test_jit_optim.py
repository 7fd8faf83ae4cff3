"""cr.compile with every optimiser: 50 compiled steps of a small MLP equal 50 eager steps bit
for bit (float64, parameters, losses and optimiser state), replayed rather than run eagerly;
schedulers, loaded states and state that appears later stay exact."""

import copy
import warnings

import numpy as np
import pytest
from jit_steps import training_step

import chainrule as cr
from chainrule.jit import CompileWarning

nn = cr.nn
F = cr.nn.functional
optim = cr.optim


class MyAdam(optim.Adam):
    """A user's subclass that keeps the library's step: it compiles."""

    def __init__(self, params):
        super().__init__(params, lr=0.02, betas=(0.8, 0.99))


class MySGD(optim.SGD):
    """A user's subclass with its own update: nothing says it is elementwise."""

    def _update(self, group, units):
        for param, grad, _ in units:
            param -= group["lr"] * np.sign(grad)


OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.05),
    "sgd-momentum-dampening-wd": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.2,
                                                      weight_decay=1e-3),
    "sgd-nesterov-maximize": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True,
                                                  maximize=True),
    "adam": lambda ps: optim.Adam(ps, lr=1e-2),
    "adam-wd-amsgrad-maximize": lambda ps: optim.Adam(ps, lr=1e-2, weight_decay=0.1,
                                                      amsgrad=True, maximize=True),
    "adamw-amsgrad": lambda ps: optim.AdamW(ps, lr=1e-2, betas=(0.3, 0.9), amsgrad=True),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=1e-2),
    "rmsprop-centered": lambda ps: optim.RMSprop(ps, lr=1e-2, centered=True),
    "rmsprop-momentum-wd": lambda ps: optim.RMSprop(ps, lr=1e-2, momentum=0.9,
                                                    weight_decay=0.1),
    "rmsprop-all": lambda ps: optim.RMSprop(ps, lr=5e-3, alpha=0.3, centered=True, momentum=0.5,
                                            weight_decay=0.01, maximize=True, eps=1e-4),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.1),
    "adagrad-lr_decay-wd": lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.05,
                                                    weight_decay=0.01),
    "adagrad-init-maximize": lambda ps: optim.Adagrad(ps, lr=0.1, initial_accumulator_value=0.5,
                                                      eps=1e-6, maximize=True),
    "adam-foreach": lambda ps: optim.Adam(ps, lr=1e-2, foreach=True),
    "rmsprop-foreach": lambda ps: optim.RMSprop(ps, lr=1e-2, momentum=0.5, foreach=True),
    "my-adam-subclass": MyAdam,
}


def _mlp(seed=3):
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(),
                          nn.Linear(8, 4))
    for p in model.parameters():
        p.data = rng.uniform(-0.4, 0.4, p.shape)
    return model


def _data(seed=0, n=9):
    rng = np.random.default_rng(seed)
    return cr.tensor(rng.standard_normal((n, 12))), cr.tensor(rng.integers(0, 4, n))


def _runs(make_opt, scheduler=None, sign=1.0):
    """Two identical (model, optimiser, step) triples; the second one's step gets compiled."""
    runs = []
    for _ in range(2):
        model = _mlp()
        opt = make_opt(model.parameters())
        sched = scheduler(opt) if scheduler else None

        runs.append((model, opt, training_step(model, opt, F.cross_entropy, sched, sign)))
    return runs


def _assert_same(a, b):
    (m_a, opt_a, _), (m_b, opt_b, _) = a, b
    for (name, p), (_, q) in zip(m_a.named_parameters(), m_b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    sa, sb = opt_a.state_dict(), opt_b.state_dict()
    assert sa["param_groups"] == sb["param_groups"]
    assert sorted(sa["state"]) == sorted(sb["state"])
    for k, state in sa["state"].items():
        assert sorted(state) == sorted(sb["state"][k])
        for key, value in state.items():
            np.testing.assert_array_equal(value, sb["state"][k][key], err_msg=f"{k} {key}")


def _strict():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("error", CompileWarning)
    return ctx


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_fifty_compiled_steps_equal_fifty_eager_steps(name):
    eager, comp = _runs(OPTIMIZERS[name], sign=-1.0 if "maximize" in name else 1.0)
    step = cr.compile(comp[2])
    x, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        for i in range(50):
            np.testing.assert_array_equal(eager[2](x, y).data, step(x, y).data, err_msg=str(i))
    _assert_same(eager, comp)
    assert step.stats["replays"] >= 49 and step.stats["eager"] == 0


@pytest.mark.parametrize("name", ["sgd-momentum-dampening-wd", "adam", "rmsprop-all", "adagrad"])
def test_a_scheduler_inside_the_step_and_lr_changed_outside_it(name):
    def halve(opt):
        return optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)

    eager, comp = _runs(OPTIMIZERS[name], scheduler=halve)
    step = cr.compile(comp[2])
    x, y = _data()
    for i in range(30):
        if i == 17:  # by hand, between steps (as a ReduceLROnPlateau outside the step would)
            for run in (eager, comp):
                run[1].param_groups[0]["lr"] *= 3.0
        np.testing.assert_array_equal(eager[2](x, y).data, step(x, y).data, err_msg=str(i))
    _assert_same(eager, comp)
    assert step.stats["replays"] >= 29


@pytest.mark.parametrize("name", ["sgd", "adam-foreach"])
def test_momentum_or_amsgrad_switched_on_later_is_refused_and_captured_again(name):
    eager, comp = _runs(OPTIMIZERS[name])
    step = cr.compile(comp[2])
    x, y = _data()
    for i in range(20):
        if i == 8:
            for run in (eager, comp):
                if name == "sgd":  # new state: a momentum buffer, made by the next step
                    run[1].param_groups[0]["momentum"] = 0.9
                else:
                    run[1].param_groups[0]["eps"] = 1e-3  # only a hyper-parameter: no new state
        np.testing.assert_array_equal(eager[2](x, y).data, step(x, y).data, err_msg=str(i))
    _assert_same(eager, comp)
    assert step.stats["captures"] == (2 if name == "sgd" else 1)
    assert step.stats["replays"] == 20 - step.stats["captures"]


def test_amsgrad_switched_on_later_raises_as_eager_does():
    eager, comp = _runs(OPTIMIZERS["adam"])
    step = cr.compile(comp[2])
    x, y = _data()
    for _ in range(3):
        eager[2](x, y), step(x, y)
    for run in (eager, comp):
        run[1].param_groups[0]["amsgrad"] = True
    with pytest.raises(KeyError, match="max_exp_avg_sq"):
        eager[2](x, y)
    with pytest.raises(KeyError, match="max_exp_avg_sq"):  # refused, captured again, eager
        step(x, y)
    assert step.stats["captures"] == 2


@pytest.mark.parametrize("name", ["sgd", "adam", "rmsprop-centered"])
def test_a_state_dict_loaded_mid_run_is_used_by_the_next_replay(name):
    eager, comp = _runs(OPTIMIZERS[name])
    step = cr.compile(comp[2])
    x, y = _data()
    early = None
    for i in range(20):
        if i == 5:
            early = copy.deepcopy(eager[1].state_dict())
            early["param_groups"][0]["lr"] *= 0.5
        if i == 12:  # back to step 5's state, with a new lr: a stale replay would miss both
            for run in (eager, comp):
                run[1].load_state_dict(copy.deepcopy(early))
        np.testing.assert_array_equal(eager[2](x, y).data, step(x, y).data, err_msg=str(i))
    _assert_same(eager, comp)
    assert step.stats["captures"] == 2


def test_replaced_parameter_arrays_are_flattened_again():
    eager, comp = _runs(OPTIMIZERS["rmsprop-momentum-wd"])
    step = cr.compile(comp[2])
    x, y = _data()
    for i in range(12):
        if i == 6:
            for run in (eager, comp):
                w = run[0][0].weight
                w.data = w.data * 0.5
        np.testing.assert_array_equal(eager[2](x, y).data, step(x, y).data, err_msg=str(i))
    _assert_same(eager, comp)
    assert step.stats["captures"] == 2


@pytest.mark.parametrize("name", ["adagrad-lr_decay-wd", "adam-foreach"])
def test_a_short_last_batch_shares_the_flat_buffers_of_the_full_one(name):
    # the eager step of each capture runs on the same buffers (foreach or not) and leaves
    # the other program's buffers intact
    eager, comp = _runs(OPTIMIZERS[name])
    step = cr.compile(comp[2])
    batches = [_data(seed=s, n=n) for s, n in enumerate([8, 8, 3] * 5)]
    for x, y in batches:
        np.testing.assert_array_equal(eager[2](x, y).data, step(x, y).data)
    _assert_same(eager, comp)
    assert step.stats == {"captures": 2, "replays": 13, "eager": 0}


def test_a_users_own_update_falls_back_with_the_reason():
    _, comp = _runs(lambda ps: MySGD(ps, lr=0.1))
    step = cr.compile(comp[2])
    with pytest.warns(CompileWarning, match=r"MySGD: its update \(MySGD._update\) is not one"):
        step(*_data())
    step(*_data())
    assert step.stats["eager"] == 1 and step.stats["replays"] == 0
