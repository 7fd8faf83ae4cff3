"""Saving and loading: safetensors files with JSON metadata, written atomically, never pickle.

A file written by :func:`save` is an ordinary `safetensors <https://huggingface.co/docs/safetensors>`_
file. Every array of the saved object becomes one safetensors tensor, named by its path in the
object (``"model/0.weight"``); everything else (dict keys, lists, tuples, numbers, strings, None)
goes into one JSON document stored in the safetensors metadata, with a placeholder where each
array was. Loading a file therefore only ever parses JSON and copies bytes: it can never run code,
unlike ``pickle`` / ``torch.save``.

>>> import os, tempfile, numpy as np, chainrule as cr
>>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
>>> cr.save({"epoch": 3, "state": {0: {"step": 7, "betas": (0.9, 0.999)}},
...          "w": np.arange(3.0)}, path)
>>> obj = cr.load(path)
>>> obj["epoch"], obj["state"][0]["betas"], obj["w"]
(3, (0.9, 0.999), array([0., 1., 2.]))

Files written by other tools (for example PyTorch weights saved with
``safetensors.torch.save_file``) have no chainrule metadata; :func:`load` returns them as a flat
``{name: ndarray}`` dict, ready for ``model.load_state_dict``.

Writes are atomic: the bytes go to a hidden temporary file in the same folder, which is flushed,
``fsync``-ed and renamed over the target (``os.replace``), so a crash or a kill during a save
leaves the previous file intact. (A killed process can leave its hidden ``.<name>.<pid>-*.tmp``
file behind; it is never read, and the next save into that folder removes it.)

Loading is bounded for files from anywhere: the framing, every tensor entry (dtype, shape,
offsets) and the nesting of the JSON are checked before any tensor is read, and
:func:`load_model` checks the architecture against the tensors the file holds and rebuilds it
under an allocation budget of the stored bytes, so a crafted file is refused with a
:class:`CheckpointError` in milliseconds, never by running out of memory.
"""

import errno
import json
import os
import zlib

import numpy as np

from chainrule._atomic import atomic_write
from chainrule.backend import get_rng_state, set_rng_state
from chainrule.tensor import Tensor

__all__ = [
    "CheckpointError", "save", "load", "save_model", "load_model",
    "save_checkpoint", "load_checkpoint",
]

FORMAT = "chainrule"
VERSION = 1
_MISSING_SAFETENSORS = "saving needs safetensors: pip install 'chainrule[train]'"
_CHUNK = 1 << 22  # bytes per write call while streaming a file out

# JSON placeholders: a one-key object whose key is one of these stands for a non-JSON value.
_ARRAY, _SCALAR, _TUPLE = "__array__", "__scalar__", "__tuple__"
_DICT, _DTYPE = "__dict__", "__dtype__"
_TAGS = frozenset((_ARRAY, _SCALAR, _TUPLE, _DICT, _DTYPE))
# Array dtypes the safetensors format can hold.
_DTYPES = frozenset((
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64",
))


class CheckpointError(ValueError):
    """A file that is not a readable chainrule / safetensors file (corrupt, truncated, foreign).

    >>> issubclass(CheckpointError, ValueError)
    True
    """


def _safetensors_numpy():
    try:
        import safetensors.numpy as stnp
    except ImportError as e:  # pragma: no cover - exercised only without the extra
        raise ImportError(_MISSING_SAFETENSORS) from e
    return stnp


