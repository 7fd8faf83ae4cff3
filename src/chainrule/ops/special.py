"""Special functions the activations need, vectorised over NumPy arrays.

``erf`` follows W. J. Cody's near-minimax rational approximations:

    W. J. Cody, "Rational Chebyshev approximations for the error function",
    Mathematics of Computation 23 (1969), pp. 631-638;
    coefficients as published in Cody's SPECFUN package, routine CALERF
    (http://www.netlib.org/specfun/erf, latest modification March 19, 1990).

Three intervals of ``y = |x|``:

* ``y <= 0.46875``:  ``erf(x) = x · A(y²) / B(y²)``;
* ``0.46875 < y <= 4``:  ``erfc(y) = e^(-y²) · C(y) / D(y)``;
* ``y > 4``:  ``erfc(y) = e^(-y²) / y · (1/√π − z·P(z)/Q(z))`` with ``z = 1/y²``;

then ``erf(x) = sign(x) · (1 − erfc(y))``. ``e^(-y²)`` is computed as ``e^(-s²) · e^(-(y−s)(y+s))``
with ``s = y`` rounded down to a multiple of 1/16, so that ``y²`` adds no rounding error.
Accurate to a few ulp (≤ 1e-15 relative) in float64 on the whole real line.
"""

import numpy as np

# Interval 1, |x| <= 0.46875: erf(x) ~ x * (A0 + A1 y² + ... + A4 y⁸) / (B0 + ... + y⁸).
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
      3.20937758913846947e03, 1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03)
# Interval 2, 0.46875 < |x| <= 4: erfc(y) ~ exp(-y²) * C(y) / D(y).
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
      2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
      2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)
# Interval 3, |x| > 4: erfc(y) ~ exp(-y²)/y * (1/sqrt(pi) - z P(z) / Q(z)), z = 1/y².
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
      1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3)

_SQRPI = 5.6418958354775628695e-1  # 1/sqrt(pi)
_THRESH = 0.46875
_XSMALL = 1.11e-16  # below this, 1 + x² == 1
# Cody's XBIG = 26.543 is where erfc underflows; erf itself is exactly ±1.0 in float64 from
# |x| ≈ 5.93 on (erfc < 2^-54), so the third interval is only evaluated up to 6.
_ONE_BEYOND = 6.0

# The loops below work in place: on arrays of a million elements, fresh temporaries for every
# Horner step cost more (page faults) than the arithmetic itself.


def _erf_small(x):
    """erf on |x| <= 0.46875 (Cody's first interval; the odd part keeps the sign)."""
    # Below XSMALL, erf(x) = x·A3/B3 = 2x/√π to double precision; skipping x² avoids underflow.
    ysq = np.zeros_like(x)
    np.multiply(x, x, out=ysq, where=np.abs(x) > _XSMALL)
    num = ysq * _A[4]
    den = ysq.copy()
    for i in range(3):
        num += _A[i]
        num *= ysq
        den += _B[i]
        den *= ysq
    num += _A[3]
    den += _B[3]
    num *= x
    num /= den
    return num


def _exp_minus_square(y):
    """``e^(-y²)`` without the rounding error of forming ``y²`` (Cody's split at 1/16):
    ``e^(-s²) · e^(-(y-s)(y+s))`` with ``s = trunc(16 y) / 16``, whose square is exact."""
    s = y * 16.0
    np.trunc(s, out=s)
    s /= 16.0
    d = y - s
    d *= y + s
    np.negative(d, out=d)
    np.exp(d, out=d)
    s *= s
    np.negative(s, out=s)
    np.exp(s, out=s)
    s *= d
    return s


def _erfc_mid(y):
    """erfc on 0.46875 < y <= 4 (second interval)."""
    num = y * _C[8]
    den = y.copy()
    for i in range(7):
        num += _C[i]
        num *= y
        den += _D[i]
        den *= y
    num += _C[7]
    den += _D[7]
    num /= den
    num *= _exp_minus_square(y)
    return num


def _erfc_large(y):
    """erfc on 4 < y (third interval), in terms of z = 1/y²."""
    z = y * y
    np.reciprocal(z, out=z)
    num = z * _P[5]
    den = z.copy()
    for i in range(4):
        num += _P[i]
        num *= z
        den += _Q[i]
        den *= z
    num += _P[4]
    den += _Q[4]
    num *= z
    num /= den
    np.subtract(_SQRPI, num, out=num)
    num /= y
    num *= _exp_minus_square(y)
    return num


def _one_minus(erfc, sign):
    """``sign · (1 − erfc)``, with 1 − erfc written as Cody writes it: (0.5 − erfc) + 0.5."""
    np.subtract(0.5, erfc, out=erfc)
    erfc += 0.5
    return np.copysign(erfc, sign, out=erfc)


def _erf_block(x):
    """erf of a 1-D float64 block, written into a new array."""
    y = np.abs(x)
    small = y <= _THRESH
    if small.all():  # the common case of small activations: one interval only
        return _erf_small(x)
    # From |x| = 6 on (and at ±inf) erf is ±1.0; NaN stays NaN (sign(nan) = nan).
    out = np.sign(x)
    i = np.flatnonzero(small)
    out[i] = _erf_small(x[i])
    i = np.flatnonzero((y > _THRESH) & (y <= 4.0))
    if i.size:
        out[i] = _one_minus(_erfc_mid(y[i]), x[i])
    i = np.flatnonzero((y > 4.0) & (y < _ONE_BEYOND))
    if i.size:
        out[i] = _one_minus(_erfc_large(y[i]), x[i])
    return out


# Large arrays are processed in blocks that fit in cache: the ~50 passes over a block then
# touch warm memory, and its small temporaries are recycled by malloc instead of page-faulted.
_BLOCK = 8192


def erf(x):
    """The error function ``2/√π ∫₀ˣ e^(−t²) dt``, elementwise, to float64 precision.

    Float inputs keep their dtype (float32 is computed in float64 and rounded); other inputs
    give float64. ``erf(±inf) = ±1`` and NaN stays NaN.

    >>> round(float(erf(np.array(1.0))), 12)
    0.84270079295
    >>> erf(np.array([-np.inf, 0.0, np.inf])).tolist()
    [-1.0, 0.0, 1.0]
    """
    x = np.asarray(x)
    out_dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    xd = x.astype(np.float64, copy=False).reshape(-1)  # 1-D (0-d inputs too)
    if xd.size <= _BLOCK:
        out = _erf_block(xd)
    else:
        out = np.empty(xd.size, dtype=out_dtype)
        for i in range(0, xd.size, _BLOCK):
            out[i:i + _BLOCK] = _erf_block(xd[i:i + _BLOCK])
    return out.reshape(x.shape).astype(out_dtype, copy=False)
