"""PyTorch habits hold: each test is written the way a PyTorch user writes the code (with
``torch`` renamed to ``cr``), and checks the answer against PyTorch where there is a number."""

import importlib
import pickle

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.device import DeviceUnavailableError

# --------------------------------------------------------------------------- devices


def test_device_chosen_the_usual_way_is_the_cpu():
    device = cr.device("cuda" if cr.cuda.is_available() else "cpu")
    x = cr.randn(3, 2, device=device)
    assert device == cr.device("cpu") and device == "cpu" and str(device) == "cpu"
    assert x.device == device and x.device.type == "cpu"
    assert repr(device) == "device(type='cpu')"


def test_cuda_queries_answer_like_a_machine_without_a_gpu():
    assert cr.cuda.is_available() is False
    assert cr.cuda.device_count() == 0
    assert cr.backends.mps.is_available() is False
    assert cr.accelerator.is_available() is False
    cr.cuda.manual_seed_all(0)  # accepted, as PyTorch does without a GPU


def test_a_cuda_device_can_be_named_but_not_used():
    dev = cr.device("cuda:0")
    assert (dev.type, dev.index, str(dev)) == ("cuda", 0, "cuda:0")
    assert cr.device("cuda", 1) == "cuda:1" and pickle.loads(pickle.dumps(dev)) == dev
    x = cr.ones(2)
    net = cr.nn.Linear(2, 2)
    attempts = [lambda: x.to(dev), lambda: x.to("cuda"), lambda: x.cuda(),
                lambda: cr.zeros(2, device="cuda"), lambda: cr.tensor([1.0], device=dev),
                lambda: net.to("cuda"), lambda: net.cuda(), lambda: cr.randn(2, device="cuda:1"),
                lambda: cr.linspace(0, 1, 3, device="cuda"), lambda: x.new_zeros(2, device=dev),
                lambda: cr.set_default_device("cuda")]
    for attempt in attempts:
        with pytest.raises(RuntimeError, match="chainrule runs on the CPU with NumPy; CUDA is "
                                               "not available"):
            attempt()
    with pytest.raises(DeviceUnavailableError, match="MPS"):
        x.to("mps")
    with pytest.raises(RuntimeError, match="device type"):
        cr.device("gpu")


def test_device_keyword_on_every_creation_function():
    dev = cr.device("cpu")
    made = [cr.tensor([1.0], device=dev), cr.zeros(2, device=dev), cr.ones(2, device="cpu"),
            cr.empty(2, device=dev), cr.full((2,), 1.0, device=dev), cr.eye(2, device=dev),
            cr.arange(3, device=dev), cr.linspace(0, 1, 3, device=dev),
            cr.rand(2, device=dev), cr.randn(2, device=dev), cr.randint(0, 3, (2,), device=dev),
            cr.randperm(3, device=dev), cr.normal(0.0, 1.0, (2,), device=dev),
            cr.zeros_like(cr.ones(2), device=dev), cr.ones_like(cr.ones(2), device=dev),
            cr.full_like(cr.ones(2), 3.0, device=dev), cr.rand_like(cr.ones(2), device=dev),
            cr.randn_like(cr.ones(2), device=dev), cr.empty_like(cr.ones(2), device=dev),
            cr.as_tensor([1.0], device=dev), cr.FloatTensor([1.0], device=dev)]
    assert all(t.device == dev for t in made)


def test_to_device_dtype_and_other_tensor():
    x = cr.tensor([1.5, 2.5], requires_grad=True)
    assert x.to("cpu") is x and x.to(cr.device("cpu"), non_blocking=True) is x
    assert x.cpu() is x and x.to(cr.float32) is x
    y = x.to("cpu", cr.float64)
    assert y.dtype == cr.float64 and y.requires_grad
    assert x.to(cr.zeros(1, dtype=cr.float64)).dtype == np.float64
    assert x.to(dtype=cr.double).dtype == np.float64
    assert x.to(cr.float32, copy=True) is not x
    assert x.to(torch.device("cpu")) is x  # a torch.device names the same place
    (y * y).sum().backward()  # the float cast is on the graph
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 5.0])


def test_module_to_device_and_dtype_casts_parameters_in_place():
    model = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.ReLU(), cr.nn.Linear(4, 1))
    weight = model[0].weight
    assert model.to("cpu") is model and model.cpu() is model
    model.to(cr.device("cpu"), cr.float64)
    assert model[0].weight is weight and weight.dtype == np.float64
    model.float()
    assert weight.dtype == np.float32
    model.to(cr.zeros(1, dtype=cr.float64))
    assert model[2].bias.dtype == np.float64
    model.double().half()
    assert weight.dtype == np.float16


# --------------------------------------------------------------------------- dtypes


