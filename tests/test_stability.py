"""Numerical stability: activations, the softmax family and the fused losses give finite values
and finite gradients, without a single NumPy RuntimeWarning, for inputs as large as ±1e4, in
float32 and float64 — and the values are the right ones (checked against PyTorch)."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule import ops

DTYPES = [np.float32, np.float64]
EXTREMES = np.array([-1e4, -1e3, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1e3, 1e4])
TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-12}}


def stable(fn, arrays, dtype, grad=None):
    """Run fn forward and backward with every warning an error; check all is finite; return
    the output and the gradients."""
    grad = [True] * len(arrays) if grad is None else grad
    xs = [cr.Tensor(np.asarray(a, dtype=dtype), requires_grad=g) for a, g in zip(arrays, grad)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fn(*xs)
        assert np.all(np.isfinite(out.data)), f"non-finite output {out.data}"
        assert out.dtype == dtype
        out.backward(np.ones(out.shape, dtype=dtype))
    grads = [x.grad.data if x.grad is not None else None for x in xs]
    for g, needs in zip(grads, grad):
        if needs:
            assert g is not None and np.all(np.isfinite(g)), f"non-finite gradient {g}"
    return out, grads


def torch_run(fn, arrays, dtype, grad=None):
    grad = [True] * len(arrays) if grad is None else grad
    ts = [torch.tensor(np.asarray(a, dtype=dtype), requires_grad=g) for a, g in zip(arrays, grad)]
    out = fn(*ts)
    out.backward(torch.ones_like(out))
    return out.detach().numpy(), [t.grad.numpy() if t.grad is not None else None for t in ts]


def agree(fn_cr, fn_torch, arrays, dtype, grad=None):
    out, grads = stable(fn_cr, arrays, dtype, grad)
    want, want_grads = torch_run(fn_torch, arrays, dtype, grad)
    np.testing.assert_allclose(out.data, want, **TOL[dtype], err_msg="forward")
    for i, (g, w) in enumerate(zip(grads, want_grads)):
        if w is not None:
            np.testing.assert_allclose(g, w, **TOL[dtype], err_msg=f"gradient {i}")
    return out, grads


# --------------------------------------------------------------------------- activations
ACTIVATIONS = {
    "sigmoid": (cr.sigmoid, torch.sigmoid),
    "softplus": (cr.softplus, F.softplus),
    "softplus(beta=2)": (lambda x: cr.softplus(x, beta=2.0), lambda t: F.softplus(t, beta=2.0)),
    "tanh": (cr.tanh, torch.tanh),
    "elu": (cr.elu, F.elu),
    "gelu": (cr.gelu, F.gelu),
    "gelu(tanh)": (lambda x: cr.gelu(x, approximate="tanh"),
                   lambda t: F.gelu(t, approximate="tanh")),
    "leaky_relu": (cr.leaky_relu, F.leaky_relu),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_at_extremes(name, dtype):
    agree(*ACTIVATIONS[name], [EXTREMES], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_and_softplus_saturate_exactly(dtype):
    s, (gs,) = stable(cr.sigmoid, [np.array([-1e4, 1e4])], dtype)
    assert s.tolist() == [0.0, 1.0] and gs.tolist() == [0.0, 0.0]
    sp, (gsp,) = stable(cr.softplus, [np.array([-1e4, 1e4])], dtype)
    assert sp.tolist() == [0.0, 1e4] and gsp.tolist() == [0.0, 1.0]


# --------------------------------------------------------------------------- softmax family
LOGITS = np.array([[1e4, -1e4, 0.0, 5.0],
                   [-1e4, -1e4, -1e4, -1e4],
                   [1e4, 1e4, 0.0, -1e4],
                   [3.0, -2.0, 1e3, 1.0]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_family_at_extremes(name, axis, dtype):
    fn = getattr(cr, name)
    tfn = getattr(torch, name)
    agree(lambda x: fn(x, axis=axis) * cr.Tensor(np.arange(1.0, 5.0, dtype=dtype)),
          lambda t: tfn(t, axis) * torch.arange(1.0, 5.0, dtype=t.dtype), [LOGITS], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_of_huge_equal_values(dtype):
    out, _ = stable(lambda x: cr.logsumexp(x), [np.array([1e4, 1e4])], dtype)
    assert out.item() == pytest.approx(1e4 + np.log(2), rel=1e-7)
    out, _ = stable(lambda x: cr.logsumexp(x, axis=0), [np.array([-1e4, -1e4])], dtype)
    assert out.item() == pytest.approx(-1e4 + np.log(2), rel=1e-7)


# --------------------------------------------------------------------------- fused losses
CE_CASES = {
    "plain": {},
    "sum": {"reduction": "sum"},
    "none": {"reduction": "none"},
    "smoothing": {"label_smoothing": 0.1},
    "weight+ignore": {"weight": np.array([1.0, 2.0, 0.5, 3.0]), "ignore_index": 1},
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CE_CASES)
def test_cross_entropy_at_extremes(case, dtype):
    kwargs = dict(CE_CASES[case])
    tk = {k: torch.tensor(v.astype(dtype)) if isinstance(v, np.ndarray) else v
          for k, v in kwargs.items()}
    if "weight" in kwargs:
        kwargs["weight"] = kwargs["weight"].astype(dtype)
    target = np.array([1, 3, 2, 0])  # the -1e4 class of row 0: a loss of 2e4
    agree(lambda x: ops.cross_entropy(x, cr.tensor(target), **kwargs),
          lambda t: F.cross_entropy(t, torch.tensor(target), **tk), [LOGITS], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_probability_targets_and_spatial_inputs_at_extremes(dtype):
    q = np.array([[0.0, 1.0, 0.0, 0.0], [0.25] * 4, [0.5, 0.5, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4]])
    agree(lambda x, p: ops.cross_entropy(x, p, label_smoothing=0.2),
          lambda t, p: F.cross_entropy(t, p, label_smoothing=0.2), [LOGITS, q], dtype)
    x = np.stack([LOGITS, -LOGITS], axis=-1)  # (N, C, 2)
    target = np.array([[1, 0], [3, 2], [2, 2], [0, 1]])
    agree(lambda x: ops.cross_entropy(x, cr.tensor(target)),
          lambda t: F.cross_entropy(t, torch.tensor(target)), [x], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_of_a_confidently_wrong_prediction_is_the_logit_gap(dtype):
    out, (g,) = stable(lambda x: ops.cross_entropy(x, cr.tensor([1])),
                       [np.array([[1e4, -1e4]])], dtype)
    assert out.item() == 2e4
    assert g.tolist() == [[1.0, -1.0]]


BCE_LOGIT_CASES = {
    "plain": {},
    "sum": {"reduction": "sum"},
    "pos_weight": {"pos_weight": np.array([3.0])},
    "weight none": {"weight": np.array([2.0]), "reduction": "none"},
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", BCE_LOGIT_CASES)
def test_bce_with_logits_at_extremes(case, dtype):
    kwargs = {k: v.astype(dtype) if isinstance(v, np.ndarray) else v
              for k, v in BCE_LOGIT_CASES[case].items()}
    tk = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    x = np.concatenate([EXTREMES, EXTREMES])
    y = np.concatenate([np.zeros_like(EXTREMES), np.ones_like(EXTREMES)])
    agree(lambda x, y: ops.binary_cross_entropy_with_logits(x, y, **kwargs),
          lambda x, y: F.binary_cross_entropy_with_logits(x, y, **tk), [x, y], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_on_saturated_probabilities_is_clamped_and_finite(dtype):
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-30, 1.0 - 1e-7])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0])
    out, _ = stable(lambda p, y: ops.binary_cross_entropy(p, y, reduction="none"), [p, y], dtype)
    want = F.binary_cross_entropy(torch.tensor(p.astype(dtype)), torch.tensor(y.astype(dtype)),
                                  reduction="none").numpy()
    np.testing.assert_allclose(out.data, want, rtol=1e-5)
    assert out.data.max() <= 100.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_mse_loss_at_extremes(dtype):
    agree(lambda a, b: ops.mse_loss(a, b), lambda a, b: F.mse_loss(a, b),
          [EXTREMES, -EXTREMES[::-1] * 0.5], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_with_every_target_ignored_is_nan_with_zero_gradient(dtype):
    """PyTorch's convention: mean over nothing is NaN, and the gradient is zero (not NaN)."""
    x = cr.Tensor(np.zeros((2, 3), dtype=dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = ops.cross_entropy(x, cr.tensor([1, 1]), ignore_index=1)
        loss.backward()
    assert np.isnan(loss.item())
    np.testing.assert_array_equal(x.grad.data, np.zeros((2, 3)))
