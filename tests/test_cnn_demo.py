"""The cnn demo: a LeNet-style network reaches >= 0.98 test accuracy on the shipped digits in a
CI-sized run, writes real PNG pictures, and trains on MNIST IDX files when pointed at them."""

from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import demos
from chainrule.demos import cnn_demo

PNG = b"\x89PNG\r\n\x1a\n"


def test_cnn_reaches_98_percent_on_the_digits_and_draws_its_filters(tmp_path):
    result = demos.run("cnn", out_dir=tmp_path)
    assert result["test_accuracy"] >= 0.98
    assert result["n_test"] == 359 and result["n_train"] == 5 * 1438  # with the shifts
    losses = result["history"]["loss"]
    assert losses[-1] < 0.5 * losses[0]
    for name in ("filters", "feature_maps", "history"):
        path = Path(result["pictures"][name])
        assert path.parent == tmp_path and path.read_bytes()[:8] == PNG
    assert isinstance(result["model"][0], cr.nn.Conv2d)


def test_shifted_images_move_and_zero_fill():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    assert cnn_demo.shifted(x, 1, 0)[0, 0].tolist() == [[0, 0, 0], [0, 1, 2], [3, 4, 5]]
    assert cnn_demo.shifted(x, 0, -1)[0, 0].tolist() == [[1, 2, 0], [4, 5, 0], [7, 8, 0]]
    X, y = cnn_demo.augment(x, np.array([3]))
    assert X.shape == (5, 1, 3, 3) and y.tolist() == [3] * 5


def _write_mnist(folder, n_train=96, n_test=48):
    """Small IDX files of MNIST's names: class k is a bright bar in row band k (learnable)."""
    rng = np.random.default_rng(0)
    for kind, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n) % 10
        images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(labels):
            images[i, 2 + 2 * k:4 + 2 * k, 4:24] = 250
        cr.datasets.write_idx(folder / f"{kind}-images-idx3-ubyte", images)
        cr.datasets.write_idx(folder / f"{kind}-labels-idx1-ubyte", labels.astype(np.uint8))


def test_the_same_demo_trains_on_mnist_idx_files(tmp_path):
    _write_mnist(tmp_path)
    result = cnn_demo.main(out_dir=tmp_path / "pictures", data_dir=tmp_path, epochs=3,
                           progress=False)
    assert result["n_train"] == 96 and result["n_test"] == 48
    assert result["model"](cr.zeros(1, 1, 28, 28)).shape == (1, 10)
    assert result["test_accuracy"] > 0.5  # ten bars are easy: far above chance (0.1)
    assert Path(result["pictures"]["feature_maps"]).read_bytes()[:8] == PNG
