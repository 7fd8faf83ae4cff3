"""cr.compile's peephole passes and fast paths (jit/peephole.py, jit/optim.py, the generated
guard of jit/__init__.py): size-1 operands read through 0-d views, 0-d arithmetic as NumPy
scalars, raw tensors updated by the step re-homed in one flat array with their updates merged,
the generated guard-and-replay, and the optimiser's structure checked before a replay. Every
replay must equal the eager run bit for bit, special values included."""

import contextlib
import re
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.jit import CompileWarning

nn = cr.nn
F = cr.nn.functional


# ---------------------------------------------------------------------------------- helpers
def _ns(compiled):
    """The names the last program's replay reads (the builder's namespace)."""
    return compiled._last.replay.__globals__


def _lines(compiled):
    return [line.strip() for line in compiled._last.source.splitlines()[1:]]


def _args(line):
    """The operand names of ``np.f(a, b, out=c)`` (out included)."""
    return re.findall(r"\b[a-z]+\d+\b", line)


def _zero_d_views_of(compiled, array):
    """Names bound to 0-d views into ``array``'s memory."""
    return {n for n, v in _ns(compiled).items()
            if isinstance(v, np.ndarray) and v.ndim == 0 and v is not array
            and np.shares_memory(v, array)}


def _names_of(compiled, array):
    return {n for n, v in _ns(compiled).items() if v is array}


def _same_bits(a, b, what=""):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, what
    assert a.tobytes() == b.tobytes(), f"{what}: {a!r} != {b!r}"


