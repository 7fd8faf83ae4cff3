"""The array namespace and dtype defaults.

All array math of the core goes through ``xp`` (NumPy today), so another array library with the
NumPy API could be swapped in here without touching the ops.

>>> from chainrule.backend import xp, get_default_dtype
>>> xp.zeros(2, dtype=get_default_dtype()).dtype
dtype('float32')
"""

import numbers

import numpy as np

xp = np

float16 = np.float16
float32 = np.float32
float64 = np.float64
int32 = np.int32
int64 = np.int64
bool_ = np.bool_

# PyTorch's dtype names; ``chainrule/__init__`` exports them as ``cr.float``, ``cr.long``...
# (``cr.float`` is float32 as ``torch.float`` is, ``cr.int`` int32, ``cr.long`` int64). They are
# kept in a table here so this module does not shadow the builtins ``float``/``int``/``bool``.
TORCH_DTYPES = {
    "float": np.float32, "double": np.float64, "half": np.float16, "int8": np.int8,
    "int16": np.int16, "short": np.int16, "int": np.int32, "long": np.int64, "uint8": np.uint8,
    "bool": np.bool_, "complex64": np.complex64, "complex128": np.complex128,
    "cfloat": np.complex64, "cdouble": np.complex128,
}

_default = {"dtype": np.dtype(np.float32)}
_first_seed = int(np.random.SeedSequence().entropy % (2**63))  # fresh each run, as before
_rng = {"generator": np.random.default_rng(_first_seed), "seed": _first_seed}


def get_default_dtype():
    """The float dtype that Python floats and lists become (float32 unless changed).

    >>> get_default_dtype()
    dtype('float32')
    """
    return _default["dtype"]


def set_default_dtype(dtype):
    """Make Python floats and lists become ``dtype`` (float32 or float64).

    >>> set_default_dtype(np.float64); set_default_dtype(np.float32)
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default["dtype"] = dtype


def manual_seed(seed):
    """Seed every random draw of the library (initialisation, dropout, shuffling).

    ``seed`` is a non-negative integer (a Python or NumPy int); anything else raises
    TypeError or ValueError naming it, rather than being rounded or hashed.

    >>> manual_seed(0); a = get_rng().random(); manual_seed(0); a == get_rng().random()
    True
    >>> manual_seed(-1)
    Traceback (most recent call last):
    ...
    ValueError: manual_seed: seed must be a non-negative integer, got -1
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: seed must be an integer, got {seed!r} "
                        f"({type(seed).__name__})")
    if seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed}")
    _rng["generator"] = np.random.default_rng(int(seed))
    _rng["seed"] = int(seed)


def get_rng():
    """The library's random generator (a ``numpy.random.Generator``), reseeded by ``manual_seed``.

    >>> get_rng().integers(0, 1, 3).tolist()
    [0, 0, 0]
    """
    return _rng["generator"]


def get_rng_state():
    """The generator's state as a JSON-friendly dict (for checkpoints)."""
    return _rng["generator"].bit_generator.state


def set_rng_state(state):
    """Restore a state returned by :func:`get_rng_state`."""
    gen = np.random.default_rng()
    gen.bit_generator.state = state
    _rng["generator"] = gen


class Generator:
    """A random number generator object, as ``torch.Generator``: pass it as ``generator=`` to
    the random functions (``cr.rand``, ``cr.randn``, ``cr.randint``, ``cr.randperm``,
    ``cr.normal``, ``cr.multinomial``, ``cr.bernoulli``, ``nn.init``, ``DataLoader``) to draw
    from it instead of the library generator. It wraps a ``numpy.random.Generator`` (PCG64).

    ``get_state()`` returns NumPy's bit-generator state (a dict), not PyTorch's byte tensor;
    ``set_state`` accepts what ``get_state`` returned.

    >>> import chainrule as cr
    >>> g = cr.Generator().manual_seed(3)
    >>> a = cr.rand(2, generator=g); _ = g.manual_seed(3)
    >>> bool((a == cr.rand(2, generator=g)).all()), g.initial_seed()
    (True, 3)
    """

    def __init__(self, device="cpu"):
        from chainrule.device import check_device

        self.device = check_device(device, "Generator")
        self._initial_seed = _fresh_seed()
        self._rng = np.random.default_rng(self._initial_seed)

    def manual_seed(self, seed):
        """Reseed with the integer ``seed``; returns the generator (as in PyTorch)."""
        seed = _as_seed(seed, "Generator.manual_seed")
        self._initial_seed = seed
        self._rng = np.random.default_rng(seed)
        return self

    def seed(self):
        """Reseed from fresh entropy and return the seed used."""
        self.manual_seed(_fresh_seed())
        return self._initial_seed

    def initial_seed(self):
        """The seed the generator was last seeded with."""
        return self._initial_seed

    def get_state(self):
        """The bit generator's state (a dict), to restore later with :meth:`set_state`."""
        return self._rng.bit_generator.state

    def set_state(self, state):
        """Restore a state returned by :meth:`get_state`; returns the generator."""
        rng = np.random.default_rng()
        rng.bit_generator.state = state
        self._rng = rng
        return self

    def __repr__(self):
        return f"<chainrule.Generator seed={self._initial_seed}>"


def _fresh_seed():
    return int(np.random.SeedSequence().entropy % (2**63))


def _as_seed(seed, what):
    if isinstance(seed, np.ndarray) and seed.size == 1:
        seed = seed.item()
    if not isinstance(seed, numbers.Integral) or isinstance(seed, (bool, np.bool_)):
        raise TypeError(f"{what}: expected an integer seed, got {seed!r}")
    return seed.__index__() % (2**64)


class _DefaultGenerator(Generator):
    """``cr.default_generator``: the library generator seen as a :class:`Generator` (seeding it
    is ``cr.manual_seed``)."""

    def __init__(self):
        self.device = "cpu"

    @property
    def _rng(self):
        return _rng["generator"]

    @_rng.setter
    def _rng(self, rng):
        _rng["generator"] = rng

    @property
    def _initial_seed(self):
        return _rng.get("seed")

    @_initial_seed.setter
    def _initial_seed(self, seed):
        _rng["seed"] = seed

    def __repr__(self):
        return "<chainrule.default_generator (the library generator)>"


default_generator = _DefaultGenerator()


def rng_of(generator, what="random"):
    """The ``numpy.random.Generator`` to draw from: the library one, or ``generator``'s."""
    if generator is None:
        return _rng["generator"]
    if isinstance(generator, Generator):
        return generator._rng
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"{what}: generator must be a cr.Generator, got {type(generator).__name__}")
