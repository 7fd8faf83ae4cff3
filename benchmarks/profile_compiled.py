"""Where a compiled step's time goes, next to the buffer-reusing NumPy floor's.
``python benchmarks/profile_compiled.py [--workloads W1,W3,W2,W4] [--lines]``

For each workload it times (median of interleaved samples, microseconds per step):

* the compiled step as the harness calls it, and its replay function alone (the difference
  is ``Compiled.__call__``: the guard key, ``store.intact()``);
* every line of the replay, by running an instrumented copy of its source (a clock read after
  each line), grouped into BLAS (``matmul``, ``dot``), elementwise and reductions (other NumPy
  calls), the optimiser update (the flat-buffer step function) and other Python (views, the guard,
  fancy indexing, the gradient setter, the returned tensor);
* the reusing floor, with each NumPy call it makes timed through a wrapper, grouped the same way
  (what the wrappers do not see, Python and indexing, is the rest of the step's time).

``--lines`` also prints every replay line with its time. The per-call cost of a NumPy kernel
on a tiny array (argument parsing, dispatch) is printed too, as the Python floor under each
call.
"""

import argparse
import importlib
import re
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import floor_kernels  # noqa: E402
import workloads  # noqa: E402, I001
import workloads_floor_reuse  # noqa: E402
from run import blas_info, limit_threads  # noqa: E402

jit_lower = importlib.import_module("chainrule.jit.lower")  # the module, not cr.jit.lower()
CATEGORIES = ("BLAS", "elementwise", "optimizer", "python")


