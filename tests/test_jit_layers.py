"""cr.compile over the common layers: convolution, pooling, batch norm, recurrent layers,
attention, Transformer blocks, embeddings, layer norm, dropout and the other ops without a
kernel rule. Their calls replay whole (jit/region.py); the steps must still equal eager bit
for bit in float64, including running statistics, random draws and shape changes."""

import warnings

import numpy as np
import pytest
from jit_steps import training_step

import chainrule as cr
from chainrule.jit import CompileWarning

nn = cr.nn
F = cr.nn.functional


class CNN(nn.Module):
    def __init__(self, norm=True):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4) if norm else nn.Identity()
        self.conv2 = nn.Conv2d(4, 6, 3, stride=2)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(6 * 1 * 1, 3)

    def forward(self, x):
        x = F.relu(self.bn(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = F.avg_pool2d(x, 1)
        return self.head(x.flatten(1))


class CharLSTM(nn.Module):
    def __init__(self, cell="LSTM"):
        super().__init__()
        self.embedding = nn.Embedding(11, 5)
        self.rnn = getattr(nn, cell)(5, 7, num_layers=2, batch_first=True)
        self.norm = nn.LayerNorm(7)
        self.head = nn.Linear(7, 11)

    def forward(self, ids):
        out, _ = self.rnn(self.embedding(ids))
        return self.head(self.norm(out)).reshape(-1, 11)


class TinyTransformer(nn.Module):
    def __init__(self, dropout=0.0, context=6):
        super().__init__()
        self.embedding = nn.Embedding(11, 8)
        self.position = nn.Parameter(cr.randn(context, 8) * 0.1)
        layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=dropout, batch_first=True,
                                           norm_first=True, activation="gelu")
        self.blocks = nn.TransformerEncoder(layer, 2)
        self.head = nn.Linear(8, 11)
        self.register_buffer("mask", nn.generate_square_subsequent_mask(context))

    def forward(self, ids):
        x = self.embedding(ids) + self.position[: ids.shape[1]]
        n = ids.shape[1]
        x = self.blocks(x, mask=self.mask[:n, :n], is_causal=True)
        return self.head(x).reshape(-1, 11)


def _images(n, seed):
    rng = np.random.default_rng(seed)
    return (cr.tensor(rng.standard_normal((n, 1, 6, 6))), cr.tensor(rng.integers(0, 3, n)))


def _tokens(n, seed, context=6):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 11, (n, context + 1))
    return cr.tensor(ids[:, :-1]), cr.tensor(ids[:, 1:].reshape(-1))


MODELS = {
    "cnn-batchnorm": (CNN, _images),
    "lstm": (CharLSTM, _tokens),
    "gru": (lambda: CharLSTM("GRU"), _tokens),
    "transformer": (TinyTransformer, _tokens),
    "transformer-dropout": (lambda: TinyTransformer(dropout=0.2), _tokens),
}
OPTIMIZERS = {
    "sgd-momentum": lambda ps: cr.optim.SGD(ps, lr=0.05, momentum=0.9),
    "adam": lambda ps: cr.optim.Adam(ps, lr=1e-2),
}


def _twins(make_model, make_opt, scheduler=False):
    runs = []
    for _ in range(2):
        cr.manual_seed(11)
        model = make_model().double()
        opt = make_opt(model.parameters())
        sched = cr.optim.lr_scheduler.StepLR(opt, 5, gamma=0.7) if scheduler else None

        runs.append((model, training_step(model, opt, F.cross_entropy, sched)))
    return runs


def _assert_same_state(a, b):
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=name)


