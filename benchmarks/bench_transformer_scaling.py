"""How does one W7 training step cost grow with the batch and the context length?

The W7 model (vocabulary 65, d_model 64, 2 heads, 2 pre-norm blocks, feed-forward 256, causal,
Adam) at several (batch, context) sizes, three ways (chainrule, PyTorch eager, NumPy floor),
interleaved in slices as in ``run.py``. Prints milliseconds per step (median of the slices)
and the ratios. The projections and the feed-forward network grow with batch × context; the
attention scores grow with batch × context², so long contexts shift the time to attention.

    python benchmarks/bench_transformer_scaling.py [--threads 1] [--steps 10]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402
import workloads_transformer as w7  # noqa: E402

SIZES = [(8, 64), (32, 64), (128, 64), (32, 16), (32, 128), (32, 256)]


def measure(batch, context, steps, slices=5):
    makers = {"chainrule": w7.make_chainrule, "torch": w7.make_torch, "numpy": w7.make_numpy}
    fns = {impl: make(batch=batch, context=context) for impl, make in makers.items()}
    for fn in fns.values():
        fn()  # warm-up
    times = {impl: [] for impl in fns}
    per_slice = max(1, steps // slices)
    for _ in range(slices):
        for impl, fn in fns.items():
            start = time.perf_counter()
            for _ in range(per_slice):
                fn()
            times[impl].append((time.perf_counter() - start) / per_slice * 1000)
    return {impl: statistics.median(ts) for impl, ts in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args(argv)
    if args.threads:
        run.limit_threads(args.threads)
    print(f"BLAS: {run.blas_info()}")
    print("| batch | context | chainrule ms/step | torch ms/step | floor ms/step | "
          "chainrule/torch | chainrule/floor |")
    print("|---|---|---|---|---|---|---|")
    for batch, context in SIZES:
        ms = measure(batch, context, args.steps)
        print(f"| {batch} | {context} | {ms['chainrule']:.1f} | {ms['torch']:.1f} | "
              f"{ms['numpy']:.1f} | {ms['torch'] / ms['chainrule']:.2f}x | "
              f"{ms['numpy'] / ms['chainrule']:.2f}x |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