def interleaved(fns, runs):
    """{name: median seconds of one call}: the functions called in turn, ``runs`` times each
    (medians of single calls: on a shared machine the mean is the spikes')."""
    times = {name: [] for name in fns}
    clock = time.perf_counter
    for _ in range(runs):
        for name, fn in fns.items():
            start = clock()
            fn()
            times[name].append(clock() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def call_overhead():
    """Seconds per call of a ufunc with out= on a 1-element array (NumPy's fixed cost)."""
    a, b, c = np.ones(1, np.float32), np.ones(1, np.float32), np.empty(1, np.float32)
    return interleaved({"add": lambda: np.add(a, b, out=c)}, 20000)["add"]


# --------------------------------------------------------------------------- the compiled step
def instrument(program):
    """(replay with a clock read after every line, its body lines, per-line lists of times)."""
    header, *body = program.source.rstrip("\n").split("\n")
    scope = program.replay.__globals__
    timings = [[] for _ in body] + [[]]  # the last: an empty line, the clock's own cost
    scope["_T"], scope["_pc"] = timings, time.perf_counter
    lines = [header, "    _p = _pc()"]
    for i, line in enumerate(body):
        text = line.strip()
        if text.startswith("return "):
            lines.append(f"    _r = {text[len('return '):]}")
        else:
            lines.append(line)
        lines.append(f"    _c = _pc(); _T[{i}].append(_c - _p); _p = _c")
    lines.append(f"    _c = _pc(); _T[{len(body)}].append(_c - _p); _p = _c")
    lines.append("    return _r")
    source = "\n".join(lines) + "\n"
    fast = jit_lower._NP_CALL.sub(lambda m: jit_lower._bind_np(scope, m.group(1)) + "(", source)
    local = {}
    exec(compile(fast, "<instrumented replay>", "exec"), scope, local)
    return local["replay"], [line.strip() for line in body], timings


def category_of_line(text, program):
    scope = program.replay.__globals__
    fn = scope.get(text.rstrip("()"))
    if text.endswith("()") and getattr(fn, "__name__", "") == "checked_step":
        return "optimizer"
    if text.startswith("np."):
        # p -= lr * p.grad written in the step (W1): reads a gradient or writes a parameter
        names = re.findall(r"\b([a-z]+)\d+\b", text)
        if "g" in names or re.search(r"out=p\d+\b", text):
            return "optimizer"
        return "BLAS" if text.startswith(("np.matmul(", "np.dot(")) else "elementwise"
    return "python"


def compiled_step(key):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        step = workloads.factory(key, "compiled")(workloads.SPECS[key])
        step()
        step()
    return step


def profile_compiled(step, total, bare, runs):
    """Per-line and per-category times of a compiled step; ``total``, ``bare``: its measured
    seconds per call, and its replay function's."""
    program = step._last
    replay, body, timings = instrument(program)
    replay()  # warm-up of the instrumented copy
    for t in timings:
        t.clear()
    for _ in range(runs):
        replay()
    clock = statistics.median(timings[-1])
    per_line = [max(0.0, statistics.median(t) - clock) for t in timings[:-1]]
    cats = dict.fromkeys(CATEGORIES, 0.0)
    for text, t in zip(body, per_line):
        cats[category_of_line(text, program)] += t
    calls = sum(text.startswith("np.") for text in body)
    cats["python"] += total - sum(cats.values())  # __call__ and whatever the lines miss
    return {"total": total, "replay": bare, "cats": cats, "calls": calls,
            "lines": list(zip(body, per_line))}


# --------------------------------------------------------------------------- the reusing floor
class _Timed:
    """A NumPy callable that adds its run time to ``sink[category]``: "optimizer" inside the
    floor's Adam or when it writes the whole flat parameter or gradient array (the SGD update)."""

    def __init__(self, fn, category, sink):
        self.fn, self.category, self.sink = fn, category, sink

    def __call__(self, *args, **kwargs):
        out = kwargs.get("out")
        category = self.category
        if self.sink["in_update"] or getattr(out, "size", 0) == self.sink["update_size"]:
            category = "optimizer"
        start = time.perf_counter()
        result = self.fn(*args, **kwargs)
        self.sink[category] += time.perf_counter() - start
        self.sink["calls"] += 1
        return result

    def __getattr__(self, name):  # np.add.reduce, np.maximum.reduce
        attr = getattr(self.fn, name)
        return _Timed(attr, self.category, self.sink) if callable(attr) else attr


class _TimedNumpy:
    """Stands in for the ``np`` of the floor's modules: ufuncs and a few functions timed."""

    FUNCTIONS = ("take", "copyto")

    def __init__(self, sink):
        self.sink = sink

    def __getattr__(self, name):
        attr = getattr(np, name)
        if isinstance(attr, np.ufunc) or name in self.FUNCTIONS:
            return _Timed(attr, "BLAS" if name == "matmul" else "elementwise", self.sink)
        return attr


def profile_floor(key, total, runs):
    """Per-category times of the reusing floor's step (``total``: its seconds per call),
    medians over ``runs`` steps."""
    sink = dict.fromkeys(CATEGORIES, 0.0) | {"calls": 0, "in_update": False, "update_size": -1}
    adam = workloads_floor_reuse.adam_flat

    def timed_adam(*args, **kwargs):
        sink["in_update"] = True
        try:
            return adam(*args, **kwargs)
        finally:
            sink["in_update"] = False

    saved = workloads_floor_reuse.np, floor_kernels.np
    workloads_floor_reuse.np = floor_kernels.np = _TimedNumpy(sink)
    workloads_floor_reuse.adam_flat = timed_adam
    per_step = {k: [] for k in CATEGORIES + ("calls",)}
    try:
        step = workloads.factory(key, "floor_reuse")(workloads.SPECS[key])
        sink["update_size"] = step.params[0].base.size  # the flat parameter array
        step()
        for _ in range(runs):
            for k in per_step:
                sink[k] = 0
            step()
            for k in per_step:
                per_step[k].append(sink[k])
    finally:
        workloads_floor_reuse.np, floor_kernels.np = saved
        workloads_floor_reuse.adam_flat = adam
    cats = {k: statistics.median(per_step[k]) for k in CATEGORIES}
    cats["python"] = total - sum(cats.values())
    return {"total": total, "cats": cats, "calls": per_step["calls"][0]}


def _row(name, r):
    cells = [f"{name:<18} {r['total'] * 1e6:10.1f}"]
    for c in CATEGORIES:
        t = r["cats"][c]
        cells.append(f"{t * 1e6:9.1f} ({t / r['total']:4.0%})")
    cells.append(f"{r['calls']:6d}")
    return "  ".join(cells)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="W1,W3,W2,W4")
    parser.add_argument("--runs", type=int, default=400,
                        help="timed calls of each step (W2: a quarter, W4: 8)")
    parser.add_argument("--lines", action="store_true", help="print every replay line's time")
    parser.add_argument("--threads", type=int, default=0,
                        help="BLAS threads (default: its own; 1 separates BLAS from the rest "
                             "cleanly on a shared machine, where a sleeping second BLAS thread "
                             "can take a scheduler slice to wake)")
    args = parser.parse_args(argv)
    if args.threads:
        limit_threads(args.threads)
    print(f"numpy {np.__version__}; BLAS: {blas_info()}")
    print(f"NumPy's fixed cost per ufunc call (1-element arrays, out=): "
          f"{call_overhead() * 1e6:.2f} us")
    head = (f"{'':<18} {'us/step':>10}  " + "  ".join(f"{c:>16}" for c in CATEGORIES)
            + "  np calls")
    for key in [k.strip() for k in args.workloads.split(",")]:
        runs = {"W4": 8, "W2": max(1, args.runs // 4)}.get(key, args.runs)
        step = compiled_step(key)
        floor_step = workloads.factory(key, "floor_reuse")(workloads.SPECS[key])
        floor_step()
        t = interleaved({"compiled": step, "replay": step._last.replay, "floor": floor_step},
                        runs)
        compiled = profile_compiled(step, t["compiled"], t["replay"], runs)
        floor = profile_floor(key, t["floor"], runs)
        print(f"\n{key}: {workloads.SPECS[key].title}")
        print(head)
        print(_row("compiled", compiled))
        print(f"{'  (replay alone)':<18} {compiled['replay'] * 1e6:10.1f}")
        print(_row("floor (reuse)", floor))
        print(f"{'compiled/floor':<18} {floor['total'] / compiled['total']:9.2f}x (speed ratio)")
        if args.lines:
            for text, t in compiled["lines"]:
                print(f"    {t * 1e6:9.1f} us  {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