def _run_both(eager, compiled, batches, seed=5):
    cr.manual_seed(seed)  # dropout's draws: the same stream for both runs
    want = [eager(x, y).item() for x, y in batches]
    cr.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        got = [compiled(x, y).item() for x, y in batches]
    assert got == want


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("model", list(MODELS))
def test_fifty_compiled_steps_equal_eager_for_every_layer(model, optimizer):
    make_model, make_data = MODELS[model]
    (m_eager, eager), (m_comp, step) = _twins(make_model, OPTIMIZERS[optimizer])
    compiled = cr.compile(step)
    batch = make_data(4, seed=1)
    _run_both(eager, compiled, [batch] * 50)
    _assert_same_state(m_eager, m_comp)  # parameters and buffers (running statistics)
    assert compiled.stats == {"captures": 1, "replays": 49, "eager": 0}


@pytest.mark.parametrize("model", ["cnn-batchnorm", "lstm", "transformer"])
def test_new_batches_a_short_last_batch_and_a_scheduler(model):
    make_model, make_data = MODELS[model]
    (m_eager, eager), (m_comp, step) = _twins(make_model, OPTIMIZERS["adam"], scheduler=True)
    compiled = cr.compile(step)
    batches = [make_data(n, seed=s) for s, n in enumerate([4, 4, 4, 2] * 4)]
    _run_both(eager, compiled, batches)
    _assert_same_state(m_eager, m_comp)
    assert compiled.stats["captures"] == 2 and compiled.stats["replays"] == 14


def test_a_sequence_length_change_mid_run_captures_again():
    (m_eager, eager), (m_comp, step) = _twins(TinyTransformer, OPTIMIZERS["adam"])
    compiled = cr.compile(step)
    batches = [_tokens(3, s, context=6 if s < 5 else 4) for s in range(10)]
    _run_both(eager, compiled, batches)
    _assert_same_state(m_eager, m_comp)
    assert compiled.stats["captures"] == 2


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_running_statistics_and_eval_mode(momentum):
    """Running mean/var and num_batches_tracked advance at every replay (momentum=None: the
    cumulative average, whose factor depends on the count: read at each replay, not baked)."""
    def make():
        model = CNN()
        model.bn.momentum = momentum
        return model

    (m_eager, eager), (m_comp, step) = _twins(make, OPTIMIZERS["sgd-momentum"])
    compiled = cr.compile(step)
    batches = [_images(5, seed=s) for s in range(12)]
    _run_both(eager, compiled, batches)
    assert int(m_comp.bn.num_batches_tracked.item()) == 12
    _assert_same_state(m_eager, m_comp)
    m_eager.eval()
    m_comp.eval()  # eval: the running statistics normalise, a capture of its own
    forward = cr.compile(lambda x: m_comp(x))
    x, _ = _images(3, seed=99)
    for _ in range(3):
        np.testing.assert_array_equal(forward(x).data, m_eager(x).data)
    assert forward.stats["replays"] == 2
    _assert_same_state(m_eager, m_comp)  # eval leaves the statistics alone


def _mlp_twins(act=nn.GELU):
    runs = []
    for _ in range(2):
        cr.manual_seed(3)
        model = nn.Sequential(nn.Linear(4, 6), act(), nn.Linear(6, 3)).double()
        runs.append((model, cr.optim.Adam(model.parameters(), lr=1e-2)))
    return runs


def test_an_integer_cast_and_a_random_draw_inside_the_step_replay_as_eager():
    """``y.long()`` and ``cr.randn`` are library calls: replayed, so the cast follows new
    inputs and the noise is a new draw each step (the eager draws, with the same seed)."""
    runs = []
    for model, opt in _mlp_twins():
        def step(x, y, model=model, opt=opt):
            noisy = x + 0.1 * cr.randn(*x.shape, dtype=cr.float64)
            loss = F.cross_entropy(model(noisy), y.long())
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        runs.append((model, step))
    (m_eager, eager), (m_comp, step) = runs
    compiled = cr.compile(step)
    rng = np.random.default_rng(0)
    batches = [(cr.tensor(rng.standard_normal((5, 4))), cr.tensor(rng.integers(0, 3, 5) * 1.0))
               for _ in range(20)]
    _run_both(eager, compiled, batches)
    _assert_same_state(m_eager, m_comp)
    assert compiled.stats["replays"] == 19