def test_dtype_aliases_are_pytorchs():
    pairs = {cr.float: torch.float, cr.double: torch.double, cr.half: torch.half,
             cr.long: torch.long, cr.int: torch.int, cr.bool: torch.bool, cr.uint8: torch.uint8,
             cr.int8: torch.int8, cr.int16: torch.int16, cr.short: torch.short,
             cr.float32: torch.float32, cr.float64: torch.float64, cr.int64: torch.int64}
    for ours, theirs in pairs.items():
        assert np.dtype(ours) == torch.zeros(1, dtype=theirs).numpy().dtype
    assert cr.tensor([1.0]).dtype == cr.float and cr.tensor([1]).dtype == cr.long
    assert cr.ones(2, dtype=cr.bool).dtype == np.bool_
    # the builtins are untouched inside chainrule code
    assert cr.tensor(2.0).item() == 2.0 and isinstance(int(cr.tensor(3)), int)


def test_typed_constructors():
    assert cr.FloatTensor([1, 2]).dtype == np.float32
    assert cr.DoubleTensor([[1.0]]).dtype == np.float64
    assert cr.LongTensor([1.7]).tolist() == [1]
    assert cr.IntTensor([1]).dtype == np.int32
    assert cr.BoolTensor([1, 0]).tolist() == [True, False]
    assert cr.ByteTensor([255]).dtype == np.uint8
    assert cr.FloatTensor(2, 3).shape == (2, 3)
    assert isinstance(cr.tensor([1.0]), cr.FloatTensor)
    assert not isinstance(cr.tensor([1.0]), cr.LongTensor)
    assert cr.FloatTensor([1.0], requires_grad=True).requires_grad


def test_casting_methods_match_torch():
    data = np.array([-1.5, 0.0, 2.7], dtype=np.float32)
    x, t = cr.tensor(data), torch.tensor(data)
    for name in ("float", "double", "half", "int", "long", "bool"):
        ours, theirs = getattr(x, name)(), getattr(t, name)()
        assert ours.dtype == theirs.numpy().dtype, name
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert x.type() == "chainrule.FloatTensor" and x.long().type() == "chainrule.LongTensor"
    assert x.float() is x and (t.float() is t)  # same dtype: the tensor itself, as in torch
    assert x.long().long() is not x and x.double() is not x
    assert x.type(cr.float64).dtype == np.float64
    assert x.type("torch.DoubleTensor").dtype == np.float64
    assert x.type(cr.LongTensor).dtype == np.int64
    assert x.type_as(cr.zeros(1, dtype=cr.float64)).dtype == np.float64
    with pytest.raises(RuntimeError, match="CUDA"):
        x.type("torch.cuda.FloatTensor")


def test_float_casts_are_differentiable_like_torch():
    rng = np.random.default_rng(0)
    data = rng.standard_normal(4)
    upstream = rng.standard_normal(4)
    x = cr.tensor(data, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    (x.float() * 2).double().backward(cr.tensor(upstream))
    (t.float() * 2).double().backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-6)
    assert x.grad.dtype == np.float64


# --------------------------------------------------------------------------- size and views


def test_size_is_a_method_and_shape_stays():
    x = cr.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) == x.shape and isinstance(x.size(), cr.Size)
    assert x.size(0) == 2 and x.size(-1) == 4 and x.size(dim=1) == 3
    assert x.size() == torch.zeros(2, 3, 4).size()
    assert repr(x.size()) == "chainrule.Size([2, 3, 4])" and x.size().numel() == 24
    assert x.size == 24  # NumPy's element count stays
    assert cr.numel(x) == x.numel() == x.nelement() == 24
    assert x.element_size() == 4 and x.long().element_size() == 8
    batch_size = x.size(0)
    assert x.view(batch_size, -1).shape == (2, 12)
    with pytest.raises(IndexError, match="dimension out of range"):
        x.size(3)


def test_view_reshape_as_and_expand_as():
    x = cr.arange(6.0, requires_grad=True)
    t = torch.arange(6.0, requires_grad=True)
    other = cr.zeros(2, 3)
    assert x.view(-1).shape == (6,) and x.view(2, 3).shape == (2, 3)
    assert x.view((3, 2)).shape == (3, 2) and x.reshape(3, -1).shape == (3, 2)
    assert x.view_as(other).shape == (2, 3) and x.reshape_as(other).shape == (2, 3)
    b = cr.tensor([[1.0], [2.0]], requires_grad=True)
    tb = torch.tensor([[1.0], [2.0]], requires_grad=True)
    (x.view_as(other) * b.expand_as(other)).sum().backward()
    (t.view_as(torch.zeros(2, 3)) * tb.expand_as(torch.zeros(2, 3))).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy())


def test_clone_is_a_differentiable_copy_and_contiguous():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x.clone()
    assert y.data_ptr() != x.data_ptr() and y.op == "clone"
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy())
    assert x.is_contiguous() and x.contiguous() is x
    xt = x.T
    assert not xt.is_contiguous()
    c = xt.contiguous()
    assert c.is_contiguous() and c.requires_grad and c.tolist() == xt.tolist()
    assert cr.from_numpy(x.numpy()).data_ptr() == x.data_ptr()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clone_and_contiguous_oracle_and_gradcheck(dtype):
    rng = np.random.default_rng(5)
    data, up = rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal((4, 3)).astype(dtype)
    x = cr.tensor(data, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    y = (x.clone() * 2).T.contiguous().clone()
    ty = (t.clone() * 2).T.contiguous().clone()
    y.backward(cr.tensor(up))
    ty.backward(torch.tensor(up))
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=rtol)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=rtol)
    assert y.dtype == dtype and x.grad.dtype == dtype
    if dtype == np.float64:
        assert cr.gradcheck(lambda a: (a.T.contiguous().clone() ** 2).sum(), [x])