@contextlib.contextmanager
def _strict():
    """A context where a CompileWarning (an eager fallback) fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        yield


# ---------------------------------------------------- 1. size-1 operands through 0-d views
def _one_output_twins(k=5, seed=2):
    runs = []
    for _ in range(2):
        rng = np.random.default_rng(seed)
        model = nn.Sequential(nn.Linear(k, 4), nn.Tanh(), nn.Linear(4, 1))
        for p in model.parameters():
            p.data = rng.uniform(-0.6, 0.6, p.shape)
        opt = cr.optim.SGD(model.parameters(), lr=0.05, momentum=0.5)

        def step(x, y, model=model, opt=opt):
            loss = F.mse_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        runs.append((model, step))
    return runs


def test_linear_with_one_output_unit_replays_bitwise_through_a_0d_bias_view():
    """Catches a 0-d bias view that goes stale (or a different loop) for Linear(k, 1)."""
    (m_e, eager), (m_c, step) = _one_output_twins()
    initial_bias = m_c[2].bias.data.copy()
    compiled = cr.compile(step)
    rng = np.random.default_rng(0)
    batches = [(cr.tensor(rng.standard_normal((7, 5))), cr.tensor(rng.standard_normal((7, 1))))
               for _ in range(4)]
    with _strict():
        for i in range(20):
            x, y = batches[i % 4]
            _same_bits(eager(x, y).data, compiled(x, y).data, f"loss {i}")
    for (name, a), (_, b) in zip(m_e.named_parameters(), m_c.named_parameters()):
        _same_bits(a.data, b.data, name)
    assert compiled.stats == {"captures": 1, "replays": 19, "eager": 0}
    bias = m_c[2].bias.data
    assert bias.shape == (1,)
    views = _zero_d_views_of(compiled, bias)
    raw = _names_of(compiled, bias)
    adds = [line for line in _lines(compiled) if line.startswith("np.add(")]
    # the pass fired: the forward's bias add reads a 0-d view into the bias, not the bias
    assert any(set(_args(line)) & views for line in adds), compiled.tape
    assert not any(set(_args(line)) & raw for line in adds), compiled.tape
    assert m_c[2].bias.data[0] != initial_bias[0]  # the bias trained (through its 0-d view)


SPECIAL64 = np.array([[-0.0, 0.0, np.inf, -np.inf],
                      [np.nan, 1.0, -1e308, 5e-324],
                      [1e308, -2.5, -np.nan, 3.0]])


@pytest.mark.parametrize("value", [-0.0, 0.0, np.inf, -np.inf, np.nan, -np.nan, 1e308, 5e-324],
                         ids=["-0", "+0", "inf", "-inf", "nan", "-nan", "huge", "denormal"])
def test_a_size_one_bias_of_special_value_gives_the_eager_bits(value):
    """Catches a scalar-view rewrite that changes operand order, dtype or special values."""
    lin = nn.Linear(4, 1).double()
    lin.weight.data = np.array([[0.5, -1.0, 0.25, 2.0]])
    lin.bias.data = np.array([value])
    scale = cr.tensor(np.array([[value]]))  # a (1, 1) constant operand

    def fwd(x):
        h = lin(x)  # (3, 1) + bias (1,)
        return h, x + lin.bias, x * scale - lin.bias, x / lin.bias

    compiled = cr.compile(fwd)
    rng = np.random.default_rng(1)
    inputs = [rng.standard_normal((3, 4)), SPECIAL64, SPECIAL64[::-1].copy(), -SPECIAL64]
    with np.errstate(all="ignore"):
        for i, x in enumerate(inputs):
            want = fwd(cr.tensor(x))
            got = compiled(cr.tensor(x))
            for j, (a, b) in enumerate(zip(want, got)):
                _same_bits(a.data, b.data, f"input {i}, output {j}")
    assert compiled.stats["replays"] == len(inputs) - 1 and compiled.stats["eager"] == 0
    views = _zero_d_views_of(compiled, lin.bias.data) | _zero_d_views_of(compiled, scale.data)
    used = {n for line in _lines(compiled) for n in _args(line)} & views
    assert len(used) >= 2, compiled.tape  # the bias and the (1, 1) constant, both as 0-d views


@pytest.mark.parametrize("small, big", [(np.float32, np.float64), (np.float16, np.float32)])
def test_a_size_one_operand_of_a_wider_dtype_keeps_the_eager_promotion(small, big):
    """Catches a 0-d view changing type promotion: NumPy 1.x's value-based casting computes
    ``float32 array + 0-d float64`` in float32, where eager's (1,) operand computes in float64."""
    b = cr.tensor(np.array([0.1], dtype=big), dtype=big)

    def fwd(x):
        return x + b, x * b

    compiled = cr.compile(fwd)
    rng = np.random.default_rng(2)
    for i in range(3):
        x = cr.tensor(rng.standard_normal((3, 4)).astype(small), dtype=small)
        for a, c in zip(fwd(x), compiled(x)):
            assert a.data.dtype == big
            _same_bits(a.data, c.data, f"call {i}")
    assert compiled.stats["replays"] == 2


# ----------------------------------------------------------- 2. 0-d arithmetic as scalars
def _scalar_fn(x, y):
    m = x.mean()
    s = y.sum()
    return ((m * 3.0 - 1.0) / 7.0, m * s, m / s, s - m, (m + s) * 1e30, m / 1e-30)


