"""``cr.cuda``: what PyTorch programs ask about the GPU. chainrule runs on the CPU with NumPy, so
there is none; these answer as PyTorch does on a machine without one.

>>> import chainrule as cr
>>> cr.cuda.is_available(), cr.cuda.device_count()
(False, 0)
"""

_MESSAGE = "chainrule runs on the CPU with NumPy; CUDA is not available"


def is_available():
    """False: chainrule has no GPU backend."""
    return False


def device_count():
    """0: no CUDA devices."""
    return 0


def is_initialized():
    """False: there is nothing to initialise."""
    return False


def manual_seed(seed):
    """Accepted and ignored (no CUDA generator), as PyTorch does without a GPU."""


def manual_seed_all(seed):
    """Accepted and ignored (no CUDA generator), as PyTorch does without a GPU."""


def synchronize(device=None):
    """Nothing to wait for on the CPU."""


def empty_cache():
    """Nothing to release."""


def current_device():
    """Raises: there is no current CUDA device."""
    raise RuntimeError(f"cuda.current_device: {_MESSAGE}")


def get_device_name(device=None):
    """Raises: there is no CUDA device to name."""
    raise RuntimeError(f"cuda.get_device_name: {_MESSAGE}")