# ----------------------------------------------------------------------------------- encoding
class _Encoder:
    """Turns a nested object into a JSON-able tree plus {tensor name: C-contiguous array}."""

    def __init__(self, where):
        self.where = where
        self.tensors = {}
        self.names_by_id = {}  # the same array object twice is stored once (tied weights)
        self.stack = set()  # ids of containers being encoded, to catch cycles

    def encode(self, obj, path):
        # NumPy scalars first: np.float64 is a subclass of float. They keep their dtype by
        # travelling as 0-d tensors.
        if isinstance(obj, np.generic):
            return {_SCALAR: self._add_array(np.asarray(obj), path)}
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, Tensor):
            obj = obj.data
        if isinstance(obj, np.ndarray):
            return {_ARRAY: self._add_array(obj, path)}
        if isinstance(obj, np.dtype):
            return {_DTYPE: obj.str}
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self.stack:
                raise ValueError(f"{self.where}: the object contains itself at '{path or '/'}'")
            self.stack.add(id(obj))
            try:
                return self._encode_container(obj, path)
            finally:
                self.stack.discard(id(obj))
        hint = ""
        if hasattr(obj, "state_dict"):
            hint = (" (save its state: cr.save(obj.state_dict(), path), or a whole model with "
                    "cr.save_model(model, path))")
        raise TypeError(
            f"{self.where}: cannot store a {type(obj).__name__} at '{path or '/'}'; supported are "
            f"dicts, lists, tuples, arrays, Tensors, numbers, strings, bools and None{hint}"
        )

    def _encode_container(self, obj, path):
        if isinstance(obj, list):
            return [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {_TUPLE: [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]}
        keys = [self._key(k, path) for k in obj]
        # A plain JSON object when the keys allow it; else a list of [key, value] pairs, which
        # keeps int keys (optimizer state is keyed by parameter index) and avoids tag clashes.
        if all(isinstance(k, str) for k in keys) and not (len(keys) == 1 and keys[0] in _TAGS):
            return {k: self.encode(v, _join(path, k)) for k, v in zip(keys, obj.values())}
        return {_DICT: [[k, self.encode(v, _join(path, k))] for k, v in zip(keys, obj.values())]}

    def _key(self, key, path):
        if isinstance(key, np.generic):
            key = key.item()
        if key is None or isinstance(key, (str, int, float)):
            return key
        raise TypeError(
            f"{self.where}: dict keys must be str, int, float, bool or None, got "
            f"{type(key).__name__} {key!r} at '{path or '/'}'"
        )

    def _add_array(self, array, path):
        if id(array) in self.names_by_id:
            return self.names_by_id[id(array)]
        if array.dtype.name not in _DTYPES:
            raise TypeError(
                f"{self.where}: the array at '{path or '/'}' has dtype {array.dtype}, which "
                f"safetensors cannot store; supported: {', '.join(sorted(_DTYPES))}"
            )
        name, n = path or "_", 1
        # Keys containing '/' could collide with a nested path, and safetensors reserves the
        # name __metadata__ for its own header entry.
        while name in self.tensors or name == "__metadata__":
            n += 1
            name = f"{path or '_'}#{n}"
        # safetensors copies raw memory, so strides must be C (np.ascontiguousarray would turn
        # a 0-d array into 1-d).
        data = array if array.flags.c_contiguous else array.copy(order="C")
        if data.dtype.byteorder == ">":
            data = data.astype(data.dtype.newbyteorder("<"))
        self.tensors[name] = data
        self.names_by_id[id(array)] = name
        return name


def _join(path, key):
    return f"{path}/{key}" if path else str(key)


def _decode(node, tensors, where):
    if isinstance(node, list):
        return [_decode(v, tensors, where) for v in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        (tag, value), = node.items()
        if tag in (_ARRAY, _SCALAR):
            if value not in tensors:
                raise CheckpointError(f"{where}: the metadata refers to a missing tensor {value!r}")
            array = tensors[value]
            return array if tag == _ARRAY else array[()]
        if tag == _TUPLE:
            return tuple(_decode(v, tensors, where) for v in value)
        if tag == _DICT:
            return {k: _decode(v, tensors, where) for k, v in value}
        if tag == _DTYPE:
            return np.dtype(value)
    return {k: _decode(v, tensors, where) for k, v in node.items()}


def _checksum(document, tensors):
    """CRC-32 over the JSON document and every tensor's name, dtype, shape and bytes."""
    crc = zlib.crc32(document.encode())
    for name in sorted(tensors):
        array = tensors[name]
        crc = zlib.crc32(f"{name}|{array.dtype.str}|{array.shape}".encode(), crc)
        crc = zlib.crc32(array.reshape(-1).view(np.uint8), crc)
    return f"{crc:08x}"


# ------------------------------------------------------------------------------ atomic writing
def _write_all(file, data):
    """Stream ``data`` into ``file`` chunk by chunk (one place to hook in tests)."""
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK):
        file.write(view[start:start + _CHUNK])


def _atomic_write(path, data, where):
    # The lambda looks _write_all up at call time, so tests can hook into the middle of a write.
    atomic_write(path, lambda file: _write_all(file, data), where)


# ---------------------------------------------------------------------------------- save / load
def save(obj, path):
    """Save ``obj`` (nested dicts/lists/tuples of arrays, Tensors, numbers, strings, None) to
    ``path`` as a safetensors file, atomically.

    Arrays and Tensors become safetensors tensors (Tensors come back as NumPy arrays); dict keys
    may be str or int and are kept as they are; tuples stay tuples. Saving never uses pickle.

    >>> import os, tempfile, numpy as np, chainrule as cr
    >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
    >>> cr.save({"w": cr.tensor([1.0, 2.0]), "note": "hi"}, path)
    >>> cr.load(path)["w"]
    array([1., 2.], dtype=float32)
    """
    stnp = _safetensors_numpy()
    encoder = _Encoder("cr.save")
    tree = encoder.encode(obj, "")
    document = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree},
                          separators=(",", ":"))
    metadata = {"format": FORMAT, FORMAT: document,
                f"{FORMAT}.crc32": _checksum(document, encoder.tensors)}
    _atomic_write(path, stnp.save(encoder.tensors, metadata=metadata), "cr.save")