def _scalar_inputs(dtype):
    rng = np.random.default_rng(4)
    big = np.finfo(dtype).max
    pairs = [
        (rng.standard_normal(6), rng.standard_normal(3)),
        (np.full(6, -0.0), np.full(3, -0.0)),  # -0 / -0: nan; -0 * -0 = +0
        (np.array([np.inf, 1, 2, 3, 4, 5]), np.array([-np.inf, 1.0, 1.0])),
        (np.array([np.nan, 1, 2, 3, 4, 5]), np.zeros(3)),  # division by zero
        (np.full(6, big / 2), np.full(3, big / 3)),  # overflow in the products and the sums
        (np.full(6, 3e37), np.full(3, 1e-40)),  # float32 overflows in m / 1e-30, subnormals
        (np.full(6, -1e-45), np.array([1e38, 1e38, -2e38])),
    ]
    return [(a.astype(dtype), b.astype(dtype)) for a, b in pairs]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_0d_arithmetic_as_numpy_scalars_gives_the_eager_bits_and_dtype(dtype):
    """Catches scalar arithmetic that promotes float32 to float64 or changes special values."""
    compiled = cr.compile(_scalar_fn)
    inputs = _scalar_inputs(dtype)
    with np.errstate(all="ignore"):
        for i, (x, y) in enumerate(inputs):
            want = _scalar_fn(cr.tensor(x, dtype=dtype), cr.tensor(y, dtype=dtype))
            got = compiled(cr.tensor(x, dtype=dtype), cr.tensor(y, dtype=dtype))
            for j, (a, b) in enumerate(zip(want, got)):
                assert b.data.dtype == dtype and b.data.shape == ()
                _same_bits(a.data, b.data, f"input {i}, output {j}")
    assert compiled.stats["replays"] == len(inputs) - 1 and compiled.stats["eager"] == 0
    scalar_lines = [line for line in _lines(compiled) if "[()] = " in line]
    ops = {op for line in scalar_lines for op in re.findall(r"\[\(\)\] ([-+*/]) ", line)}
    assert ops == {"+", "-", "*", "/"}, compiled.tape
    assert not any(line.startswith(("np.add(", "np.subtract(", "np.multiply(",
                                    "np.true_divide(")) for line in _lines(compiled))


def test_0d_arithmetic_in_a_training_step_keeps_float32():
    """Catches a float32 loss (mean, then 0-d scaling) turned float64 or off by one ulp."""
    runs = []
    for _ in range(2):
        rng = np.random.default_rng(8)
        w = cr.tensor(rng.standard_normal((4, 2)).astype(np.float32), requires_grad=True)
        opt = cr.optim.SGD([w], lr=0.1)

        def step(x, w=w, opt=opt):
            loss = ((x @ w).tanh().mean() * 3.0 - 1.0) / 7.0
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        runs.append((w, step))
    (w_e, eager), (w_c, step) = runs
    compiled = cr.compile(step)
    rng = np.random.default_rng(9)
    with _strict():
        for i in range(10):
            x = cr.tensor(rng.standard_normal((5, 4)).astype(np.float32))
            a, b = eager(x), compiled(x)
            assert b.data.dtype == np.float32
            _same_bits(a.data, b.data, f"loss {i}")
    _same_bits(w_e.data, w_c.data)
    assert compiled.stats["replays"] == 9
    assert any("[()] = " in line for line in _lines(compiled)), compiled.tape


# ------------------------------------- 3. raw tensors re-homed, their updates merged in one
SHAPES = [(6, 5), (5,), (5, 2), (1,)]


def _raw_step(zero_in_place, lrs=None, from_numpy=None, seed=5):
    """The tutorial's loop over raw tensors (no optimiser); ``lrs``: one learning rate per
    tensor; ``from_numpy``: the index of a tensor made with cr.from_numpy (returned array)."""
    rng = np.random.default_rng(seed)
    x, y = cr.tensor(rng.standard_normal((8, 6))), cr.tensor(rng.standard_normal((8, 2)))
    arrays = [rng.standard_normal(s) for s in SHAPES]
    shared = None
    ps = []
    for i, a in enumerate(arrays):
        if i == from_numpy:
            shared = a
            t = cr.from_numpy(a)
            t.requires_grad = True
        else:
            t = cr.tensor(a, requires_grad=True)
        ps.append(t)
    del arrays, a  # (nothing but the tensors holds their arrays)
    w1, b1, w2, b2 = ps

    def step():
        loss = ((x @ w1 + b1).tanh() @ w2 + b2 - y).pow(2).mean()
        loss.backward()
        with cr.no_grad():
            for i, p in enumerate(ps):
                p -= (0.05 if lrs is None else lrs[i]) * p.grad
                if zero_in_place:
                    p.grad.zero_()
                else:
                    p.grad = None
        return loss

    return step, ps, shared


