"""IDX files (the MNIST format) and the MNIST / Fashion-MNIST loaders.

An IDX file is a 4-byte magic number ``00 00 TT NN`` (TT: element type, NN: number of
dimensions), NN big-endian uint32 sizes, then the elements, big-endian, C order. The files are
often gzipped; `read_idx` recognises gzip by its content, whatever the file is called.

chainrule downloads nothing: put the four files of MNIST (or Fashion-MNIST) in a folder,
raw or ``.gz``, and pass the folder to `mnist` / `fashion_mnist`.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from chainrule.data.bunch import Bunch

# IDX element type code -> big-endian NumPy dtype.
_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise ValueError(f"read_idx: {path} looks gzipped but cannot be decompressed: {e}") \
                from None
    return raw


def read_idx(path) -> np.ndarray:
    """Read an IDX file (raw or gzipped) into a NumPy array in native byte order.

    Raises ``ValueError`` naming the file for a corrupt header (bad magic number, unknown
    element type) or when the data size disagrees with the dimensions in the header.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.idx")
    >>> write_idx(p, np.arange(6, dtype=np.uint8).reshape(2, 3))
    >>> read_idx(p).tolist()
    [[0, 1, 2], [3, 4, 5]]
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise ValueError(f"read_idx: {path} is too short for an IDX header ({len(raw)} bytes)")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(
            f"read_idx: bad magic number 0x{raw[:4].hex()} in {path}: an IDX file starts with "
            "two zero bytes (e.g. 0x00000803 for images, 0x00000801 for labels)"
        )
    if raw[2] not in _IDX_TYPES:
        raise ValueError(
            f"read_idx: unknown element type 0x{raw[2]:02x} in the magic number of {path} "
            f"(expected one of {', '.join(f'0x{t:02x}' for t in _IDX_TYPES)})"
        )
    dtype, ndim = _IDX_TYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"read_idx: {path} is truncated inside its header ({len(raw)} bytes, "
            f"{ndim} dimension sizes need {header})"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(raw) - header
    if actual != expected:
        raise ValueError(
            f"read_idx: size mismatch in {path}: the header says shape {shape} of {dtype.name} "
            f"({expected} bytes of data) but the file holds {actual} bytes after the header"
        )
    data = np.frombuffer(raw, dtype=dtype, count=expected // dtype.itemsize, offset=header)
    # astype copies into a writable array in native byte order.
    return data.reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array) -> None:
    """Write an array as an IDX file (gzipped when ``path`` ends in ``.gz``).

    Supported dtypes: uint8, int8, int16, int32, float32, float64 (the IDX element types).

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "labels.idx1-ubyte.gz")
    >>> write_idx(p, np.array([7, 2, 1], dtype=np.uint8)); read_idx(p).tolist()
    [7, 2, 1]
    """
    a = np.asarray(array)
    codes = {v.newbyteorder("="): k for k, v in _IDX_TYPES.items()}
    code = codes.get(a.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"write_idx: dtype {a.dtype} has no IDX element type; use one of "
                         "uint8, int8, int16, int32, float32, float64")
    if a.ndim > 255:
        raise ValueError(f"write_idx: at most 255 dimensions, got {a.ndim}")
    blob = (bytes([0, 0, code, a.ndim]) + np.asarray(a.shape, dtype=">u4").tobytes()
            + np.ascontiguousarray(a, dtype=_IDX_TYPES[code]).tobytes())
    path = Path(path)
    if path.suffix == ".gz":
        blob = gzip.compress(blob, mtime=0)
    path.write_bytes(blob)


_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

_FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                    "Sneaker", "Bag", "Ankle boot"]


def _find(fn, directory: Path, name: str) -> Path:
    # Accept the official name, gzipped, and the "train-images.idx3-ubyte" spelling of some
    # mirrors (Kaggle).
    dotted = name.replace("-idx", ".idx")
    for candidate in (name, name + ".gz", dotted, dotted + ".gz"):
        path = directory / candidate
        if path.is_file():
            return path
    if not directory.is_dir():
        raise FileNotFoundError(f"{fn}: folder {str(directory)!r} does not exist")
    raise FileNotFoundError(
        f"{fn}: cannot find {name!r} (or {name + '.gz'!r}) in folder {str(directory)!r}; "
        f"it holds {sorted(os.listdir(directory))[:10]}"
    )


def _load_idx_pair(fn, directory, kind, flatten, normalize, description, target_names):
    if kind not in _FILES:
        raise ValueError(f"{fn}: kind must be 'train' or 'test', got {kind!r}")
    directory = Path(directory).expanduser()
    image_name, label_name = _FILES[kind]
    image_path = _find(fn, directory, image_name)
    label_path = _find(fn, directory, label_name)
    images, labels = read_idx(image_path), read_idx(label_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(
            f"{fn}: {image_path.name} has shape {images.shape} and {label_path.name} shape "
            f"{labels.shape}; expected (n, rows, cols) images and n labels"
        )
    X = images.reshape(len(images), -1) if flatten else images
    if normalize:
        X = X.astype(np.float32)
        X /= np.float32(255)  # in place: one float copy of the images, not two
    return Bunch(
        X=X,
        y=labels.astype(np.int64),
        description=f"{description} {kind} split: {len(labels)} images of "
                    f"{images.shape[1]}x{images.shape[2]} pixels, read from {directory}.",
        feature_names=None,
        target_names=target_names,
    )


def mnist(directory, kind: str = "train", flatten: bool = True, normalize: bool = True) -> Bunch:
    """MNIST handwritten digits from the four standard IDX files in a local ``directory``.

    ``kind='train'`` reads train-images-idx3-ubyte / train-labels-idx1-ubyte (60,000 images),
    ``kind='test'`` the t10k-* files (10,000); each raw or ``.gz``. By default ``X`` is float32
    of shape (n, 784) scaled to [0, 1]; ``flatten=False`` keeps (n, 28, 28) and
    ``normalize=False`` keeps the raw uint8 pixels 0..255. ``y`` is int64 in 0..9.
    A missing file raises FileNotFoundError naming it and the folder.

    >>> mnist("~/data/mnist", kind="test").X.shape     # doctest: +SKIP
    (10000, 784)
    """
    return _load_idx_pair("mnist", directory, kind, flatten, normalize,
                          "MNIST handwritten digits (LeCun, Cortes, Burges),",
                          [str(d) for d in range(10)])


def fashion_mnist(directory, kind: str = "train", flatten: bool = True,
                  normalize: bool = True) -> Bunch:
    """Fashion-MNIST (Zalando) from its IDX files in a local ``directory``; as `mnist`.

    The file names are the same as MNIST's; ``target_names`` are the ten clothing classes.

    >>> fashion_mnist("~/data/fashion", kind="test").target_names[9]   # doctest: +SKIP
    'Ankle boot'
    """
    return _load_idx_pair("fashion_mnist", directory, kind, flatten, normalize,
                          "Fashion-MNIST clothing images (Zalando Research, MIT licence),",
                          list(_FASHION_CLASSES))
