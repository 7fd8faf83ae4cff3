"""The benchmark workloads, each written three ways: chainrule, PyTorch eager, and the NumPy
floor (hand-written forward and backward: what a zero-overhead NumPy library would reach).

Every implementation is a function ``make_<impl>(spec) -> step`` where ``step()`` runs one
training step; the harness times ``spec.steps`` calls. All three start from the same weights
and data, drawn from one seeded NumPy generator, so their losses can be compared too.
"""

from dataclasses import dataclass

import numpy as np
from floor_kernels import adam_update


@dataclass(frozen=True)
class Spec:
    key: str
    title: str
    steps: int
    flops_per_step: float = 0.0  # for GFLOP/s (0: not reported)


# --------------------------------------------------------------------------- data
def _xavier(rng, fan_out, fan_in):
    bound = 1 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)


def mlp_weights(sizes, seed=0):
    """[(W (out, in), b (out,)), ...] drawn like PyTorch's Linear default."""
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        W = _xavier(rng, fan_out, fan_in)
        b = rng.uniform(-1 / np.sqrt(fan_in), 1 / np.sqrt(fan_in), fan_out).astype(np.float32)
        layers.append((W, b))
    return layers


def tutorial_data(seed=0):
    rng = np.random.default_rng(seed)
    N, D_in, H, D_out = 64, 1000, 100, 10
    x = rng.standard_normal((N, D_in)).astype(np.float32)
    y = rng.standard_normal((N, D_out)).astype(np.float32)
    w1 = rng.standard_normal((D_in, H)).astype(np.float32)
    w2 = rng.standard_normal((H, D_out)).astype(np.float32)
    return x, y, w1, w2


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float32)


def classification_data(n, d, classes, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.integers(0, classes, n).astype(np.int64)
    return x, y


SPECS = {
    "W1": Spec("W1", "tutorial 64x1000-100-10, relu, SSE, GD (tensors)", 500,
               6 * 64 * (1000 * 100 + 100 * 10)),
    "W1z": Spec("W1z", "tutorial as the notes write it: w.grad.zero_() each step", 500,
                6 * 64 * (1000 * 100 + 100 * 10)),
    "W1nn": Spec("W1nn", "tutorial with cr.nn + cr.optim (float32)", 500,
                 6 * 64 * (1000 * 100 + 100 * 10)),
    "W2": Spec("W2", "mnist-mlp 784-512-256-10, Adam, batch 128", 200,
               6 * 128 * (784 * 512 + 512 * 256 + 256 * 10)),
    "W3": Spec("W3", "xor 2-8-1, tanh/sigmoid, BCE, SGD (cr.nn + cr.optim)", 2000),
    "W3t": Spec("W3t", "xor 2-8-1 written with raw tensors", 2000),
    "W4": Spec("W4", "wide 1024-4096-4096-10, SGD, batch 256", 20,
               6 * 256 * (1024 * 4096 + 4096 * 4096 + 4096 * 10)),
}


# =========================================================================== W1
def w1_numpy(spec):
    x, y, w1, w2 = tutorial_data()
    lr = 1e-6

    def step():
        nonlocal w1, w2
        h = x @ w1
        h_relu = np.maximum(h, 0)
        y_pred = h_relu @ w2
        diff = y_pred - y
        loss = np.square(diff).sum()
        grad_y_pred = 2.0 * diff
        grad_w2 = h_relu.T @ grad_y_pred
        grad_h = grad_y_pred @ w2.T
        grad_h[h < 0] = 0
        grad_w1 = x.T @ grad_h
        w1 -= lr * grad_w1
        w2 -= lr * grad_w2
        return loss

    step.params = [w1, w2]  # for tests (updated in place)
    return step


def _w1(impl, zero_in_place):
    """The notes' tutorial loop. ``zero_in_place``: ``w.grad.zero_()`` as the notes write it;
    otherwise ``w.grad = None`` (PyTorch's default since 2.0), which lets backward hand its
    fresh gradient to .grad instead of adding it into a zeroed array (two fewer passes over
    the 400 KB gradient of w1)."""
    lib, convert = _library(impl)
    x, y, w1, w2 = (convert(a) for a in tutorial_data())
    w1.requires_grad_()
    w2.requires_grad_()
    lr = 1e-6

    def step():
        y_pred = (x @ w1).clamp(min=0) @ w2
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with lib.no_grad():
            for w in (w1, w2):
                w -= lr * w.grad
                if zero_in_place:
                    w.grad.zero_()
                else:
                    w.grad = None
        return loss

    return step


def w1_chainrule(spec):
    return _w1("chainrule", zero_in_place=False)


def w1_torch(spec):
    return _w1("torch", zero_in_place=False)


def w1z_chainrule(spec):
    return _w1("chainrule", zero_in_place=True)


def w1z_torch(spec):
    return _w1("torch", zero_in_place=True)


w1z_numpy = w1_numpy


def _library(impl):
    """The library module and an ndarray -> tensor converter (chainrule and torch share the API)."""
    if impl == "chainrule":
        import chainrule as lib

        return lib, lib.tensor
    import torch

    return torch, lambda a: torch.from_numpy(np.array(a))


def _training_step(model, loss_fn, optimizer, x, y):
    """The canonical step, identical text for both libraries."""

    def step():
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return step


def _load(model, weights, convert):
    """Load [(W, b), ...] into the Linear layers of a Sequential (every other module)."""
    state = {}
    for i, (W, b) in enumerate(weights):
        state[f"{2 * i}.weight"] = convert(W)
        state[f"{2 * i}.bias"] = convert(b)
    model.load_state_dict(state)


def _w1nn(impl):
    """The tutorial network as Sequential(Linear(1000,100), ReLU, Linear(100,10)), SGD(1e-4)."""
    lib, convert = _library(impl)
    x, y, _, _ = tutorial_data()
    nn = lib.nn
    model = nn.Sequential(nn.Linear(1000, 100), nn.ReLU(), nn.Linear(100, 10))
    _load(model, mlp_weights([1000, 100, 10]), convert)
    optimizer = lib.optim.SGD(model.parameters(), lr=1e-4)
    return _training_step(model, nn.MSELoss(reduction="sum"), optimizer, convert(x), convert(y))


def w1nn_chainrule(spec):
    return _w1nn("chainrule")


def w1nn_torch(spec):
    return _w1nn("torch")


def w1nn_numpy(spec):
    x, y, _, _ = tutorial_data()
    (W1, b1), (W2, b2) = mlp_weights([1000, 100, 10])
    lr = 1e-4

    def step():
        h = x @ W1.T + b1
        r = np.maximum(h, 0)
        out = r @ W2.T + b2
        diff = out - y
        loss = np.square(diff).sum()
        g = 2.0 * diff
        gW2 = g.T @ r
        gb2 = g.sum(0)
        gr = g @ W2
        gr[h <= 0] = 0
        gW1 = gr.T @ x
        gb1 = gr.sum(0)
        for p, gp in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2)):
            p -= lr * gp
        return loss

    step.params = [W1, b1, W2, b2]  # for tests (updated in place)
    return step