# Limits on what a file may ask of the reader before anything is allocated.
MAX_HEADER_BYTES = 100 * 1024 * 1024  # safetensors' own limit
MAX_NESTING = 100  # containers inside containers, in the header and in the chainrule document
_BUDGET_FACTOR, _BUDGET_SLACK = 2, 1 << 20  # a model may need 2x the file's tensors + 1 MiB


def _bad(path, what):
    return CheckpointError(f"cr.load: '{path}' is not a valid safetensors file: {what}")


def _read_header(path, data):
    """Check the safetensors framing ourselves, so each kind of damage gets a clear message."""
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise _bad(path, "it is a pickle file (e.g. from torch.save or pickle.dump); chainrule "
                         "never loads pickles because loading one can run arbitrary code")
    if data[:4] == b"PK\x03\x04":
        raise _bad(path, "it is a zip archive (e.g. a PyTorch .pt/.pth file from torch.save); "
                         "re-save the weights with safetensors")
    if len(data) < 8:
        raise _bad(path, f"the file has only {len(data)} bytes (truncated or empty)")
    size = int.from_bytes(data[:8], "little")
    if size > MAX_HEADER_BYTES and size <= len(data) - 8:
        raise _bad(path, f"the header claims {size} bytes, more than the {MAX_HEADER_BYTES} "
                         "a safetensors header may have")
    if size > len(data) - 8:
        if data[:1] in (b"{", b"["):
            raise _bad(path, "it looks like a JSON or text file, not a safetensors file")
        raise _bad(path, f"the header claims {size} bytes but the file has {len(data)} bytes "
                         "in all (truncated, or not a safetensors file)")
    header = _parse_json(bytes(data[8:8 + size]), path, "the header")
    if not isinstance(header, dict):
        raise _bad(path, "the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise _bad(path, "the header's __metadata__ is not a JSON object (corrupted)")
    end = 8 + size + _check_entries(path, header)
    if end > len(data):
        raise _bad(path, f"the tensors need {end} bytes but the file has {len(data)} "
                         "(truncated mid-way)")
    return metadata


def _parse_json(raw, path, what, fail=None):
    """json.loads with the library's errors (``fail(reason)``, default `_bad`) for bad bytes
    and absurd nesting."""
    fail = fail or (lambda reason: _bad(path, reason))
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as e:
        raise fail(f"{what} is not valid UTF-8 ({e}); the file is corrupted") from None
    if _nesting(text) > MAX_NESTING:
        raise fail(f"{what} is nested more than {MAX_NESTING} levels deep (crafted or "
                   "corrupted)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise fail(f"{what} is not valid JSON ({e}); the file is corrupted") from None
    except RecursionError:
        raise fail(f"{what} is nested too deeply (crafted or corrupted)") from None


def _nesting(text) -> int:
    """An upper bound on the bracket depth of a JSON text (strings not excluded), vectorised:
    a header of a million '[' is refused without a recursive parse."""
    if "[" not in text and "{" not in text:
        return 0
    codes = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    steps = np.zeros(len(codes), dtype=np.int32)
    steps[(codes == 0x5B) | (codes == 0x7B)] = 1
    steps[(codes == 0x5D) | (codes == 0x7D)] = -1
    depth = np.cumsum(steps, dtype=np.int64)
    return int(depth.max()) if len(depth) else 0


_ITEMSIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2,
             "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
             "C64": 8}


def _check_entries(path, header) -> int:
    """Every tensor entry: a known dtype, a shape of non-negative ints whose byte size equals
    its data_offsets span, inside the data. Returns the bytes the data section needs."""
    end = 0
    for name, entry in header.items():
        try:
            dtype, shape, (lo, hi) = entry["dtype"], entry["shape"], entry["data_offsets"]
            lo, hi = int(lo), int(hi)
            dims = [int(d) for d in shape]
        except (TypeError, KeyError, ValueError):
            raise _bad(path, f"the header entry {str(name)[:80]!r} does not describe a tensor "
                             "(corrupted)") from None
        if dtype not in _ITEMSIZE:
            raise _bad(path, f"tensor {str(name)[:80]!r} has an unknown dtype {dtype!r}")
        if any(d < 0 for d in dims) or lo < 0 or hi < lo:
            raise _bad(path, f"tensor {str(name)[:80]!r} has a negative size or offset")
        nbytes = _ITEMSIZE[dtype]
        for d in dims:  # exact integers: a crafted shape cannot overflow
            nbytes *= d
        if nbytes != hi - lo:
            raise _bad(path, f"tensor {str(name)[:80]!r} of shape {dims} and dtype {dtype} "
                             f"needs {nbytes} bytes but its offsets span {hi - lo}")
        end = max(end, hi)
    return end


def load(path):
    """Load a file written by :func:`save` (or any safetensors file) without running any code.

    Returns the saved object with NumPy arrays in place of arrays and Tensors. A safetensors file
    without chainrule metadata (for example PyTorch weights saved with safetensors) loads as a
    flat ``{name: ndarray}`` dict. Raises ``FileNotFoundError`` for a missing path and
    :class:`CheckpointError` for a corrupt, truncated or foreign file.

    >>> import os, tempfile, chainrule as cr
    >>> path = os.path.join(tempfile.mkdtemp(), "x.safetensors")
    >>> cr.save([1, None, "a"], path); cr.load(path)
    [1, None, 'a']
    """
    stnp = _safetensors_numpy()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, "cr.load: no such file", path)
    with open(path, "rb") as file:
        data = file.read()
    metadata = _read_header(path, data)
    try:
        tensors = stnp.load(data)
    except Exception as e:  # SafetensorError and whatever a malformed header leads to
        raise _bad(path, f"safetensors could not read the tensors ({e})") from None
    is_ours = metadata.get("format") == FORMAT or any(str(k).startswith(FORMAT) for k in metadata)
    if not is_ours:
        return tensors  # a plain safetensors file from another tool
    return _load_document(path, metadata, tensors)


