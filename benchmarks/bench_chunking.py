"""Does splitting a large elementwise optimiser update pay on this machine?
``python benchmarks/bench_chunking.py [--sizes 535818,4194304] [--repeats 15]``

Times one update over a single flat float32 parameter buffer (W2's 535,818 parameters and a
larger one) with chainrule's own optimiser kernels (``_adam_kernel``; ``_sgd_kernel`` with
momentum 0.9, and without momentum: W4's ``p += -lr * g``), run

* ``one pass``: each ufunc of the kernel once over the whole buffer;
* ``chunk N``: the buffer in slices of N bytes, the whole kernel per slice, as
  ``Optimizer._run`` does with ``chainrule.optim.optimizer.CHUNK_BYTES`` (the default is
  marked): a dozen passes over a slice that stays in the L2 cache instead of memory;
* ``2 threads``: the buffer split in two halves updated by two threads of a
  ``ThreadPoolExecutor`` (NumPy's ufuncs release the GIL), each half in one pass or in chunks.

Every variant applies the same operations to every element, so all give the same numbers
(checked). Variants are interleaved (A, B, C, A, B, C, ...) so that a slow spell of the shared
machine hits all alike; the table gives the median time per update and its ratio to one pass.
"""

import argparse
import platform
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from run import blas_info  # noqa: E402

from chainrule.optim import optimizer  # noqa: E402
from chainrule.optim.adam import _adam_kernel  # noqa: E402
from chainrule.optim.sgd import _sgd_kernel  # noqa: E402

W2_PARAMS = 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10
CHUNKS = [32 << 10, 64 << 10, 128 << 10, 256 << 10, 512 << 10, 1 << 20]
THREAD_CHUNKS = [None, 128 << 10, 256 << 10]


def adam_args(n, rng):
    """Arrays (param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq) and scalars of step 10."""
    arrays = [rng.standard_normal(n).astype(np.float32) for _ in range(3)]
    arrays.append(np.abs(rng.standard_normal(n)).astype(np.float32))
    beta1, beta2, lr, t = 0.9, 0.999, 1e-3, 10.0
    scalars = (1 - beta1, beta2, 1 - beta2, (1 - beta2**t) ** 0.5, 1e-8,
               -lr / (1 - beta1**t), 0.0, None, False)
    return _adam_kernel, arrays + [None], scalars


def sgd_momentum_args(n, rng):
    arrays = [rng.standard_normal(n).astype(np.float32) for _ in range(3)]
    return _sgd_kernel, arrays, (-0.01, 0.9, 1.0, 0.0, False, False, False)


def sgd_args(n, rng):
    arrays = [rng.standard_normal(n).astype(np.float32) for _ in range(2)]
    return _sgd_kernel, arrays + [None], (-0.01, 0.0, 1.0, 0.0, False, False, False)


KERNELS = {"Adam": adam_args, "SGD momentum": sgd_momentum_args, "SGD": sgd_args}


def _scratch(n):
    return [np.empty(n, np.float32) for _ in range(3)]


def sliced(kernel, arrays, scalars, chunk_bytes, lo=0, hi=None):
    """A no-argument function updating ``arrays[*][lo:hi]`` in slices of ``chunk_bytes`` (one
    pass when None), with its own scratch (``Optimizer._run``'s loop)."""
    hi = arrays[0].size if hi is None else hi
    step = hi - lo if chunk_bytes is None else chunk_bytes // 4
    work = _scratch(min(step, hi - lo))
    bounds = [(i, min(i + step, hi)) for i in range(lo, hi, step)]

    def update():
        for i, j in bounds:
            kernel(*[None if a is None else a[i:j] for a in arrays],
                   *[w[: j - i] for w in work], *scalars)

    return update


def threaded(pool, kernel, arrays, scalars, chunk_bytes):
    """Two halves, each updated by one pool thread (``sliced`` with ``chunk_bytes``)."""
    n = arrays[0].size
    half = min(n, (n // 2 + 1023) & ~1023)  # split at a multiple of 4 KiB
    parts = [sliced(kernel, arrays, scalars, chunk_bytes, 0, half),
             sliced(kernel, arrays, scalars, chunk_bytes, half, n)]

    def update():
        for future in [pool.submit(part) for part in parts]:
            future.result()

    return update


def variants(pool, kernel, arrays, scalars):
    out = {"one pass": sliced(kernel, arrays, scalars, None)}
    for c in CHUNKS:
        mark = " (default)" if c == optimizer.CHUNK_BYTES else ""
        out[f"chunk {c >> 10}K{mark}"] = sliced(kernel, arrays, scalars, c)
    for c in THREAD_CHUNKS:
        label = "one pass each" if c is None else f"chunk {c >> 10}K"
        out[f"2 threads, {label}"] = threaded(pool, kernel, arrays, scalars, c)
    return out


def check_same_numbers(pool, make, n):
    """Every variant gives the one-pass result bit for bit (three updates, same start)."""
    finals = {}
    for name in variants(pool, *make(4096, np.random.default_rng(0))):
        kernel, arrays, scalars = make(n, np.random.default_rng(1))
        update = variants(pool, kernel, arrays, scalars)[name]
        for _ in range(3):
            update()
        finals[name] = [a for a in arrays if a is not None]
    want = finals["one pass"]
    bad = [k for k, got in finals.items()
           if not all(np.array_equal(g, w) for g, w in zip(got, want))]
    if bad:
        raise SystemExit(f"variants {bad} changed the numbers")


def bench(pool, make, n, repeats):
    kernel, arrays, scalars = make(n, np.random.default_rng(2))
    fns = variants(pool, kernel, arrays, scalars)
    inner = max(1, int(2e7 // n))  # updates per sample: samples of a few ms or more
    times = {k: [] for k in fns}
    for fn in fns.values():
        fn()  # warm-up
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            times[name].append((time.perf_counter() - start) / inner)
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=f"{W2_PARAMS},{1 << 22}",
                        help="comma-separated float32 element counts (default: W2's, 4M)")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--kernels", default=",".join(KERNELS))
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"python {platform.python_version()}, numpy {np.__version__}")
    print(f"BLAS: {blas_info()}")
    print(f"chainrule.optim.optimizer.CHUNK_BYTES = {optimizer.CHUNK_BYTES}")
    with ThreadPoolExecutor(2) as pool:
        for name in args.kernels.split(","):
            make = KERNELS[name]
            check_same_numbers(pool, make, 300_001)
            for n in sizes:
                result = bench(pool, make, n, args.repeats)
                base = result["one pass"]
                print(f"\n{name}, {n:,} float32 ({n * 4 / 2**20:.1f} MiB): "
                      f"median us per update (ratio: one pass / variant, > 1 is faster)")
                for variant, t in result.items():
                    print(f"  {variant:<28} {t * 1e6:10.1f} us   {base / t:5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
