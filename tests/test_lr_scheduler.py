"""chainrule.optim.lr_scheduler against torch.optim.lr_scheduler: the same learning rates, bit
for bit, at every epoch; the same weights after 50 scheduled steps of a 5-8-3 tanh MLP; and
state_dict round trips that continue a run exactly."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import optim
from chainrule.optim import lr_scheduler

STEPS = 50


def make_problem(seed=1):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 0.5, (8, 5)), rng.normal(0, 0.2, 8),
               rng.normal(0, 0.5, (3, 8)), rng.normal(0, 0.2, 3)]
    return weights, rng.normal(size=(4, 16, 5)), rng.normal(size=(4, 16, 3))


WEIGHTS, XS, YS = make_problem()


def cr_loss(params, i):
    W1, b1, W2, b2 = params
    h = cr.tanh(cr.tensor(XS[i % 4]) @ W1.T + b1)
    return ((h @ W2.T + b2 - cr.tensor(YS[i % 4])) ** 2).mean()


def torch_loss(params, i):
    W1, b1, W2, b2 = params
    h = torch.tanh(torch.from_numpy(XS[i % 4]) @ W1.T + b1)
    return ((h @ W2.T + b2 - torch.from_numpy(YS[i % 4])) ** 2).mean()


def cr_setup(arrays=WEIGHTS, opt="SGD"):
    ps = [cr.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    groups = [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.05}]
    if opt == "SGD":
        return ps, optim.SGD(groups, lr=0.2, momentum=0.9)
    return ps, optim.Adam(groups, lr=0.02)


def torch_setup(opt="SGD"):
    ps = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in WEIGHTS]
    groups = [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.05}]
    if opt == "SGD":
        return ps, torch.optim.SGD(groups, lr=0.2, momentum=0.9, foreach=False)
    return ps, torch.optim.Adam(groups, lr=0.02, foreach=False)


def run(ps, opt, sched, loss_fn, steps, start=0, plateau=False):
    """Train ``steps`` steps; returns the lrs seen by each step (one list per step)."""
    lrs = []
    for i in range(start, start + steps):
        lrs.append([g["lr"] for g in opt.param_groups])
        opt.zero_grad()
        loss = loss_fn(ps, i)
        loss.backward()
        opt.step()
        if plateau:
            sched.step(loss.item())
        else:
            sched.step()
    return lrs


class Warmup:
    """A callable object: LambdaLR saves its __dict__ (a plain lambda is not saved)."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.epochs)


SCHEDULERS = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [5, 12, 12, 30], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.95}),
    ("CosineAnnealingLR", {"T_max": 20, "eta_min": 0.001}),
    ("CosineAnnealingLR", {"T_max": 10}),
    ("LambdaLR", {"lr_lambda": lambda epoch: 1.0 / (1.0 + 0.1 * epoch)}),
    ("LambdaLR", {"lr_lambda": [Warmup(10), lambda epoch: 0.97**epoch]}),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(SCHEDULERS)]


@pytest.mark.parametrize("name,kwargs", SCHEDULERS, ids=IDS)
@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_fifty_scheduled_steps_match_torch(name, kwargs, opt_name):
    ps, opt = cr_setup(opt=opt_name)
    tps, topt = torch_setup(opt=opt_name)
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    lrs = run(ps, opt, sched, cr_loss, STEPS)
    tlrs = run(tps, topt, tsched, torch_loss, STEPS)
    assert lrs == tlrs  # exactly: the same float operations in the same order
    assert sched.get_last_lr() == tsched.get_last_lr()
    assert sched.last_epoch == tsched.last_epoch == STEPS
    assert len({tuple(x) for x in lrs}) > 3, "the schedule never changed the lr"
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-9, atol=0)


