"""LayerNorm, MultiheadAttention, TransformerEncoderLayer and TransformerEncoder against
PyTorch's modules: each loads the torch module's state_dict (NumPy arrays) unchanged, then
forward, input gradients and every parameter gradient agree under a random upstream gradient
(float64, rtol 1e-10). PyTorch runs in training mode with dropout 0, so its inference fast
path (and nested tensors) is not what we compare against."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.torch_interop import from_torch_state_dict

TOL = {"rtol": 1e-10, "atol": 1e-12}


def _twin(ours, theirs):
    """Load torch's weights into ours (float64), both in training mode."""
    theirs.double().train()
    ours.double()
    missing = ours.load_state_dict(from_torch_state_dict(theirs))
    assert missing == ([], []) and list(ours.state_dict()) == list(theirs.state_dict())
    return ours, theirs


def _compare(ours, theirs, inputs, call_ours, call_theirs, seed=0):
    """Forward, then backward a random gradient through the first output; compare outputs,
    input gradients and parameter gradients. ``inputs`` is a list of arrays (float ones get
    gradients); returns our outputs."""
    xs = [cr.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    ts = [torch.from_numpy(a.copy()).requires_grad_(a.dtype.kind == "f") for a in inputs]
    out = call_ours(*xs)
    tout = call_theirs(*ts)
    out = out if isinstance(out, tuple) else (out,)
    tout = tout if isinstance(tout, tuple) else (tout,)
    for a, b in zip(out, tout):
        if b is None:
            assert a is None
            continue
        np.testing.assert_allclose(a.data, b.detach().numpy(), **TOL, err_msg="forward")
    rng = np.random.default_rng(seed)
    loss, tloss = 0, 0
    for a, b in zip(out, tout):  # every output (attention weights too) carries a gradient
        if b is None:
            continue
        g = rng.normal(size=a.shape)
        loss = loss + (a * cr.tensor(g)).sum()
        tloss = tloss + (b * torch.from_numpy(g)).sum()
    loss.backward()
    tloss.backward()
    for i, (x, t) in enumerate(zip(xs, ts)):
        if t.requires_grad:
            np.testing.assert_allclose(x.grad.data, t.grad.numpy(), **TOL,
                                       err_msg=f"gradient of input {i}")
    theirs_params = dict(theirs.named_parameters())
    ours_params = dict(ours.named_parameters())
    assert set(ours_params) == set(theirs_params)
    for name, p in ours_params.items():
        np.testing.assert_allclose(p.grad.data, theirs_params[name].grad.numpy(), **TOL,
                                   err_msg=f"gradient of {name}")
    return out


# --------------------------------------------------------------------------- LayerNorm
@pytest.mark.parametrize("shape,kwargs", [((4, 6), {}), ((2, 3, 4), {"bias": False}),
                                          ((2, 3, 4), {"elementwise_affine": False})])
def test_layer_norm_module_matches_torch(rng, shape, kwargs):
    ns = shape[-1:] if "bias" not in kwargs else shape[1:]
    theirs = torch.nn.LayerNorm(ns, eps=1e-6, **kwargs)
    if theirs.weight is not None:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
            if theirs.bias is not None:
                theirs.bias.normal_()
    ours, theirs = _twin(nn.LayerNorm(ns, eps=1e-6, **kwargs), theirs)
    x = rng.normal(size=shape)
    _compare(ours, theirs, [x], ours, theirs)


# --------------------------------------------------------------------------- MultiheadAttention
def _mha_pair(seed=0, **kwargs):
    torch.manual_seed(seed)
    theirs = torch.nn.MultiheadAttention(**kwargs)
    with torch.no_grad():  # non-zero biases, so that a wrong bias path shows
        for name, p in theirs.named_parameters():
            if "bias" in name:
                p.normal_()
    return _twin(nn.MultiheadAttention(**kwargs), theirs)


MHA_CASES = [
    dict(batch_first=True, need_weights=True, average_attn_weights=True),
    dict(batch_first=False, need_weights=True, average_attn_weights=False),
    dict(batch_first=True, need_weights=False),
    dict(batch_first=False, need_weights=False),
]


@pytest.mark.parametrize("case", MHA_CASES)
@pytest.mark.parametrize("masks", ["none", "bool_attn", "float_attn3d", "bool_kpm", "float_kpm",
                                   "both", "causal"])
def test_self_attention_matches_torch(rng, case, masks):
    case = dict(case)
    batch_first = case.pop("batch_first")
    ours, theirs = _mha_pair(embed_dim=8, num_heads=2, batch_first=batch_first)
    N, L, H = 3, 5, 2
    x = rng.normal(size=(N, L, 8) if batch_first else (L, N, 8))
    attn_mask = kpm = None
    is_causal = False
    if masks in ("bool_attn", "both"):
        attn_mask = rng.random((L, L)) < 0.3
        np.fill_diagonal(attn_mask, False)
    elif masks == "float_attn3d":
        attn_mask = rng.normal(size=(N * H, L, L))
    elif masks == "causal":
        attn_mask = np.triu(np.full((L, L), -np.inf), 1)
        is_causal = True
    if masks in ("bool_kpm", "both"):
        kpm = np.zeros((N, L), bool)
        kpm[0, 3:] = True
        kpm[2, 0] = True
    elif masks == "float_kpm":
        kpm = rng.normal(size=(N, L))

    def t(a):
        return None if a is None else torch.from_numpy(a)

    _compare(ours, theirs, [x],
             lambda x: ours(x, x, x, key_padding_mask=kpm, attn_mask=attn_mask,
                            is_causal=is_causal, **case),
             lambda x: theirs(x, x, x, key_padding_mask=t(kpm), attn_mask=t(attn_mask),
                              is_causal=is_causal, **case))


@pytest.mark.parametrize("need_weights", [True, False])
def test_cross_attention_with_kdim_vdim_matches_torch(rng, need_weights):
    ours, theirs = _mha_pair(embed_dim=6, num_heads=3, kdim=4, vdim=5, batch_first=True)
    assert "q_proj_weight" in ours.state_dict() and "in_proj_weight" not in ours.state_dict()
    q, k, v = rng.normal(size=(2, 3, 6)), rng.normal(size=(2, 7, 4)), rng.normal(size=(2, 7, 5))
    kpm = np.zeros((2, 7), bool)
    kpm[1, 5:] = True
    _compare(ours, theirs, [q, k, v],
             lambda q, k, v: ours(q, k, v, key_padding_mask=kpm, need_weights=need_weights),
             lambda q, k, v: theirs(q, k, v, key_padding_mask=torch.from_numpy(kpm),
                                    need_weights=need_weights))


def test_cross_attention_same_dims_and_no_bias_matches_torch(rng):
    ours, theirs = _mha_pair(embed_dim=4, num_heads=1, bias=False)
    q, kv = rng.normal(size=(3, 2, 4)), rng.normal(size=(6, 2, 4))
    _compare(ours, theirs, [q, kv], lambda q, kv: ours(q, kv, kv),
             lambda q, kv: theirs(q, kv, kv))


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")  # torch's note
@pytest.mark.parametrize("need_weights", [True, False])
def test_unbatched_attention_matches_torch(rng, need_weights):
    ours, theirs = _mha_pair(embed_dim=4, num_heads=2, batch_first=True)
    x = rng.normal(size=(5, 4))
    mask = rng.normal(size=(2, 5, 5))  # (num_heads, L, S) for one sequence
    kpm = np.array([False, False, True, False, False])
    _compare(ours, theirs, [x],
             lambda x: ours(x, x, x, attn_mask=mask, key_padding_mask=kpm,
                            need_weights=need_weights, average_attn_weights=False),
             lambda x: theirs(x, x, x, attn_mask=torch.from_numpy(mask),
                              key_padding_mask=torch.from_numpy(kpm),
                              need_weights=need_weights, average_attn_weights=False))


def test_fully_padded_sequence_gives_nan_weights_but_zero_fused_output_as_torch(rng):
    ours, theirs = _mha_pair(embed_dim=4, num_heads=2, batch_first=True, bias=False)
    x = rng.normal(size=(2, 3, 4))
    kpm = np.zeros((2, 3), bool)
    kpm[0] = True
    out, w = ours(cr.tensor(x), cr.tensor(x), cr.tensor(x), key_padding_mask=kpm)
    assert np.isnan(out.data[0]).all() and np.isnan(w.data[0]).all()
    assert not np.isnan(out.data[1]).any()
    out, _ = ours(cr.tensor(x), cr.tensor(x), cr.tensor(x), key_padding_mask=kpm,
                  need_weights=False)
    tout, _ = theirs(torch.from_numpy(x), torch.from_numpy(x), torch.from_numpy(x),
                     key_padding_mask=torch.from_numpy(kpm), need_weights=False)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **TOL)
    assert np.all(out.data[0] == 0)


