"""Benchmark harness: ``python benchmarks/run.py [--workloads W1,W3] [--repeats 5]``.

Runs each workload several ways in this one process (chainrule eager, chainrule under
cr.compile, PyTorch eager when installed, and the hand-written NumPy floor twice: as first
written, allocating every intermediate, and reusing its buffers with ``out=`` as a careful
NumPy programmer writes it, where that version exists). Each repeat trains all of them from the
same fresh weights; chainrule and the floors are interleaved in slices of the run so that a
slow spell of the shared machine hits them alike. It prints steps/s (median of the repeats),
the ratios to PyTorch and to both floors (medians of each repeat's ratio), and the BLAS
configuration it ran with.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import workloads  # noqa: E402

DEFAULT = "W1,W1z,W1nn,W3,W3t,W2,W4,W5"
PAUSE = 0.5  # seconds between library groups, so spinning BLAS/OpenMP threads go idle


def blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed (pip install 'chainrule[bench]')"
    parts = []
    for pool in threadpool_info():
        parts.append(f"{pool.get('internal_api')} {pool.get('version')} "
                     f"threads={pool.get('num_threads')} arch={pool.get('architecture')} "
                     f"({Path(pool.get('filepath', '')).name})")
    core = os.environ.get("OPENBLAS_CORETYPE")
    env = f"OPENBLAS_CORETYPE={core}" if core else "OPENBLAS_CORETYPE unset"
    return "; ".join(parts) + f"; {env}"


_THREAD_LIMITS = []


def limit_threads(n):
    """Run NumPy's BLAS and PyTorch with ``n`` threads for the rest of the process. On a
    shared, loaded machine small workloads (W7) lose far more to spinning BLAS/OpenMP threads
    than they gain from a second core."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise SystemExit("--threads needs threadpoolctl (pip install 'chainrule[bench]')") from None
    _THREAD_LIMITS.append(threadpool_limits(limits=n))  # kept alive: the limit stays in force
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:
        pass


def time_interleaved(steps_by_impl, steps, chunks):
    """Time ``steps`` calls of every implementation's step, interleaved in ``chunks`` slices
    (A, B, C, A, B, C, ...), so a slow spell of the shared machine hits all of them alike.
    Returns {impl: (steps per second, final loss)}."""
    for step in steps_by_impl.values():
        step()  # warm-up: first-call costs (allocation, lazy imports) are not the steady state
    elapsed = dict.fromkeys(steps_by_impl, 0.0)
    losses = {}
    bounds = [round(steps * k / chunks) for k in range(chunks + 1)]
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        for impl, step in steps_by_impl.items():
            start = time.perf_counter()
            for _ in range(hi - lo):
                loss = step()
            elapsed[impl] += time.perf_counter() - start
            losses[impl] = loss
    return {impl: (steps / elapsed[impl], _value(losses[impl])) for impl in steps_by_impl}


def _value(loss):
    return float(loss.detach().item() if hasattr(loss, "detach") else loss)


def available_impls():
    impls = ["chainrule", "compiled", "numpy", "floor_reuse"]
    try:
        import torch  # noqa: F401

        impls.insert(1, "torch")
    except ImportError:
        print("PyTorch not installed: skipping the PyTorch column")
    return impls


# Column labels: "numpy" is the floor as first written (a fresh array for every intermediate),
# "floor_reuse" the one a careful NumPy programmer writes (buffers reused with out=).
LABELS = {"numpy": "floor (allocating)", "floor_reuse": "floor (reusing)"}
# (result key, numerator, denominator) of each ratio column, in table order.
RATIOS = [("vs_torch", "chainrule", "torch"), ("vs_floor", "chainrule", "numpy"),
          ("vs_floor_reuse", "chainrule", "floor_reuse"),
          ("compiled_vs_torch", "compiled", "torch"), ("compiled_vs_floor", "compiled", "numpy"),
          ("compiled_vs_floor_reuse", "compiled", "floor_reuse")]


def _has(key, impl):
    try:
        workloads.factory(key, impl)
    except KeyError:  # e.g. no buffer-reusing floor written for W5-W7
        return False
    return True


