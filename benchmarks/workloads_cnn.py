"""W5 "lenet": a LeNet-5-style CNN written three ways (chainrule, PyTorch eager, NumPy floor).

conv(1→6, 5×5) - ReLU - maxpool 2 - conv(6→16, 5×5) - ReLU - maxpool 2 - flatten 256 -
Linear 120 - ReLU - Linear 84 - ReLU - Linear 10, softmax cross-entropy, Adam(lr=1e-3), on a
fixed batch of 1×28×28 images (MNIST's shape). All three start from the same weights and data
(one seeded NumPy generator), so their losses follow the same curve.

The NumPy floor is a hand-written forward and backward that keeps every activation in the
*batch-last* layout ``(C, H, W, N)``: im2col is then one strided copy with long contiguous
runs, each convolution one GEMM, pooling a reshape, and no layout transposes are needed
between layers (a library that takes and returns PyTorch's ``(N, C, H, W)`` cannot skip them).
"""

import numpy as np
from floor_kernels import adam_update
from numpy.lib.stride_tricks import as_strided

W5 = ("W5", "lenet 1x28x28 conv6-pool-conv16-pool-120-84-10, Adam, batch 64", 100,
      2 * 64 * (6 * 25 * 576 * 2 + 16 * 150 * 64 * 3 + (256 * 120 + 120 * 84 + 84 * 10) * 3))
BATCH = 64
LR = 1e-3
SHAPES = {"0": (6, 1, 5, 5), "3": (16, 6, 5, 5), "7": (120, 256), "9": (84, 120),
          "11": (10, 84)}  # Sequential index -> weight shape (PyTorch's layout)


def lenet_weights(seed=5):
    """{sequential index: (W, b)} drawn like PyTorch's defaults, U(±1/√fan_in), float32."""
    rng = np.random.default_rng(seed)
    weights = {}
    for key, shape in SHAPES.items():
        bound = 1 / np.sqrt(np.prod(shape[1:]))
        W = rng.uniform(-bound, bound, shape).astype(np.float32)
        b = rng.uniform(-bound, bound, shape[0]).astype(np.float32)
        weights[key] = (W, b)
    return weights


def lenet_data(batch=BATCH, seed=5):
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, batch).astype(np.int64)
    return x, y


# --------------------------------------------------------------------------- libraries
def lenet_lib(impl, batch=BATCH):
    """The network as ``nn.Sequential`` in chainrule or PyTorch (identical text)."""
    import workloads

    lib, convert = workloads._library(impl)
    nn = lib.nn
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    state = {}
    for key, (W, b) in lenet_weights().items():
        state[f"{key}.weight"], state[f"{key}.bias"] = convert(W), convert(b)
    model.load_state_dict(state)
    x, y = lenet_data(batch)
    optimizer = lib.optim.Adam(model.parameters(), lr=LR)
    return workloads._training_step(model, nn.CrossEntropyLoss(), optimizer, convert(x),
                                    convert(y))


def w5_chainrule(spec):
    return lenet_lib("chainrule")


def w5_torch(spec):
    return lenet_lib("torch")


# --------------------------------------------------------------------------- NumPy floor
def _im2col(a, k):
    """Batch-last ``a (C, H, W, N)`` -> columns ``(C·k·k, OH·OW·N)`` of a valid k×k conv."""
    c, h, w, n = a.shape
    oh, ow = h - k + 1, w - k + 1
    sc, sh, sw, sn = a.strides
    view = as_strided(a, (c, k, k, oh, ow, n), (sc, sh, sw, sh, sw, sn), writeable=False)
    return view.reshape(c * k * k, oh * ow * n)


def _col2im(cols, shape, k):
    """Adjoint of :func:`_im2col`: add the columns back into a ``(C, H, W, N)`` array."""
    c, h, w, n = shape
    oh, ow = h - k + 1, w - k + 1
    cols = cols.reshape(c, k, k, oh, ow, n)
    out = np.zeros(shape, dtype=cols.dtype)
    for i in range(k):
        for j in range(k):
            out[:, i:i + oh, j:j + ow] += cols[:, i, j]
    return out


