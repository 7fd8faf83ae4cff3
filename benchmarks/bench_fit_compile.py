"""``cr.train.fit(..., compile=True)`` against eager ``fit`` on the scikit-learn digits.

Trains the same MLP (64-128-64-10, ReLU, Adam) from the same seed both ways, alternating the
runs so that a slow spell of the shared machine hits both alike, and prints the wall time of
each run, the speed-up and the validation accuracy (which must be identical: a replayed step
gives the eager numbers bit for bit).

    python benchmarks/bench_fit_compile.py [--epochs 20] [--repeats 3]
"""

import argparse
import statistics
import time

import numpy as np

import chainrule as cr

nn = cr.nn


def run(compile, X, y, epochs, batch_size):
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                          nn.Linear(64, 10))
    opt = cr.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    history = cr.train.fit(model, nn.CrossEntropyLoss(), opt, (X[:1500], y[:1500]),
                           epochs=epochs, batch_size=batch_size, seed=0, progress=False,
                           compile=compile, val_data=(X[1500:], y[1500:]))
    return time.perf_counter() - start, history["val_accuracy"][-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    d = cr.datasets.digits()
    X, y = (d.X / 16.0).astype(np.float32), d.y
    times = {False: [], True: []}
    accuracy = {}
    for _ in range(args.repeats):
        for compiled in (False, True):
            seconds, acc = run(compiled, X, y, args.epochs, args.batch_size)
            times[compiled].append(seconds)
            accuracy[compiled] = acc
    eager, comp = statistics.median(times[False]), statistics.median(times[True])
    print(f"digits, 1500 train / {len(X) - 1500} validation, {args.epochs} epochs, batch "
          f"{args.batch_size}, median of {args.repeats}")
    print(f"eager fit:            {eager:6.2f} s   val accuracy {accuracy[False]:.4f}")
    print(f"fit(compile=True):    {comp:6.2f} s   val accuracy {accuracy[True]:.4f}")
    print(f"speed-up:             {eager / comp:6.2f}x")


if __name__ == "__main__":
    main()
