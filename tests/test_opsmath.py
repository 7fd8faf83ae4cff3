"""The everyday operator set beyond the table (issue 12): the ops with their own signatures
(lerp, prelu, glu, softmax/softmin, normalize), the nn activation modules against torch.nn, the
conventions of max/min/median/any/all/argmax, operators on integer and boolean tensors, the
function forms, and the regression tests of the fixes (item 7).
"""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F

DTYPES = [np.float64, np.float32]


def normal(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def away(x, points=(0.0,), margin=0.05):
    x = np.array(x, dtype=np.float64)
    for p in points:
        near = np.abs(x - p) < margin
        x[near] = p + np.where(x[near] >= p, 2 * margin, -2 * margin)
    return x


# --------------------------------------------------------------------------- ops with signatures
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("wshape", [(), (3,), (2, 3)], ids=str)
def test_lerp_matches_torch_in_every_input(oracle, dtype, wshape):
    w = np.random.default_rng(3).uniform(0, 1, wshape)
    oracle(cr.lerp, torch.lerp, [normal((2, 3), 1), normal((3,), 2), w], dtype)
    oracle(lambda a, b: a.lerp(b, 0.3), lambda a, b: torch.lerp(a, b, 0.3),
           [normal((2, 3), 1), normal((2, 3), 2)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,c", [((4, 3), 3), ((2, 3, 5), 3), ((2, 3, 2, 2), 3),
                                     ((5,), 1), ((2, 3), 1)], ids=str)
def test_prelu_matches_torch_for_input_and_weight(oracle, dtype, shape, c):
    w = np.random.default_rng(1).uniform(0.1, 0.5, c)
    oracle(cr.prelu, TF.prelu, [away(normal(shape, 2)), w], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_glu_halves_along_dim_like_torch(oracle, dtype, dim):
    oracle(lambda t: cr.glu(t, dim), lambda t: TF.glu(t, dim), [normal((4, 6, 2), 3)], dtype)


def test_glu_names_an_odd_dim():
    with pytest.raises(ValueError, match="glu: halving dim -1 needs an even size, got 3"):
        cr.glu(cr.ones(2, 3))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmin_softmax_log_softmax_along_dim(oracle, dtype, dim):
    x = normal((3, 4), 4)
    oracle(lambda t: cr.softmin(t, dim=dim), lambda t: TF.softmin(t, dim=dim), [x], dtype)
    oracle(lambda t: cr.softmax(t, dim=dim), lambda t: torch.softmax(t, dim), [x], dtype)
    oracle(lambda t: cr.log_softmax(t, dim=dim), lambda t: torch.log_softmax(t, dim), [x], dtype)


@pytest.mark.parametrize("dim", [0, -1])
def test_softmax_of_a_0d_tensor_is_one(oracle, dim):
    for fn, tfn in ((cr.softmax, torch.softmax), (cr.log_softmax, torch.log_softmax)):
        oracle(lambda t, fn=fn: fn(t, dim=dim), lambda t, tfn=tfn: tfn(t, dim),
               [np.array(2.5)], gradcheck=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, 0), (3.0, -1), (2.0, (0, 1))], ids=str)
def test_normalize_matches_torch(oracle, dtype, p, dim):
    oracle(lambda t: F.normalize(t, p=p, dim=dim), lambda t: TF.normalize(t, p=p, dim=dim),
           [normal((3, 4), 5)], dtype)


def test_normalize_of_a_zero_row_is_zero_with_zero_gradient_like_torch():
    x = np.array([[0.0, 0.0], [3.0, 4.0]])
    a = cr.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    F.normalize(a).sum().backward()
    TF.normalize(t).sum().backward()
    np.testing.assert_allclose(a.grad.data, t.grad.numpy(), atol=1e-12)