def _pool(a):
    """2×2 max pool of a batch-last ``(C, H, W, N)`` array; returns (pooled, first-max mask)."""
    c, h, w, n = a.shape
    v = a.reshape(c, h // 2, 2, w // 2, 2, n)
    top = np.maximum(v[:, :, 0, :, 0], v[:, :, 0, :, 1])
    bottom = np.maximum(v[:, :, 1, :, 0], v[:, :, 1, :, 1])
    m = np.maximum(top, bottom)
    # first maximum in window order gets the gradient (PyTorch's rule for ties)
    mask = np.empty(v.shape, dtype=bool)
    taken = np.zeros(m.shape, dtype=bool)
    for i in (0, 1):
        for j in (0, 1):
            hit = v[:, :, i, :, j] == m
            hit &= ~taken
            mask[:, :, i, :, j] = hit
            taken |= hit
    return m, mask


def _unpool(g, mask):
    c, ph, _, pw, _, n = mask.shape
    return (mask * g.reshape(c, ph, 1, pw, 1, n)).reshape(c, ph * 2, pw * 2, n)


def lenet_numpy(batch=BATCH):
    weights = lenet_weights()
    params = []
    for key in SHAPES:
        W, b = weights[key]
        params += [W.reshape(W.shape[0], -1).copy(), b.copy()]
    x, y = lenet_data(batch)
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    t = [0]
    cols_n = np.arange(batch)
    n = batch

    def step():
        c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b, f3w, f3b = params
        # the libraries take (N, C, H, W) images: the layout change and the im2col are part
        # of every step (the input could change between steps)
        cols1 = _im2col(np.ascontiguousarray(x.transpose(1, 2, 3, 0)), 5)
        z1 = c1w @ cols1
        z1 += c1b[:, None]
        a1 = np.maximum(z1, 0).reshape(6, 24, 24, n)
        p1, mask1 = _pool(a1)  # (6, 12, 12, N)
        cols2 = _im2col(p1, 5)
        z2 = c2w @ cols2
        z2 += c2b[:, None]
        a2 = np.maximum(z2, 0).reshape(16, 8, 8, n)
        p2, mask2 = _pool(a2)  # (16, 4, 4, N): rows in PyTorch's flatten order (c, h, w)
        f0 = p2.reshape(256, n)
        h1 = f1w @ f0 + f1b[:, None]
        r1 = np.maximum(h1, 0)
        h2 = f2w @ r1 + f2b[:, None]
        r2 = np.maximum(h2, 0)
        logits = f3w @ r2 + f3b[:, None]  # (10, N)
        shifted = logits - logits.max(axis=0)
        e = np.exp(shifted)
        s = e.sum(axis=0)
        loss = (np.log(s) - shifted[y, cols_n]).mean()
        g = e / s
        g[y, cols_n] -= 1
        g /= n
        grads = [None] * 10
        grads[8], grads[9] = g @ r2.T, g.sum(1)
        g = (f3w.T @ g) * (h2 > 0)
        grads[6], grads[7] = g @ r1.T, g.sum(1)
        g = (f2w.T @ g) * (h1 > 0)
        grads[4], grads[5] = g @ f0.T, g.sum(1)
        g = (f1w.T @ g).reshape(16, 4, 4, n)
        g = _unpool(g, mask2).reshape(16, -1) * (z2 > 0)
        grads[2], grads[3] = g @ cols2.T, g.sum(1)
        g = _col2im(c2w.T @ g, p1.shape, 5)
        g = _unpool(g, mask1).reshape(6, -1) * (z1 > 0)
        grads[0], grads[1] = g @ cols1.T, g.sum(1)
        adam_update(params, grads, m, v, t, LR, beta1, beta2, eps)
        return loss

    return step


def w5_numpy(spec):
    return lenet_numpy()


# --------------------------------------------------------------------------- batch scaling
def scaling(batches=(16, 64, 256), steps=30):
    """Milliseconds per W5 step for each batch size, three ways (chainrule and the floor
    interleaved as in run.py; PyTorch after them)."""
    import time

    from run import PAUSE, time_interleaved

    rows = []
    for batch in batches:
        pair = {"chainrule": lenet_lib("chainrule", batch), "numpy": lenet_numpy(batch)}
        rates = time_interleaved(pair, steps, chunks=3)
        time.sleep(PAUSE)
        rates.update(time_interleaved({"torch": lenet_lib("torch", batch)}, steps, chunks=1))
        rows.append((batch, {impl: 1e3 / rate for impl, (rate, _) in rates.items()}))
    return rows


if __name__ == "__main__":  # python benchmarks/workloads_cnn.py [16,64,256]
    import sys

    sizes = tuple(int(b) for b in (sys.argv[1] if len(sys.argv) > 1 else "16,64,256").split(","))
    print("| batch | chainrule ms/step | torch ms/step | floor ms/step | vs torch | vs floor |")
    print("|---|---|---|---|---|---|")
    for batch, ms in scaling(sizes):
        print(f"| {batch} | {ms['chainrule']:.2f} | {ms['torch']:.2f} | {ms['numpy']:.2f} | "
              f"{ms['torch'] / ms['chainrule']:.2f}x | {ms['numpy'] / ms['chainrule']:.2f}x |",
              flush=True)
