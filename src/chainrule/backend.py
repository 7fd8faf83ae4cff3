"""The array namespace and dtype defaults.

All array math of the core goes through ``xp`` (NumPy today), so another array library with the
NumPy API could be swapped in here without touching the ops.

>>> from chainrule.backend import xp, get_default_dtype
>>> xp.zeros(2, dtype=get_default_dtype()).dtype
dtype('float32')
"""

import numpy as np

xp = np

float16 = np.float16
float32 = np.float32
float64 = np.float64
int32 = np.int32
int64 = np.int64
bool_ = np.bool_

_default = {"dtype": np.dtype(np.float32)}
_rng = {"generator": np.random.default_rng()}


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