def _param_updates(compiled):
    """The np.subtract lines that write into a parameter array."""
    buffers = compiled._last.buffers
    out = []
    for line in _lines(compiled):
        m = re.match(r"^np\.subtract\((\w+), (\w+), out=(\w+)\)$", line)
        if m and buffers.get(m.group(3), (None, None, None))[2] == "param":
            out.append(m.groups())
    return out


def _run_raw(eager, compiled, n=30):
    with _strict():
        for i in range(n):
            _same_bits(eager().data, compiled().data, f"loss {i}")


def _assert_grads_as_eager(eager_ps, ps):
    for a, b in zip(eager_ps, ps):
        _same_bits(a.data, b.data)
        assert (a.grad is None) == (b.grad is None)
        if a.grad is not None:
            _same_bits(a.grad.data, b.grad.data)


@pytest.mark.parametrize("zero_in_place", [False, True], ids=["grad=None", "grad.zero_()"])
def test_raw_updates_are_merged_into_one_flat_update_and_equal_eager(zero_in_place):
    """Catches a merged update of the flat arrays that differs from the per-tensor ones."""
    eager, eager_ps, _ = _raw_step(zero_in_place)
    step, ps, _ = _raw_step(zero_in_place)
    compiled = cr.compile(step)
    _run_raw(eager, compiled)
    assert compiled.stats == {"captures": 1, "replays": 29, "eager": 0}
    _assert_grads_as_eager(eager_ps, ps)  # values, and .grad None or zeros as eager leaves it
    if zero_in_place:
        assert all(not p.grad.data.any() for p in ps)
    else:
        assert all(p.grad is None for p in ps)
    flat = ps[0].data.base
    assert flat is not None and all(p.data.base is flat for p in ps)  # re-homed in one array
    updates = _param_updates(compiled)
    assert len(updates) == 1, compiled.tape
    target, grad, _ = updates[0]
    ns = _ns(compiled)
    assert ns[target] is flat and ns[target].size == sum(int(np.prod(s)) for s in SHAPES)
    scaled = [line for line in _lines(compiled)
              if re.fullmatch(rf"np\.multiply\(k\d+, {grad}, out={grad}\)", line)]
    assert len(scaled) == 1, compiled.tape
    assert not [line for line in _lines(compiled) if line.startswith("np.multiply(k")
                and line not in scaled and set(_args(line)) & {grad}]
    fills = [line for line in _lines(compiled) if line.endswith(".fill(0)")]
    assert fills == ([f"{grad}.fill(0)"] if zero_in_place else []), compiled.tape
    # the user's tensors still see the values (views of the flat array, no stale copies)
    ps[1].data[0] = 0.5
    assert flat[30] == 0.5


def test_raw_updates_with_different_learning_rates_are_not_merged():
    """Catches a merge that applies the first tensor's learning rate to every tensor."""
    lrs = [0.05, 0.01, 0.2, 0.03]
    eager, eager_ps, _ = _raw_step(False, lrs=lrs)
    step, ps, _ = _raw_step(False, lrs=lrs)
    compiled = cr.compile(step)
    _run_raw(eager, compiled)
    _assert_grads_as_eager(eager_ps, ps)
    assert compiled.stats["replays"] == 29
    assert len(_param_updates(compiled)) == len(SHAPES), compiled.tape


