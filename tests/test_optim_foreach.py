"""foreach=True: every optimiser updates each group over flat buffers with one kernel call,
and ends bit for bit where the for-loop (foreach=False) ends, through replaced arrays, loaded
states, skipped gradients, new groups and schedules."""

import copy
import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

SHAPES = [(6, 5), (6,), (3, 6), (3,), ()]  # a 0-d parameter too

CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.02, "betas": (0.3, 0.9), "eps": 1e-6, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.05, "amsgrad": True, "maximize": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.005, "alpha": 0.3, "centered": True, "momentum": 0.5}),
    ("RMSprop", {"lr": 0.01, "centered": True, "maximize": True, "eps": 1e-4}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6, "maximize": True}),
]
IDS = [f"{name}-" + "-".join(f"{k}={v}" for k, v in kw.items()) for name, kw in CONFIGS]


def make_params(seed=0, shapes=SHAPES, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [cr.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]


def loss_of(params, i):
    """A smooth loss that differs per step (so every step's gradient is new)."""
    total = None
    for k, p in enumerate(params):
        term = ((cr.tanh(p * (1 + 0.1 * k)) - 0.05 * (i % 4)) ** 2).sum()
        total = term if total is None else total + term
    return total


def train(params, opt, steps, start=0, skip=None, sched=None):
    losses = []
    for i in range(start, start + steps):
        opt.zero_grad()
        loss = loss_of(params, i)
        loss.backward()
        for k in (skip or {}).get(i, ()):
            params[k].grad = None  # no gradient this step: the optimiser skips it
        opt.step()
        if sched is not None:
            sched.step()
        losses.append(loss.item())
    return losses


def pair(name, kwargs, seed=0, **make):
    """Two identical parameter lists, one optimiser each: foreach False and True."""
    out = []
    for foreach in (False, True):
        ps = make_params(seed, **make)
        out.append((ps, getattr(optim, name)(ps, foreach=foreach, **kwargs)))
    return out


def assert_same(loop, flat):
    (ps_a, opt_a), (ps_b, opt_b) = loop, flat
    for i, (a, b) in enumerate(zip(ps_a, ps_b)):
        np.testing.assert_array_equal(a.data, b.data, err_msg=f"parameter {i}")
        assert a.data.shape == b.data.shape and a.data.dtype == b.data.dtype
    assert_same_state(opt_a.state_dict(), opt_b.state_dict())


def assert_same_state(sa, sb):
    assert sorted(sa["state"]) == sorted(sb["state"])
    for k in sa["state"]:
        a, b = sa["state"][k], sb["state"][k]
        assert sorted(a) == sorted(b), k
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"state {k} {key}")
    strip = [{k: v for k, v in g.items() if k != "foreach"} for g in sa["param_groups"]]
    assert strip == [{k: v for k, v in g.items() if k != "foreach"} for g in sb["param_groups"]]


@pytest.mark.parametrize("chunk", [1 << 20, 16], ids=["default-chunks", "tiny-chunks"])
@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
def test_twenty_foreach_steps_equal_the_for_loop_bit_for_bit(name, kwargs, chunk, monkeypatch):
    # tiny-chunks: the flat arrays are updated in slices and the bigger parameters stay loose
    monkeypatch.setattr("chainrule.optim.optimizer.CHUNK_BYTES", chunk)
    loop, flat = pair(name, kwargs)
    assert train(*loop, 20) == train(*flat, 20)
    assert_same(loop, flat)
    ps, opt = flat
    views = [p.data.base is not None for p in ps]
    assert all(views) if chunk > 64 else any(views) and not all(views)


class _Calls:
    """Counts the (param, grad, state) units the optimiser's update kernel is run over."""

    def __init__(self, opt):
        self.n = 0
        update = opt._update

        def counted(group, units):
            units = list(units)
            self.n += len(units)
            return update(group, units)

        opt._update = counted


@pytest.mark.parametrize("name,kwargs", CONFIGS[::3], ids=IDS[::3])
def test_a_foreach_step_is_one_kernel_call_per_group(name, kwargs):
    (ps_a, loop), (ps_b, flat) = pair(name, kwargs)
    calls_a, calls_b = _Calls(loop), _Calls(flat)
    train(ps_a, loop, 3)
    train(ps_b, flat, 3)
    assert (calls_a.n, calls_b.n) == (3 * len(SHAPES), 3)
    state = flat.state[ps_b[0]]  # per-parameter state: views of the group's buffers
    assert all(isinstance(v, float) or v.base is not None for v in state.values())
    assert bool(state) is (kwargs.get("momentum", 0) != 0 or name != "SGD")


