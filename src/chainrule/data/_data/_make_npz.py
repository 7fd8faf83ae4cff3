"""Rebuild digits.npz and iris.npz from the copies shipped with scikit-learn.

Run once by the maintainers (needs scikit-learn installed); chainrule itself only reads the
.npz files, so the package works on a NumPy-only install.

    python src/chainrule/data/_data/_make_npz.py
"""

import gzip
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main():
    import sklearn.datasets

    source = Path(sklearn.datasets.__file__).resolve().parent / "data"

    # digits.csv.gz: 1797 rows of 64 pixel counts (0..16) followed by the digit label.
    with gzip.open(source / "digits.csv.gz", "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    images, labels = table[:, :64], table[:, 64]
    assert table.shape == (1797, 65), table.shape
    assert images.min() == 0 and images.max() == 16
    assert np.array_equal(np.unique(labels), np.arange(10))
    np.savez_compressed(
        HERE / "digits.npz", X=images.astype(np.uint8), y=labels.astype(np.uint8)
    )

    # iris.csv: a header "150,4,setosa,versicolor,virginica", then 4 measurements and a label.
    with open(source / "iris.csv") as f:
        header = f.readline().strip().split(",")
        table = np.loadtxt(f, delimiter=",", dtype=np.float64)
    assert header[:2] == ["150", "4"], header
    assert table.shape == (150, 5), table.shape
    labels = table[:, 4].astype(np.int64)
    assert np.array_equal(np.bincount(labels), [50, 50, 50])
    # Measurements have one decimal: store them exactly as tenths of a centimetre.
    tenths = np.rint(table[:, :4] * 10).astype(np.uint8)
    assert np.allclose(tenths / 10, table[:, :4])
    np.savez_compressed(
        HERE / "iris.npz", X_tenths=tenths, y=labels.astype(np.uint8),
        target_names=np.array(header[2:]),
    )


if __name__ == "__main__":
    main()
