"""A LeNet-style convolutional network on the shipped 8×8 digits (or on real MNIST).

A convolution slides one small filter over the whole image, so the same weights detect a
stroke wherever it is ("translation invariance for images"); max pooling keeps the strongest
response of each neighbourhood and halves the resolution. Two convolutions, a pooling, then a
small MLP (on 28×28 MNIST a first pooling halves the images before the second convolution):

    image (1, s, s) → Conv 3×3 (16 filters) → BatchNorm → ReLU → Conv 3×3 (32) → BatchNorm →
    ReLU → MaxPool 2 → Flatten → Linear 64 → ReLU → Linear 10

The 1,437 training digits are augmented with their one-pixel shifts (up, down, left, right):
a CNN should not care where the stroke is, and the shifted copies teach it exactly that.
Training uses Adam with a cosine learning-rate schedule and ``cr.train.fit`` (a progress bar);
the demo prints the test accuracy and writes three pictures: the learned first-layer filters,
the feature maps of one test digit, and the training curves. ``main(data_dir=DIR)`` (or
``python examples/cnn.py DIR``) trains the same network on the MNIST IDX files in DIR.
"""

import time
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import nn

# CI-sized: the 8×8 digits reach >= 0.98 test accuracy in seconds
DIGITS = {"epochs": 5, "batch_size": 32, "lr": 3e-3}
MNIST = {"epochs": 2, "batch_size": 64, "lr": 2e-3}


def build_lenet(image_size, n_classes=10, channels=(16, 32), hidden=64):
    """The network above for ``(N, 1, image_size, image_size)`` images (even sizes; images
    larger than 8×8 get a first pooling after the first convolution).

    >>> build_lenet(8)(cr.zeros(2, 1, 8, 8)).shape
    (2, 10)
    >>> build_lenet(28)(cr.zeros(2, 1, 28, 28)).shape
    (2, 10)
    """
    pools = 2 if image_size > 8 else 1
    if image_size % (2 ** pools):
        raise ValueError(f"build_lenet: image_size must be divisible by {2 ** pools}, got "
                         f"{image_size}")
    c1, c2 = channels
    side = image_size // 2 ** pools
    first_pool = [nn.MaxPool2d(2)] if pools == 2 else []
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(), *first_pool,
        nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * side * side, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))