def test_mha_default_init_is_torchs(rng):
    cr.manual_seed(0)
    mha = nn.MultiheadAttention(16, 4)
    bound = np.sqrt(6 / (16 + 48))  # xavier_uniform_ over the (3E, E) matrix
    w = mha.in_proj_weight.data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.all(mha.in_proj_bias.data == 0) and np.all(mha.out_proj.bias.data == 0)
    assert np.abs(mha.out_proj.weight.data).max() <= 1 / 4  # Linear's default U(±1/√E)
    assert {k: v.shape for k, v in mha.state_dict().items()} == {
        k: tuple(v.shape) for k, v in torch.nn.MultiheadAttention(16, 4).state_dict().items()}


def test_mha_gradcheck(rng):
    cr.manual_seed(1)
    mha = nn.MultiheadAttention(4, 2, batch_first=True).double()
    x = cr.tensor(rng.normal(size=(2, 3, 4)), requires_grad=True)
    mask = np.array([[False, True, True], [False, False, True], [False, False, False]])
    assert cr.gradcheck(lambda x: mha(x, x, x, attn_mask=mask, need_weights=False)[0], [x])
    assert cr.gradcheck(lambda x: mha(x, x, x, attn_mask=mask)[1], [x])


def test_mha_errors_are_clear():
    with pytest.raises(ValueError, match=r"embed_dim \(10\) must be divisible by num_heads \(3\)"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(NotImplementedError, match="add_bias_kv"):
        nn.MultiheadAttention(4, 2, add_bias_kv=True)
    mha = nn.MultiheadAttention(4, 2, batch_first=True)
    x = cr.ones(2, 3, 4)
    with pytest.raises(ValueError, match=r"2-D attn_mask has shape \(3, 4\), expected "
                                         r"\(L, S\) = \(3, 3\)"):
        mha(x, x, x, attn_mask=np.zeros((3, 4), bool))
    with pytest.raises(ValueError, match=r"key_padding_mask has shape \(3, 3\), expected "
                                         r"\(batch, S\) = \(2, 3\)"):
        mha(x, x, x, key_padding_mask=np.zeros((3, 3), bool))
    with pytest.raises(ValueError, match=r"3-D attn_mask has shape \(2, 3, 3\), expected "
                                         r"\(batch \* num_heads, L, S\) = \(4, 3, 3\)"):
        mha(x, x, x, attn_mask=np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match=r"expected query with last dimension 4, got shape "
                                         r"\(2, 3, 5\)"):
        mha(cr.ones(2, 3, 5), x, x)
    with pytest.raises(ValueError, match="is_causal=True is a hint"):
        mha(x, x, x, is_causal=True)


def test_mha_dropout_is_seeded_and_off_in_eval(rng):
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = cr.tensor(rng.normal(size=(2, 4, 8)).astype(np.float32))
    cr.manual_seed(5)
    a = mha(x, x, x, need_weights=False)[0].data
    cr.manual_seed(5)
    b = mha(x, x, x, need_weights=False)[0].data
    np.testing.assert_array_equal(a, b)
    mha.eval()
    c = mha(x, x, x, need_weights=False)[0].data
    d = mha(x, x, x, need_weights=False)[0].data
    np.testing.assert_array_equal(c, d)
    assert not np.allclose(a, c)


# --------------------------------------------------------------------------- Transformer
def _layer_pair(seed=0, **kwargs):
    torch.manual_seed(seed)
    kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0)
    kw.update(kwargs)
    theirs = torch.nn.TransformerEncoderLayer(**kw)
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            if "norm" in name and "weight" in name:
                p.uniform_(0.5, 1.5)
            elif "bias" in name:
                p.normal_(0, 0.5)
    ours_kw = dict(kw)
    if callable(kw.get("activation")):
        ours_kw["activation"] = cr.tanh
    return _twin(nn.TransformerEncoderLayer(**ours_kw), theirs)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu", "callable"])
