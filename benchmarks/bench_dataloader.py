"""How long does the DataLoader take per batch, next to a training step?

One epoch over 60,000 x 784 float32 rows (MNIST-sized) with int64 labels, batch 128,
shuffle=True; median of 5 epochs. For scale it also times the unshuffled loader (views), the
per-sample path of a generic Dataset, and one training step of a 784-256-10 MLP (chainrule
if `chainrule.nn` is available, else the same GEMMs in plain NumPy).

    python benchmarks/bench_dataloader.py
"""

import statistics
import time

import numpy as np

from chainrule.data import DataLoader, Dataset, TensorDataset

N, D, BATCH, REPEATS = 60_000, 784, 128, 5


class RowByRow(Dataset):
    """The same data seen through a generic Dataset (no __getitems__): per-sample collation."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.X[i], self.y[i]


def time_epochs(loader, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _batch in loader:
            pass
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def time_training_step(X, y, repeats=20):
    xb, yb = X[:BATCH], y[:BATCH]
    try:
        import chainrule as cr
        from chainrule import nn

        cr.manual_seed(0)
        model = nn.Sequential(nn.Linear(D, 256), nn.ReLU(), nn.Linear(256, 10))
        loss_fn = nn.CrossEntropyLoss()
        opt = cr.optim.SGD(model.parameters(), lr=0.1)
        xt, yt = cr.Tensor(xb), cr.Tensor(yb)

        def step():
            opt.zero_grad()
            loss_fn(model(xt), yt).backward()
            opt.step()

        what = "chainrule MLP 784-256-10 forward+backward+SGD"
    except Exception as e:  # chainrule.nn not usable: fall back to the bare matrix products
        print(f"(chainrule.nn step unavailable: {type(e).__name__}: {e})")
        rng = np.random.default_rng(0)
        W1 = rng.normal(size=(D, 256)).astype(np.float32)
        W2 = rng.normal(size=(256, 10)).astype(np.float32)

        def step():
            h = np.maximum(xb @ W1, 0)
            g = (h @ W2) @ W2.T  # stand-ins for the forward and backward GEMMs
            _ = xb.T @ g, h.T @ (h @ W2)

        what = "NumPy GEMMs of a 784-256-10 MLP step (lower bound)"
    step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), what


def main():
    rng = np.random.default_rng(0)
    X = rng.random((N, D), dtype=np.float32)
    y = rng.integers(0, 10, size=N)
    ds = TensorDataset(X, y)

    n_batches = len(DataLoader(ds, batch_size=BATCH))
    shuffled = time_epochs(DataLoader(ds, batch_size=BATCH, shuffle=True, seed=0), REPEATS)
    ordered = time_epochs(DataLoader(ds, batch_size=BATCH), REPEATS)
    generic = time_epochs(DataLoader(RowByRow(X, y), batch_size=BATCH, shuffle=True, seed=0), 1)
    step, what = time_training_step(X, y)

    per = shuffled / n_batches
    print(f"DataLoader over {N:,} x {D} float32, batch {BATCH}, {n_batches} batches/epoch "
          f"(median of {REPEATS} epochs)")
    print(f"  TensorDataset, shuffle=True : {shuffled * 1e3:8.1f} ms/epoch  "
          f"{per * 1e6:7.1f} us/batch")
    print(f"  TensorDataset, shuffle=False: {ordered * 1e3:8.1f} ms/epoch  "
          f"{ordered / n_batches * 1e6:7.1f} us/batch (views, no copy)")
    print(f"  generic Dataset (per-sample): {generic * 1e3:8.1f} ms/epoch  "
          f"{generic / n_batches * 1e6:7.1f} us/batch (1 epoch)")
    print(f"  training step ({what}): {step * 1e6:.1f} us")
    print(f"  loader cost per batch = {100 * per / step:.1f}% of a training step")


if __name__ == "__main__":
    main()
