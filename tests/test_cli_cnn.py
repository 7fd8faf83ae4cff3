"""``chainrule train --arch cnn``: a convolutional model on image data sets, saved so that it
takes the raw pixel rows (the scaling folded into its first convolution), usable by
``evaluate`` and ``predict`` like an MLP."""

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.train import cnn


def test_train_arch_cnn_on_digits_saves_a_raw_pixel_model(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--arch", "cnn", "--epochs", "6", "--out", str(out),
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    accuracy = float(printed.split("test accuracy: ")[1].split()[0])
    assert accuracy >= 0.97
    run = json.loads((out / "run.json").read_text())
    assert run["arch"] == "cnn" and run["hidden"] is None
    model = cr.load_model(out / "model.safetensors")
    assert isinstance(model[1], cr.nn.Conv2d)
    X, y = cr.datasets.digits()
    model.eval()
    raw_accuracy = float((model(cr.tensor(X)).data.argmax(1) == y).mean())
    assert raw_accuracy > 0.97  # raw 0..16 pixels in: the scaling lives inside the model
    assert main(["evaluate", str(out / "model.safetensors"), "digits"]) == 0


def test_arch_cnn_refuses_data_that_are_not_square_images(capsys):
    assert main(["train", "--arch", "cnn", "--data", "moons", "--no-progress"]) != 0
    assert "--arch cnn needs square grey images" in capsys.readouterr().err


def test_arch_cnn_trains_on_mnist_idx_files(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for kind, n in (("train", 60), ("t10k", 30)):
        labels = np.arange(n) % 10
        images = rng.integers(0, 30, (n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(labels):
            images[i, 2 + 2 * k:4 + 2 * k, 4:24] = 250
        cr.datasets.write_idx(tmp_path / f"{kind}-images-idx3-ubyte", images)
        cr.datasets.write_idx(tmp_path / f"{kind}-labels-idx1-ubyte", labels.astype(np.uint8))
    out = tmp_path / "run"
    assert main(["train", "--arch", "cnn", "--data", f"mnist:{tmp_path}", "--epochs", "3",
                 "--batch-size", "16", "--out", str(out), "--no-progress"]) == 0
    assert "test accuracy" in capsys.readouterr().out
    assert cr.load_model(out / "model.safetensors")[0].unflattened_size == (1, 28, 28)
    assert cr.load_model(out / "model.safetensors")(cr.zeros(2, 784)).shape == (2, 10)


def test_folding_the_image_scaling_keeps_the_outputs():
    cr.manual_seed(0)
    net = cnn.build_cnn(64, 3).eval()
    x = np.random.default_rng(1).uniform(0, 16, (5, 64)).astype(np.float32)
    mean, std = cnn.image_standardizer(x)
    before = net(cr.tensor(((x - mean) / std).astype(np.float32))).data
    cnn.fold_image_scaling(net, mean, std)
    np.testing.assert_allclose(net(cr.tensor(x)).data, before, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="square grey images"):
        cnn.build_cnn(10, 2)