@pytest.mark.parametrize("batch_first", [True, False])
def test_encoder_layer_matches_torch(rng, norm_first, activation, batch_first):
    act = torch.tanh if activation == "callable" else activation
    ours, theirs = _layer_pair(norm_first=norm_first, activation=act, batch_first=batch_first)
    shape = (3, 5, 8) if batch_first else (5, 3, 8)
    x = rng.normal(size=shape)
    _compare(ours, theirs, [x], ours, theirs)


@pytest.mark.parametrize("masks", ["causal", "bool_kpm", "bool_attn_and_kpm"])
def test_encoder_layer_masks_match_torch(rng, masks):
    ours, theirs = _layer_pair(batch_first=True, norm_first=True)
    L = 5
    x = rng.normal(size=(3, L, 8))
    mask = kpm = None
    causal = masks == "causal"
    if causal:
        mask = nn.generate_square_subsequent_mask(L, dtype=np.float64).data
    if "kpm" in masks:
        kpm = np.zeros((3, L), bool)
        kpm[1, 3:] = True
    if "attn" in masks:
        mask = np.triu(np.ones((L, L), bool), 1)

    def t(a):
        return None if a is None else torch.from_numpy(a)

    _compare(ours, theirs, [x],
             lambda x: ours(x, src_mask=mask, src_key_padding_mask=kpm, is_causal=causal),
             lambda x: theirs(x, src_mask=t(mask), src_key_padding_mask=t(kpm),
                              is_causal=causal))


