"""Cost of one W6 training step (charlstm: Embedding 64 → LSTM 128 → Linear 65, Adam) as the
batch and the sequence grow, chainrule beside PyTorch eager and the NumPy floor.

    python benchmarks/bench_rnn_scaling.py [--repeats 3]

Each size builds all three from the same weights and data; chainrule and the floor are
interleaved and PyTorch runs apart (as in run.py). Prints milliseconds per step (median).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads  # noqa: E402, F401  (loads workloads_rnn with its registry)
import workloads_rnn as w6  # noqa: E402

SIZES = [(8, 64), (32, 64), (128, 64), (32, 16), (32, 256)]  # (batch, sequence)


def _ms_per_step(make, steps):
    step = make()
    step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps * 1e3


def measure(batch, seq, repeats, impls):
    old = w6.B, w6.T
    w6.B, w6.T = batch, seq
    try:
        steps = max(3, int(20 * 32 * 64 / (batch * seq)))
        times = {i: [] for i in impls}
        for _ in range(repeats):
            for impl in impls:
                if impl == "torch":
                    time.sleep(0.5)  # let the other library's spinning threads go idle
                times[impl].append(_ms_per_step(
                    lambda impl=impl: workloads.factory("W6", impl)(None), steps))
        return {i: statistics.median(v) for i, v in times.items()}
    finally:
        w6.B, w6.T = old


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    impls = ["chainrule", "numpy", "torch"]
    print("| batch | sequence | chainrule ms/step | floor ms/step | torch ms/step | "
          "chainrule µs per character |")
    print("|---|---|---|---|---|---|")
    for batch, seq in SIZES:
        r = measure(batch, seq, args.repeats, impls)
        per = r["chainrule"] * 1e3 / (batch * seq)
        print(f"| {batch} | {seq} | {r['chainrule']:.1f} | {r['numpy']:.1f} | "
              f"{r['torch']:.1f} | {per:.2f} |", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