@pytest.mark.parametrize("name,kwargs", SCHEDULERS, ids=IDS)
def test_scheduler_and_optimizer_resume_exactly(name, kwargs):
    ps, opt = cr_setup()
    full = run(ps, opt, getattr(lr_scheduler, name)(opt, **kwargs), cr_loss, STEPS)

    half_ps, half_opt = cr_setup()
    sched = getattr(lr_scheduler, name)(half_opt, **kwargs)
    run(half_ps, half_opt, sched, cr_loss, STEPS // 2)
    saved_sched, saved_opt = sched.state_dict(), half_opt.state_dict()

    new_ps, new_opt = cr_setup([p.data.copy() for p in half_ps])
    new_sched = getattr(lr_scheduler, name)(new_opt, **kwargs)
    new_sched.load_state_dict(saved_sched)
    new_opt.load_state_dict(saved_opt)
    rest = run(new_ps, new_opt, new_sched, cr_loss, STEPS - STEPS // 2, start=STEPS // 2)
    assert rest == full[STEPS // 2:]
    for p, q in zip(new_ps, ps):
        np.testing.assert_array_equal(p.data, q.data)


PLATEAU_CONFIGS = [
    {},
    {"mode": "max", "factor": 0.5, "patience": 2},
    {"mode": "min", "factor": 0.5, "patience": 1, "threshold": 0.05, "threshold_mode": "abs"},
    {"mode": "max", "factor": 0.3, "patience": 0, "threshold": 0.01, "threshold_mode": "abs",
     "cooldown": 2},
    {"factor": 0.5, "patience": 1, "cooldown": 1, "min_lr": [0.05, 0.001]},
    {"factor": 0.9, "patience": 0, "threshold": 0.5, "min_lr": 0.04, "eps": 1e-3},
]


@pytest.mark.parametrize("kwargs", PLATEAU_CONFIGS, ids=[str(i) for i in range(6)])
def test_reduce_lr_on_plateau_follows_torch_on_a_noisy_metric(kwargs):
    rng = np.random.default_rng(7)
    metric = np.cumsum(rng.normal(0, 0.1, 60)) + np.repeat(rng.normal(0, 1, 6), 10)
    w = [cr.tensor(np.zeros(2), requires_grad=True), cr.tensor(np.zeros(1), requires_grad=True)]
    opt = optim.SGD([{"params": [w[0]]}, {"params": [w[1]], "lr": 0.01}], lr=0.1)
    tw = [torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)]
    topt = torch.optim.SGD([{"params": [tw[0]]}, {"params": [tw[1]], "lr": 0.01}], lr=0.1)
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    seen = set()
    for value in metric:
        sched.step(float(value))
        tsched.step(float(value))
        assert sched.get_last_lr() == tsched.get_last_lr()
        assert (sched.best, sched.num_bad_epochs, sched.cooldown_counter) == (
            tsched.best, tsched.num_bad_epochs, tsched.cooldown_counter)
        seen.add(tuple(sched.get_last_lr()))
    assert len(seen) > 1, "the metric never triggered a reduction"


def test_reduce_lr_on_plateau_in_training_matches_torch_and_resumes():
    kwargs = {"factor": 0.5, "patience": 2, "threshold": 0.05, "cooldown": 1}
    ps, opt = cr_setup()
    tps, topt = torch_setup()
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    lrs = run(ps, opt, sched, cr_loss, STEPS, plateau=True)
    assert lrs == run(tps, topt, tsched, torch_loss, STEPS, plateau=True)
    assert lrs[-1][0] < lrs[0][0]
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-9, atol=0)

    half_ps, half_opt = cr_setup()
    half = lr_scheduler.ReduceLROnPlateau(half_opt, **kwargs)
    run(half_ps, half_opt, half, cr_loss, STEPS // 2, plateau=True)
    new_ps, new_opt = cr_setup([p.data.copy() for p in half_ps])
    new = lr_scheduler.ReduceLROnPlateau(new_opt)  # default settings: the saved ones must win
    new.load_state_dict(half.state_dict())
    new_opt.load_state_dict(half_opt.state_dict())
    assert run(new_ps, new_opt, new, cr_loss, STEPS // 2, start=STEPS // 2, plateau=True) == \
        lrs[STEPS // 2:]
    for p, q in zip(new_ps, ps):
        np.testing.assert_array_equal(p.data, q.data)


def test_lambda_lr_saves_callable_objects_but_not_lambdas():
    _, opt = cr_setup()
    warm = Warmup(10)
    sched = lr_scheduler.LambdaLR(opt, [warm, lambda epoch: 0.5])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"epochs": 10}, None]
    warm.epochs = 3
    sched.load_state_dict(sd)
    assert warm.epochs == 10 and sd["lr_lambdas"] == [{"epochs": 10}, None]
    with pytest.raises(ValueError, match="expected 2 lr_lambdas"):
        lr_scheduler.LambdaLR(opt, [warm])


def test_cosine_annealing_resumed_with_last_epoch_uses_the_closed_form_like_torch():
    _, opt = cr_setup()
    _, topt = torch_setup()
    for o in (opt, topt):
        for g in o.param_groups:
            g["initial_lr"] = g["lr"]
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=30, eta_min=0.01, last_epoch=9)
    tsched = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=30, eta_min=0.01,
                                                        last_epoch=9)
    for _ in range(25):
        assert sched.get_last_lr() == tsched.get_last_lr()
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
    closed = 0.01 + (0.2 - 0.01) * (1 + np.cos(np.pi * sched.last_epoch / 30)) / 2
    assert sched.get_last_lr()[0] == pytest.approx(closed, rel=1e-12)


def test_resuming_with_last_epoch_needs_initial_lr():
    _, opt = cr_setup()
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=3, last_epoch=4)


def test_scheduler_needs_a_chainrule_optimizer():
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match="expected a chainrule optimizer"):
        lr_scheduler.StepLR(topt, step_size=2)
    _, opt = cr_setup()
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=2.0)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="lowest")


def test_get_last_lr_is_a_copy_and_state_dict_is_detached():
    _, opt = cr_setup()
    sched = lr_scheduler.MultiStepLR(opt, milestones=[2], gamma=0.1)
    sched.get_last_lr().append(123.0)
    assert sched.get_last_lr() == [0.2, 0.05]
    sd = sched.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 0 and sd["base_lrs"] == [0.2, 0.05]
    sched.milestones[9] = 1
    assert 9 not in sd["milestones"]