def _load_document(path, metadata, tensors):
    where = f"cr.load: '{path}'"
    document = metadata.get(FORMAT)
    if metadata.get("format") != FORMAT or not isinstance(document, str):
        raise CheckpointError(f"{where}: the chainrule metadata is incomplete (file corrupted)")
    if metadata.get(f"{FORMAT}.crc32") != _checksum(document, tensors):
        raise CheckpointError(f"{where}: checksum mismatch, the file is corrupted")
    doc = _parse_json(document, path, "the chainrule metadata",
                      fail=lambda reason: CheckpointError(f"{where}: {reason}"))
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or "tree" not in doc:
        raise CheckpointError(f"{where}: the chainrule metadata has no format marker or tree")
    if not isinstance(doc.get("version"), int) or doc["version"] > VERSION:
        raise CheckpointError(
            f"{where}: written in chainrule file format version {doc.get('version')!r}, this "
            f"chainrule reads up to version {VERSION}; upgrade chainrule"
        )
    try:
        return _decode(doc["tree"], tensors, where)
    except CheckpointError:
        raise
    except (TypeError, ValueError, AttributeError) as e:
        raise CheckpointError(f"{where}: the chainrule metadata is malformed ({e})") from None


# --------------------------------------------------------------------------------- whole models
def save_model(model, path, metadata=None):
    """Save a model's architecture and weights, so :func:`load_model` rebuilds it without code.

    The architecture comes from ``chainrule.nn.serialize.module_to_config`` and works for
    models made of built-in layers (``Sequential`` of ``Linear``, activations, ...). ``metadata``
    is any saveable object (a dict of notes, metrics, ...), read back with
    ``cr.load(path)["metadata"]``. A model with a user-defined module cannot be described: save
    its weights with ``cr.save(model.state_dict(), path)`` and rebuild it in code instead.

    >>> import os, tempfile, chainrule as cr
    >>> net = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.ReLU())  # doctest: +SKIP
    >>> cr.save_model(net, "net.safetensors"); cr.load_model("net.safetensors")  # doctest: +SKIP
    """
    from chainrule.nn.serialize import module_to_config

    try:
        architecture = module_to_config(model)
    except Exception as e:
        raise TypeError(
            f"cr.save_model: cannot describe the architecture of {type(model).__name__} ({e}); "
            "save its weights with cr.save(model.state_dict(), path) and rebuild the model "
            "in code before model.load_state_dict(cr.load(path))"
        ) from e
    save({
        "kind": "model",
        "architecture": architecture,
        "training": bool(getattr(model, "training", True)),
        "state_dict": model.state_dict(),
        "metadata": metadata,
    }, path)