def test_one_hot_and_dropout_have_torch_signatures():
    np.testing.assert_array_equal(F.one_hot(cr.tensor([0, 2]), num_classes=3).data,
                                  TF.one_hot(torch.tensor([0, 2]), num_classes=3).numpy())
    x = cr.ones(4, 4, requires_grad=True)
    assert F.dropout(x, p=0.5, training=False) is x
    cr.manual_seed(0)
    y = F.dropout(x, 0.5)
    assert set(np.unique(y.data)) <= {0.0, 2.0}


# --------------------------------------------------------------------------- nn modules
MODULES = [
    ("SiLU", {}), ("Mish", {}), ("Hardswish", {}), ("Hardsigmoid", {}), ("ReLU6", {}),
    ("SELU", {}), ("Softsign", {}), ("LogSigmoid", {}), ("Tanhshrink", {}),
    ("Hardtanh", {"min_val": -0.5, "max_val": 1.5}), ("CELU", {"alpha": 0.7}),
    ("Threshold", {"threshold": 0.2, "value": -2.0}), ("Softmin", {"dim": 1}),
    ("GLU", {"dim": 1}), ("PReLU", {"num_parameters": 4, "init": 0.1}), ("PReLU", {}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kwargs", MODULES, ids=[m[0] + str(m[1]) for m in MODULES])
def test_activation_module_matches_torch_after_loading_its_state_dict(name, kwargs, dtype):
    tm = getattr(torch.nn, name)(**kwargs).to(torch.float64 if dtype == np.float64 else
                                              torch.float32)
    m = getattr(cr.nn, name)(**kwargs, **({"dtype": dtype} if name == "PReLU" else {}))
    state = {k: v.detach().numpy() for k, v in tm.state_dict().items()}
    assert set(m.state_dict()) == set(state)
    m.load_state_dict(state)
    x = away(normal((3, 4, 2), 6) * 2, (0.0, 0.2, -0.5, 1.5, 3.0, -3.0, 6.0)).astype(dtype)
    xa = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    out, want = m(xa), tm(xt)
    g = normal(want.shape, 7).astype(dtype)
    out.backward(g)
    want.backward(torch.from_numpy(g))
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    if name in ("Hardswish", "Hardsigmoid") and dtype == np.float64:
        rtol = 1e-7  # PyTorch's kernels use the float32 constant 1/6
    np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=rtol, atol=1e-7)
    np.testing.assert_allclose(xa.grad.data, xt.grad.numpy(), rtol=rtol, atol=1e-7)
    for (_, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=rtol, atol=1e-7)


def test_prelu_weight_is_learnable_and_saved_by_architecture():
    m = cr.nn.PReLU(3, init=0.25)
    assert m.weight.shape == (3,) and np.all(m.weight.data == 0.25) and m.weight.requires_grad
    rebuilt = cr.nn.module_from_config(cr.nn.module_to_config(m))
    assert rebuilt.num_parameters == 3 and rebuilt.init == 0.25
    with pytest.raises(ValueError, match="prelu: weight has 3 slopes but the input"):
        m(cr.ones(2, 4))


def test_activation_modules_have_readable_reprs():
    assert repr(cr.nn.Hardtanh(-2, 2)) == "Hardtanh(min_val=-2.0, max_val=2.0)"
    assert repr(cr.nn.PReLU()) == "PReLU(num_parameters=1)"
    assert repr(cr.nn.SiLU()) == "SiLU()"


# --------------------------------------------------------------------------- max / min / median
def test_max_keyword_picks_the_convention():
    x = cr.tensor([[1.0, 5.0, 3.0], [7.0, 2.0, 7.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert x.max(1).indices.tolist() == [1, 0]  # positional dim is PyTorch's
    assert isinstance(x.max(axis=1), cr.Tensor) and x.max(axis=1).tolist() == [5.0, 7.0]
    assert x.max().item() == 7.0
    assert cr.max(x, cr.tensor(4.0)).tolist() == [[4.0, 5.0, 4.0], [7.0, 4.0, 7.0]]
    assert cr.min(x, dim=0, keepdim=True).values.shape == (1, 3)


def test_max_with_dim_sends_the_gradient_to_the_index_like_torch():
    x = np.array([[1.0, 7.0, 7.0], [2.0, 2.0, 0.0]])
    a = cr.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    a.max(dim=1).values.sum().backward()
    t.max(dim=1).values.sum().backward()
    np.testing.assert_array_equal(a.grad.data, t.grad.numpy())
    a.grad = None
    t.grad = None
    a.max().backward()  # the full reduction shares ties evenly, as torch.max() does
    t.max().backward()
    np.testing.assert_array_equal(a.grad.data, t.grad.numpy())


def test_every_internal_max_caller_still_gets_values():
    z = cr.tensor(normal((4, 3)), requires_grad=True)
    assert (z - z.max(axis=1, keepdims=True)).shape == (4, 3)
    assert cr.logsumexp(z, axis=1).shape == (4,)


def test_median_is_the_lower_middle_and_nan_propagates_like_torch():
    x = np.array([[1.0, 4.0, 2.0, 3.0], [np.nan, 1.0, 2.0, 0.0]])
    got = cr.median(cr.tensor(x), dim=1)
    want = torch.median(torch.tensor(x), dim=1)
    np.testing.assert_array_equal(got.values.data, want.values.numpy())
    np.testing.assert_array_equal(got.indices.data, want.indices.numpy())
    assert cr.median(cr.tensor([1.0, 4.0, 2.0, 3.0])).item() == 2.0


# --------------------------------------------------------------------------- any / all / arg*
def test_any_all_return_bool_tensors_and_take_axis():
    t = cr.tensor([[0, 1], [0, 0]])
    assert isinstance(t.any(), cr.Tensor) and t.any().dtype == np.bool_
    assert bool(t.any()) and not t.all()
    assert t.any(axis=1).tolist() == [True, False]
    assert cr.all(t, dim=0, keepdim=True).tolist() == [[False, False]]
    assert cr.any(cr.tensor(3.0), dim=0).item() is True


def test_argmax_argmin_functions_and_methods_like_torch():
    x = normal((3, 4), 8)
    for dim in (None, 0, 1, -1):
        for name in ("argmax", "argmin"):
            want = getattr(torch, name)(torch.from_numpy(x), dim=dim).numpy()
            got = getattr(cr, name)(cr.tensor(x), dim=dim)
            assert got.dtype == np.int64
            np.testing.assert_array_equal(got.data, want)
            np.testing.assert_array_equal(getattr(cr.tensor(x), name)(dim).data, want)
    with pytest.raises(ValueError, match="argmax: axis 2 is out of range"):
        cr.argmax(cr.tensor(x), dim=2)


# --------------------------------------------------------------------------- operators
def test_modulo_and_floor_division_follow_python_and_torch():
    a = np.array([5, -5, 7, -7])
    b = np.array([3, 3, -2, -2])
    np.testing.assert_array_equal((cr.tensor(a) % cr.tensor(b)).data,
                                  (torch.tensor(a) % torch.tensor(b)).numpy())
    np.testing.assert_array_equal((cr.tensor(a) // cr.tensor(b)).data,
                                  (torch.tensor(a) // torch.tensor(b)).numpy())
    assert (7 % cr.tensor([3])).tolist() == [1] and (7 // cr.tensor([2])).tolist() == [3]
    x = cr.tensor([5.5, -5.5], requires_grad=True)
    (x % 2.0).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    y = cr.tensor([5.5, -5.5], requires_grad=True)
    (y // 2.0).sum().backward()
    assert y.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
def test_div_rounding_mode_like_torch(mode):
    a = np.array([7.0, -7.0, 7.5, -7.5])
    b = np.array([2.0, 2.0, -2.0, 3.0])
    np.testing.assert_allclose(cr.div(cr.tensor(a), cr.tensor(b), rounding_mode=mode).data,
                               torch.div(torch.tensor(a), torch.tensor(b),
                                         rounding_mode=mode).numpy())
    ia, ib = np.array([7, -7, 7, -7]), np.array([2, 2, -2, -3])
    got = cr.tensor(ia).div(cr.tensor(ib), rounding_mode=mode)
    want = torch.tensor(ia).div(torch.tensor(ib), rounding_mode=mode).numpy()
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got.data, want)
    with pytest.raises(ValueError, match="div: rounding_mode must be None, 'trunc' or 'floor'"):
        cr.div(cr.tensor(a), 2, rounding_mode="round")


def test_bitwise_operators_on_integers_and_booleans_like_torch():
    a, b = np.array([12, -3, 0, 7]), np.array([10, 5, 1, 2])
    ta, tb = torch.tensor(a), torch.tensor(b)
    for op in ("__and__", "__or__", "__xor__", "__lshift__", "__rshift__"):
        np.testing.assert_array_equal(getattr(cr.tensor(a), op)(cr.tensor(b)).data,
                                      getattr(ta, op)(tb).numpy(), err_msg=op)
    np.testing.assert_array_equal((~cr.tensor(a)).data, (~ta).numpy())
    p, q = cr.tensor([True, True, False]), cr.tensor([True, False, False])
    assert (p & q).tolist() == [True, False, False] and (p | q).tolist() == [True, True, False]
    assert (p ^ q).tolist() == [False, True, False] and (~p).tolist() == [False, False, True]
    assert (p & True).tolist() == [True, True, False] and (1 | cr.tensor([2])).tolist() == [3]
    with pytest.raises(TypeError, match="bitwise_and: needs integer or boolean tensors"):
        cr.tensor([1.0]) & cr.tensor([1.0])


def test_logical_ops_and_tests_like_torch():
    a = np.array([0.0, 1.0, -2.0, np.nan, np.inf])
    b = np.array([0.0, 0.0, 3.0, 1.0, -np.inf])
    ta, tb = torch.tensor(a), torch.tensor(b)
    for name in ("logical_and", "logical_or", "logical_xor"):
        np.testing.assert_array_equal(getattr(cr, name)(cr.tensor(a), cr.tensor(b)).data,
                                      getattr(torch, name)(ta, tb).numpy())
    np.testing.assert_array_equal(cr.logical_not(cr.tensor(a)).data,
                                  torch.logical_not(ta).numpy())
    for name in ("isnan", "isinf", "isfinite"):
        np.testing.assert_array_equal(getattr(cr.tensor(a), name)().data,
                                      getattr(torch, name)(ta).numpy())
    np.testing.assert_array_equal(cr.isclose(cr.tensor(a), cr.tensor(a + 1e-9)).data,
                                  torch.isclose(ta, ta + 1e-9).numpy())
    assert cr.isclose(cr.tensor(a), cr.tensor(a), equal_nan=True).all()
    assert cr.allclose(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 2.0 + 1e-9])) is True
    assert cr.allclose(cr.tensor([1.0]), cr.tensor([1.1])) is False


def test_function_forms_and_methods():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor([3.0, 4.0], requires_grad=True)
    out = cr.add(x, y, alpha=2) + cr.sub(x, y, alpha=3) + x.mul(y) + x.div(y) + cr.neg(x)
    out = out + cr.true_divide(x, 2) + x.abs() + x.exp() + x.sin() + cr.multiply(x, 2)
    xt = torch.tensor([1.0, 2.0], dtype=torch.float32, requires_grad=True)
    yt = torch.tensor([3.0, 4.0], dtype=torch.float32, requires_grad=True)
    want = torch.add(xt, yt, alpha=2) + torch.sub(xt, yt, alpha=3) + xt.mul(yt) + xt.div(yt)
    want = want - xt + torch.true_divide(xt, 2) + xt.abs() + xt.exp() + xt.sin() + xt * 2
    np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=1e-6)
    out.sum().backward()
    want.sum().backward()
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(y.grad.data, yt.grad.numpy(), rtol=1e-6)
    assert cr.arcsin is cr.asin and cr.tensor([0.5]).arctan2(cr.tensor([1.0])).shape == (1,)


# --------------------------------------------------------------------------- std / var
def test_var_and_std_default_to_the_unbiased_estimate_like_torch():
    x = normal((4, 5), 9)
    t = torch.from_numpy(x)
    np.testing.assert_allclose(cr.tensor(x).var().item(), t.var().item(), rtol=1e-12)
    np.testing.assert_allclose(cr.tensor(x).std(dim=1).data, t.std(dim=1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(cr.var(cr.tensor(x), ddof=0).item(), np.var(x), rtol=1e-12)
    np.testing.assert_allclose(cr.std(cr.tensor(x), 0, unbiased=False).data, np.std(x, 0),
                               rtol=1e-12)
    v, m = cr.var_mean(cr.tensor(x), dim=0)
    tv, tm = torch.var_mean(t, dim=0)
    np.testing.assert_allclose(v.data, tv.numpy(), rtol=1e-12)
    np.testing.assert_allclose(m.data, tm.numpy(), rtol=1e-12)
    with pytest.raises(TypeError, match="var: pass only one of ddof=, correction= and unbiased="):
        cr.var(cr.tensor(x), ddof=1, correction=1)


def test_var_of_one_element_is_nan_like_torch_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert np.isnan(cr.tensor([3.0]).var().item())
        assert np.isnan(cr.tensor([3.0]).std().item())


def test_cumprod_gradient_is_exact_with_zeros(oracle):
    x = np.array([[2.0, 0.0, 3.0, 0.0, 4.0], [1.5, -2.0, 0.0, 2.0, 1.0], [1.0, 2.0, 3.0, 4.0, 5.0]])
    oracle(lambda t: cr.cumprod(t, dim=1), lambda t: torch.cumprod(t, dim=1), [x])
    oracle(lambda t: cr.prod(t, dim=1), lambda t: torch.prod(t, dim=1), [x])


def test_scans_need_a_dim_or_numpys_flattening_axis_none():
    with pytest.raises(TypeError, match="cumsum: missing the dim"):
        cr.cumsum(cr.ones(2, 2))
    assert cr.cumsum(cr.ones(2, 2), axis=None).tolist() == [1.0, 2.0, 3.0, 4.0]


# --------------------------------------------------------------------------- item 7 regressions
def test_pow_with_tensor_exponent_has_zero_gradient_at_zero_to_the_zero():
    x = np.array([0.0, 0.0, 2.0])
    e = np.array([0.0, 2.0, 0.0])
    a, b = cr.tensor(x, requires_grad=True), cr.tensor(e, requires_grad=True)
    ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(e, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        (a ** b).sum().backward()
    (ta ** tb).sum().backward()
    np.testing.assert_array_equal(a.grad.data, ta.grad.numpy())
    np.testing.assert_array_equal(b.grad.data, tb.grad.numpy())
    assert not np.isnan(a.grad.data).any()


def test_mean_and_var_of_a_list_of_tensors_keep_the_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    m = cr.mean([x, x + 2])
    assert m.requires_grad
    m.backward()
    np.testing.assert_allclose(x.grad.data, [0.5, 0.5])
    x.grad = None
    v = cr.var([x[0], x[1] * 3])  # values 1 and 6: var = 12.5, d/dx0 = -5, d/dx1 = 15
    v.backward()
    np.testing.assert_allclose(v.item(), 12.5)
    np.testing.assert_allclose(x.grad.data, [-5.0, 15.0])


def test_linspace_with_tensor_endpoints_is_differentiable():
    start = cr.tensor(1.0, requires_grad=True)
    stop = cr.tensor(3.0, requires_grad=True)
    line = cr.linspace(start, stop, 5)
    np.testing.assert_allclose(line.data, [1.0, 1.5, 2.0, 2.5, 3.0])
    line.sum().backward()
    assert start.grad.item() == pytest.approx(2.5) and stop.grad.item() == pytest.approx(2.5)
    assert cr.linspace(cr.tensor(0.0), 1.0, 3).tolist() == [0.0, 0.5, 1.0]


def test_integer_linspace_truncates_toward_zero_like_torch():
    for args in ((-5, 5, 4), (-7, 0, 4), (0, -9, 5)):
        np.testing.assert_array_equal(cr.linspace(*args, dtype=cr.int64).data,
                                      torch.linspace(*args, dtype=torch.int64).numpy())


@pytest.mark.parametrize("dim", [0, -1])
def test_0d_tensors_accept_dim_0_and_minus_1(dim):
    x = cr.tensor(2.0, requires_grad=True)
    for fn in (cr.sum, cr.mean, cr.amax, cr.logsumexp, cr.prod):
        assert fn(x, dim=dim).shape == ()
    assert cr.softmax(x, dim=dim).item() == 1.0
    assert x.max(dim=dim).indices.item() == 0
    with pytest.raises(ValueError, match="sum: axis 1 is out of range for a 0-d tensor"):
        cr.sum(x, dim=1)


def test_axis_and_integer_power_errors_name_the_op():
    with pytest.raises(ValueError, match=r"mean: axis 2 is out of range for a tensor with 2 dims"):
        cr.ones(2, 3).mean(axis=2)
    with pytest.raises(ValueError, match="cumsum: axis 5 is out of range"):
        cr.cumsum(cr.ones(2, 3), dim=5)
    with pytest.raises(ValueError, match="pow: integers to negative integer powers"):
        cr.tensor([2, 3]) ** -1
    with pytest.raises(ValueError, match="pow: integers to negative integer powers"):
        cr.tensor([2, 3]) ** cr.tensor([-1, 2])
    with pytest.raises(ValueError, match=r"pow: shapes \(2,\) and \(3,\) cannot be broadcast"):
        cr.tensor([2.0, 3.0]) ** cr.tensor([1.0, 2.0, 3.0])


def test_gradcheck_reports_zero_gradient_for_an_unused_input():
    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = cr.tensor(np.array([3.0]), requires_grad=True)
    assert cr.gradcheck(lambda a, b: a * 2, [x, y])
    assert cr.gradcheck(lambda a: cr.ones(3), [x])
    with pytest.raises(cr.gradcheck.__globals__["GradcheckError"]):
        cr.gradcheck(lambda a: cr.tensor(a.data * 2), [x])  # detached: grad 0, numeric 2


def test_integers_with_floats_give_the_default_float_dtype_like_torch():
    i = cr.tensor([1, 2])
    f = cr.tensor([0.5, 1.5])
    assert (i + f).dtype == np.float32 and (f * i).dtype == np.float32
    assert (i / 2).dtype == np.float32 and (i / i).dtype == np.float32
    assert (i * 2.5).dtype == np.float32 and (i - 0.5).dtype == np.float32
    assert (i ** 0.5).dtype == np.float32 and (i ** 2).dtype == np.int64
    assert (i + 1).dtype == np.int64 and (i // 2).dtype == np.int64
    for fn in (cr.exp, cr.log, cr.sqrt, cr.sin, cr.tanh, cr.sigmoid, cr.erf):
        assert fn(i).dtype == np.float32, fn.__name__
    f64 = cr.tensor(np.array([0.5, 1.5]))
    assert (i + f64).dtype == np.float64  # a float64 operand keeps float64, as in PyTorch
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    (w * i).sum().backward()  # the int operand is cast, so the gradient stays float32
    assert w.grad.dtype == np.float32 and w.grad.tolist() == [1.0, 2.0]
