"""cr.compile: 50 replayed steps equal 50 eager steps bit for bit (float64), and each guard
captures again or falls back loudly."""

import warnings

import numpy as np
import pytest
from jit_steps import training_step

import chainrule as cr
from chainrule.jit import CompileWarning

nn = cr.nn
F = cr.nn.functional


def _mlp(sizes, act, seed, dtype="float64"):
    rng = np.random.default_rng(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nn.Linear(a, b)
        lin.weight.data = (rng.uniform(-1, 1, (b, a)) / np.sqrt(a)).astype(dtype)
        lin.bias.data = (rng.uniform(-1, 1, b) / np.sqrt(a)).astype(dtype)
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def _data(kind, n, d, out, seed=0, dtype="float64"):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(dtype)
    if kind == "classes":
        y = rng.integers(0, out, n)
    elif kind == "binary":
        y = (rng.random((n, out)) > 0.5).astype(dtype)
    else:
        y = rng.standard_normal((n, out)).astype(dtype)
    return cr.tensor(x), cr.tensor(y)


WORKLOADS = {
    # name: (sizes, activation, loss, target kind)
    "W1nn": ([20, 16, 3], nn.ReLU, lambda p, y: F.mse_loss(p, y, reduction="sum"), "real"),
    "W2": ([12, 16, 8, 4], nn.ReLU, F.cross_entropy, "classes"),
    "W3": ([2, 8, 1], nn.Tanh, F.binary_cross_entropy_with_logits, "binary"),
    "sigmoid-mse": ([5, 6, 2], nn.Sigmoid, F.mse_loss, "real"),
}

OPTIMIZERS = {
    "sgd": lambda ps, s: cr.optim.SGD(ps, lr=0.05 * s),
    "sgd-momentum-wd": lambda ps, s: cr.optim.SGD(ps, lr=0.05 * s, momentum=0.9,
                                                  weight_decay=1e-3),
    "sgd-nesterov": lambda ps, s: cr.optim.SGD(ps, lr=0.05 * s, momentum=0.8, nesterov=True),
    "adam": lambda ps, s: cr.optim.Adam(ps, lr=1e-2 * s),
    "adamw-amsgrad": lambda ps, s: cr.optim.AdamW(ps, lr=1e-2 * s, amsgrad=True),
}


def _pair(workload, optimizer, scheduler=False):
    sizes, act, loss_fn, _ = WORKLOADS[workload]
    runs = []
    for _ in range(2):
        model = _mlp(sizes, act, seed=3)
        opt = OPTIMIZERS[optimizer](model.parameters(), 0.1 if workload == "W1nn" else 1.0)
        sched = cr.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5) if scheduler else None
        runs.append((model, training_step(model, opt, loss_fn, sched)))
    return runs