def bench(key, repeats, impls):
    spec = workloads.SPECS[key]
    impls = [i for i in impls if _has(key, i)]
    rates = {impl: [] for impl in impls}
    losses = {}
    # Ten slices whatever the step count: W4's 20 steps (4 s a way) ran in one block each,
    # and a slow spell of the shared machine then hit one way only.
    chunks = max(1, min(10, spec.steps // 2))
    # chainrule and the floors share NumPy's BLAS and are interleaved slice by slice. PyTorch
    # runs on its own, after a pause: its OpenMP threads and OpenBLAS's threads both spin for
    # a while after their last parallel call, and would slow whichever library runs next.
    groups = [[i for i in impls if i != "torch"], [i for i in impls if i == "torch"]]
    for _ in range(repeats):
        for group in filter(None, groups):
            time.sleep(PAUSE)
            steps = {impl: workloads.factory(key, impl)(spec) for impl in group}  # fresh weights
            for impl, (rate, loss) in time_interleaved(steps, spec.steps, chunks).items():
                rates[impl].append(rate)
                losses[impl] = loss
            del steps
    result = {"workload": key, "title": spec.title, "steps": spec.steps}
    for impl in impls:
        result[impl] = statistics.median(rates[impl])
        result[f"{impl}_final_loss"] = losses[impl]
    # Each ratio is the median of the repeats' own ratios (both ways measured in one repeat,
    # interleaved), not the ratio of two medians: a slow spell then moves both sides at once.
    for name, num, den in RATIOS:
        if num in result and den in result:
            result[name] = statistics.median(a / b for a, b in zip(rates[num], rates[den]))
    if spec.flops_per_step:
        result["gflops"] = result["chainrule"] * spec.flops_per_step / 1e9
    return result


def _columns(impls, short=False):
    """(header, cell function) of every column of the table; ``short``: terse headers (the
    console table), else the Markdown table's."""
    def name(i):
        label = LABELS.get(i, i)
        return label.replace("allocating", "alloc").replace("reusing", "reuse") if short else label

    cols = [("workload", lambda r: f"{r['workload']}: {r['title']}")]
    for i in impls:
        cols.append((name(i) if short else f"steps/s {name(i)}",
                     lambda r, i=i: f"{r[i]:,.1f}" if i in r else "-"))
    ratios = [(key, f"{'cr' if short and num == 'chainrule' else num}/{name(den)}")
              for key, num, den in RATIOS if num in impls and den in impls]
    for key, label in ratios[:3]:  # chainrule's ratios, then GFLOP/s, then compiled's
        cols.append((label, lambda r, k=key: f"{r[k]:.2f}x" if k in r else "-"))
    cols.append(("GFLOP/s", lambda r: f"{r['gflops']:.1f}" if "gflops" in r else ""))
    for key, label in ratios[3:]:
        cols.append((label, lambda r, k=key: f"{r[k]:.2f}x" if k in r else "-"))
    return cols


def print_table(results, impls):
    cols = _columns(impls, short=True)
    headers = [h for h, _ in cols]
    rows = [[cell(r) for _, cell in cols] for r in results]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(" | ".join(headers))
        for row in rows:
            print(" | ".join(row))
        return
    table = Table(title="chainrule benchmarks (median steps/s; higher is better)",
                  caption="floor (alloc): the NumPy floor allocating every intermediate; "
                          "floor (reuse): the one reusing its buffers with out=")
    for h in headers:
        table.add_column(h, justify="left" if h == "workload" else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=200).print(table)


def markdown(results, impls):
    cols = [(h, cell) for h, cell in _columns(impls) if h != "GFLOP/s"]
    lines = ["| " + " | ".join(h for h, _ in cols) + " |", "|---" * len(cols) + "|"]
    for r in results:
        lines.append("| " + " | ".join(cell(r) for _, cell in cols) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default=DEFAULT, help=f"comma-separated (default {DEFAULT})")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    parser.add_argument("--threads", type=int, default=0,
                        help="BLAS and PyTorch intra-op threads (default: their own defaults)")
    args = parser.parse_args(argv)
    if args.threads:
        limit_threads(args.threads)
    keys = [k.strip() for k in args.workloads.split(",") if k.strip()]
    unknown = [k for k in keys if k not in workloads.SPECS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {sorted(workloads.SPECS)}")
    impls = available_impls()
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cpus")
    print(f"BLAS: {blas_info()}")
    if "torch" in impls:
        import torch

        print(f"torch {torch.__version__}, intra-op threads {torch.get_num_threads()}")
    results = []
    for key in keys:
        results.append(bench(key, args.repeats, impls))
        r = results[-1]
        print(f"  {key}: chainrule {r['chainrule']:,.1f} steps/s, floor ratio {r['vs_floor']:.2f}"
              + (f", torch ratio {r['vs_torch']:.2f}" if "torch" in r else "")
              + (f"; compiled {r['compiled']:,.1f} steps/s, floor ratio "
                 f"{r['compiled_vs_floor']:.2f}" if "compiled" in r else "")
              + (f"; reusing floor {r['floor_reuse']:,.1f} steps/s" if "floor_reuse" in r
                 else ""), flush=True)
    print_table(results, impls)
    if args.markdown:
        print(markdown(results, impls))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