def test_equal_learning_rates_of_different_dtypes_are_not_merged_wrongly():
    """Catches a merge of tensors of two dtypes (one flat array per dtype) or lost updates."""
    def make():
        rng = np.random.default_rng(3)
        ps = [cr.tensor(rng.standard_normal(s).astype(d), requires_grad=True)
              for s, d in [((3, 2), np.float64), ((2,), np.float64),
                           ((3, 2), np.float32), ((2,), np.float32)]]
        x = cr.tensor(rng.standard_normal((4, 3)))

        def step():
            loss = ((x @ ps[0] + ps[1]).sum() + (x.float() @ ps[2] + ps[3]).sum().double())
            loss.backward()
            with cr.no_grad():
                for p in ps:
                    p -= 0.1 * p.grad
                    p.grad = None
            return loss

        return step, ps

    (eager, eager_ps), (step, ps) = make(), make()
    compiled = cr.compile(step)
    _run_raw(eager, compiled, n=8)
    _assert_grads_as_eager(eager_ps, ps)
    assert ps[2].data.dtype == np.float32 and ps[0].data.dtype == np.float64
    assert ps[0].data.base is ps[1].data.base and ps[2].data.base is ps[3].data.base
    assert ps[0].data.base is not ps[2].data.base  # one flat array per dtype
    assert len(_param_updates(compiled)) == 2, compiled.tape  # one merged update per dtype


@pytest.mark.parametrize("held_by", ["a local variable", "a list"])
def test_a_tensor_sharing_memory_with_numpy_is_not_re_homed(held_by):
    """Catches re-homing a from_numpy tensor: the user's array would stop seeing updates."""
    eager, eager_ps, eager_arr = _raw_step(False, from_numpy=2)
    step, ps, arr = _raw_step(False, from_numpy=2)
    holder = [arr] if held_by == "a list" else None
    if holder is not None:
        del arr  # only the list (and the tensor) hold the user's array
    user_array = holder[0] if holder is not None else arr
    assert ps[2].data is user_array
    compiled = cr.compile(step)
    _run_raw(eager, compiled, n=10)
    _assert_grads_as_eager(eager_ps, ps)
    assert compiled.stats["replays"] == 9
    assert not np.array_equal(eager_arr, _raw_step(False, from_numpy=2)[2])  # it did train
    _same_bits(ps[2].data, eager_ps[2].data)
    assert ps[2].data is user_array  # still the user's array, updated in place
    _same_bits(user_array, eager_arr)
    others = [p for i, p in enumerate(ps) if i != 2]
    assert others[0].data.base is not None and all(
        p.data.base is others[0].data.base for p in others)


def test_raw_tensors_replaced_between_steps_capture_again():
    """Catches a replay that keeps updating the flat array after the user replaced p.data."""
    eager, eager_ps, _ = _raw_step(False)
    step, ps, _ = _raw_step(False)
    compiled = cr.compile(step)
    _run_raw(eager, compiled, n=3)
    for a, b in zip(eager_ps, ps):  # e.g. a checkpoint loaded by assigning new arrays
        a.data = a.data * 0.5
        b.data = b.data * 0.5
    _run_raw(eager, compiled, n=5)
    _assert_grads_as_eager(eager_ps, ps)
    assert compiled.stats["captures"] == 2


# ----------------------------------------------------------------- 4. the generated guard
def _model(seed=0, dropout=False, bn=False):
    cr.manual_seed(seed)
    layers = [nn.Linear(3, 6)]
    if bn:
        layers.append(nn.BatchNorm1d(6))
    layers.append(nn.Tanh())
    if dropout:
        layers.append(nn.Dropout(0.4))
    layers.append(nn.Linear(6, 2))
    return nn.Sequential(*layers).double()


def test_alternating_input_shapes_replay_the_right_program():
    """Catches a fast guard that replays the last program for another shape."""
    model = _model()
    fwd = cr.compile(lambda x: model(x))
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((7, 3))
    for x in (a, b, a, b, a):
        got = fwd(cr.tensor(x))
        _same_bits(got.data, model(cr.tensor(x)).data)
    assert fwd.stats == {"captures": 2, "replays": 3, "eager": 0}