def load_model(path, registry=None):
    """Rebuild a model saved by :func:`save_model` (architecture, weights, train/eval mode).

    ``registry`` maps class names to classes for custom modules that define ``get_config()``
    (built-in layers need none), as in ``chainrule.nn.serialize.module_from_config``.

    >>> net = cr.load_model("net.safetensors")  # doctest: +SKIP
    >>> net = cr.load_model("custom.safetensors", registry={"MyBlock": MyBlock})  # doctest: +SKIP
    """
    obj = load(path)
    if not (isinstance(obj, dict) and obj.get("kind") == "model"):
        raise CheckpointError(
            f"cr.load_model: '{path}' holds no model architecture (it was not written by "
            "cr.save_model); read it with cr.load(path) and load the weights into a model "
            "built in code: model.load_state_dict(...)"
        )
    model = _build_bounded(path, obj.get("architecture"), obj.get("state_dict"), registry)
    model.load_state_dict(obj["state_dict"])
    if hasattr(model, "train"):
        model.train(obj.get("training", True))
    return model


def _arrays(tree):
    """The arrays of a loaded state dict (any nesting), iteratively."""
    stack, found = [tree], []
    while stack:
        node = stack.pop()
        if isinstance(node, np.ndarray):
            found.append(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return found


def _check_architecture(where, node, n_elements, n_arrays):
    """The architecture record before anything is built: a tree of at most MAX_NESTING levels
    and a bounded number of modules, whose integer settings (layer sizes) are no larger than
    the file's tensors could fill: a size bigger than the number of stored elements cannot
    be backed by weights."""
    bound = max(n_elements, 1 << 16)
    # The sizes of one layer multiply into its weights (in x out for Linear); however a layer
    # combines them, their product cannot be far above what the file stores.
    product_bound = 1024 * n_elements + (1 << 24)
    max_nodes = 16 * n_arrays + 4096
    stack, count = [(node, 1)], 0
    while stack:
        item, depth = stack.pop()
        if depth > MAX_NESTING:
            raise CheckpointError(f"{where}: the architecture is nested more than "
                                  f"{MAX_NESTING} levels deep")
        if isinstance(item, dict):
            count += 1
            sizes = [v for v in item.values()
                     if isinstance(v, int) and not isinstance(v, bool) and v > 1]
            product = 1
            for v in sizes:
                product *= min(v, bound + 1)
            if product > product_bound:
                raise CheckpointError(f"{where}: the architecture asks for a layer of sizes "
                                      f"{sizes}, far more than the {n_elements} elements the "
                                      "file's tensors hold")
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, (list, tuple)):
            count += 1
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > bound:
            raise CheckpointError(f"{where}: the architecture asks for a size of {item}, more "
                                  f"than the {n_elements} elements the file's tensors hold")
        if count > max_nodes:
            raise CheckpointError(f"{where}: the architecture has more than {max_nodes} "
                                  "entries for its tensors (crafted or corrupted)")


