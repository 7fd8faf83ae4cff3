"""chainrule.data.datasets: logic gates, toy generators, digits/iris, IDX/MNIST, CSV."""

import gzip

import numpy as np
import pytest

from chainrule.backend import manual_seed
from chainrule.data import datasets as ds
from chainrule.data.bunch import Bunch

# --- Bunch ------------------------------------------------------------------------------


def test_bunch_unpacks_like_a_tuple_and_keeps_names():
    b = ds.iris()
    X, y = b
    assert X is b.X and y is b.y
    assert b.feature_names[2] == "petal length (cm)" and b.n_classes == 3
    assert "X=float32[150, 4]" in repr(b) and "setosa" in repr(b)
    assert len(b.as_dataset()) == 150


def test_bunch_counts_classes_from_integer_labels_only():
    assert Bunch(np.zeros((3, 1)), np.array([0, 2, 1])).n_classes == 3
    assert Bunch(np.zeros((3, 1)), np.array([0.5, 1.0, 2.0])).n_classes is None
    unlabelled = Bunch(np.zeros((3, 1)), None)
    assert unlabelled.n_classes is None and len(unlabelled.as_dataset().arrays) == 1


# --- logic gates ------------------------------------------------------------------------

GATES = {
    "and": lambda a, b: a and b,
    "or": lambda a, b: a or b,
    "nand": lambda a, b: not (a and b),
    "nor": lambda a, b: not (a or b),
    "xor": lambda a, b: a != b,
    "xnor": lambda a, b: a == b,
}


@pytest.mark.parametrize("name", sorted(GATES))
def test_logic_gate_truth_tables(name):
    X, y = ds.logic_gate(name.upper() if name == "xor" else name)
    assert X.shape == (4, 2) and X.dtype == np.float32
    assert y.shape == (4, 1) and y.dtype == np.float32
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.ravel().tolist() == [float(GATES[name](bool(a), bool(b))) for a, b in X]


def test_unknown_gate_lists_the_choices():
    with pytest.raises(ValueError, match="xnor"):
        ds.logic_gate("implies")


# --- toy generators ---------------------------------------------------------------------

GENERATORS = {
    "circles": lambda seed: ds.circles(101, noise=0.1, factor=0.5, seed=seed),
    "moons": lambda seed: ds.moons(101, noise=0.1, seed=seed),
    "spirals": lambda seed: ds.spirals(101, noise=0.1, n_classes=3, seed=seed),
    "blobs": lambda seed: ds.blobs(101, centers=4, std=1.0, seed=seed),
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generators_are_seeded_and_shaped(name):
    make = GENERATORS[name]
    a, b, c = make(0), make(0), make(1)
    assert a.X.shape == (101, 2) and a.X.dtype == np.float32
    assert a.y.shape == (101,) and a.y.dtype == np.int64
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)
    counts = np.bincount(a.y)
    assert counts.max() - counts.min() <= 1 and len(counts) == a.n_classes
    assert np.any(np.diff(a.y) < 0)  # rows shuffled, not grouped by class


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generators_without_seed_follow_the_library_seed(name):
    manual_seed(3)
    a = GENERATORS[name](None)
    manual_seed(3)
    b = GENERATORS[name](None)
    np.testing.assert_array_equal(a.X, b.X)


def test_noiseless_circles_lie_on_their_radii():
    X, y = ds.circles(200, noise=0.0, factor=0.3, seed=0)
    r = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(r[y == 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.3, rtol=1e-6)


def test_noiseless_moons_lie_on_their_half_circles():
    X, y = ds.moons(100, noise=0.0, seed=0)
    upper, lower = X[y == 0].astype(np.float64), X[y == 1].astype(np.float64)
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, rtol=1e-6)
    assert (upper[:, 1] >= -1e-6).all() and (lower[:, 1] <= 0.5 + 1e-6).all()


def test_spiral_arms_rotate_by_one_over_n_classes_turn():
    X, y = ds.spirals(300, noise=0.0, n_classes=3, seed=0)
    for k in range(3):
        arm = X[y == k].astype(np.float64)
        r = np.hypot(arm[:, 0], arm[:, 1])
        outer = arm[np.argmax(r)]  # r = 1: angle 2*pi*(1 + k/3)
        np.testing.assert_allclose(outer, [np.cos(2 * np.pi * k / 3), np.sin(2 * np.pi * k / 3)],
                                   atol=1e-6)


def test_blobs_gather_around_given_centers():
    centers = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    X, y = ds.blobs(3000, centers=centers, std=[0.5, 1.0, 2.0], seed=0)
    for k in range(3):
        pts = X[y == k]
        np.testing.assert_allclose(pts.mean(axis=0), centers[k], atol=0.2)
        np.testing.assert_allclose(pts.std(axis=0), [0.5, 1.0, 2.0][k], rtol=0.1)