def test_new_creators_keep_dtype_like_torch():
    x = cr.tensor([1.0, 2.0], dtype=cr.float64)
    t = torch.tensor([1.0, 2.0], dtype=torch.float64)
    for ours, theirs in [(x.new_zeros(2, 3), t.new_zeros(2, 3)),
                         (x.new_ones((2,)), t.new_ones((2,))),
                         (x.new_full((2, 2), 7), t.new_full((2, 2), 7)),
                         (x.new_tensor([1, 2]), t.new_tensor([1, 2])),
                         (x.new_empty(3).zero_(), t.new_empty(3).zero_()),
                         (x.new_zeros(2, dtype=cr.long), t.new_zeros(2, dtype=torch.long))]:
        assert ours.dtype == theirs.numpy().dtype and ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert x.new_ones(2, requires_grad=True).requires_grad


def test_like_functions_take_dtype():
    x = cr.ones(2, 3)
    assert cr.zeros_like(x, dtype=cr.long).dtype == np.int64
    assert cr.ones_like(x, dtype=cr.float64).dtype == np.float64
    assert cr.full_like(x, 2, dtype=cr.int).dtype == np.int32
    assert cr.rand_like(x, dtype=cr.double).dtype == np.float64
    assert cr.randn_like(x).shape == (2, 3) and cr.empty_like(x).shape == (2, 3)
    assert cr.randint_like(x, 5).dtype == np.float32
    with pytest.raises(TypeError, match="floating"):
        cr.rand_like(cr.zeros(2, dtype=cr.long))


# --------------------------------------------------------------------------- NumPy bridges


def test_from_numpy_shares_memory_and_keeps_dtype():
    a = np.arange(4, dtype=np.int32)
    t = cr.from_numpy(a)
    a[0] = 7
    assert t.tolist() == [7, 1, 2, 3] and t.dtype == np.int32
    assert t.dtype == torch.from_numpy(a).numpy().dtype
    f = np.zeros(2)
    tf = cr.from_numpy(f)
    tf.numpy()[1] = 3
    assert f[1] == 3 and tf.dtype == np.float64
    with pytest.raises(TypeError, match="from_numpy"):
        cr.from_numpy([1, 2])


def test_as_tensor_avoids_copies():
    a = np.ones(3, dtype=np.float64)
    assert cr.as_tensor(a).data is a
    t = cr.tensor([1.0])
    assert cr.as_tensor(t) is t
    assert cr.as_tensor([1, 2]).dtype == np.int64
    assert cr.as_tensor(a, dtype=cr.float32).dtype == np.float32
    assert cr.is_tensor(t) and not cr.is_tensor(a)


def test_numpy_ufuncs_on_tensors_are_differentiable():
    rng = np.random.default_rng(1)
    data = rng.uniform(0.5, 2.0, (3, 4))
    up = rng.standard_normal(4)
    x = cr.tensor(data, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    y = np.mean(np.exp(x) * np.sqrt(x) + np.maximum(x, 1.0) - np.log(x) ** 2, axis=0)
    ty = torch.mean(torch.exp(t) * torch.sqrt(t) + torch.clamp(t, min=1.0) - torch.log(t) ** 2,
                    dim=0)
    assert isinstance(y, cr.Tensor) and y.requires_grad
    y.backward(cr.tensor(up))
    ty.backward(torch.tensor(up))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10)


def test_numpy_functions_dispatch_to_chainrule_ops():
    a = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = cr.tensor([[5.0, 6.0]], requires_grad=True)
    c = np.concatenate([a, b], axis=0)
    s = np.stack([a, a])
    w = np.where(a.detach() > 2, a, -a)
    total = np.sum(c) + np.sum(s, axis=(0, 1)).sum() + np.sum(w)
    assert c.shape == (3, 2) and c.op == "concat" and s.op == "stack"
    total.backward()
    np.testing.assert_allclose(a.grad.numpy(), [[2.0, 2.0], [4.0, 4.0]])
    np.testing.assert_allclose(b.grad.numpy(), [[1.0, 1.0]])
    v = cr.tensor([1.0, 2.0, 3.0, 4.0])
    assert np.var(v).item() == pytest.approx(np.var([1, 2, 3, 4]))  # NumPy's ddof=0 default
    assert np.std(v, ddof=1).item() == pytest.approx(np.std([1, 2, 3, 4], ddof=1))
    assert np.shape(a) == (2, 2) and np.ndim(a) == 2
    # NumPy's positional axis stays NumPy's: values, never PyTorch's (values, indices)
    m = cr.tensor([[1.0, 5.0], [3.0, 2.0]], requires_grad=True)
    top = np.max(m, 0)
    assert isinstance(top, cr.Tensor) and top.tolist() == [3.0, 5.0]
    assert np.amin(m, axis=1, keepdims=True).shape == (2, 1)
    np.mean(m, 1).sum().backward()
    np.testing.assert_allclose(m.grad.numpy(), np.full((2, 2), 0.5))
    assert np.argmax(cr.tensor([1.0, 3.0, 2.0])).item() == 1
    assert np.sum(cr.tensor([1, 2]), dtype=np.float64).dtype == np.float64  # NumPy runs it


