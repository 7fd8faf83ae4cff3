"""chainrule.optim against torch.optim: the same 5-8-3 tanh MLP, the same data and the same
initial weights, trained 50 steps by each optimiser (gradients from each library's own
autograd), must end at the same weights; state_dict round trips continue a run exactly."""

import copy

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import optim

STEPS = 50
N_BATCHES = 4


def make_problem(seed=0):
    """Initial weights [W1 (8,5), b1 (8,), W2 (3,8), b2 (3,)] and 4 batches of (x, y), float64."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 0.5, (8, 5)), rng.normal(0, 0.2, 8),
               rng.normal(0, 0.5, (3, 8)), rng.normal(0, 0.2, 3)]
    xs = rng.normal(size=(N_BATCHES, 16, 5))
    ys = rng.normal(size=(N_BATCHES, 16, 3))
    return weights, xs, ys


WEIGHTS, XS, YS = make_problem()


def cr_loss(params, x, y):
    W1, b1, W2, b2 = params
    h = cr.tanh(cr.tensor(x) @ W1.T + b1)
    return ((h @ W2.T + b2 - cr.tensor(y)) ** 2).mean()


def torch_loss(params, x, y):
    W1, b1, W2, b2 = params
    h = torch.tanh(torch.from_numpy(x) @ W1.T + b1)
    return ((h @ W2.T + b2 - torch.from_numpy(y)) ** 2).mean()


def cr_params(arrays=WEIGHTS):
    return [cr.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]


def torch_params(arrays=WEIGHTS):
    return [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]


def train_cr(params, opt, steps, start=0, sign=1.0, sched=None):
    for i in range(start, start + steps):
        opt.zero_grad()
        loss = cr_loss(params, XS[i % N_BATCHES], YS[i % N_BATCHES]) * sign
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()


def train_torch(params, opt, steps, start=0, sign=1.0, sched=None):
    for i in range(start, start + steps):
        opt.zero_grad()
        loss = torch_loss(params, XS[i % N_BATCHES], YS[i % N_BATCHES]) * sign
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()


def torch_opt(name, params, kwargs):
    cls = getattr(torch.optim, name)
    return cls(params, foreach=False, **kwargs)  # the single-tensor path chainrule mirrors


def assert_same_params(cr_ps, torch_ps, rtol=1e-9):
    for i, (a, b) in enumerate(zip(cr_ps, torch_ps)):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=rtol, atol=0,
                                   err_msg=f"parameter {i}")


CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.8, "weight_decay": 0.01, "nesterov": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.02, "betas": (0.3, 0.9), "eps": 1e-6}),  # beta1 < 0.5: lerp's other form
    ("Adam", {"lr": 0.01, "weight_decay": 0.05, "amsgrad": True, "maximize": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.005, "alpha": 0.3, "centered": True, "momentum": 0.5}),
    ("RMSprop", {"lr": 0.01, "maximize": True, "eps": 1e-4}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.01, "eps": 1e-6,
                 "maximize": True}),
]
IDS = [f"{name}-" + "-".join(f"{k}={v}" for k, v in kw.items()) for name, kw in CONFIGS]


def sign_of(kwargs):
    """maximize=True configs climb the negated loss, so they train like the others."""
    return -1.0 if kwargs.get("maximize") else 1.0


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
def test_fifty_steps_match_torch(name, kwargs):
    ps, tps = cr_params(), torch_params()
    opt = getattr(optim, name)(ps, **kwargs)
    topt = torch_opt(name, tps, kwargs)
    train_cr(ps, opt, STEPS, sign=sign_of(kwargs))
    train_torch(tps, topt, STEPS, sign=sign_of(kwargs))
    assert_same_params(ps, tps)
    moved = sum(np.abs(p.data - w).max() for p, w in zip(ps, WEIGHTS))
    assert moved > 1e-3, "the optimiser barely moved the weights: the test would prove nothing"
    # the state has torch's names and values (so checkpoints read the same)
    for p, tp in zip(ps, tps):
        mine, theirs = opt.state[p], topt.state[tp]
        assert sorted(mine) == sorted(theirs)
        for key, value in theirs.items():
            if key == "step":
                assert mine[key] == float(value)
            else:
                np.testing.assert_allclose(mine[key], value.numpy(), rtol=1e-8, atol=1e-15)


def run_on_given_grads(make_opt, arrays, grads):
    """Step an optimiser on tensors made from ``arrays`` with the given list of gradient lists."""
    ps = [cr.tensor(a.copy(), requires_grad=True) for a in arrays]
    opt = make_opt(ps)
    for step_grads in grads:
        for p, g in zip(ps, step_grads):
            p.grad = cr.Tensor(g.copy())
        opt.step()
    return [p.data for p in ps]


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
def test_big_parameters_updated_in_slices_match_torch_and_whole_array_updates(name, kwargs,
                                                                         monkeypatch):
    # with 2 kB slices (256 float64), a 30x50 weight is updated in five full slices and a
    # partial one; the Fortran-ordered copy takes the whole-array path; the vector fits in one
    monkeypatch.setattr("chainrule.optim.optimizer.CHUNK_BYTES", 2048)  # sliced above 8 kB
    rng = np.random.default_rng(3)
    arrays = [rng.normal(size=(30, 50)), np.asfortranarray(rng.normal(size=(50, 30))),
              rng.normal(size=7)]
    grads = [[rng.normal(size=a.shape) for a in arrays] for _ in range(6)]
    make = lambda ps: getattr(optim, name)(ps, **kwargs)
    chunked = run_on_given_grads(make, arrays, grads)
    tps = [torch.tensor(a, requires_grad=True) for a in arrays]
    topt = torch_opt(name, tps, kwargs)
    for step_grads in grads:
        for tp, g in zip(tps, step_grads):
            tp.grad = torch.tensor(g)
        topt.step()
    for a, tp in zip(chunked, tps):
        np.testing.assert_allclose(a, tp.detach().numpy(), rtol=1e-9, atol=0)
    monkeypatch.setattr("chainrule.optim.optimizer.CHUNK_BYTES", 1 << 40)
    whole = run_on_given_grads(make, arrays, grads)
    for a, b in zip(chunked, whole):
        np.testing.assert_array_equal(a, b)  # slicing changes no rounding


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
def test_state_dict_resume_continues_exactly(name, kwargs):
    sign = sign_of(kwargs)
    full = cr_params()
    train_cr(full, getattr(optim, name)(full, **kwargs), STEPS, sign=sign)

    first = cr_params()
    opt = getattr(optim, name)(first, **kwargs)
    train_cr(first, opt, STEPS // 2, sign=sign)
    saved = opt.state_dict()
    snapshot = copy.deepcopy(saved)
    halfway = [p.data.copy() for p in first]
    train_cr(first, opt, STEPS - STEPS // 2, start=STEPS // 2, sign=sign)
    for p, f in zip(first, full):
        np.testing.assert_array_equal(p.data, f.data)
    # later steps did not write into the saved dict
    for k, st in snapshot["state"].items():
        for key, value in st.items():
            np.testing.assert_array_equal(saved["state"][k][key], value)

    resumed = cr_params(halfway)
    fresh = getattr(optim, name)(resumed)  # default hyper-parameters: the saved ones must win
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == kwargs["lr"]
    train_cr(resumed, fresh, STEPS - STEPS // 2, start=STEPS // 2, sign=sign)
    for p, f in zip(resumed, full):
        np.testing.assert_array_equal(p.data, f.data)


@pytest.mark.parametrize("name,kwargs", [CONFIGS[2], CONFIGS[9], CONFIGS[18], CONFIGS[24]],
                         ids=[IDS[2], IDS[9], IDS[18], IDS[24]])
def test_a_torch_checkpoint_loads_and_continues(name, kwargs):
    sign = sign_of(kwargs)
    tps = torch_params()
    topt = torch_opt(name, tps, kwargs)
    train_torch(tps, topt, STEPS // 2, sign=sign)
    ps = cr_params([p.detach().numpy() for p in tps])
    opt = getattr(optim, name)(ps)
    opt.load_state_dict(topt.state_dict())  # torch tensors are converted to ndarrays
    train_torch(tps, topt, STEPS // 2, start=STEPS // 2, sign=sign)
    train_cr(ps, opt, STEPS // 2, start=STEPS // 2, sign=sign)
    assert_same_params(ps, tps)


def test_param_groups_with_their_own_hyper_parameters_match_torch():
    ps, tps = cr_params(), torch_params()
    opt = optim.SGD([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.01, "nesterov": True}],
                    lr=0.2, momentum=0.9)
    topt = torch.optim.SGD([{"params": tps[:2]}, {"params": tps[2:], "lr": 0.01,
                                                   "nesterov": True}],
                           lr=0.2, momentum=0.9, foreach=False)
    assert [g["lr"] for g in opt.param_groups] == [0.2, 0.01]
    assert opt.param_groups[1]["momentum"] == 0.9  # missing keys come from the defaults
    train_cr(ps, opt, STEPS)
    train_torch(tps, topt, STEPS)
    assert_same_params(ps, tps)
    assert opt.state_dict()["param_groups"][1]["params"] == [2, 3]


def test_adam_groups_and_add_param_group_match_torch():
    ps, tps = cr_params(), torch_params()
    opt = optim.Adam([{"params": ps[:2], "betas": (0.5, 0.9)}], lr=0.01)
    topt = torch.optim.Adam([{"params": tps[:2], "betas": (0.5, 0.9)}], lr=0.01, foreach=False)
    train_cr(ps, opt, 10)
    train_torch(tps, topt, 10)
    opt.add_param_group({"params": ps[2:], "lr": 0.003, "amsgrad": True})
    topt.add_param_group({"params": tps[2:], "lr": 0.003, "amsgrad": True})
    train_cr(ps, opt, 20, start=10)
    train_torch(tps, topt, 20, start=10)
    assert_same_params(ps, tps)


def test_parameters_without_grad_are_skipped():
    ps, tps = cr_params(), torch_params()
    spare = cr.tensor(np.ones(4), requires_grad=True)
    tspare = torch.ones(4, dtype=torch.float64, requires_grad=True)
    opt = optim.Adam(ps + [spare], lr=0.01)
    topt = torch.optim.Adam(tps + [tspare], lr=0.01, foreach=False)
    train_cr(ps, opt, 5)
    train_torch(tps, topt, 5)
    assert spare.grad is None and spare not in opt.state
    np.testing.assert_array_equal(spare.data, np.ones(4))
    assert 4 not in opt.state_dict()["state"] and 4 not in topt.state_dict()["state"]
    assert_same_params(ps, tps)


def test_zero_grad_sets_to_none_by_default():
    ps = cr_params()
    opt = optim.SGD(ps, lr=0.1)
    cr_loss(ps, XS[0], YS[0]).backward()
    assert all(p.grad is not None for p in ps)
    opt.zero_grad()
    assert all(p.grad is None for p in ps)


def test_zero_grad_in_place_keeps_the_arrays_and_zeroes_them():
    ps = cr_params()
    opt = optim.SGD(ps, lr=0.1)
    cr_loss(ps, XS[0], YS[0]).backward()
    first = [p.grad.data.copy() for p in ps]
    arrays = [p.grad.data for p in ps]
    opt.zero_grad(set_to_none=False)
    for p, a in zip(ps, arrays):
        assert p.grad.data is a
        assert not a.any()
    cr_loss(ps, XS[0], YS[0]).backward()  # accumulates onto the zeros: same gradient again
    for p, g in zip(ps, first):
        np.testing.assert_allclose(p.grad.data, g, rtol=1e-12)


def test_step_with_closure_returns_the_loss():
    ps, tps = cr_params(), torch_params()
    opt = optim.SGD(ps, lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(tps, lr=0.1, momentum=0.9, foreach=False)

    def closure():
        opt.zero_grad()
        loss = cr_loss(ps, XS[0], YS[0])
        loss.backward()
        return loss

    def tclosure():
        topt.zero_grad()
        loss = torch_loss(tps, XS[0], YS[0])
        loss.backward()
        return loss

    for _ in range(5):
        loss, tloss = opt.step(closure), topt.step(tclosure)
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    assert_same_params(ps, tps)


def test_state_dict_has_torch_layout():
    ps = cr_params()
    opt = optim.Adam([{"params": ps[:3]}, {"params": ps[3:], "lr": 0.5}], amsgrad=True)
    train_cr(ps, opt, 2)
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1, 2], [3]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(sd["state"]) == [0, 1, 2, 3]
    assert sd["state"][0]["step"] == 2.0
    assert isinstance(sd["state"][0]["exp_avg"], np.ndarray)
    assert sd["state"][0]["exp_avg"] is not opt.state[ps[0]]["exp_avg"]


def test_named_parameters_keep_their_names():
    ps = cr_params()
    named = [(f"p{i}", p) for i, p in enumerate(ps)]
    opt = optim.SGD(named, lr=0.1)
    assert opt.param_groups[0]["params"] == ps
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["p0", "p1", "p2", "p3"]


def test_adagrad_state_exists_from_the_start_like_torch():
    ps = cr_params()
    opt = optim.Adagrad(ps, initial_accumulator_value=0.25)
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0, 1, 2, 3]
    assert sd["state"][0]["step"] == 0.0
    np.testing.assert_array_equal(sd["state"][0]["sum"], np.full((8, 5), 0.25))


@pytest.mark.parametrize("make,match", [
    (lambda w: optim.Adam([w], betas=(1.5, 0.9)), "Adam: invalid beta parameter at index 0: 1.5"),
    (lambda w: optim.Adam([w], betas=(0.9, -0.1)), "Adam: invalid beta parameter at index 1"),
    (lambda w: optim.AdamW([w], betas=(0.9, 1.0)), "AdamW: invalid beta parameter at index 1"),
    (lambda w: optim.Adam([w], lr=-1.0), "Adam: invalid learning rate: -1.0"),
    (lambda w: optim.Adam([w], eps=-1e-8), "Adam: invalid epsilon value"),
    (lambda w: optim.Adam([w], weight_decay=-0.1), "Adam: invalid weight_decay value: -0.1"),
    (lambda w: optim.SGD([w], lr=-0.1), "SGD: invalid learning rate: -0.1"),
    (lambda w: optim.SGD([w], momentum=-0.5), "SGD: invalid momentum value: -0.5"),
    (lambda w: optim.SGD([w], nesterov=True), "SGD: Nesterov momentum requires a momentum"),
    (lambda w: optim.SGD([w], momentum=0.9, dampening=0.1, nesterov=True), "zero dampening"),
    (lambda w: optim.RMSprop([w], alpha=-0.1), "RMSprop: invalid alpha value: -0.1"),
    (lambda w: optim.RMSprop([w], momentum=-1), "RMSprop: invalid momentum value"),
    (lambda w: optim.Adagrad([w], lr_decay=-1), "Adagrad: invalid lr_decay value: -1"),
    (lambda w: optim.Adagrad([w], initial_accumulator_value=-1),
     "Adagrad: invalid initial_accumulator_value value: -1"),
    (lambda w: optim.SGD([{"params": [w], "lr": -2.0}], lr=0.1), "SGD: invalid learning rate"),
    (lambda w: optim.SGD([], lr=0.1), "SGD: got an empty parameter list"),
    (lambda w: optim.SGD([w * 2]), "non-leaf"),
    (lambda w: optim.SGD([{"params": [w]}, {"params": [w]}]), "more than one param group"),
    (lambda w: optim.SGD([w, w]), "more than once"),
])
def test_invalid_arguments_raise_clear_value_errors(make, match):
    w = cr.tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(ValueError, match=match):
        make(w)


def test_wrong_parameter_types_raise_type_errors():
    w = cr.tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(TypeError, match="wrap it in a list"):
        optim.SGD(w)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.zeros(3)])
    with pytest.raises(TypeError, match="dtype int64"):
        optim.SGD([cr.tensor([1, 2])])
    with pytest.raises(TypeError, match="not a set"):
        optim.SGD({w})


def test_load_state_dict_rejects_a_mismatched_optimizer():
    ps = cr_params()
    opt = optim.Adam(ps)
    train_cr(ps, opt, 1)
    saved = opt.state_dict()
    with pytest.raises(ValueError, match="saved state has 1 param groups but this optimizer has 2"):
        optim.Adam([{"params": ps[:2]}, {"params": ps[2:]}]).load_state_dict(saved)
    with pytest.raises(ValueError, match="param group 0 has 3 parameters"):
        optim.Adam(ps[:3]).load_state_dict(saved)
    swapped = cr_params([WEIGHTS[1], WEIGHTS[0], WEIGHTS[2], WEIGHTS[3]])
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 0 has shape \(8, 5\)"):
        optim.Adam(swapped).load_state_dict(saved)


def test_float32_parameters_stay_float32():
    w = cr.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    for cls in (optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad):
        opt = cls([w], lr=0.01)
        for _ in range(2):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
        assert w.data.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state[w].values()
                   if isinstance(v, np.ndarray))


def test_cr_optim_is_exposed_lazily():
    assert cr.optim is optim
    assert cr.optim.lr_scheduler.StepLR is not None
    text = repr(optim.Adam(cr_params(), lr=0.5))
    assert text.startswith("Adam (") and "lr: 0.5" in text and "Parameter Group 0" in text