def test_a_dtype_change_captures_again():
    """Catches a fast guard blind to the input dtype (float32 data through a float64 tape)."""
    fwd = cr.compile(lambda x: (x * 2.0 + 1.0).tanh())
    x32 = np.linspace(-2, 2, 6, dtype=np.float32).reshape(2, 3)
    for x in (x32, x32, x32.astype(np.float64), x32.astype(np.float64), x32):
        got = fwd(cr.tensor(x, dtype=x.dtype))
        assert got.data.dtype == x.dtype
        _same_bits(got.data, (cr.tensor(x, dtype=x.dtype) * 2.0 + 1.0).tanh().data)
    assert fwd.stats == {"captures": 2, "replays": 3, "eager": 0}


def test_numpy_array_arguments_are_guarded_too():
    """Catches a fast guard that lets an array of another shape or dtype through."""
    fwd = cr.compile(lambda x: cr.tensor(2.0) * x)
    a = np.arange(6.0).reshape(2, 3)
    for x in (a, a + 1, a.astype(np.float32), a.T.copy(), a + 2):
        got = fwd(x)
        _same_bits(got.data, (cr.tensor(2.0) * cr.tensor(x, dtype=x.dtype)).data)
    assert fwd.stats["captures"] == 3 and fwd.stats["replays"] == 2
    got = fwd(cr.tensor(a))  # a tensor where an array was captured: its own program
    _same_bits(got.data, 2.0 * a)
    _same_bits(fwd(a + 3).data, 2.0 * (a + 3))
    assert fwd.stats["captures"] == 4 and fwd.stats["replays"] == 3


def test_an_input_that_requires_grad_runs_eagerly_and_keeps_its_graph():
    """Catches the fast path replaying (no graph) for an input that requires grad."""
    model = _model()
    fwd = cr.compile(lambda x: model(x).sum())
    data = np.random.default_rng(1).standard_normal((4, 3))
    fwd(cr.tensor(data))
    fwd(cr.tensor(data))  # now the fast path is armed
    x = cr.tensor(data, requires_grad=True)
    with pytest.warns(CompileWarning, match="requires grad"):
        out = fwd(x)
    out.backward()
    ref = cr.tensor(data, requires_grad=True)
    model(ref).sum().backward()
    _same_bits(x.grad.data, ref.grad.data)
    x2 = cr.tensor(data, requires_grad=True)
    fwd(x2).backward()
    _same_bits(x2.grad.data, ref.grad.data)
    assert fwd.stats["eager"] == 1 and fwd.stats["replays"] == 1
    fwd(cr.tensor(data))  # back to a replay
    assert fwd.stats["replays"] == 2


def test_no_grad_around_a_call_is_its_own_program():
    """Catches the fast guard ignoring grad mode (a training program under no_grad)."""
    runs = []
    for _ in range(2):
        model = _model(seed=1)
        opt = cr.optim.SGD(model.parameters(), lr=0.1)

        def step(x, model=model, opt=opt):
            loss = model(x).pow(2).mean()
            if cr.is_grad_enabled():
                opt.zero_grad()
                loss.backward()
                opt.step()
            return loss

        runs.append((model, step))
    (m_e, eager), (m_c, step) = runs
    compiled = cr.compile(step)
    x = cr.tensor(np.random.default_rng(2).standard_normal((5, 3)))
    for i in range(8):
        if i % 3 == 2:
            with cr.no_grad():
                _same_bits(eager(x).data, compiled(x).data, f"no_grad {i}")
        else:
            _same_bits(eager(x).data, compiled(x).data, f"step {i}")
    for a, b in zip(m_e.parameters(), m_c.parameters()):
        _same_bits(a.data, b.data)
    assert compiled.stats == {"captures": 2, "replays": 6, "eager": 0}