def test_ndarray_operator_tensor_and_in_place_into_arrays():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    arr = np.array([10.0, 20.0], dtype=np.float32)
    for y in (arr + x, arr - x, arr * x, arr / x, arr ** x, np.float32(2) * x):
        assert isinstance(y, cr.Tensor) and y.requires_grad
    assert (arr - x).tolist() == [9.0, 18.0] and (arr > x).tolist() == [True, True]
    assert np.asarray(x) is x.data and np.array(x, dtype=np.float64).dtype == np.float64
    before = arr
    arr -= x  # ndarray -= tensor writes into the array
    assert arr is before and isinstance(arr, np.ndarray) and arr.tolist() == [9.0, 18.0]


def test_numpy_functions_chainrule_lacks():
    plain = cr.tensor([3.0, 1.0, 2.0])
    assert np.sort(plain).tolist() == [1.0, 2.0, 3.0]  # NumPy runs it: no gradient needed
    assert isinstance(np.sort(plain), cr.Tensor)
    needs_grad = cr.tensor([3.0, 1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="numpy.sort"):
        np.sort(needs_grad)
    with pytest.raises(TypeError, match="numpy.histogram"):
        np.histogram(needs_grad)


def test_old_style_data_updates():
    # PyTorch's old idiom: p.data -= lr * p.grad (p.grad a tensor; .data an ndarray here)
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    w.data -= 0.1 * w.grad
    np.testing.assert_allclose(w.numpy(), [0.8, 1.6])
    w.data -= 0.1 * w.grad.data  # the even older spelling
    np.testing.assert_allclose(w.numpy(), [0.6, 1.2])
    assert isinstance(w.data, np.ndarray)
    w.grad.zero_()
    assert w.grad.tolist() == [0.0, 0.0]


# --------------------------------------------------------------------------- comparisons


def test_comparison_methods_and_functions_match_torch():
    a_np = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    b_np = np.array([2.0, 2.0, 2.0], dtype=np.float32)
    a, b = cr.tensor(a_np), cr.tensor(b_np)
    ta, tb = torch.tensor(a_np), torch.tensor(b_np)
    for name in ("eq", "ne", "lt", "le", "gt", "ge"):
        np.testing.assert_array_equal(getattr(a, name)(b).numpy(), getattr(ta, name)(tb).numpy())
        np.testing.assert_array_equal(getattr(cr, name)(a, 2.0).numpy(),
                                      getattr(torch, name)(ta, 2.0).numpy())
        assert getattr(a, name)(b).dtype == np.bool_
    assert cr.equal(a, a.clone()) and not cr.equal(a, b) and a.equal(a)
    assert not cr.equal(cr.ones(2), cr.ones(3))
    assert (a == b).sum().item() == 1


def test_histc_matches_torch():
    data = np.random.default_rng(2).standard_normal(1000).astype(np.float32)
    for kwargs in ({}, {"bins": 7}, {"bins": 5, "min": -1, "max": 1}):
        ours = cr.histc(cr.tensor(data), **kwargs)
        theirs = torch.histc(torch.tensor(data), **kwargs)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert ours.dtype == np.float32


def test_matmul_keyword_names_are_pytorchs():
    a, b = cr.ones(2, 3), cr.ones(3, 4)
    assert cr.matmul(input=a, other=b).shape == (2, 4)
    assert cr.matmul(a, other=b).tolist() == (a @ b).tolist()


# --------------------------------------------------------------------------- formatting


def test_format_one_element_tensors():
    loss = cr.tensor(0.123456)
    assert f"{loss:.2f}" == "0.12" and format(cr.tensor([2.5]), ".3f") == "2.500"
    assert f"{cr.tensor(3):d}" == "3" and f"{cr.tensor(3):>4}" == "   3"
    assert f"{cr.tensor([1.0, 2.0])}" == str(cr.tensor([1.0, 2.0]))
    with pytest.raises(TypeError):
        f"{cr.tensor([1.0, 2.0]):.2f}"  # noqa: B018  (as PyTorch: many elements, no number)


# --------------------------------------------------------------------------- random numbers


def test_generator_makes_draws_repeatable():
    g = cr.Generator()
    g.manual_seed(42)
    first = [cr.rand(3, generator=g), cr.randn(2, 2, generator=g),
             cr.randint(0, 10, (5,), generator=g), cr.randperm(6, generator=g),
             cr.normal(0.0, 1.0, (3,), generator=g),
             cr.multinomial(cr.tensor([0.2, 0.3, 0.5]), 2, generator=g),
             cr.bernoulli(cr.full((4,), 0.5), generator=g),
             cr.rand_like(cr.zeros(2), generator=g)]
    assert g.initial_seed() == 42
    g.manual_seed(42)
    second = [cr.rand(3, generator=g), cr.randn(2, 2, generator=g),
              cr.randint(0, 10, (5,), generator=g), cr.randperm(6, generator=g),
              cr.normal(0.0, 1.0, (3,), generator=g),
              cr.multinomial(cr.tensor([0.2, 0.3, 0.5]), 2, generator=g),
              cr.bernoulli(cr.full((4,), 0.5), generator=g),
              cr.rand_like(cr.zeros(2), generator=g)]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_generator_state_round_trip_and_independence_from_the_global_seed():
    g = cr.Generator().manual_seed(0)
    state = g.get_state()
    a = cr.randn(4, generator=g)
    g.set_state(state)
    cr.manual_seed(123)  # the library generator is separate
    np.testing.assert_array_equal(cr.randn(4, generator=g).numpy(), a.numpy())
    seed = g.seed()
    assert g.initial_seed() == seed
    cr.manual_seed(7)
    x = cr.randn(3)
    cr.manual_seed(7)
    np.testing.assert_array_equal(cr.randn(3).numpy(), x.numpy())
    assert cr.initial_seed() == 7 == cr.default_generator.initial_seed()
    cr.default_generator.manual_seed(8)
    y = cr.randn(3)
    cr.manual_seed(8)
    np.testing.assert_array_equal(cr.randn(3).numpy(), y.numpy())
    again = cr.randn(3, generator=cr.default_generator.manual_seed(8))
    np.testing.assert_array_equal(again.numpy(), y.numpy())
    with pytest.raises(TypeError, match="generator"):
        cr.rand(2, generator=3)


def test_generator_on_init_and_dataloader():
    w1, w2 = cr.nn.Linear(4, 3).weight, cr.nn.Linear(4, 3).weight
    cr.nn.init.kaiming_uniform_(w1, generator=cr.Generator().manual_seed(5))
    cr.nn.init.kaiming_uniform_(w2, generator=cr.Generator().manual_seed(5))
    np.testing.assert_array_equal(w1.numpy(), w2.numpy())
    for init in (cr.nn.init.uniform_, cr.nn.init.normal_, cr.nn.init.xavier_uniform_,
                 cr.nn.init.xavier_normal_, cr.nn.init.kaiming_normal_):
        init(w1, generator=cr.Generator().manual_seed(1))
        values = w1.numpy().copy()
        init(w1, generator=cr.Generator().manual_seed(1))
        np.testing.assert_array_equal(w1.numpy(), values)
    from chainrule.utils.data import DataLoader, TensorDataset

    data = TensorDataset(cr.arange(10))

    def order(seed):
        loader = DataLoader(data, batch_size=10, shuffle=True, num_workers=2,
                            generator=cr.Generator().manual_seed(seed))
        return next(iter(loader))[0].tolist()

    assert order(3) == order(3) and sorted(order(3)) == list(range(10)) and order(3) != order(4)


def test_in_place_random_fills():
    g = cr.Generator().manual_seed(0)
    x = cr.empty(1000).uniform_(-2, 3, generator=g)
    assert -2 <= x.data.min() and x.data.max() < 3 and x.dtype == np.float32
    n = cr.empty(4000, dtype=cr.float64).normal_(1.0, 0.5)
    assert abs(n.data.mean() - 1) < 0.05 and abs(n.data.std() - 0.5) < 0.05
    assert set(np.unique(cr.zeros(50).bernoulli_(0.5).data)) == {0.0, 1.0}
    w = cr.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="uniform_"):
        w.uniform_()
    with cr.no_grad():
        w.uniform_()
    assert w.data.any()