def _assert_same(eager, compiled):
    for (name, a), (_, b) in zip(eager.named_parameters(), compiled.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_fifty_compiled_steps_equal_fifty_eager_steps_bit_for_bit(workload, optimizer):
    (m_eager, eager), (m_comp, step) = _pair(workload, optimizer)
    compiled = cr.compile(step)
    sizes, _, _, kind = WORKLOADS[workload]
    x, y = _data(kind, 9, sizes[0], sizes[-1])
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        for _ in range(50):
            np.testing.assert_array_equal(eager(x, y).data, compiled(x, y).data)
    _assert_same(m_eager, m_comp)
    assert compiled.stats == {"captures": 1, "replays": 49, "eager": 0}
    for a, b in zip(m_eager.parameters(), m_comp.parameters()):  # .grad as eager leaves it
        np.testing.assert_array_equal(a.grad.data, b.grad.data)


def test_scheduler_learning_rate_is_read_every_step():
    (m_eager, eager), (m_comp, step) = _pair("W2", "adam", scheduler=True)
    compiled = cr.compile(step)
    x, y = _data("classes", 9, 12, 4)
    for _ in range(30):  # StepLR halves lr every 7 steps: a baked-in lr would diverge
        np.testing.assert_array_equal(eager(x, y).data, compiled(x, y).data)
    _assert_same(m_eager, m_comp)


def test_new_batches_and_a_short_last_batch_capture_again_and_are_cached():
    (m_eager, eager), (m_comp, step) = _pair("W2", "sgd-momentum-wd")
    compiled = cr.compile(step)
    batches = [_data("classes", n, 12, 4, seed=s) for s, n in enumerate([8, 8, 3] * 6)]
    for x, y in batches:
        np.testing.assert_array_equal(eager(x, y).data, compiled(x, y).data)
    _assert_same(m_eager, m_comp)
    assert compiled.stats["captures"] == 2  # one per batch shape, then replays
    assert compiled.stats["replays"] == 16


def test_float32_steps_match_eager_and_keep_float32():
    sizes, act, loss_fn, _ = WORKLOADS["W3"]
    runs = []
    for _ in range(2):
        model = _mlp(sizes, act, seed=1, dtype="float32")
        opt = cr.optim.SGD(model.parameters(), lr=0.5)
        runs.append((model, training_step(model, opt, loss_fn)))
    (m_eager, eager), (m_comp, step) = runs
    compiled = cr.compile(step)
    x, y = _data("binary", 4, 2, 1, dtype="float32")
    for _ in range(50):
        out = compiled(x, y)
        np.testing.assert_array_equal(eager(x, y).data, out.data)
    assert out.dtype == np.float32
    _assert_same(m_eager, m_comp)


def test_train_eval_switch_is_a_guard():
    model = _mlp([3, 4, 2], nn.ReLU, seed=0)
    fwd = cr.compile(lambda x: model(x))
    x = cr.tensor(np.ones((2, 3)))
    fwd(x)
    fwd(x)
    model.eval()
    fwd(x)
    assert fwd.stats["captures"] == 2


def test_grad_mode_is_a_guard_and_forward_replays_follow_new_inputs():
    model = _mlp([3, 4, 2], nn.Tanh, seed=0)
    fwd = cr.compile(lambda x: model(x))
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = cr.tensor(rng.standard_normal((5, 3)))
        np.testing.assert_array_equal(fwd(x).data, model(x).data)
    with cr.no_grad():
        x = cr.tensor(rng.standard_normal((5, 3)))
        np.testing.assert_array_equal(fwd(x).data, model(x).data)
    assert fwd.stats["captures"] == 2


def test_replaced_parameter_arrays_capture_again():
    (m_eager, eager), (m_comp, step) = _pair("W3", "adam")
    compiled = cr.compile(step)
    x, y = _data("binary", 4, 2, 1)
    for _ in range(3):
        eager(x, y), compiled(x, y)
    state = m_eager.state_dict()
    m_comp.load_state_dict({k: v.copy() for k, v in state.items()})
    for p in m_comp.parameters():  # a replay must see the new arrays, not stale views
        p.data = p.data.copy()
    for _ in range(5):
        np.testing.assert_array_equal(eager(x, y).data, compiled(x, y).data)
    _assert_same(m_eager, m_comp)
    assert compiled.stats["captures"] == 2


def _warns_once(compiled, *args, match):
    with pytest.warns(CompileWarning, match=match):
        compiled(*args)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        compiled(*args)  # the same signature runs eagerly without warning again
    assert compiled.stats["eager"] >= 1


def test_item_inside_the_step_falls_back_loudly():
    model = _mlp([3, 2], nn.ReLU, seed=0)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        loss = F.mse_loss(model(x), y)
        if loss.item() > 1e9:  # value-dependent Python: cannot be replayed
            return None
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    x, y = _data("real", 4, 3, 2)
    _warns_once(cr.compile(step), x, y, match=r"item\(\)")


def test_dropout_draws_a_new_mask_each_replay_as_eager_does():
    runs = []
    for _ in range(2):
        cr.manual_seed(4)  # the same initial weights for both
        model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
        opt = cr.optim.Adam(model.parameters(), lr=1e-2)
        runs.append((model, training_step(model, opt, F.cross_entropy)))
    (m_eager, eager), (m_comp, step) = runs
    compiled = cr.compile(step)
    x, y = _data("classes", 10, 6, 3)
    cr.manual_seed(7)
    eager_losses = [eager(x, y).item() for _ in range(30)]
    cr.manual_seed(7)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        compiled_losses = [compiled(x, y).item() for _ in range(30)]
    assert compiled_losses == eager_losses and len(set(eager_losses)) == 30
    _assert_same(m_eager, m_comp)
    assert compiled.stats["replays"] == 29
    m_comp.eval()  # eval mode: no dropout, a capture of its own
    compiled(x, y)
    assert compiled.stats["captures"] == 2


def test_other_random_draws_fall_back_loudly():
    def fwd(x):
        from chainrule import backend

        return x * cr.tensor(backend.get_rng().random(3))

    _warns_once(cr.compile(fwd), cr.tensor(np.ones(3)), match="random draw")


def test_a_custom_autograd_function_is_named_in_the_warning():
    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * x * g

    w = nn.Parameter(cr.tensor(np.ones(3)))
    opt = cr.optim.SGD([w], lr=0.1)

    def step(x):
        loss = Cube.apply(x * w).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    _warns_once(cr.compile(step), cr.tensor(np.ones(3)), match="Cube")


def _tutorial(zero_in_place):
    """The notes' loop with raw tensors: p -= lr * p.grad under no_grad, then clear .grad."""
    rng = np.random.default_rng(5)
    x, y = cr.tensor(rng.standard_normal((8, 6))), cr.tensor(rng.standard_normal((8, 2)))
    w1 = cr.tensor(rng.standard_normal((6, 5)), requires_grad=True)
    w2 = cr.tensor(rng.standard_normal((5, 2)), requires_grad=True)

    def step():
        loss = ((x @ w1).clamp(min=0) @ w2 - y).pow(2).sum()
        loss.backward()
        with cr.no_grad():
            for w in (w1, w2):
                w -= 1e-3 * w.grad
                if zero_in_place:
                    w.grad.zero_()
                else:
                    w.grad = None
        return loss

    return step, (w1, w2)


@pytest.mark.parametrize("zero_in_place", [False, True])
def test_manual_in_place_updates_compile_and_equal_eager(zero_in_place):
    eager, eager_ws = _tutorial(zero_in_place)
    step, ws = _tutorial(zero_in_place)
    compiled = cr.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        for _ in range(50):
            np.testing.assert_array_equal(eager().data, compiled().data)
    for a, b in zip(eager_ws, ws):
        np.testing.assert_array_equal(a.data, b.data)
        assert (a.grad is None) == (b.grad is None)
    assert compiled.stats["replays"] == 49


def test_in_place_update_of_an_input_falls_back():
    w = cr.tensor(np.ones(3), requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.1)

    def step(x):
        with cr.no_grad():
            x += 1
        loss = (w * x).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    _warns_once(cr.compile(step), cr.tensor(np.ones(3)), match="in-place")


def test_backward_without_zero_grad_falls_back():
    model = _mlp([3, 2], nn.ReLU, seed=0)

    def step(x):
        loss = model(x).sum()
        loss.backward()
        return loss

    _warns_once(cr.compile(step), cr.tensor(np.ones((2, 3))), match="accumulate")


class _SignSGD(cr.optim.Optimizer):
    """A user's optimiser with its own step(): nothing says its update is elementwise."""

    def __init__(self, params, lr=0.01):
        super().__init__(params, {"lr": lr})

    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.data -= group["lr"] * np.sign(p.grad.data)


def test_a_users_optimizer_falls_back():
    model = _mlp([3, 2], nn.ReLU, seed=0)
    step = training_step(model, _SignSGD(model.parameters()), F.mse_loss)
    _warns_once(cr.compile(step), *_data("real", 4, 3, 2), match="_SignSGD defines its own step")


@pytest.mark.parametrize("value,dtype", [(7, np.int64), (-1, np.int64), (-1, np.int32),
                                         (4, np.int32)])
def test_out_of_range_target_runs_eagerly_and_raises_like_eager(value, dtype):
    """The replay's guard reads a signed target as unsigned (a negative is huge): -1 must not
    wrap around to the last class."""
    (_, _), (_, step) = _pair("W2", "sgd")
    compiled = cr.compile(step)
    x, y = _data("classes", 9, 12, 4)
    y = cr.tensor(y.data.astype(dtype))
    compiled(x, y)
    compiled(x, y)
    assert compiled.stats["replays"] == 1
    bad = cr.tensor(np.full(9, value, dtype))
    with pytest.raises(IndexError, match="out of range"):
        compiled(x, bad)


def test_elementwise_ops_and_reductions_match_eager():
    w = cr.tensor(np.linspace(0.5, 1.5, 6).reshape(2, 3), requires_grad=True)
    opt = cr.optim.SGD([w], lr=0.01)

    def step(x):
        h = (x * w - w / (x + 3)).exp().log() + (-w) ** 3
        h = h.clamp(min=-2.0, max=5.0).reshape(3, 2).sigmoid()
        loss = h.mean(axis=0).sum() + (w @ x.T).relu().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    w_eager = cr.tensor(w.data.copy(), requires_grad=True)
    opt_eager = cr.optim.SGD([w_eager], lr=0.01)

    def eager(x):
        h = (x * w_eager - w_eager / (x + 3)).exp().log() + (-w_eager) ** 3
        h = h.clamp(min=-2.0, max=5.0).reshape(3, 2).sigmoid()
        loss = h.mean(axis=0).sum() + (w_eager @ x.T).relu().mean()
        opt_eager.zero_grad()
        loss.backward()
        opt_eager.step()
        return loss

    compiled = cr.compile(step)
    x = cr.tensor(np.arange(6.0).reshape(2, 3) / 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        for _ in range(20):
            np.testing.assert_array_equal(eager(x).data, compiled(x).data)
    np.testing.assert_array_equal(w.data, w_eager.data)
    assert compiled.stats["replays"] == 19


def test_tape_lists_kernels_and_buffers():
    (_, _), (_, step) = _pair("W3", "sgd")
    compiled = cr.compile(step)
    assert "nothing captured" in compiled.tape
    compiled(*_data("binary", 4, 2, 1))
    listing = compiled.tape
    assert "np.dot" in listing and "np.logaddexp" in listing and "# buffers" in listing


def test_fit_compile_trains_exactly_as_eager_on_digits():
    d = cr.datasets.digits()
    X, y = d.X.astype(np.float32)[:600], d.y[:600]

    def run(compile):
        cr.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
        opt = cr.optim.Adam(model.parameters(), lr=1e-2)
        history = cr.train.fit(model, nn.CrossEntropyLoss(), opt, (X[:500], y[:500]),
                               epochs=3, batch_size=64, seed=0, progress=False,
                               compile=compile, val_data=(X[500:], y[500:]))
        return history, [p.data.copy() for p in model.parameters()]

    (eager, pe), (compiled, pc) = run(False), run(True)
    assert compiled["val_accuracy"] == eager["val_accuracy"]
    assert compiled["loss"] == eager["loss"] and eager["loss"][-1] < eager["loss"][0]
    for a, b in zip(pe, pc):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_sklearn_compile_hyper_parameter_fits_the_same_weights(kind):
    import pickle

    from chainrule.sklearn import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(0)
    X = rng.standard_normal((70, 4))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0) if kind == "classifier" else X @ [1, 2, 0, -1]
    cls = MLPClassifier if kind == "classifier" else MLPRegressor
    fits = []
    for compile in (False, True):
        est = cls((8,), max_iter=15, batch_size=32, random_state=0, compile=compile)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # ConvergenceWarning
            warnings.simplefilter("error", CompileWarning)
            fits.append(est.fit(X, y))
    eager, compiled = fits
    assert compiled.get_params()["compile"] is True
    assert compiled.loss_curve_ == eager.loss_curve_
    np.testing.assert_array_equal(compiled.predict(X), eager.predict(X))
    assert pickle.loads(pickle.dumps(compiled)).compile is True


def test_train_job_compile_option_gives_the_eager_run(tmp_path):
    from chainrule.train.job import RunOptions

    results = []
    for compile in (False, True):
        options = RunOptions(data="xor", epochs=4, plots=False, compile=compile)
        with warnings.catch_warnings():
            warnings.simplefilter("error", CompileWarning)
            results.append(cr.train.run(options, out=tmp_path / str(compile), progress=False))
    eager, compiled = results
    assert compiled.history["loss"] == eager.history["loss"]
    assert '"compile": true' in (tmp_path / "True" / "run.json").read_text()


def test_momentum_switched_on_and_a_new_param_group_capture_again():
    runs = []
    for _ in range(2):
        model = _mlp([4, 5, 2], nn.Tanh, seed=2)
        opt = cr.optim.SGD(model.parameters(), lr=0.1)
        extra = cr.tensor(np.ones(2), requires_grad=True)

        def step(x, y, model=model, opt=opt, extra=extra):
            loss = F.mse_loss(model(x) * extra, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            extra.grad = None  # not in the optimiser until step 8: clear it by hand
            return loss

        runs.append((model, opt, extra, step))
    (m_e, opt_e, extra_e, eager), (m_c, opt_c, extra_c, step) = runs
    compiled = cr.compile(step)
    x, y = _data("real", 6, 4, 2)
    for i in range(12):
        if i == 4:
            for o in (opt_e, opt_c):
                o.param_groups[0]["momentum"] = 0.9
        if i == 8:
            opt_e.add_param_group({"params": [extra_e]})
            opt_c.add_param_group({"params": [extra_c]})
        np.testing.assert_array_equal(eager(x, y).data, compiled(x, y).data)
    _assert_same(m_e, m_c)
    np.testing.assert_array_equal(extra_e.data, extra_c.data)
    assert compiled.stats["captures"] == 3


@pytest.mark.parametrize("make", [
    lambda h: h.sqrt().sum(),
    lambda h: (h - 1).abs().mean(),
    lambda h: F.leaky_relu(h - 1, 0.1).sum(),
    lambda h: (F.softmax(h, dim=1) * h).sum(),
    lambda h: F.log_softmax(h, dim=1).mean(),
], ids=["sqrt", "abs", "leaky_relu", "softmax", "log_softmax"])
def test_more_unary_rules_match_eager(make):
    runs = []
    for _ in range(2):
        w = cr.tensor(np.linspace(0.2, 2.0, 12).reshape(3, 4), requires_grad=True)
        opt = cr.optim.SGD([w], lr=0.05, momentum=0.5)

        def step(x, w=w, opt=opt):
            loss = make((x @ w).sigmoid() + 0.5)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        runs.append((w, step))
    (w_e, eager), (w_c, step) = runs
    compiled = cr.compile(step)
    x = cr.tensor(np.linspace(-1, 1, 15).reshape(5, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        for _ in range(10):
            np.testing.assert_array_equal(eager(x).data, compiled(x).data)
    np.testing.assert_array_equal(w_e.data, w_c.data)


def test_a_tensor_made_from_numpy_data_inside_the_step_falls_back_instead_of_going_stale():
    model = _mlp([4, 3], nn.ReLU, seed=0)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        x2 = cr.tensor(x.data * 2)  # a NumPy round trip: its value would be fixed at capture
        loss = F.cross_entropy(model(x2), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    x = cr.tensor(np.ones((3, 4)))
    _warns_once(cr.compile(step), x, cr.tensor(np.array([0, 1, 2])), match="NumPy array")


def test_an_error_inside_the_step_restores_eager_mode():
    from chainrule.ops import base

    item, backward = cr.Tensor.item, cr.Tensor.backward

    def step(x):
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        cr.compile(step)(cr.tensor(np.ones(2)))
    assert base._observer is None
    assert cr.Tensor.item is item and cr.Tensor.backward is backward
    nested = cr.compile(lambda x: cr.compile(lambda y: y * 2)(x))
    with pytest.raises(RuntimeError, match="nested compile"):
        nested(cr.tensor(np.ones(2)))
    assert base._observer is None


def test_a_model_passed_as_an_argument_guards_its_train_eval_mode():
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5))
    fwd = cr.compile(lambda m, x: m(x))
    x = cr.tensor(np.ones((2, 3)))
    fwd(model, x)
    model.eval()
    np.testing.assert_array_equal(fwd(model, x).data, model(x).data)  # no dropout in eval
    assert fwd.stats["captures"] == 2