@pytest.mark.parametrize("name,kwargs", [CONFIGS[1], CONFIGS[5], CONFIGS[10], CONFIGS[13]],
                         ids=[IDS[1], IDS[5], IDS[10], IDS[13]])
def test_skipped_gradients_fall_back_for_that_step_and_stay_equal(name, kwargs):
    # parameter 2 has no gradient at steps 0-3 (so no state at first), 0 and 4 skip later
    skip = {0: [2], 1: [2], 2: [2], 3: [2], 7: [0], 8: [0, 4], 12: [4]}
    loop, flat = pair(name, kwargs)
    assert train(*loop, 20, skip=skip) == train(*flat, 20, skip=skip)
    assert_same(loop, flat)
    if name != "SGD":  # the skipped parameters' step counts lag, as in PyTorch
        steps = {k: v["step"] for k, v in flat[1].state_dict()["state"].items()}
        assert steps[1] == 20 and steps[2] == 16 and steps[0] == 18


def test_an_all_skipped_group_updates_nothing():
    loop, flat = pair("Adam", {"lr": 0.1})
    train(*loop, 3, skip={1: range(len(SHAPES))})
    train(*flat, 3, skip={1: range(len(SHAPES))})
    assert_same(loop, flat)
    assert flat[1].state[flat[0][0]]["step"] == 2.0


@pytest.mark.parametrize("name,kwargs", [CONFIGS[2], CONFIGS[4], CONFIGS[11], CONFIGS[14]],
                         ids=[IDS[2], IDS[4], IDS[11], IDS[14]])
def test_state_dict_round_trips_between_foreach_and_the_for_loop(name, kwargs):
    cls = getattr(optim, name)
    ref_ps = make_params()
    ref = cls(ref_ps, **kwargs)
    train(ref_ps, ref, 16)  # the uninterrupted run
    for first, second in [(True, True), (True, False), (False, True)]:
        ps = make_params()
        opt = cls(ps, foreach=first, **kwargs)
        train(ps, opt, 8)
        saved = pickle.loads(pickle.dumps(opt.state_dict()))  # a checkpoint on disk
        assert all(v.base is None for s in saved["state"].values() for v in s.values()
                   if isinstance(v, np.ndarray))  # saved compactly, not as views of a buffer
        ps2 = [cr.tensor(p.data.copy(), requires_grad=True) for p in ps]
        resumed = cls(ps2, **kwargs)
        resumed.load_state_dict(saved)
        assert resumed.param_groups[0]["foreach"] is first  # like lr: the saved group's, as torch
        resumed.param_groups[0]["foreach"] = second
        train(ps2, resumed, 8, start=8)
        assert_same((ref_ps, ref), (ps2, resumed))


def test_loading_a_state_mid_run_flattens_it_again():
    loop, flat = pair("Adam", {"lr": 0.05, "amsgrad": True})
    train(*loop, 5)
    early = copy.deepcopy(loop[1].state_dict())
    train(*loop, 5, start=5)
    train(*flat, 10)
    for _, opt in (loop, flat):  # back to the state of step 5 (with today's weights)
        opt.load_state_dict(early)
        opt.param_groups[0]["foreach"] = opt is flat[1]
    assert train(*loop, 10, start=10) == train(*flat, 10, start=10)
    assert_same(loop, flat)
    assert flat[1].state[flat[0][0]]["exp_avg"].base is not None  # flat again


def test_pytorchs_state_dict_loads_into_a_foreach_optimizer():
    torch = pytest.importorskip("torch")
    arrays = [p.data for p in make_params()]
    tps = [torch.tensor(a, requires_grad=True) for a in arrays]
    topt = torch.optim.Adam(tps, lr=0.02, foreach=False)
    for i in range(6):
        topt.zero_grad()
        sum(((torch.tanh(p * (1 + 0.1 * k)) - 0.05 * (i % 4)) ** 2).sum()
            for k, p in enumerate(tps)).backward()
        topt.step()
    saved = topt.state_dict()
    saved["state"] = {k: {n: (v.numpy() if hasattr(v, "numpy") else v) for n, v in s.items()}
                      for k, s in saved["state"].items()}
    runs = []
    for foreach in (False, True):
        ps = [cr.tensor(p.detach().numpy().copy(), requires_grad=True) for p in tps]
        opt = optim.Adam(ps, foreach=foreach)
        opt.load_state_dict(saved)
        opt.param_groups[0]["foreach"] = foreach
        runs.append((ps, opt))
        train(ps, opt, 6, start=6)
    assert_same(*runs)