def shifted(images, dy, dx):
    """``images (N, C, H, W)`` moved by ``dy`` rows and ``dx`` columns (zeros move in).

    >>> shifted(np.arange(4.0).reshape(1, 1, 2, 2), 0, 1).tolist()
    [[[[0.0, 0.0], [0.0, 2.0]]]]
    """
    out = np.zeros_like(images)
    h, w = images.shape[-2:]
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[..., max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def augment(X, y):
    """``X`` with its four one-pixel shifts appended (5× the samples), and the labels."""
    moves = [(1, 0), (-1, 0), (0, 1), (0, -1)]
    return np.concatenate([X] + [shifted(X, dy, dx) for dy, dx in moves]), np.tile(y, 5)


def load_data(data_dir=None, seed=0, limit=None):
    """``(X_train, y_train, X_test, y_test, name)`` as float32 images ``(N, 1, s, s)`` in [0, 1].

    Without ``data_dir``: the 1,797 shipped digits (scaled by 1/16), a stratified 80/20 split.
    With it: MNIST's train and t10k IDX files from that folder (the first ``limit`` of each).
    """
    if data_dir is None:
        from chainrule.train.prepare import split_indices

        bunch = cr.datasets.digits()
        X = (bunch.X / 16.0).reshape(-1, 1, 8, 8).astype(np.float32)
        train, test = split_indices(bunch.y, 0.2, seed=seed, stratify=True)
        return X[train], bunch.y[train], X[test], bunch.y[test], "8x8 digits"
    train = cr.datasets.mnist(data_dir, kind="train", flatten=False)
    test = cr.datasets.mnist(data_dir, kind="test", flatten=False)
    sl = slice(None) if limit is None else slice(0, limit)
    return (train.X[sl, None].astype(np.float32), train.y[sl],
            test.X[sl, None].astype(np.float32), test.y[sl], f"MNIST from {data_dir}")


def train(X_train, y_train, X_test, y_test, epochs, batch_size, lr, seed=0, progress=True):
    """Train :func:`build_lenet` with Adam and a per-batch cosine schedule; returns
    ``(model, history)``."""
    cr.manual_seed(seed)
    model = build_lenet(X_train.shape[-1])
    optimizer = cr.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * -(-len(y_train) // batch_size)
    schedule = cr.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    with _one_blas_thread():
        history = cr.train.fit(model, nn.CrossEntropyLoss(), optimizer, (X_train, y_train),
                               epochs=epochs, batch_size=batch_size, val_data=(X_test, y_test),
                               metrics=("accuracy",), progress=progress, seed=seed,
                               scheduler=schedule, scheduler_interval="batch")
    return model, history


def _one_blas_thread():
    """This network's matrices are small: a second BLAS thread costs more in hand-offs than it
    saves (on a busy machine, many times more). Uses threadpoolctl when it is installed."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _figure(figsize):
    from chainrule.teach.plots import _figure as figure

    return figure(figsize)


def _save(fig, path):
    from chainrule.teach.plots import _save as save

    return save(fig, path, "cnn demo")


def plot_filters(model, path):
    """The first convolution's 3×3 filters, one panel each, on one symmetric colour scale."""
    weights = model[0].weight.data[:, 0]  # (filters, kh, kw)
    k = len(weights)
    cols = int(np.ceil(np.sqrt(k)))
    rows = int(np.ceil(k / cols))
    bound = float(np.abs(weights).max())
    fig = _figure((1.7 * cols + 1, 1.8 * rows + 0.6))
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= k:
            ax.set_axis_off()
            continue
        image = ax.imshow(weights[i], cmap="RdBu_r", vmin=-bound, vmax=bound,
                          interpolation="nearest")
        ax.set_title(f"filter {i}", fontsize=10)
    fig.colorbar(image, ax=axes, shrink=0.8, label="weight (red +, blue −)")
    fig.suptitle(f"Learned first-layer filters ({k} of 3×3)", fontsize=13)
    return _save(fig, path)


def plot_feature_maps(model, image, label, path):
    """One digit and what each first-layer filter sees in it (after the ReLU)."""
    with cr.no_grad():
        model.eval()
        x = cr.tensor(image[None])
        maps = model[2](model[1](model[0](x))).data[0]  # conv, batch norm, ReLU: (k, s, s)
        predicted = int(model(x).data.argmax())
    k = len(maps)
    cols = int(np.ceil(np.sqrt(k)))
    rows = int(np.ceil(k / cols))
    fig = _figure((1.7 * (cols + 2), 1.8 * rows + 0.6))
    grid = fig.add_gridspec(rows, cols + 2)
    ax = fig.add_subplot(grid[:, :2])
    ax.imshow(image[0], cmap="gray_r", interpolation="nearest")
    ax.set_title(f"input: a {label}\n(predicted {predicted})", fontsize=11)
    ax.set_xticks([])
    ax.set_yticks([])
    top = float(maps.max()) or 1.0
    for i in range(k):
        ax = fig.add_subplot(grid[i // cols, 2 + i % cols])
        ax.imshow(maps[i], cmap="magma", vmin=0, vmax=top, interpolation="nearest")
        ax.set_title(f"map {i}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("First-layer feature maps: ReLU(filter ⋆ image), bright = strong response",
                 fontsize=13)
    return _save(fig, path)


def main(out_dir=None, data_dir=None, epochs=None, limit=None, progress=True):
    """Train, print the test accuracy, write the pictures; returns the numbers shown."""
    from chainrule.demos import output_dir
    from chainrule.teach.plots import plot_history

    settings = dict(DIGITS if data_dir is None else MNIST)
    if epochs is not None:
        settings["epochs"] = int(epochs)
    X_train, y_train, X_test, y_test, name = load_data(data_dir, limit=limit)
    print(f"cnn: {name}, {len(y_train)} training and {len(y_test)} test images of "
          f"{X_train.shape[-2]}x{X_train.shape[-1]}")
    if data_dir is None:
        X_train, y_train = augment(X_train, y_train)
        print(f"     + their one-pixel shifts: {len(y_train)} training images")
    started = time.perf_counter()
    model, history = train(X_train, y_train, X_test, y_test, settings["epochs"],
                           settings["batch_size"], settings["lr"], progress=progress)
    seconds = time.perf_counter() - started
    print(model)
    accuracy = float(history.history["val_accuracy"][-1])
    print(f"\ntest accuracy {accuracy:.4f} on {len(y_test)} images after {settings['epochs']} "
          f"epochs ({seconds:.1f} s, {model.num_parameters():,} parameters)")
    out = output_dir(out_dir, "cnn")
    pictures = {
        "filters": Path(plot_filters(model, out / "filters.png")),
        "feature_maps": Path(plot_feature_maps(model, X_test[0], int(y_test[0]),
                                               out / "feature_maps.png")),
        "history": Path(plot_history(history, out / "history.png",
                                     title=f"cnn on {name}: training curves")),
    }
    print("pictures: " + ", ".join(str(p) for p in pictures.values()))
    return {"test_accuracy": accuracy, "seconds": seconds, "epochs": settings["epochs"],
            "n_train": len(y_train), "n_test": len(y_test), "history": history.history,
            "pictures": pictures, "model": model}


if __name__ == "__main__":
    main()