def _build_bounded(path, architecture, state_dict, registry):
    """Rebuild the architecture without letting the file make us allocate more than it holds:
    checked as data first, then built under an allocation budget of the stored bytes."""
    from chainrule._allocation import AllocationBudgetError, allocation_budget
    from chainrule.nn.serialize import module_from_config

    where = f"cr.load_model: '{path}'"
    if not isinstance(architecture, dict) or not isinstance(state_dict, dict):
        raise CheckpointError(f"{where}: the model record has no architecture or weights")
    arrays = _arrays(state_dict)
    stored = sum(a.nbytes for a in arrays)
    _check_architecture(where, architecture, sum(a.size for a in arrays), len(arrays))
    try:
        with allocation_budget(_BUDGET_FACTOR * stored + _BUDGET_SLACK, where):
            return module_from_config(architecture, registry)
    except AllocationBudgetError as e:
        raise CheckpointError(f"{e}, but the file stores {stored} bytes of weights") from None
    except (MemoryError, OverflowError) as e:
        raise CheckpointError(f"{where}: the architecture asks for absurd sizes ({e})") from None
    except (TypeError, ValueError, KeyError) as e:
        raise CheckpointError(f"{where}: cannot rebuild the architecture ({e})") from None


# ----------------------------------------------------------------------------- training state
def save_checkpoint(path, *, model, optimizer=None, scheduler=None, epoch=None, extra=None):
    """Save everything needed to resume training: the model's, optimizer's and scheduler's
    ``state_dict()``, the epoch, the library's RNG state and ``extra`` (any saveable object).

    >>> cr.io.save_checkpoint("ck.safetensors", model=net, optimizer=opt, epoch=5)  # doctest: +SKIP
    """
    save({
        "kind": "checkpoint",
        "model": model.state_dict() if model is not None else None,
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "epoch": epoch,
        "rng": get_rng_state(),  # PCG64's 128-bit ints: Python's json keeps them exact
        "extra": extra,
    }, path)


def load_checkpoint(path, *, model=None, optimizer=None, scheduler=None, restore_rng=True):
    """Restore a :func:`save_checkpoint` file in place and return its contents.

    Calls ``model.load_state_dict``, ``optimizer.load_state_dict`` and
    ``scheduler.load_state_dict`` for the objects given, restores the library's random generator
    (so the next shuffles and dropout masks are the ones the saved run would have drawn) and
    returns the dict with keys ``model, optimizer, scheduler, epoch, rng, extra``. Optimizer
    state comes back with its int keys and tuples (``betas``) as saved and arrays as ndarrays.

    >>> ckpt = cr.io.load_checkpoint("ckpt.safetensors", model=net, optimizer=opt)  # doctest: +SKIP
    >>> start_epoch = ckpt["epoch"] + 1  # doctest: +SKIP
    """
    ckpt = load(path)
    if not (isinstance(ckpt, dict) and ckpt.get("kind") == "checkpoint"):
        raise CheckpointError(
            f"load_checkpoint: '{path}' is not a training checkpoint (it was not written by "
            "save_checkpoint); read it with cr.load(path)"
        )
    for name, target in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler)):
        if target is None:
            continue
        if ckpt.get(name) is None:
            raise CheckpointError(f"load_checkpoint: '{path}' holds no {name} state")
        target.load_state_dict(ckpt[name])
    if restore_rng and ckpt.get("rng") is not None:
        set_rng_state(ckpt["rng"])
    return ckpt