def test_replaced_parameter_arrays_are_flattened_again():
    loop, flat = pair("SGD", {"lr": 0.1, "momentum": 0.9})
    train(*loop, 4)
    train(*flat, 4)
    rng = np.random.default_rng(5)
    for k in (0, 3):
        new = rng.standard_normal(SHAPES[k])
        loop[0][k].data = new.copy()
        flat[0][k].data = new.copy()  # the optimiser's flat copy is stale now
    assert train(*loop, 6, start=4) == train(*flat, 6, start=4)
    assert_same(loop, flat)
    assert flat[0][0].data.base is flat[0][1].data.base is not None


def test_zero_grad_to_zeros_and_groups_with_their_own_lr_and_foreach():
    runs = []
    for foreach in (False, True):
        ps = make_params()
        opt = optim.RMSprop([{"params": ps[:2], "lr": 0.02},
                             {"params": ps[2:], "foreach": False, "momentum": 0.5}],
                            lr=0.01, foreach=foreach)
        for i in range(12):
            opt.zero_grad(set_to_none=False)
            loss_of(ps, i).backward()
            opt.step()
        runs.append((ps, opt))
    assert_same(*runs)
    assert runs[1][0][0].data.base is not None and runs[1][0][2].data.base is None


def test_a_param_group_added_mid_run():
    runs = []
    for foreach in (False, True):
        ps = make_params()
        opt = optim.Adam(ps[:3], lr=0.02, foreach=foreach)
        train(ps, opt, 5, skip={i: [3, 4] for i in range(5)})
        opt.add_param_group({"params": ps[3:], "lr": 0.05})
        train(ps, opt, 8, start=5)
        runs.append((ps, opt))
    assert_same(*runs)
    assert runs[1][1].param_groups[1]["foreach"] is True  # the default of the optimiser


def test_a_scheduler_and_hyper_parameters_changed_between_steps():
    runs = []
    for foreach in (False, True):
        ps = make_params()
        opt = optim.SGD(ps, lr=0.1, foreach=foreach)
        sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20)
        train(ps, opt, 8, sched=sched)
        opt.param_groups[0].update(momentum=0.9, weight_decay=0.01)  # momentum buffers appear
        train(ps, opt, 12, start=8, sched=sched)
        runs.append((ps, opt))
    assert_same(*runs)
    assert runs[1][1].param_groups[0]["lr"] == runs[0][1].param_groups[0]["lr"] < 0.01


def test_two_dtypes_in_one_group_and_a_gradient_of_another_dtype():
    runs = []
    for foreach in (False, True):
        ps = make_params() + make_params(1, dtype=np.float32)
        opt = optim.Adam(ps, lr=0.01, foreach=foreach)
        for i in range(8):
            opt.zero_grad()
            loss_of(ps, i).backward()
            if i == 4:  # a float64 gradient for a float32 parameter: updated one by one
                ps[-1].grad = cr.tensor(ps[-1].grad.data.astype(np.float64))
            opt.step()
        runs.append((ps, opt))
    assert_same(*runs)
    flat = runs[1][0]
    assert flat[0].data.base is flat[1].data.base and flat[-1].data.base is flat[-2].data.base
    assert flat[0].data.base is not flat[-1].data.base


def test_copies_and_pickles_continue_on_their_own():
    loop, flat = pair("Adagrad", {"lr": 0.1, "lr_decay": 0.01})
    train(*loop, 5)
    train(*flat, 5)
    ps_b, opt_b = flat
    ps_c, opt_c = pickle.loads(pickle.dumps((ps_b, opt_b)))
    ps_d, opt_d = copy.deepcopy((ps_b, opt_b))
    train(*loop, 5, start=5)
    for run in [(ps_b, opt_b), (ps_c, opt_c), (ps_d, opt_d)]:
        train(*run, 5, start=5)
        assert_same(loop, run)


def test_foreach_must_be_a_flag():
    with pytest.raises(TypeError, match="foreach must be True, False or None"):
        optim.SGD(make_params(), foreach="yes")
    assert optim.Adam(make_params()).param_groups[0]["foreach"] is None  # PyTorch's default
