"""chainrule.ops.special.erf (Cody's rational approximations) against math.erf, the libm one."""

import math

import numpy as np
import pytest

from chainrule.ops.special import erf


def _reference(x):
    return np.array([math.erf(v) for v in x.ravel()]).reshape(x.shape)


def _max_relative_error(got, want):
    return float(np.max(np.abs(got - want) / np.maximum(np.abs(want), np.finfo(float).tiny)))


def test_erf_matches_libm_to_1e15_on_a_dense_grid():
    # Every interval of the approximation and its edges (0.46875, 4, 26.543), both signs.
    x = np.concatenate([
        np.linspace(-8.0, 8.0, 160_001),
        np.linspace(-30.0, 30.0, 6_001),
        [0.46875, np.nextafter(0.46875, 1), 4.0, np.nextafter(4.0, 5), 26.543, 26.6],
    ])
    x = np.concatenate([x, -x])
    assert _max_relative_error(erf(x), _reference(x)) < 1e-15


def test_erf_tiny_arguments_keep_full_relative_accuracy():
    # erf(x) ~ 2x/sqrt(pi): relative, not absolute, accuracy matters near zero.
    x = np.geomspace(1e-300, 0.5, 20_000)
    x = np.concatenate([x, -x, [5e-324, -5e-324]])  # subnormals too
    assert _max_relative_error(erf(x), _reference(x)) < 1e-15


def test_erf_special_values():
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e300, -1e300])
    got = erf(x)
    np.testing.assert_array_equal(got[[0, 1, 3, 4, 5, 6]], [1.0, -1.0, 0.0, 0.0, 1.0, -1.0])
    assert np.isnan(got[2])
    assert np.signbit(got[4]) and not np.signbit(got[3])  # erf(-0.0) = -0.0, as libm


def test_erf_is_odd_and_monotone():
    x = np.linspace(0, 7, 70_001)
    y = erf(x)
    np.testing.assert_array_equal(erf(-x), -y)
    assert np.all(np.diff(y) >= 0) and y[-1] == 1.0


@pytest.mark.parametrize("dtype,out", [(np.float32, np.float32), (np.float64, np.float64),
                                       (np.int64, np.float64), (np.float16, np.float16)])
def test_erf_dtypes_and_shapes(dtype, out):
    x = np.arange(-6, 6).reshape(3, 2, 2).astype(dtype)
    got = erf(x)
    assert got.dtype == out and got.shape == x.shape
    want = _reference(x.astype(np.float64))
    # computed in float64 (within an ulp or two of libm), then rounded once to the output dtype
    np.testing.assert_allclose(got, want.astype(out), rtol=1e-15 if out == np.float64 else 0)


def test_erf_of_0d_and_python_numbers():
    assert erf(np.array(1.0)).shape == ()
    assert float(erf(0.5)) == math.erf(0.5)
    assert float(erf(-2)) == math.erf(-2)
    assert erf(np.empty((0, 3))).shape == (0, 3)


def test_erf_raises_no_floating_point_warnings():
    # (underflow is left at NumPy's default "ignore": erf of a subnormal is a subnormal)
    x = np.array([0.0, -0.0, 1e-310, 0.3, 2.0, 5.0, 26.0, 27.0, 1e308, np.inf, -np.inf, np.nan])
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        erf(x)
        erf(x[3:6])
