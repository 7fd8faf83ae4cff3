"""``cr.backends.mps``: Apple's GPU backend is not available (chainrule runs on NumPy)."""


def is_available():
    """False: chainrule has no MPS backend."""
    return False


def is_built():
    """False: chainrule was not built with MPS."""
    return False
