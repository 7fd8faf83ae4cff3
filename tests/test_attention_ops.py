"""The fused ``layer_norm`` and attention primitives (ops/layer_norm.py, ops/attention.py):
PyTorch's ``F.layer_norm`` / ``F.scaled_dot_product_attention`` as the oracle (forward, every
input gradient under a random upstream gradient, float64 rtol 1e-10; float32 1e-5), finite
differences, masks (boolean, float, causal, broadcast, fully masked rows), dropout, errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.ops.attention import attention_weights, packed_attention


# --------------------------------------------------------------------------- layer_norm
@pytest.mark.parametrize("shape,normalized", [((4, 6), 6), ((2, 3, 5), (5,)),
                                              ((2, 3, 4), (3, 4)), ((7,), 7)])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_layer_norm_matches_torch(oracle, rng, shape, normalized, affine, dtype):
    ns = (normalized,) if isinstance(normalized, int) else normalized
    arrays = [rng.normal(1.0, 2.0, shape)]
    if affine != "none":
        arrays.append(rng.uniform(0.5, 2.0, ns))
    if affine == "both":
        arrays.append(rng.normal(size=ns))

    def ours(x, w=None, b=None):
        return F.layer_norm(x, normalized, w, b, eps=1e-5)

    def theirs(x, w=None, b=None):
        return TF.layer_norm(x, ns, w, b, eps=1e-5)

    out = oracle(ours, theirs, arrays, dtype=dtype)
    assert out.op == "layer_norm" and len(out.parents) == len(arrays)  # one fused node


@given(st.lists(st.integers(1, 5), min_size=1, max_size=3), st.integers(1, 3))
def test_layer_norm_rows_have_zero_mean_and_unit_variance(batch, k):
    shape = tuple(batch) + (4,) * k
    x = np.random.default_rng(len(shape)).normal(3.0, 5.0, shape)
    y = F.layer_norm(cr.tensor(x), (4,) * k, eps=0.0).data.reshape(-1, 4 ** k)
    np.testing.assert_allclose(y.mean(axis=1), 0, atol=1e-10)
    np.testing.assert_allclose(y.var(axis=1), 1, rtol=1e-8)


def test_layer_norm_gradient_is_not_the_naive_scaling(rng):
    """The mean and the variance depend on x: dx sums to zero over each row."""
    x = cr.tensor(rng.normal(size=(3, 5)), requires_grad=True)
    F.layer_norm(x, 5).backward(rng.normal(size=(3, 5)))
    np.testing.assert_allclose(x.grad.data.sum(axis=1), 0, atol=1e-12)


def test_layer_norm_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"layer_norm: input of shape \(2, 3\) does not end with "
                                         r"normalized_shape \(4,\)"):
        F.layer_norm(cr.ones(2, 3), 4)
    with pytest.raises(ValueError, match=r"weight has shape \(2,\), expected \(3,\)"):
        F.layer_norm(cr.ones(2, 3), 3, weight=cr.ones(2))


# --------------------------------------------------------------------------- attention
def _qkv(rng, batch=(2, 3), L=4, S=5, E=6, Ev=3):
    return (rng.normal(size=batch + (L, E)), rng.normal(size=batch + (S, E)),
            rng.normal(size=batch + (S, Ev)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scale", [None, 0.3])
def test_sdpa_matches_torch_without_mask(oracle, rng, dtype, scale):
    out = oracle(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, scale=scale),
                 lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, scale=scale),
                 _qkv(rng), dtype=dtype)
    assert out.op == "scaled_dot_product_attention"


def test_sdpa_causal_matches_torch(oracle, rng):
    oracle(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
           lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True),
           _qkv(rng, L=5, S=5))


@pytest.mark.parametrize("mask_shape", [(4, 5), (2, 1, 4, 5), (2, 3, 4, 5), (1, 5)])
def test_sdpa_boolean_mask_true_means_may_attend(oracle, rng, mask_shape):
    mask = rng.random(mask_shape) > 0.3
    mask[..., 0] = True  # every query sees at least one key
    mask_t = torch.from_numpy(mask)
    oracle(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
           lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, attn_mask=mask_t),
           _qkv(rng))


def test_sdpa_float_mask_is_added_and_gets_its_gradient(oracle, rng):
    q, k, v = _qkv(rng)
    mask = rng.normal(size=(2, 1, 4, 5))
    oracle(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
           lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m),
           [q, k, v, mask])


def test_sdpa_broadcasts_batch_dims_of_keys_and_values(oracle, rng):
    q = rng.normal(size=(2, 3, 4, 6))
    k, v = rng.normal(size=(1, 3, 5, 6)), rng.normal(size=(1, 3, 5, 2))

    def theirs(q, k, v):  # the math PyTorch runs (its fused CPU kernels need equal batch dims)
        return torch.softmax(q @ k.transpose(-1, -2) / np.sqrt(6), -1) @ v

    oracle(F.scaled_dot_product_attention, theirs, [q, k, v])


def test_fully_masked_rows_give_zeros_as_torch(rng):
    """PyTorch 2.13's F.scaled_dot_product_attention gives a zero output and zero gradients for
    a query that may attend to nothing (its "safe softmax"), not NaN."""
    q, k, v = _qkv(rng)
    mask = np.ones((4, 5), dtype=bool)
    mask[1] = False
    ours = [cr.tensor(a, requires_grad=True) for a in (q, k, v)]
    theirs = [torch.from_numpy(a).requires_grad_() for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*ours, attn_mask=mask)
    tout = TF.scaled_dot_product_attention(*theirs, attn_mask=torch.from_numpy(mask))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert np.all(out.data[:, :, 1] == 0)
    g = rng.normal(size=out.shape)
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert np.all(ours[0].grad.data[:, :, 1] == 0)


def test_attention_weights_unsafe_rows_are_nan_like_multihead_attention(rng):
    q, k, _ = _qkv(rng)
    mask = np.ones((4, 5), dtype=bool)
    mask[2] = False
    w = attention_weights(cr.tensor(q), cr.tensor(k), attn_mask=mask, safe=False).data
    assert np.isnan(w[:, :, 2]).all() and not np.isnan(np.delete(w, 2, axis=2)).any()
    safe = attention_weights(cr.tensor(q), cr.tensor(k), attn_mask=mask).data
    assert np.all(safe[:, :, 2] == 0)
    np.testing.assert_allclose(safe.sum(-1)[:, :, [0, 1, 3]], 1)


def test_attention_weights_match_torch_softmax(oracle, rng):
    q, k, _ = _qkv(rng)
    mask = rng.normal(size=(4, 5))
    mt = torch.from_numpy(mask)
    oracle(lambda q, k: attention_weights(q, k, attn_mask=mask),
           lambda q, k: torch.softmax(q @ k.transpose(-1, -2) / np.sqrt(6) + mt, -1), [q, k])


@pytest.mark.parametrize("causal", [True, False])
def test_packed_attention_is_split_heads_sdpa_merge(oracle, rng, causal):
    N, L, H, D = 2, 5, 3, 4
    qkv = rng.normal(size=(N, L, 3 * H * D))

    def theirs(x):
        q, k, v = x.reshape(N, L, 3, H, D).permute(2, 0, 3, 1, 4)
        o = TF.scaled_dot_product_attention(q, k, v, is_causal=causal)
        return o.transpose(1, 2).reshape(N, L, H * D)

    oracle(lambda x: packed_attention(x, H, is_causal=causal), theirs, [qkv])


def test_sdpa_dropout_is_seeded_and_matches_the_weights_it_drops(rng):
    q, k, v = (cr.tensor(a, requires_grad=True) for a in _qkv(rng))
    cr.manual_seed(3)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    cr.manual_seed(3)
    again = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    np.testing.assert_array_equal(out.data, again.data)
    # the same draw through the two-node composition: the same output and gradients
    cr.manual_seed(3)
    composed = cr.matmul(attention_weights(q, k, dropout_p=0.4), v)
    np.testing.assert_allclose(out.data, composed.data, rtol=1e-12)
    g = rng.normal(size=out.shape)
    out.backward(g)
    fused = [t.grad.data.copy() for t in (q, k, v)]
    for t in (q, k, v):
        t.grad = None
    composed.backward(g)
    for a, t in zip(fused, (q, k, v)):
        np.testing.assert_allclose(a, t.grad.data, rtol=1e-10, atol=1e-12)
    plain = F.scaled_dot_product_attention(q, k, v)
    assert not np.allclose(out.data, plain.data)


def test_sdpa_dropout_keeps_the_expected_weights():
    cr.manual_seed(0)
    w = attention_weights(cr.zeros(1, 200, 4), cr.zeros(1, 50, 4), dropout_p=0.5).data
    np.testing.assert_allclose(np.unique(w), [0.0, 0.04], rtol=1e-6)  # 1/50 scaled by 2
    assert abs(w.mean() - 0.02) < 0.002


def test_gradcheck_of_masked_attention(rng):
    q, k, v = (cr.tensor(a, requires_grad=True) for a in _qkv(rng, batch=(2,), L=3, S=4, E=2))
    m = cr.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    assert cr.gradcheck(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m),
                        [q, k, v, m])


def test_float32_stays_float32(rng):
    q, k, v = (cr.tensor(a.astype(np.float32)) for a in _qkv(rng))
    assert F.scaled_dot_product_attention(q, k, v, is_causal=True).dtype == np.float32
    assert F.layer_norm(q, 6).dtype == np.float32


def test_attention_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"query of shape \(2, 4, 6\) and key of shape "
                                         r"\(2, 5, 3\)"):
        F.scaled_dot_product_attention(cr.ones(2, 4, 6), cr.ones(2, 5, 3), cr.ones(2, 5, 3))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 5\) cannot be broadcast to "
                                         r"the attention scores of shape \(2, 4, 5\)"):
        F.scaled_dot_product_attention(cr.ones(2, 4, 6), cr.ones(2, 5, 6), cr.ones(2, 5, 6),
                                       attn_mask=np.ones((3, 5), bool))
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(cr.ones(1, 2, 2), cr.ones(1, 2, 2), cr.ones(1, 2, 2),
                                       attn_mask=np.ones((2, 2), bool), is_causal=True)
    with pytest.raises(ValueError, match="dropout_p must be between 0 and 1, got 1.5"):
        F.scaled_dot_product_attention(cr.ones(1, 2, 2), cr.ones(1, 2, 2), cr.ones(1, 2, 2),
                                       dropout_p=1.5)