def test_generator_arguments_are_checked():
    with pytest.raises(ValueError, match="factor"):
        ds.circles(10, factor=1.5)
    with pytest.raises(ValueError, match="noise"):
        ds.moons(10, noise=-1)
    with pytest.raises(ValueError, match="n_classes"):
        ds.spirals(10, n_classes=0)
    with pytest.raises(ValueError, match="centers"):
        ds.blobs(10, centers=np.zeros(3))
    with pytest.raises(ValueError, match="n must be"):
        ds.moons(1)


# --- embedded real data -----------------------------------------------------------------


def test_digits_has_1797_images_of_64_pixels_in_ten_classes():
    X, y = ds.digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32 and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and np.all(X == np.round(X))
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # the first image is a zero: its centre column is blank, its sides are not
    img = X[0].reshape(8, 8)
    assert y[0] == 0 and img[3:5, 3:5].sum() == 0 and img[:, 1:3].sum() > 0


def test_iris_has_three_classes_of_fifty():
    data = ds.iris()
    assert data.X.shape == (150, 4) and np.bincount(data.y).tolist() == [50, 50, 50]
    assert data.target_names == ["setosa", "versicolor", "virginica"]
    np.testing.assert_array_equal(data.X[0], np.array([5.1, 3.5, 1.4, 0.2], dtype=np.float32))


def test_embedded_data_match_scikit_learn():
    sk = pytest.importorskip("sklearn.datasets")
    d, i = sk.load_digits(), sk.load_iris()
    np.testing.assert_array_equal(ds.digits(dtype=np.float64).X, d.data)
    np.testing.assert_array_equal(ds.digits().y, d.target)
    np.testing.assert_allclose(ds.iris(dtype=np.float64).X, i.data, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ds.iris().y, i.target)


def test_embedded_arrays_are_fresh_copies():
    a = ds.iris()
    a.X[:] = 0
    a.y[:] = 9
    assert ds.iris().X[0, 0] == np.float32(5.1) and ds.iris().y[0] == 0


# --- IDX --------------------------------------------------------------------------------


def idx_bytes(code, dims, payload):
    return bytes([0, 0, code, len(dims)]) + np.asarray(dims, ">u4").tobytes() + payload


def test_read_idx_reads_hand_made_uint8_images(tmp_path):
    pixels = np.arange(2 * 3 * 4, dtype=np.uint8)
    p = tmp_path / "imgs"
    p.write_bytes(idx_bytes(0x08, [2, 3, 4], pixels.tobytes()))
    a = ds.read_idx(p)
    assert a.shape == (2, 3, 4) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, pixels.reshape(2, 3, 4))
    a[0, 0, 0] = 9  # writable


