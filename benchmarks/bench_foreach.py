"""Optimiser step time, ``foreach=True`` against ``foreach=False``:
``python benchmarks/bench_foreach.py [--steps 400] [--repeats 5] [--dtype float32]``.

Each case builds two copies of one MLP with the same gradients, one optimiser each, and times
``opt.step()`` alone (the gradients stay put), the two interleaved in slices so that a slow
spell of the shared machine hits both alike. Prints the median step time of each and the
ratio foreach/for-loop (below 1: foreach is faster); then the same for a whole training step
(forward, backward, step). Cases: the W2 MLP (784-512-256-10, few big tensors) and a deep
narrow one (12 layers of 64, many small tensors), each with Adam and SGD with momentum.
"""

import argparse
import statistics
import time

import numpy as np

import chainrule as cr

MODELS = {
    "W2 784-512-256-10": [784, 512, 256, 10],
    "deep 12x64": [64] * 13,
}
OPTIMIZERS = {
    "Adam": lambda ps, foreach: cr.optim.Adam(ps, lr=1e-3, foreach=foreach),
    "SGD momentum": lambda ps, foreach: cr.optim.SGD(ps, lr=0.01, momentum=0.9,
                                                      foreach=foreach),
}


def _params(sizes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        for shape in ((b, a), (b,)):
            p = cr.tensor(rng.uniform(-0.1, 0.1, shape).astype(dtype), requires_grad=True)
            p.grad = cr.tensor(rng.standard_normal(shape).astype(dtype) * 1e-3)
            params.append(p)
    return params


def bench(sizes, make_opt, steps, repeats, dtype):
    """Median seconds per step of (foreach=False, foreach=True), interleaved in 10 slices."""
    times = {False: [], True: []}
    for _ in range(repeats):
        opts = {fe: make_opt(_params(sizes, dtype), fe) for fe in (False, True)}
        for opt in opts.values():
            opt.step()  # warm-up: state and flat buffers are made on the first step
        elapsed = dict.fromkeys(opts, 0.0)
        for _ in range(10):
            for fe, opt in opts.items():
                start = time.perf_counter()
                for _ in range(steps // 10):
                    opt.step()
                elapsed[fe] += time.perf_counter() - start
        for fe in opts:
            times[fe].append(elapsed[fe] / (steps // 10 * 10))
    return statistics.median(times[False]), statistics.median(times[True])


def bench_train(sizes, make_opt, steps, repeats, dtype, batch=64):
    """The same for a whole training step (forward, cross-entropy, backward, step)."""
    rng = np.random.default_rng(1)
    x = cr.tensor(rng.standard_normal((batch, sizes[0])).astype(dtype))
    y = cr.tensor(rng.integers(0, sizes[-1], batch))
    times = {False: [], True: []}
    for _ in range(repeats):
        runs = {}
        for fe in (False, True):
            params = _params(sizes, dtype)
            opt = make_opt(params, fe)

            def step(params=params, opt=opt):
                h = x
                for i in range(0, len(params), 2):
                    h = cr.nn.functional.linear(h, params[i], params[i + 1])
                    if i < len(params) - 2:
                        h = h.relu()
                loss = cr.nn.functional.cross_entropy(h, y)
                opt.zero_grad()
                loss.backward()
                opt.step()

            step()
            runs[fe] = step
        elapsed = dict.fromkeys(runs, 0.0)
        for _ in range(10):
            for fe, step in runs.items():
                start = time.perf_counter()
                for _ in range(steps // 10):
                    step()
                elapsed[fe] += time.perf_counter() - start
        for fe in runs:
            times[fe].append(elapsed[fe] / (steps // 10 * 10))
    return statistics.median(times[False]), statistics.median(times[True])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dtype", default="float32")
    args = parser.parse_args(argv)
    print(f"{args.dtype}; opt.step() alone, then a whole training step (batch 64)")
    print(f"{'case':<58} {'for-loop us':>12} {'foreach us':>11} {'foreach/loop':>13}")
    for what, timer in (("step", bench), ("train", bench_train)):
        for model, sizes in MODELS.items():
            n = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
            for name, make_opt in OPTIMIZERS.items():
                loop, flat = timer(sizes, make_opt, args.steps, args.repeats, args.dtype)
                case = f"{what}: {model} ({2 * (len(sizes) - 1)} tensors, {n:,}) {name}"
                print(f"{case:<58} {loop * 1e6:>12.1f} {flat * 1e6:>11.1f} "
                      f"{flat / loop:>12.2f}x")


if __name__ == "__main__":
    main()