def test_bias_free_encoder_layer_matches_torch(rng):
    ours, theirs = _layer_pair(bias=False, batch_first=True)
    assert not any("bias" in k for k in ours.state_dict())
    _compare(ours, theirs, [rng.normal(size=(2, 4, 8))], ours, theirs)


@pytest.mark.parametrize("with_norm", [True, False])
def test_encoder_stack_matches_torch(rng, with_norm):
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    theirs = torch.nn.TransformerEncoder(layer, 2, norm=torch.nn.LayerNorm(8) if with_norm
                                         else None, enable_nested_tensor=False)
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(0.1 * torch.randn_like(p))  # the copies differ, so a shared weight would show
    ours_layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    ours, theirs = _twin(nn.TransformerEncoder(ours_layer, 2, norm=nn.LayerNorm(8) if with_norm
                                               else None), theirs)
    assert ours.layers[0].linear1.weight is not ours.layers[1].linear1.weight
    x = rng.normal(size=(2, 6, 8))
    mask = nn.generate_square_subsequent_mask(6, dtype=np.float64).data
    _compare(ours, theirs, [x], lambda x: ours(x, mask=mask, is_causal=True),
             lambda x: theirs(x, mask=torch.from_numpy(mask), is_causal=True))


def test_encoder_layer_gradcheck(rng):
    cr.manual_seed(2)
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, batch_first=True,
                                       activation="gelu").double()
    x = cr.tensor(rng.normal(size=(2, 3, 4)), requires_grad=True)
    mask = nn.generate_square_subsequent_mask(3, dtype=np.float64)
    assert cr.gradcheck(lambda x: layer(x, src_mask=mask), [x])


def test_encoder_layer_refuses_unknown_activation():
    with pytest.raises(ValueError, match="activation should be 'relu', 'gelu' or a callable, got "
                                         "'swish'"):
        nn.TransformerEncoderLayer(4, 2, activation="swish")


def test_causal_mask_lets_position_i_see_only_the_past(rng):
    """Changing a later token never changes an earlier position's output."""
    cr.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True).double()
    mask = nn.generate_square_subsequent_mask(6, dtype=np.float64)
    x = rng.normal(size=(1, 6, 8))
    y = x.copy()
    y[0, 4] += 1.0
    a = layer(cr.tensor(x), src_mask=mask).data
    b = layer(cr.tensor(y), src_mask=mask).data
    np.testing.assert_allclose(a[0, :4], b[0, :4], rtol=1e-12)
    assert not np.allclose(a[0, 4:], b[0, 4:])