def test_randint_randperm_signatures_are_pytorchs():
    cr.manual_seed(0)
    assert cr.randint(10, (3,)).shape == (3,) and cr.randint(3, 5, (2, 2)).shape == (2, 2)
    assert cr.randint(0, 10, size=(4,)).dtype == np.int64
    assert cr.randint(5, size=(3,)).shape == (3,) and cr.randint(high=2, size=(2,)).shape == (2,)
    v = cr.randint(3, 5, (200,))
    assert v.data.min() >= 3 and v.data.max() <= 4
    assert sorted(cr.randperm(8).tolist()) == list(range(8))
    assert cr.rand(2, 3).shape == (2, 3) and cr.rand((2, 3)).shape == (2, 3)
    assert cr.randn(()).shape == () and cr.rand(size=(2,)).shape == (2,)


def test_multinomial_frequencies_and_without_replacement():
    g = cr.Generator().manual_seed(0)
    probs = cr.tensor([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]])
    draws = cr.multinomial(probs, 4000, replacement=True, generator=g)
    assert draws.shape == (2, 4000) and draws.dtype == np.int64
    freq0 = np.bincount(draws.numpy()[0], minlength=3) / 4000
    freq1 = np.bincount(draws.numpy()[1], minlength=3) / 4000
    np.testing.assert_allclose(freq0, [0.1, 0.2, 0.7], atol=0.03)
    np.testing.assert_allclose(freq1, [0.5, 0.5, 0.0], atol=0.03)
    unique = cr.multinomial(cr.ones(5, 6), 6, generator=g).numpy()
    assert all(sorted(row) == list(range(6)) for row in unique)
    weights = cr.tensor([1.0, 0.0, 1.0, 1.0])
    once = cr.multinomial(weights, 3).tolist()
    assert sorted(once) == [0, 2, 3]  # a zero weight is never drawn
    # drawing first without replacement follows the weights too
    first = [cr.multinomial(cr.tensor([0.8, 0.2]), 1, generator=g).item() for _ in range(500)]
    assert 0.74 < first.count(0) / 500 < 0.86
    with pytest.raises(ValueError, match="without replacement"):
        cr.multinomial(weights, 4)
    with pytest.raises(ValueError, match="non-negative"):
        cr.multinomial(cr.tensor([1.0, -1.0]), 1)