# =========================================================================== W3
def w3_numpy(spec):
    (W1, b1), (W2, b2) = mlp_weights([2, 8, 1], seed=1)
    x, y = XOR_X, XOR_Y
    lr = 0.5

    def step():
        h = np.tanh(x @ W1.T + b1)
        z = h @ W2.T + b2
        loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
        gz = (1 / (1 + np.exp(-z)) - y) / z.size
        gW2 = gz.T @ h
        gb2 = gz.sum(0)
        gpre = (gz @ W2) * (1 - h * h)
        gW1 = gpre.T @ x
        gb1 = gpre.sum(0)
        for p, gp in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2)):
            p -= lr * gp
        return loss

    step.params = [W1, b1, W2, b2]  # for tests (updated in place)
    return step


def _w3(impl):
    lib, convert = _library(impl)
    nn = lib.nn
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    _load(model, mlp_weights([2, 8, 1], seed=1), convert)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.5)
    return _training_step(model, nn.BCEWithLogitsLoss(), optimizer, convert(XOR_X),
                          convert(XOR_Y))


def w3_chainrule(spec):
    return _w3("chainrule")


def w3_torch(spec):
    return _w3("torch")


def w3t_chainrule(spec):
    import chainrule as cr
    from chainrule.ops import binary_cross_entropy_with_logits, linear

    params = [cr.tensor(a, requires_grad=True) for layer in mlp_weights([2, 8, 1], seed=1)
              for a in layer]
    W1, b1, W2, b2 = params
    x, y = cr.tensor(XOR_X), cr.tensor(XOR_Y)

    def step():
        z = linear(cr.tanh(linear(x, W1, b1)), W2, b2)
        loss = binary_cross_entropy_with_logits(z, y)
        loss.backward()
        with cr.no_grad():
            for p in params:
                p -= 0.5 * p.grad
                p.grad = None
        return loss

    return step


def w3t_torch(spec):
    import torch
    import torch.nn.functional as F

    params = [torch.from_numpy(a.copy()).requires_grad_() for layer in
              mlp_weights([2, 8, 1], seed=1) for a in layer]
    W1, b1, W2, b2 = params
    x, y = torch.from_numpy(XOR_X), torch.from_numpy(XOR_Y)

    def step():
        z = F.linear(torch.tanh(F.linear(x, W1, b1)), W2, b2)
        loss = F.binary_cross_entropy_with_logits(z, y)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.5 * p.grad
                p.grad = None
        return loss

    return step


w3t_numpy = w3_numpy