@pytest.mark.parametrize("layer", ["dropout", "batchnorm"])
def test_train_and_eval_switch_programs(layer):
    """Catches the fast guard ignoring module.training (dropout or BN stats in eval)."""
    model = _model(seed=3, dropout=layer == "dropout", bn=layer == "batchnorm")
    twin = _model(seed=3, dropout=layer == "dropout", bn=layer == "batchnorm")
    fwd = cr.compile(lambda x: model(x))
    x = cr.tensor(np.random.default_rng(3).standard_normal((6, 3)))
    modes = ["train", "train", "eval", "eval", "train", "eval", "train"]
    for i, mode in enumerate(modes):
        getattr(model, mode)()
        getattr(twin, mode)()
        cr.manual_seed(100 + i)
        want = twin(x)
        cr.manual_seed(100 + i)
        _same_bits(want.data, fwd(x).data, f"call {i} ({mode})")
    for (name, a), (_, b) in zip(twin.state_dict().items(), model.state_dict().items()):
        _same_bits(np.asarray(a), np.asarray(b), name)
    assert fwd.stats == {"captures": 2, "replays": 5, "eager": 0}


def test_a_different_number_of_arguments_works():
    """Catches the fast path calling the last program with the wrong number of arguments."""
    def fn(x, y=None):
        return x * 2.0 if y is None else x * y

    compiled = cr.compile(fn)
    x, y = cr.tensor(np.arange(3.0)), cr.tensor(np.array([3.0, -1.0, 0.5]))
    for args in [(x,), (x,), (x, y), (x, y), (x,), (x, y)]:
        _same_bits(compiled(*args).data, fn(*args).data, repr(len(args)))
    assert compiled.stats == {"captures": 2, "replays": 4, "eager": 0}
    with pytest.raises(TypeError):  # too many: the function's own error, not the fast path's
        compiled(x, y, y)


def test_keyword_arguments_work_and_are_guarded():
    """Catches a keyword argument ignored by the fast path (its value baked in)."""
    def fn(x, scale=1.0, shift=0.0):
        return x * scale + shift

    compiled = cr.compile(fn)
    x = cr.tensor(np.arange(4.0))
    calls = [({}, ), ({"scale": 3.0},), ({"scale": 3.0},), ({},), ({"scale": -2.0, "shift": 1.5},),
             ({"scale": 3.0},), ({},)]
    for (kwargs,) in calls:
        _same_bits(compiled(x, **kwargs).data, fn(x, **kwargs).data, repr(kwargs))
    assert compiled.stats["captures"] == 3 and compiled.stats["replays"] == 4
    with pytest.warns(CompileWarning, match="keyword"):
        got = compiled(x, scale=cr.tensor(np.full(4, 2.0)))
    _same_bits(got.data, (x * 2.0).data)


def test_a_positional_constant_argument_is_a_guard():
    """Catches a constant argument baked into the replay of the last program."""
    compiled = cr.compile(lambda x, k: x * k)
    x = cr.tensor(np.arange(3.0))
    for k in (2.0, 2.0, 5.0, 2.0, 5.0):
        _same_bits(compiled(x, k).data, (x * k).data, repr(k))
    assert compiled.stats["captures"] == 2


