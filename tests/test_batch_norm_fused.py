"""The fused ``batch_norm`` primitive (ops/nn_ops.py): finite differences, PyTorch's
``F.batch_norm`` as the oracle for the input, weight and bias gradients, dtypes, and the running
statistics that the functional keeps outside the graph."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
from chainrule import nn
from chainrule.nn.normalization import batch_norm as functional_batch_norm
from chainrule.ops.nn_ops import batch_norm

SHAPES = [(6, 3), (5, 3, 4)]  # (N, C) and (N, C, L)


def _running(seed=7, channels=3):
    r = np.random.default_rng(seed)
    return r.normal(size=channels), r.uniform(0.5, 2.0, channels)


def _inputs(shape, seed=0):
    r = np.random.default_rng(seed)
    x = r.normal(loc=1.5, scale=2.0, size=shape)
    return x, r.uniform(0.5, 2.0, shape[1]), r.normal(size=shape[1])


# --------------------------------------------------------------------------- gradcheck
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_gradcheck_of_the_primitive(shape, affine, training):
    x, w, b = _inputs(shape)
    rm, rv = _running()
    xs = [cr.tensor(x, requires_grad=True)]
    if affine:
        xs += [cr.tensor(w, requires_grad=True), cr.tensor(b, requires_grad=True)]

    def fn(x, w=None, b=None):
        return batch_norm(x, w, b, rm, rv, training=training)

    assert cr.gradcheck(fn, xs)


def test_gradcheck_catches_the_mean_and_variance_paths():
    """In training dx is not γ·r·g: the batch mean and variance depend on x too."""
    x = cr.tensor(_inputs((6, 3))[0], requires_grad=True)
    y = batch_norm(x)
    g = np.random.default_rng(1).normal(size=(6, 3))
    y.backward(g)
    naive = g / np.sqrt(x.data.var(axis=0) + 1e-5)
    assert not np.allclose(x.grad.data, naive)
    np.testing.assert_allclose(x.grad.data.sum(axis=0), 0, atol=1e-12)  # shift invariance


# --------------------------------------------------------------------------- PyTorch oracle
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_input_weight_bias_gradients_match_torch(oracle, shape, training, dtype):
    x, w, b = _inputs(shape, seed=3)
    rm, rv = _running()
    rm, rv = rm.astype(dtype), rv.astype(dtype)

    def ours(x, w, b):
        return batch_norm(x, w, b, rm, rv, training=training, eps=1e-3)

    def theirs(x, w, b):
        return TF.batch_norm(x, torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy()), w, b,
                             training=training, eps=1e-3)

    oracle(ours, theirs, [x, w, b], dtype)


@pytest.mark.parametrize("shape", SHAPES)
def test_without_affine_matches_torch(oracle, shape):
    x = _inputs(shape, seed=4)[0]
    oracle(lambda x: batch_norm(x), lambda x: TF.batch_norm(x, None, None, training=True), [x])


def test_weight_and_bias_gradients_when_the_input_needs_none(oracle):
    x, w, b = _inputs((8, 3), seed=5)
    oracle(lambda x, w, b: batch_norm(x, w, b),
           lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True),
           [x, w, b], grad=[False, True, True])


# --------------------------------------------------------------------------- dtypes and graph
@pytest.mark.parametrize("shape", SHAPES)
def test_float32_stays_float32(shape):
    bn = nn.BatchNorm1d(3)
    x = cr.tensor(_inputs(shape)[0].astype(np.float32), requires_grad=True)
    y = bn(x)
    assert y.dtype == np.float32
    y.backward(np.ones(shape, dtype=np.float32))
    for t in (x.grad, bn.weight.grad, bn.bias.grad, bn.running_mean, bn.running_var):
        assert t.dtype == np.float32
    bn.eval()
    assert bn(x).dtype == np.float32


def test_batchnorm1d_is_one_node_over_input_weight_and_bias():
    bn = nn.BatchNorm1d(3)
    x = cr.randn(4, 3, requires_grad=True)
    y = bn(x)
    assert y.op == "batch_norm"
    assert y.parents == (x, bn.weight, bn.bias)
    assert nn.BatchNorm1d(3, affine=False)(x).parents == (x,)


def test_backward_twice_with_retain_graph_doubles_the_gradients():
    x = cr.tensor(_inputs((5, 3, 2))[0], requires_grad=True)
    w = cr.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = batch_norm(x, w)
    g = np.random.default_rng(2).normal(size=y.shape)
    y.backward(g, retain_graph=True)
    first = x.grad.data.copy(), w.grad.data.copy()
    y.backward(g)
    np.testing.assert_allclose(x.grad.data, 2 * first[0], rtol=1e-12)
    np.testing.assert_allclose(w.grad.data, 2 * first[1], rtol=1e-12)


def test_return_stats_gives_batch_mean_and_biased_variance():
    x = _inputs((7, 3, 2))[0]
    _, mean, var = batch_norm(cr.tensor(x), return_stats=True)
    np.testing.assert_allclose(mean, x.mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(var, x.var(axis=(0, 2)), rtol=1e-12)


# --------------------------------------------------------------------------- running statistics
@pytest.mark.parametrize("shape", SHAPES)
def test_functional_updates_running_stats_like_torch(shape):
    x = _inputs(shape, seed=6)[0].astype(np.float32)
    rm, rv = (a.astype(np.float32) for a in _running())
    trm, trv = torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy())
    y = functional_batch_norm(cr.tensor(x), rm, rv, training=True, momentum=0.3)
    ty = TF.batch_norm(torch.from_numpy(x), trm, trv, training=True, momentum=0.3)
    np.testing.assert_allclose(y.data, ty.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rm, trm.numpy(), rtol=1e-6)
    np.testing.assert_allclose(rv, trv.numpy(), rtol=1e-6)  # unbiased variance
    assert rm.dtype == rv.dtype == np.float32


def test_cumulative_average_when_momentum_is_none():
    bn = nn.BatchNorm1d(2, momentum=None, dtype=cr.float64)
    batches = [np.random.default_rng(s).normal(loc=s, size=(4, 2)) for s in range(3)]
    for b in batches:
        bn(cr.tensor(b))
    np.testing.assert_allclose(bn.running_mean.data, np.mean([b.mean(0) for b in batches], 0))
    # the first batch has factor 1/1: the initial ones are forgotten, not averaged in
    np.testing.assert_allclose(bn.running_var.data, np.mean([b.var(0, ddof=1) for b in batches], 0))
    assert int(bn.num_batches_tracked.data) == 3


def test_eval_leaves_running_stats_alone_and_uses_them():
    rm, rv = _running()
    before = rm.copy(), rv.copy()
    x = _inputs((4, 3))[0]
    y = functional_batch_norm(cr.tensor(x), rm, rv, training=False)
    np.testing.assert_allclose(y.data, (x - rm) / np.sqrt(rv + 1e-5), rtol=1e-12)
    assert np.array_equal(rm, before[0]) and np.array_equal(rv, before[1])


# --------------------------------------------------------------------------- errors
def test_errors_name_the_op_and_shapes():
    x = cr.ones(4, 3)
    with pytest.raises(ValueError, match=r"batch_norm: expected a 2-D.*\(4,\)"):
        batch_norm(cr.ones(4))
    with pytest.raises(ValueError, match="running_mean and running_var are needed"):
        batch_norm(x, training=False)
    with pytest.raises(ValueError, match=r"batch_norm: weight has shape \(2,\), expected \(3,\)"):
        batch_norm(x, cr.ones(2))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        batch_norm(cr.ones(1, 3, 1))
    with pytest.raises(TypeError, match="floating-point input"):
        batch_norm(cr.tensor([[1, 2], [3, 4]]))
