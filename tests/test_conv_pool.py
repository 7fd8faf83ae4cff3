"""Convolution, padding and pooling against PyTorch: forward values and the gradients of
input, weight and bias under a random upstream gradient (float64 rtol 1e-10, float32 1e-5),
``cr.gradcheck`` on small cases (the ``oracle`` fixture), the layers loading torch's
``state_dict``, and the error messages."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn.functional as crF

DTYPES = [np.float64, np.float32]


def normal(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# --------------------------------------------------------------------------- conv2d / conv1d
CONV2D_CASES = [
    # (input shape, weight shape, bias, kwargs)
    ((2, 3, 7, 6), (4, 3, 3, 2), True, {}),
    ((2, 3, 7, 6), (4, 3, 3, 3), True, {"stride": 2, "padding": 1}),
    ((2, 4, 7, 6), (6, 2, 3, 2), True, {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2),
                                        "groups": 2}),
    ((1, 4, 6, 6), (4, 1, 3, 3), False, {"padding": "same", "dilation": 2, "groups": 4}),
    ((2, 2, 5, 6), (3, 2, 2, 2), False, {"padding": "same"}),  # asymmetric 'same'
    ((2, 2, 5, 5), (3, 2, 3, 3), True, {"padding": "valid", "stride": 3}),
    ((3, 6, 5), (4, 3, 2, 2), True, {"groups": 1}),  # unbatched
    ((2, 1, 9, 9), (2, 1, 5, 5), True, {"stride": 2, "dilation": 2, "padding": 2}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel")
@pytest.mark.parametrize("xs, ws, bias, kw", CONV2D_CASES)
def test_conv2d_matches_torch(oracle, dtype, xs, ws, bias, kw):
    arrays = [normal(xs, 1), normal(ws, 2)] + ([normal(ws[0], 3)] if bias else [])
    oracle(lambda *a: crF.conv2d(*a, **kw), lambda *a: F.conv2d(*a, **kw), arrays, dtype)


CONV1D_CASES = [
    ((2, 3, 9), (4, 3, 3), True, {}),
    ((2, 3, 9), (4, 3, 3), True, {"stride": 2, "padding": 2, "dilation": 2}),
    ((2, 4, 8), (2, 2, 4), False, {"padding": "same", "groups": 2}),
    ((3, 9), (4, 3, 4), True, {"padding": 1}),  # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs, ws, bias, kw", CONV1D_CASES)
def test_conv1d_matches_torch(oracle, dtype, xs, ws, bias, kw):
    arrays = [normal(xs, 1), normal(ws, 2)] + ([normal(ws[0], 3)] if bias else [])
    oracle(lambda *a: crF.conv1d(*a, **kw), lambda *a: F.conv1d(*a, **kw), arrays, dtype)


def test_conv2d_weight_only_gradient_skips_the_input(oracle):
    # The first layer of a network: the images need no gradient, only the weights do.
    oracle(crF.conv2d, F.conv2d, [normal((2, 1, 6, 6)), normal((3, 1, 3, 3)), normal(3)],
           grad=[False, True, True])


@given(st.integers(1, 3), st.integers(1, 4), st.integers(3, 8), st.integers(1, 3),
       st.integers(1, 2), st.integers(0, 2), st.integers(1, 2), st.sampled_from([1, 2]))
def test_conv2d_shapes_and_values_over_random_geometry(n, c_per_group, size, k, stride, padding,
                                                       dilation, groups):
    c = c_per_group * groups
    if size + 2 * padding < dilation * (k - 1) + 1:
        return
    x, w = normal((n, c, size, size + 1), 4), normal((2 * groups, c_per_group, k, k), 5)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    ours = crF.conv2d(cr.tensor(x), cr.tensor(w), **kw)
    theirs = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), **kw).numpy()
    np.testing.assert_allclose(ours.data, theirs, rtol=1e-10, atol=1e-12)


def test_conv2d_keeps_float32():
    out = crF.conv2d(cr.ones(1, 2, 4, 4), cr.ones(3, 2, 2, 2), cr.zeros(3))
    assert out.dtype == np.float32
    assert out.data[0, 0, 0, 0] == 8.0


# --------------------------------------------------------------------------- pad
PAD_CASES = [
    ("constant", (1, 2)), ("constant", (2, 1, 1, 0)), ("constant", (-1, 2, 1, -1)),
    ("constant", (1, 1, 0, 2, 1, 0)), ("reflect", (2, 1, 0, 0)), ("reflect", (1, 2, 2, 1)),
    ("replicate", (3, 1, 0, 2)), ("circular", (2, 1, 1, 2)),
]


@pytest.mark.parametrize("mode, spec", PAD_CASES)
def test_pad_matches_torch(oracle, mode, spec):
    kw = {"mode": mode} if mode != "constant" else {"mode": mode, "value": 0.5}
    oracle(lambda x: crF.pad(x, spec, **kw), lambda x: F.pad(x, spec, **kw),
           [normal((2, 3, 4, 5))])


# --------------------------------------------------------------------------- pooling
MAX_POOL2D_CASES = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2},
    {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 1)},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True},
    {"kernel_size": 2, "ceil_mode": True},  # tiling windows with a ceil-mode overhang
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": 2, "stride": 1, "dilation": 2},
    {"kernel_size": 3, "stride": (2, 1), "dilation": (1, 2), "padding": 1, "ceil_mode": True},
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", MAX_POOL2D_CASES)
def test_max_pool2d_matches_torch(oracle, dtype, kw):
    oracle(lambda x: crF.max_pool2d(x, **kw), lambda x: F.max_pool2d(x, **kw),
           [normal((2, 3, 7, 6))], dtype)


@pytest.mark.parametrize("kw", MAX_POOL2D_CASES[:4])
def test_max_pool2d_unbatched_and_indices_match_torch(kw):
    x = normal((3, 7, 6))
    out, idx = crF.max_pool2d(cr.tensor(x), return_indices=True, **kw)
    t_out, t_idx = F.max_pool2d(torch.from_numpy(x), return_indices=True, **kw)
    np.testing.assert_array_equal(out.data, t_out.numpy())
    np.testing.assert_array_equal(idx.data, t_idx.numpy())
    assert idx.dtype == np.int64


@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 1,
                                                       "padding": 1}])
def test_max_pool2d_ties_send_the_gradient_to_the_first_maximum(kw):
    # integer images (and ReLU zeros) tie: PyTorch routes to the first maximum of the window
    x = np.random.default_rng(0).integers(0, 3, (2, 3, 6, 6)).astype(np.float64)
    g = normal((2, 3) + F.max_pool2d(torch.from_numpy(x), **kw).shape[2:])
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    crF.max_pool2d(cx, **kw).backward(g)
    F.max_pool2d(tx, **kw).backward(torch.from_numpy(g))
    np.testing.assert_allclose(cx.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-14)


AVG_POOL2D_CASES = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    {"kernel_size": (3, 2), "stride": (2, 3), "ceil_mode": True},
    {"kernel_size": 2, "ceil_mode": True, "count_include_pad": False},
    {"kernel_size": 2, "divisor_override": 3},
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kw", AVG_POOL2D_CASES)
def test_avg_pool2d_matches_torch(oracle, dtype, kw):
    oracle(lambda x: crF.avg_pool2d(x, **kw), lambda x: F.avg_pool2d(x, **kw),
           [normal((2, 3, 7, 6))], dtype)


@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1,
                                                       "ceil_mode": True, "dilation": 2},
                                {"kernel_size": 3, "stride": 1}])
def test_max_pool1d_matches_torch(oracle, kw):
    oracle(lambda x: crF.max_pool1d(x, **kw), lambda x: F.max_pool1d(x, **kw),
           [normal((2, 3, 9))])


@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1,
                                                       "ceil_mode": True},
                                {"kernel_size": 3, "padding": 1, "count_include_pad": False}])
def test_avg_pool1d_matches_torch(oracle, kw):
    oracle(lambda x: crF.avg_pool1d(x, **kw), lambda x: F.avg_pool1d(x, **kw),
           [normal((3, 9))])


@pytest.mark.parametrize("size", [1, (2, 3), (3, None), (4, 5), 5, (7, 6)])
def test_adaptive_avg_pool2d_matches_torch(oracle, size):
    oracle(lambda x: crF.adaptive_avg_pool2d(x, size), lambda x: F.adaptive_avg_pool2d(x, size),
           [normal((2, 3, 7, 6))])


@pytest.mark.parametrize("size", [1, (2, 3), (4, 5), (3, None)])
def test_adaptive_max_pool2d_matches_torch(oracle, size):
    oracle(lambda x: crF.adaptive_max_pool2d(x, size), lambda x: F.adaptive_max_pool2d(x, size),
           [normal((2, 3, 7, 6))])
    out, idx = crF.adaptive_max_pool2d(cr.tensor(normal((3, 7, 6))), size, return_indices=True)
    t_idx = F.adaptive_max_pool2d(torch.from_numpy(normal((3, 7, 6))), size,
                                  return_indices=True)[1]
    np.testing.assert_array_equal(idx.data, t_idx.numpy())


def test_pooling_without_grad_gives_the_same_values():
    x = normal((2, 3, 7, 6))
    with cr.no_grad():
        fast = crF.max_pool2d(cr.tensor(x, requires_grad=True), 3, 2, ceil_mode=True)
    assert not fast.requires_grad
    np.testing.assert_array_equal(fast.data, F.max_pool2d(torch.from_numpy(x), 3, 2,
                                                          ceil_mode=True).numpy())


# --------------------------------------------------------------------------- errors
def test_wrong_channel_count_names_both_numbers():
    with pytest.raises(ValueError, match="expected input with 3 channels.*got 4 channels"):
        crF.conv2d(cr.ones(1, 4, 5, 5), cr.ones(2, 3, 3, 3))
    with pytest.raises(ValueError, match="expected input with 3 channels.*got 4"):
        cr.nn.Conv2d(3, 2, 3)(cr.ones(1, 4, 5, 5))


def test_kernel_larger_than_the_padded_input_names_the_sizes():
    with pytest.raises(ValueError, match=r"kernel size \(5, 5\).*larger than the padded input "
                                         r"\(4, 6\).*input 2 \+ padding \(1, 1\)"):
        crF.conv2d(cr.ones(1, 1, 2, 4), cr.ones(1, 1, 5, 5), padding=1)
    with pytest.raises(ValueError, match="kernel size 3.*larger than the padded input size 2"):
        crF.max_pool2d(cr.ones(1, 1, 2, 2), 3)


def test_groups_must_divide_the_channels():
    with pytest.raises(ValueError, match=r"groups=2 must divide both in_channels \(3\)"):
        crF.conv2d(cr.ones(1, 3, 5, 5), cr.ones(4, 1, 3, 3), groups=2)
    with pytest.raises(ValueError, match="groups=3 must divide in_channels"):
        cr.nn.Conv2d(4, 6, 3, groups=3)


def test_other_bad_arguments_are_named():
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        crF.conv2d(cr.ones(1, 1, 5, 5), cr.ones(1, 1, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match="conv2d: expected a 4-D batched or 3-D unbatched"):
        crF.conv2d(cr.ones(5, 5), cr.ones(1, 1, 3, 3))
    with pytest.raises(ValueError, match="bias must have shape"):
        crF.conv2d(cr.ones(1, 1, 5, 5), cr.ones(2, 1, 3, 3), cr.ones(3))
    with pytest.raises(ValueError, match="padding should be at most half of the kernel"):
        crF.max_pool2d(cr.ones(1, 1, 5, 5), 2, padding=2)
    with pytest.raises(ValueError, match="pad must have an even length"):
        crF.pad(cr.ones(2, 2), (1, 2, 3))
    with pytest.raises(ValueError, match="reflect padding .* must be smaller"):
        crF.pad(cr.ones(1, 2, 2), (2, 2), mode="reflect")


# --------------------------------------------------------------------------- layers
def _load_from_torch(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})


def _compare_module(ours, theirs, x, rtol=1e-10):
    cx, tx = cr.tensor(x.copy(), requires_grad=True), torch.tensor(x.copy(), requires_grad=True)
    out, t_out = ours(cx), theirs(tx)
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=rtol, atol=1e-12)
    g = normal(out.shape, 7)
    out.backward(g)
    t_out.backward(torch.from_numpy(g))
    np.testing.assert_allclose(cx.grad.data, tx.grad.numpy(), rtol=rtol, atol=1e-12)
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, t_params[name].grad.numpy(), rtol=rtol,
                                   atol=1e-12, err_msg=name)


@pytest.mark.parametrize("args, kw", [
    ((3, 4, 3), {}),
    ((4, 6, (3, 2)), {"stride": 2, "padding": 1, "dilation": (2, 1), "groups": 2}),
    ((3, 2, 3), {"padding": "same", "bias": False}),
    ((3, 2, 3), {"padding": 1, "padding_mode": "reflect"}),
    ((3, 2, (2, 3)), {"padding": "same", "padding_mode": "replicate"}),
    ((3, 2, 3), {"padding": (1, 2), "padding_mode": "circular"}),
])
def test_conv2d_layer_loads_torch_weights_and_agrees(args, kw):
    torch.manual_seed(0)
    theirs = torch.nn.Conv2d(*args, **kw).double()
    ours = cr.nn.Conv2d(*args, **kw, dtype="float64")
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _load_from_torch(ours, theirs)
    _compare_module(ours, theirs, normal((2, args[0], 7, 6)))


def test_conv1d_layer_loads_torch_weights_and_agrees():
    torch.manual_seed(0)
    theirs = torch.nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2).double()
    ours = cr.nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2, dtype="float64")
    assert repr(ours) == repr(theirs)
    _load_from_torch(ours, theirs)
    _compare_module(ours, theirs, normal((2, 4, 9)))


def test_conv_default_init_has_torchs_bounds():
    cr.manual_seed(0)
    conv = cr.nn.Conv2d(6, 16, 5)
    bound = 1 / np.sqrt(6 * 25)  # kaiming_uniform(a=√5) and the bias both give 1/√fan_in
    assert conv.weight.shape == (16, 6, 5, 5) and conv.weight.dtype == np.float32
    for p in (conv.weight, conv.bias):
        assert np.abs(p.data).max() <= bound
        assert np.abs(p.data).max() > 0.9 * bound  # drawn over the whole range, not zeros
    assert np.std(conv.weight.data) == pytest.approx(bound / np.sqrt(3), rel=0.1)


@pytest.mark.parametrize("ours, theirs", [
    (cr.nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
    (cr.nn.AvgPool2d(3, 2, 1, count_include_pad=False),
     torch.nn.AvgPool2d(3, 2, 1, count_include_pad=False)),
    (cr.nn.AdaptiveAvgPool2d((2, None)), torch.nn.AdaptiveAvgPool2d((2, None))),
    (cr.nn.AdaptiveMaxPool2d(3), torch.nn.AdaptiveMaxPool2d(3)),
])
def test_pooling_layers_agree_with_torch(ours, theirs):
    assert repr(ours) == repr(theirs)
    _compare_module(ours, theirs, normal((2, 3, 7, 6)))


@pytest.mark.parametrize("ours, theirs", [
    (cr.nn.MaxPool1d(3, 2, 1), torch.nn.MaxPool1d(3, 2, 1)),
    (cr.nn.AvgPool1d(3, 2, 1), torch.nn.AvgPool1d(3, 2, 1)),
])
def test_1d_pooling_layers_agree_with_torch(ours, theirs):
    assert repr(ours) == repr(theirs)
    _compare_module(ours, theirs, normal((2, 3, 9)))


def test_maxpool_layer_returns_indices_like_torch():
    x = normal((2, 3, 6, 6))
    out, idx = cr.nn.MaxPool2d(2, return_indices=True)(cr.tensor(x))
    t_out, t_idx = torch.nn.MaxPool2d(2, return_indices=True)(torch.from_numpy(x))
    np.testing.assert_array_equal(idx.data, t_idx.numpy())


def test_unflatten_is_the_inverse_of_flatten():
    x = cr.tensor(normal((4, 12)), requires_grad=True)
    y = cr.nn.Unflatten(1, (3, 4))(x)
    assert y.shape == (4, 3, 4)
    assert repr(cr.nn.Unflatten(1, (3, 4))) == repr(torch.nn.Unflatten(1, (3, 4)))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((4, 12)))
    with pytest.raises(ValueError, match="cannot split dimension 1 of size 12 into"):
        cr.nn.Unflatten(1, (5, 4))(x)


def test_a_small_cnn_matches_torch_end_to_end():
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(), torch.nn.Linear(6, 3)).double()
    ours = cr.nn.Sequential(
        cr.nn.Conv2d(1, 4, 3), cr.nn.ReLU(), cr.nn.MaxPool2d(2),
        cr.nn.Conv2d(4, 6, 3, padding=1), cr.nn.ReLU(), cr.nn.AdaptiveAvgPool2d(1),
        cr.nn.Flatten(), cr.nn.Linear(6, 3)).double()
    _load_from_torch(ours, theirs)
    _compare_module(ours, theirs, normal((3, 1, 10, 10)))


# --------------------------------------------------------------------------- BatchNorm2d
@pytest.mark.parametrize("kw", [{}, {"affine": False}, {"momentum": None},
                                {"track_running_stats": False}, {"momentum": 0.3, "eps": 1e-3}])
def test_batchnorm2d_trains_and_evaluates_like_torch(kw):
    torch.manual_seed(0)
    theirs = torch.nn.BatchNorm2d(3, **kw).double()
    ours = cr.nn.BatchNorm2d(3, **kw, dtype="float64")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if theirs.affine:  # non-trivial γ and β
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
            theirs.bias.uniform_(-1, 1)
    _load_from_torch(ours, theirs)
    for step in range(3):  # running statistics accumulate over several batches
        _compare_module(ours, theirs, normal((4, 3, 5, 6), 10 + step) * 2 + 1)
        ours.zero_grad()
        theirs.zero_grad()
    for name, buf in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name].data, buf.numpy(), rtol=1e-10,
                                   err_msg=name)
    ours.eval()
    theirs.eval()
    _compare_module(ours, theirs, normal((2, 3, 4, 4), 20))


def test_batchnorm2d_rejects_other_shapes():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected an input of shape \(N, 3, H, W\)"):
        cr.nn.BatchNorm2d(3)(cr.ones(2, 4, 5, 5))
    with pytest.raises(ValueError, match="BatchNorm2d"):
        cr.nn.BatchNorm2d(3)(cr.ones(2, 3))


def test_gradcheck_of_a_conv_pool_batchnorm_stack():
    cr.manual_seed(0)
    net = cr.nn.Sequential(cr.nn.Conv2d(2, 3, 3, padding=1), cr.nn.BatchNorm2d(3), cr.nn.Tanh(),
                           cr.nn.AvgPool2d(2, ceil_mode=True), cr.nn.Conv2d(3, 2, 2),
                           cr.nn.MaxPool2d(2, stride=1)).double()
    x = cr.tensor(normal((2, 2, 5, 5)), requires_grad=True)
    assert cr.gradcheck(lambda x: net(x), [x])