def test_read_idx_reads_big_endian_ints_and_gzip_by_content(tmp_path):
    values = np.array([1, -2, 70000], dtype=np.int32)
    p = tmp_path / "ints.bin"  # gzipped although the name does not say so
    p.write_bytes(gzip.compress(idx_bytes(0x0C, [3], values.astype(">i4").tobytes())))
    a = ds.read_idx(p)
    assert a.tolist() == [1, -2, 70000] and a.dtype == np.int32 and a.dtype.isnative


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_write_idx_then_read_idx_round_trips(tmp_path, dtype, suffix):
    a = (np.arange(24).reshape(2, 3, 4) * 3 - 20).astype(dtype)
    p = tmp_path / f"a-idx3-ubyte{suffix}"
    ds.write_idx(p, a)
    assert (p.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    b = ds.read_idx(p)
    assert b.dtype == dtype
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("blob, message", [
    (b"\x01\x00\x08\x01\x00\x00\x00\x02ab", "bad magic"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x02ab", "unknown element type"),
    (idx_bytes(0x08, [2, 3], b"12345"), "size mismatch"),          # one byte short
    (idx_bytes(0x08, [2], b"123"), "size mismatch"),               # one byte extra
    (idx_bytes(0x0B, [2], b"\x00\x01\x00"), "size mismatch"),      # 2 int16 need 4 bytes
    (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated"),
    (b"\x00\x00", "too short"),
])
def test_read_idx_rejects_corrupt_files(tmp_path, blob, message):
    p = tmp_path / "bad-idx"
    for data in (blob, gzip.compress(blob)):
        p.write_bytes(data)
        with pytest.raises(ValueError, match=message) as info:
            ds.read_idx(p)
        assert "bad-idx" in str(info.value)


def write_mnist(folder, kind, n, gz, rng):
    prefix = "train" if kind == "train" else "t10k"
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    ext = ".gz" if gz else ""
    ds.write_idx(folder / f"{prefix}-images-idx3-ubyte{ext}", images)
    ds.write_idx(folder / f"{prefix}-labels-idx1-ubyte{ext}", labels)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_a_folder_of_idx_files(tmp_path, gz):
    rng = np.random.default_rng(0)
    images, labels = write_mnist(tmp_path, "train", 7, gz, rng)
    test_images, _ = write_mnist(tmp_path, "test", 3, gz, rng)
    data = ds.mnist(tmp_path)
    assert data.X.shape == (7, 784) and data.X.dtype == np.float32
    np.testing.assert_allclose(data.X, images.reshape(7, -1) / 255.0, rtol=1e-6)
    assert data.y.dtype == np.int64 and data.y.tolist() == labels.tolist()
    raw = ds.mnist(str(tmp_path), kind="test", flatten=False, normalize=False)
    assert raw.X.dtype == np.uint8 and raw.X.shape == (3, 28, 28)
    np.testing.assert_array_equal(raw.X, test_images)
    assert ds.fashion_mnist(tmp_path).target_names[9] == "Ankle boot"


def test_mnist_names_the_missing_file_and_the_folder(tmp_path):
    write_mnist(tmp_path, "train", 2, False, np.random.default_rng(0))
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError) as info:
        ds.mnist(tmp_path)
    assert "train-labels-idx1-ubyte" in str(info.value) and str(tmp_path) in str(info.value)
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        ds.fashion_mnist(tmp_path, kind="test")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ds.mnist(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="kind"):
        ds.mnist(tmp_path, kind="validation")


def test_mnist_rejects_images_and_labels_of_different_counts(tmp_path):
    write_mnist(tmp_path, "train", 4, False, np.random.default_rng(0))
    ds.write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match=r"\(4, 28, 28\).*\(3,\)"):
        ds.mnist(tmp_path)


# --- load_csv ---------------------------------------------------------------------------


def write(tmp_path, text, name="table.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_load_csv_target_by_name_with_string_labels(tmp_path):
    p = write(tmp_path, "length,species,width\n1.5,dog,2\n\n3,cat,4\n5.25,dog,6\n")
    data = ds.load_csv(p, target="species")
    assert data.feature_names == ["length", "width"]
    assert data.X.dtype == np.float32 and data.X.tolist() == [[1.5, 2], [3, 4], [5.25, 6]]
    assert data.target_names == ["cat", "dog"] and data.y.tolist() == [1, 0, 1]
    assert data.y.dtype == np.int64


def test_load_csv_target_by_index_and_numeric_targets(tmp_path):
    p = write(tmp_path, "a;b;c\n1;2;0\n3;4;2\n", name="semi.csv")
    data = ds.load_csv(p, target=0, delimiter=";")
    assert data.feature_names == ["b", "c"] and data.y.tolist() == [1, 3]
    assert data.y.dtype == np.int64 and data.target_names is None
    last = ds.load_csv(write(tmp_path, "x,t\n1,0.5\n2,1.5\n"))  # default: last column
    assert last.y.dtype == np.float32 and last.y.tolist() == [0.5, 1.5]
    X, y = ds.load_csv(write(tmp_path, "1,2,1\n3,4,0\n"), target=-1, header=False)
    assert X.tolist() == [[1, 2], [3, 4]] and y.tolist() == [1, 0]
    none = ds.load_csv(p, target=None, delimiter=";")
    assert none.y is None and none.X.shape == (2, 3)


def test_load_csv_names_the_bad_cell(tmp_path):
    p = write(tmp_path, "a,b,label\n1,2,x\n3,oops,y\n")
    with pytest.raises(ValueError) as info:
        ds.load_csv(p, target="label")
    msg = str(info.value)
    assert "'oops'" in msg and "line 3" in msg and "'b'" in msg and str(p) in msg
    q = write(tmp_path, "a,b,label\n1,,x\n", name="empty.csv")
    with pytest.raises(ValueError, match="empty cell as a number at line 2, column 'b'"):
        ds.load_csv(q)


def test_load_csv_structural_errors(tmp_path):
    p = write(tmp_path, "a,b\n1,2\n3\n")
    with pytest.raises(ValueError, match="line 3.*1 cells, expected 2"):
        ds.load_csv(p)
    with pytest.raises(ValueError, match="no column named 'c'"):
        ds.load_csv(write(tmp_path, "a,b\n1,2\n", name="ok.csv"), target="c")
    with pytest.raises(ValueError, match="no data rows"):
        ds.load_csv(write(tmp_path, "a,b\n", name="header_only.csv"))
    with pytest.raises(ValueError, match="header=False"):
        ds.load_csv(write(tmp_path, "1,2\n", name="nohdr.csv"), target="a", header=False)


def test_load_csv_ignores_an_excel_byte_order_mark(tmp_path):
    p = tmp_path / "excel.csv"
    p.write_bytes("\ufeffheight,label\n1.5,0\n2.5,1\n".encode())
    data = ds.load_csv(p, target="label")
    assert data.feature_names == ["height"] and data.y.tolist() == [0, 1]