def test_normal_and_bernoulli():
    g = cr.Generator().manual_seed(0)
    x = cr.normal(cr.full((20000,), 3.0), cr.full((20000,), 2.0), generator=g)
    assert abs(x.data.mean() - 3) < 0.05 and abs(x.data.std() - 2) < 0.05
    assert x.dtype == np.float32
    assert cr.normal(cr.zeros(2, 1), 1.0).shape == (2, 1)
    assert cr.normal(2.0, 3.0, size=(4, 5)).shape == (4, 5)
    b = cr.bernoulli(cr.full((20000,), 0.3), generator=g)
    assert abs(b.data.mean() - 0.3) < 0.02 and set(np.unique(b.data)) <= {0.0, 1.0}
    assert cr.bernoulli(cr.zeros(3, dtype=cr.float64), p=1.0).tolist() == [1.0, 1.0, 1.0]


# --------------------------------------------------------------------------- custom Functions


class MyExp(cr.autograd.Function):
    @staticmethod
    def forward(ctx, i):
        result = i.exp()
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * result


class ScaledMul(cr.autograd.Function):
    """Two tensor inputs and a constant; backward returns None for the constant."""

    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a * b * scale

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad_a = grad_output * b * ctx.scale if ctx.needs_input_grad[0] else None
        grad_b = grad_output * a * ctx.scale if ctx.needs_input_grad[1] else None
        return grad_a, grad_b, None


def test_custom_function_matches_torch():
    rng = np.random.default_rng(3)
    a_np, b_np = rng.standard_normal((3, 4)), rng.standard_normal(4)
    up = rng.standard_normal((3, 4))

    class TorchScaledMul(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, scale):
            ctx.save_for_backward(a, b)
            ctx.scale = scale
            return a * b * scale

        @staticmethod
        def backward(ctx, grad_output):
            a, b = ctx.saved_tensors
            return (grad_output * b * ctx.scale, (grad_output * a * ctx.scale).sum(0), None)

    a, b = cr.tensor(a_np, requires_grad=True), cr.tensor(b_np, requires_grad=True)
    ta, tb = torch.tensor(a_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)
    y = MyExp.apply(ScaledMul.apply(a, b, 0.5))
    ty = torch.exp(TorchScaledMul.apply(ta, tb, 0.5))
    y.backward(cr.tensor(up))
    ty.backward(torch.tensor(up))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-10)
    # ScaledMul returns b's gradient in the broadcast shape (3, 4): it is summed down to (4,)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-10)
    assert y.op == "MyExp" and y.parents[0].op == "ScaledMul"


def test_custom_function_passes_gradcheck_and_shows_in_explain():
    x = cr.tensor(np.linspace(-1, 1, 5), requires_grad=True)
    assert cr.gradcheck(lambda t: MyExp.apply(t * 2).sum(), [x])
    assert cr.autograd.gradcheck(lambda t: ScaledMul.apply(t, t, 3.0).sum(), [x])
    leaf = cr.tensor(0.5, requires_grad=True, name="x")
    y = MyExp.apply(leaf)
    assert "MyExp" in str(cr.explain(y))
    from chainrule.teach.graph import to_dot

    dot = str(to_dot(y))
    assert "MyExp" in dot and f"∂ = {np.exp(0.5):.4g}"[:8] in dot
    y.backward()  # explaining and drawing left the node usable
    assert leaf.grad.item() == pytest.approx(np.exp(0.5), rel=1e-6)


def test_custom_function_needs_input_grad_and_no_grad_inside():
    seen = {}

    class Probe(cr.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, k):
            seen["needs"] = ctx.needs_input_grad
            seen["recording"] = cr.is_grad_enabled()
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g, None, None

    a = cr.ones(2, requires_grad=True)
    out = Probe.apply(a, cr.ones(2), 3)
    assert seen == {"needs": (True, False, False), "recording": False}
    out.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0]
    assert not Probe.apply(cr.ones(2), cr.ones(2), 1).requires_grad