# ------------------------------------------- 5. optimiser structure checked before a replay
def _bn_twins(momentum=0.0):
    runs = []
    for _ in range(2):
        model = _model(seed=7, bn=True)
        opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=momentum)
        extra = cr.tensor(np.array([1.0, 1.0]), requires_grad=True)
        unused = cr.tensor(np.array([0.25, -0.5, 2.0]), requires_grad=True)

        def step(x, y, model=model, opt=opt, extra=extra):
            loss = F.mse_loss(model(x) * extra, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            extra.grad = None  # not in the optimiser until it is added: cleared by hand
            return loss

        runs.append((model, opt, extra, unused, step))
    return runs


def _bn_data(seed=6):
    rng = np.random.default_rng(seed)
    return cr.tensor(rng.standard_normal((8, 3))), cr.tensor(rng.standard_normal((8, 2)))


def _assert_state_as_eager(m_e, m_c):
    state_e, state_c = m_e.state_dict(), m_c.state_dict()
    assert list(state_e) == list(state_c)
    assert any("running_mean" in k for k in state_e) and any("num_batches" in k for k in state_e)
    for name in state_e:
        _same_bits(np.asarray(state_e[name]), np.asarray(state_c[name]), name)


@pytest.mark.parametrize("which", ["unused", "used"])
def test_add_param_group_between_steps_does_not_advance_batch_norm_twice(which):
    """Catches a replay that runs the forward (BN running stats) and then refuses mid-step."""
    (m_e, opt_e, extra_e, unused_e, eager), (m_c, opt_c, extra_c, unused_c, step) = _bn_twins()
    compiled = cr.compile(step)
    x, y = _bn_data()
    with _strict():
        for i in range(6):
            if i == 3:
                opt_e.add_param_group({"params": [extra_e if which == "used" else unused_e]})
                opt_c.add_param_group({"params": [extra_c if which == "used" else unused_c]})
            _same_bits(eager(x, y).data, compiled(x, y).data, f"loss {i}")
    _assert_state_as_eager(m_e, m_c)
    _same_bits(extra_e.data, extra_c.data)
    _same_bits(unused_e.data, unused_c.data)
    assert int(np.asarray(m_c.state_dict()["1.num_batches_tracked"])) == 6  # once per step
    assert compiled.stats == {"captures": 2, "replays": 4, "eager": 0}
    if which == "used":
        assert not np.array_equal(extra_c.data, [1.0, 1.0])  # it was trained after step 3


def test_momentum_switched_on_between_steps_equals_eager_with_batch_norm():
    """Catches momentum switched on between steps running the forward twice (BN) or refusing
    mid-step."""
    (m_e, opt_e, _, _, eager), (m_c, opt_c, _, _, step) = _bn_twins(momentum=0.0)
    compiled = cr.compile(step)
    x, y = _bn_data(seed=1)
    with _strict():
        for i in range(7):
            if i == 3:
                opt_e.param_groups[0]["momentum"] = 0.9
                opt_c.param_groups[0]["momentum"] = 0.9
            _same_bits(eager(x, y).data, compiled(x, y).data, f"loss {i}")
    _assert_state_as_eager(m_e, m_c)
    for a, b in zip(m_e.parameters(), m_c.parameters()):
        _same_bits(opt_e.state[a]["momentum_buffer"], opt_c.state[b]["momentum_buffer"])
    assert compiled.stats == {"captures": 2, "replays": 5, "eager": 0}


# ------------------------------------------------------- 6. which BLAS entry point a product takes
def test_large_products_stay_matmul_and_small_ones_are_dot():
    """Catches the dot-for-matmul substitution reaching a large product (the weight gradient
    ``x.T @ g``), where np.dot is measurably slower (it kept W1 below the floor)."""
    rng = np.random.default_rng(3)
    x = cr.tensor(rng.standard_normal((64, 1000)).astype(np.float32))
    w = cr.tensor(rng.standard_normal((1000, 100)).astype(np.float32) * 0.01, requires_grad=True)
    v = cr.tensor(rng.standard_normal((100, 10)).astype(np.float32) * 0.1, requires_grad=True)

    def step():
        loss = ((x @ w).relu() @ v).pow(2).sum()
        loss.backward()
        with cr.no_grad():
            for p in (w, v):
                p -= 1e-6 * p.grad
                p.grad = None
        return loss

    compiled = cr.compile(step)
    compiled()
    products = [line for line in _lines(compiled) if re.match(r"np\.(dot|matmul)\(", line)]
    ns = _ns(compiled)
    seen = set()
    for line in products:
        a, b, _ = _args(line)
        large = ns[a].shape[0] * ns[a].shape[1] * ns[b].shape[1] >= 1 << 18  # x @ w, x.T @ g
        assert line.startswith("np.matmul(" if large else "np.dot("), line
        seen.add(large)
    assert seen == {True, False}, products