# =========================================================================== W2 / W4
def _mlp_numpy(sizes, batch, optimizer, lr, seed):
    """Hand-written ReLU MLP + softmax cross-entropy with Adam or SGD, in NumPy."""
    layers = [[W, b] for W, b in mlp_weights(sizes, seed)]
    x, y = classification_data(batch, sizes[0], sizes[-1], seed)
    params = [p for layer in layers for p in layer]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    t = [0]
    rows = np.arange(batch)

    def step():
        acts = [x]
        pre = []
        a = x
        for i, (W, b) in enumerate(layers):
            z = a @ W.T + b
            pre.append(z)
            a = np.maximum(z, 0) if i < len(layers) - 1 else z
            acts.append(a)
        logits = acts[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        loss = (np.log(s[:, 0]) - shifted[rows, y]).mean()
        g = e / s
        g[rows, y] -= 1
        g /= batch
        grads = []
        for i in range(len(layers) - 1, -1, -1):
            W, _ = layers[i]
            grads.append((g.T @ acts[i], g.sum(0)))
            if i:
                g = g @ W
                g *= pre[i - 1] > 0
        grads = [gp for pair in reversed(grads) for gp in pair]
        if optimizer == "sgd":
            for p, gp in zip(params, grads):
                p -= lr * gp
        else:
            adam_update(params, grads, m, v, t, lr, beta1, beta2, eps)
        return loss

    step.params = params  # for tests (updated in place)
    return step


def _mlp_lib(impl, sizes, batch, optimizer, lr, seed):
    lib, convert = _library(impl)
    nn = lib.nn
    mods = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        mods.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            mods.append(nn.ReLU())
    model = nn.Sequential(*mods)
    _load(model, mlp_weights(sizes, seed), convert)
    x, y = classification_data(batch, sizes[0], sizes[-1], seed)
    opt = (lib.optim.SGD(model.parameters(), lr=lr) if optimizer == "sgd"
           else lib.optim.Adam(model.parameters(), lr=lr))
    return _training_step(model, nn.CrossEntropyLoss(), opt, convert(x), convert(y))


W2_ARGS = ([784, 512, 256, 10], 128, "adam", 1e-3, 2)
W4_ARGS = ([1024, 4096, 4096, 10], 256, "sgd", 0.01, 4)


def w2_numpy(spec):
    return _mlp_numpy(*W2_ARGS)


def w2_chainrule(spec):
    return _mlp_lib("chainrule", *W2_ARGS)


def w2_torch(spec):
    return _mlp_lib("torch", *W2_ARGS)


def w4_numpy(spec):
    return _mlp_numpy(*W4_ARGS)


def w4_chainrule(spec):
    return _mlp_lib("chainrule", *W4_ARGS)


def w4_torch(spec):
    return _mlp_lib("torch", *W4_ARGS)


IMPLS = ("chainrule", "torch", "numpy")


def _compiled(make_chainrule):
    """The chainrule step under cr.compile (issue 13): captured once, then replayed."""

    def make(spec):
        import chainrule as cr

        step = make_chainrule(spec)
        if hasattr(step, "train"):  # the step draws its batch: compile the part after that
            train, data = cr.compile(step.train), step.data
            return lambda: train(*data())
        return cr.compile(step)

    return make


# =========================================================================== W7 (issue 9)
from workloads_transformer import SPEC as _W7_SPEC  # noqa: E402
from workloads_transformer import w7_chainrule, w7_numpy, w7_torch  # noqa: E402, F401

SPECS["W7"] = Spec(*_W7_SPEC)
# =========================================================================== W5 (workloads_cnn.py)
from workloads_cnn import W5, w5_chainrule, w5_numpy, w5_torch  # noqa: E402, F401

SPECS["W5"] = Spec(*W5)
# ------------------------------------------------------------- workloads in their own files
# Each module adds SPECS and ``<key>_<impl>`` factories (W6 recurrent: workloads_rnn.py).
import workloads_floor_reuse  # noqa: E402
import workloads_rnn  # noqa: E402

_EXTRA_MODULES = [workloads_rnn, workloads_floor_reuse]
for _module in _EXTRA_MODULES:
    SPECS.update(_module.SPECS)


def factory(key, impl):
    """The ``make(spec) -> step`` of workload ``key`` done by ``impl`` (chainrule, torch,
    numpy: the allocating floor, floor_reuse: the buffer-reusing floor, or compiled: the
    chainrule step under cr.compile), here or in the extra modules."""
    if impl == "compiled":
        return _compiled(factory(key, "chainrule"))
    name = f"{key.lower()}_{impl}"
    for module in [None, *_EXTRA_MODULES]:
        fn = globals().get(name) if module is None else getattr(module, name, None)
        if fn is not None:
            return fn
    raise KeyError(f"no workload implementation {name}")