def test_custom_function_with_two_outputs_and_a_non_differentiable_one():
    class SortWithIndex(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            order = np.argsort(x.numpy())
            ctx.order = order
            idx = cr.tensor(order)
            ctx.mark_non_differentiable(idx)
            return cr.tensor(x.numpy()[order]), idx

        @staticmethod
        def backward(ctx, grad_values, grad_index):
            g = np.zeros_like(grad_values.numpy())
            g[ctx.order] = grad_values.numpy()
            return cr.tensor(g)

    x = cr.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, index = SortWithIndex.apply(x)
    assert values.requires_grad and not index.requires_grad and index.tolist() == [1, 2, 0]
    (values * cr.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [100.0, 1.0, 10.0]


def test_custom_function_with_setup_context_pytorch2_style():
    class Square(cr.autograd.Function):
        @staticmethod
        def forward(x, scale):
            return x * x * scale

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, scale = inputs
            ctx.save_for_backward(x)
            ctx.scale = scale

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g * ctx.scale, None

    x = cr.tensor([1.0, 3.0], requires_grad=True)
    Square.apply(x, 2.0).sum().backward()
    assert x.grad.tolist() == [4.0, 12.0]


def test_inference_mode_stops_recording():
    x = cr.tensor([1.0], requires_grad=True)
    with cr.inference_mode():
        assert not (x * 2).requires_grad
    with cr.inference_mode(False):
        assert (x * 2).requires_grad

    @cr.inference_mode()
    def predict(t):
        return t * 2

    assert not predict(x).requires_grad and (x * 2).requires_grad


def test_custom_function_errors_are_clear():
    class WrongCount(cr.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g

    class WrongShape(cr.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return cr.ones(7)

    a = cr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="WrongCount.backward returned 1 gradients"):
        WrongCount.apply(a, a).sum().backward()
    with pytest.raises(RuntimeError, match=r"WrongShape.backward returned a gradient of shape "
                                           r"\(7,\)"):
        WrongShape.apply(a).sum().backward()
    with pytest.raises(RuntimeError, match="apply"):
        MyExp()
    y = MyExp.apply(a)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.sum().backward()


# --------------------------------------------------------------------------- autograd.grad


def test_autograd_grad_matches_torch_and_leaves_dot_grad_alone():
    rng = np.random.default_rng(4)
    w_np, x_np = rng.standard_normal((3, 2)), rng.standard_normal((5, 3))
    w, x = cr.tensor(w_np, requires_grad=True), cr.tensor(x_np, requires_grad=True)
    tw, tx = torch.tensor(w_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    h = cr.tanh(x @ w)
    th = torch.tanh(tx @ tw)
    loss, tloss = (h ** 2).sum(), (th ** 2).sum()
    gw, gh = cr.autograd.grad(loss, [w, h], retain_graph=True)
    tgw, tgh = torch.autograd.grad(tloss, [tw, th], retain_graph=True)
    np.testing.assert_allclose(gw.numpy(), tgw.numpy(), rtol=1e-10)
    np.testing.assert_allclose(gh.numpy(), tgh.numpy(), rtol=1e-10)
    assert w.grad is None and x.grad is None
    loss.backward()  # the graph was retained
    np.testing.assert_allclose(w.grad.numpy(), tgw.numpy(), rtol=1e-10)


def test_autograd_grad_options():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    unused = cr.tensor([5.0], requires_grad=True)
    y = x * 3
    (gx,) = cr.autograd.grad(y, x, grad_outputs=cr.tensor([1.0, 10.0]), retain_graph=True)
    assert gx.tolist() == [3.0, 30.0]
    (gx,) = cr.autograd.grad([y.sum(), (x * x).sum()], [x], retain_graph=True)
    assert gx.tolist() == [5.0, 7.0]
    with pytest.raises(RuntimeError, match="allow_unused"):
        cr.autograd.grad(y.sum(), [x, unused], retain_graph=True)
    gx, gu = cr.autograd.grad(y.sum(), [x, unused], allow_unused=True, retain_graph=True)
    assert gu is None and gx.tolist() == [3.0, 3.0]
    with pytest.raises(NotImplementedError, match="create_graph"):
        cr.autograd.grad(y.sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="one-element"):
        cr.autograd.grad(y, x)
    cr.autograd.grad(y.sum(), x)
    with pytest.raises(RuntimeError, match="second time"):
        cr.autograd.grad(y.sum(), x)
    assert x.grad is None and unused.grad is None


def test_autograd_grad_of_model_parameters():
    cr.manual_seed(0)
    model = cr.nn.Linear(3, 2)
    loss = model(cr.ones(4, 3)).pow(2).sum()
    grads = cr.autograd.grad(loss, model.parameters(), retain_graph=True)
    loss.backward()
    for g, p in zip(grads, model.parameters()):
        np.testing.assert_allclose(g.numpy(), p.grad.numpy(), rtol=1e-6)


def test_old_variable_spelling():
    from chainrule.autograd import Variable

    v = Variable(cr.ones(2), requires_grad=True)
    assert isinstance(v, cr.Tensor) and v.requires_grad


# --------------------------------------------------------------------------- import paths


@pytest.mark.parametrize("statement", [
    "from chainrule.onnx import export",
    "import chainrule.nn.functional as F",
    "import chainrule.optim.lr_scheduler",
    "from chainrule.optim.lr_scheduler import StepLR",
    "import chainrule.autograd",
    "from chainrule.autograd import Function, grad",
    "import chainrule.cuda",
    "import chainrule.utils.data",
    "from chainrule.utils.data import DataLoader, TensorDataset, Dataset",
    "import chainrule.datasets",
    "from chainrule.datasets import moons",
    "import chainrule.backends.mps",
    "from chainrule.nn import functional as F",
    "import chainrule.nn.init",
])
def test_every_public_namespace_imports_as_a_module(statement):
    exec(statement, {})


def test_namespaces_are_attributes_too():
    import chainrule.onnx
    import chainrule.utils.data

    assert cr.onnx.export is chainrule.onnx.export is cr.onnx_export.export
    assert cr.utils.data.DataLoader is cr.data.DataLoader
    assert cr.datasets.moons is importlib.import_module("chainrule.datasets").moons
    assert cr.autograd.Function is importlib.import_module("chainrule.autograd").Function
    assert cr.cuda.is_available() is False
    assert cr.nn.functional.relu is importlib.import_module("chainrule.nn.functional").relu


def test_a_pytorch_style_training_loop_runs_unchanged():
    from chainrule.utils.data import DataLoader, TensorDataset

    cr.manual_seed(0)
    device = cr.device("cuda" if cr.cuda.is_available() else "cpu")
    X = cr.from_numpy(np.random.default_rng(0).standard_normal((64, 3)).astype(np.float32))
    y = (X.sum(1, keepdim=True) > 0).float()
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True,
                        generator=cr.Generator().manual_seed(0))
    model = cr.nn.Sequential(cr.nn.Linear(3, 8), cr.nn.ReLU(), cr.nn.Linear(8, 1)).to(device)
    opt = cr.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = cr.nn.BCEWithLogitsLoss()
    for _ in range(20):
        for xb, yb in loader:
            xb, yb = xb.to(device, non_blocking=True), yb.to(device)
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
    with cr.no_grad():
        correct = ((model(X) > 0).float() == y).sum().item()
    assert f"{loss:.4f}" == f"{loss.item():.4f}"
    assert correct / X.size(0) > 0.9


# --------------------------------------------------------------------------- properties
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

shapes = st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple)


@settings(max_examples=40, deadline=None)
@given(shape=shapes, data=st.data())
def test_size_and_view_agree_with_torch_for_any_shape(shape, data):
    x, t = cr.zeros(shape), torch.zeros(shape)
    assert x.size() == t.size() and x.numel() == t.numel() and x.size == t.numel()
    if shape:
        dim = data.draw(st.integers(-len(shape), len(shape) - 1))
        assert x.size(dim) == t.size(dim)
    assert x.view(-1).shape == tuple(t.view(-1).shape)
    assert x.new_ones(shape).shape == shape and cr.zeros_like(x).size() == x.size()


@settings(max_examples=40, deadline=None)
@given(weights=st.lists(st.sampled_from([0.0, 0.5, 1.0, 3.0]), min_size=1, max_size=8),
       seed=st.integers(0, 2**32 - 1), data=st.data())
def test_multinomial_without_replacement_draws_distinct_nonzero_categories(weights, seed, data):
    nonzero = sum(w > 0 for w in weights)
    if nonzero == 0:
        return
    k = data.draw(st.integers(1, nonzero))
    draws = cr.multinomial(cr.tensor(weights), k, generator=cr.Generator().manual_seed(seed))
    drawn = draws.tolist()
    assert len(set(drawn)) == k and all(weights[i] > 0 for i in drawn)
    with_replacement = cr.multinomial(cr.tensor(weights), 2 * k, replacement=True,
                                      generator=cr.Generator().manual_seed(seed)).tolist()
    assert all(weights[i] > 0 for i in with_replacement)


def test_inplace_keyword_of_activation_layers_is_accepted_as_pytorch_code_writes_it():
    import chainrule.nn.functional as F

    x = cr.tensor([-1.0, 2.0], requires_grad=True)
    layers = [cr.nn.ReLU(inplace=True), cr.nn.LeakyReLU(0.1, inplace=True),
              cr.nn.ELU(inplace=True), cr.nn.Dropout(0.5, inplace=True).eval()]
    expected = [[0.0, 2.0], [-0.1, 2.0], [np.expm1(-1.0), 2.0], [-1.0, 2.0]]
    for layer, want in zip(layers, expected):
        np.testing.assert_allclose(layer(x).data, want, rtol=1e-6)
    F.relu(x, inplace=True).sum().backward()
    assert x.tolist() == [-1.0, 2.0]  # the input is not overwritten
    assert x.grad.tolist() == [0.0, 1.0]
