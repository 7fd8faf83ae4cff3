"""Special functions the activations need, vectorised over NumPy arrays."""

import math

import numpy as np

_erf_scalar = np.frompyfunc(math.erf, 1, 1)


def erf(x):
    """The error function, elementwise, to double precision.

    >>> round(float(erf(np.array(1.0))), 12)
    0.842700792950
    """
    x = np.asarray(x)
    return _erf_scalar(x).astype(x.dtype if x.dtype.kind == "f" else np.float64)