@pytest.mark.parametrize("clip", ["norm", "value"])
def test_gradient_clipping_inside_the_step(clip):
    runs = []
    for model, opt in _mlp_twins(nn.Tanh):
        def step(x, y, model=model, opt=opt):
            loss = F.cross_entropy(model(x), y) * 10
            opt.zero_grad()
            loss.backward()
            if clip == "norm":
                norm = nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            else:
                nn.utils.clip_grad_value_(model.parameters(), 0.05)
                norm = loss
            opt.step()
            return loss, norm

        runs.append((model, step))
    (m_eager, eager), (m_comp, step) = runs
    compiled = cr.compile(step)
    rng = np.random.default_rng(1)
    x, y = cr.tensor(rng.standard_normal((6, 4))), cr.tensor(rng.integers(0, 3, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        for _ in range(20):
            (le, ne), (lc, nc) = eager(x, y), compiled(x, y)
            assert (le.item(), ne.item()) == (lc.item(), nc.item())
    _assert_same_state(m_eager, m_comp)
    for a, b in zip(m_eager.parameters(), m_comp.parameters()):
        np.testing.assert_array_equal(a.grad.data, b.grad.data)
    assert compiled.stats["replays"] == 19


def test_ops_without_rules_replay_and_their_program_names_the_call():
    x = cr.tensor(np.linspace(-2, 2, 12).reshape(3, 4))
    f = cr.compile(lambda t: (F.gelu(t).cumsum(1) * t.sort(dim=1).values).logsumexp(1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        for scale in (1.0, 2.0, -1.0):
            np.testing.assert_array_equal(
                f(x * scale).data,
                (F.gelu(x * scale).cumsum(1) * (x * scale).sort(dim=1).values).logsumexp(1).data)
    assert f.stats["replays"] == 2
    assert "# gelu" in f.tape and "# sort" in f.tape


# ------------------------------------------------------------------ guards (one test each)
def test_an_input_dtype_change_captures_again_and_both_programs_stay_cached():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    fwd = cr.compile(lambda x: model(x) * 2)
    x64 = cr.tensor(np.linspace(-1, 1, 6).reshape(2, 3))
    x32 = cr.tensor(np.linspace(-1, 1, 6).reshape(2, 3).astype(np.float32))
    for x in (x32, x64, x32, x64):
        out = fwd(x)
        np.testing.assert_array_equal(out.data, (model(x) * 2).data)
    assert fwd.stats == {"captures": 2, "replays": 2, "eager": 0}


def test_a_constant_argument_is_part_of_the_signature():
    fwd = cr.compile(lambda x, k: x * k)
    x = cr.tensor([1.0, 2.0])
    assert [fwd(x, k).tolist() for k in (2.0, 3.0, 2.0)] == [[2.0, 4.0], [3.0, 6.0], [2.0, 4.0]]
    assert fwd.stats == {"captures": 2, "replays": 1, "eager": 0}


@pytest.mark.parametrize("read", ["bool", "numpy", "float"])
def test_a_value_read_inside_the_step_runs_eagerly_with_one_warning(read):
    model = nn.Linear(3, 1)

    def fwd(x):
        out = model(x).sum()
        value = {"bool": lambda: bool(out > 0), "numpy": lambda: out.numpy() > 0,
                 "float": lambda: float(out) > 0}[read]()
        return out * 2 if value else out  # value-dependent Python: not replayable

    f = cr.compile(fwd)
    x = cr.tensor(np.ones((2, 3)))
    with pytest.warns(CompileWarning, match="reads a value"):
        f(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        np.testing.assert_array_equal(f(-x).data, fwd(-x).data)  # eager: follows the value
    assert f.stats["eager"] == 1


@pytest.mark.parametrize("after", ["none", "zero", "kept", "returned"])
def test_manual_updates_scale_a_gradient_in_place_only_when_nothing_reads_it(after):
    """``p -= lr * p.grad`` scales the gradient in its own buffer when the step then drops or
    zeroes it; a gradient the user still sees (kept on p.grad, or returned) stays intact."""
    runs = []
    for _ in range(2):
        rng = np.random.default_rng(0)
        w = cr.tensor(rng.standard_normal((3, 2)), requires_grad=True)
        opt = cr.optim.SGD([w], lr=0.0)  # for its zero_grad() only

        def step(x, w=w, opt=opt):
            loss = (x @ w).pow(2).sum()
            opt.zero_grad()
            loss.backward()
            with cr.no_grad():
                w -= 0.01 * w.grad
            grad = w.grad * 1
            if after == "none":
                w.grad = None
            elif after == "zero":
                w.grad.zero_()
            return (loss, grad) if after == "returned" else loss

        runs.append((w, step))
    (w_e, eager), (w_c, step) = runs
    compiled = cr.compile(step)
    x = cr.tensor(np.linspace(-1, 1, 12).reshape(4, 3))
    for _ in range(6):
        a, b = eager(x), compiled(x)
        for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
            np.testing.assert_array_equal(u.data, v.data)
    np.testing.assert_array_equal(w_e.data, w_c.data)
    if after in ("kept", "returned"):
        np.testing.assert_array_equal(w_e.grad.data, w_c.grad.data)
    assert compiled.stats["replays"] == 5


def test_fit_compile_with_batch_norm_and_dropout_trains_exactly_as_eager():
    """fit(compile=True) switches train/eval around each validation pass: each mode is a
    capture of its own, and batch norm's statistics and dropout's draws follow eager's."""
    d = cr.datasets.digits()
    X, y = (d.X / 16.0)[:300], d.y[:300]

    def run(compile):
        cr.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2),
                              nn.Linear(32, 10)).double()
        opt = cr.optim.Adam(model.parameters(), lr=1e-2)
        history = cr.train.fit(model, nn.CrossEntropyLoss(), opt, (X[:240], y[:240]), epochs=3,
                               batch_size=50, seed=0, progress=False, compile=compile,
                               val_data=(X[240:], y[240:]))
        return history, model.state_dict()

    eager, se = run(False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)  # replayed, not run eagerly
        compiled, sc = run(True)
    assert compiled["loss"] == eager["loss"] and compiled["val_accuracy"] == eager["val_accuracy"]
    for key in se:
        np.testing.assert_array_equal(np.asarray(se[key]), np.asarray(sc[key]), err_msg=key)


def test_a_buffer_given_to_a_call_replayed_whole_is_not_overwritten_in_place():
    """gelu (replayed whole) keeps its input for its backward: the next elementwise kernel
    that reads that buffer last must not write its result into it."""
    runs = []
    for _ in range(2):
        cr.manual_seed(0)
        lin = nn.Linear(4, 4).double()
        opt = cr.optim.SGD(lin.parameters(), lr=0.1)

        def step(x, lin=lin, opt=opt):
            h = lin(x)
            loss = (F.gelu(h) * (h * 3.0)).sum()  # h * 3.0: h's last use in the program text
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        runs.append((lin, step))
    (m_eager, eager), (m_comp, step) = runs
    compiled = cr.compile(step)
    x = cr.tensor(np.linspace(-1, 1, 8).reshape(2, 4))
    for _ in range(5):
        assert eager(x).item() == compiled(x).item()
    _assert_same_state(m_eager, m_comp)
    assert compiled.stats["replays"] == 4


def test_dead_buffers_are_reused_in_place():
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3)).double()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    compiled = cr.compile(training_step(model, opt, F.cross_entropy))
    compiled(cr.tensor(np.ones((4, 5))), cr.tensor(np.array([0, 1, 2, 0])))
    relu = [line for line in compiled.tape.splitlines() if "np.maximum(" in line][0]
    written, read = relu.split("out=")[1].rstrip(")"), relu.split("(")[1].split(",")[0]
    assert written == read  # relu(h) into h: nothing reads the pre-activation afterwards
