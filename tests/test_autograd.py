"""The backward engine: the lecture's example, accumulation, retain_grad, detach, grad mode,
freed graphs, deep chains, memory release and gradient aliasing."""

import gc
import threading
import time
import warnings
import weakref

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import GradMode


def test_dd_da_is_11():
    """The lecture notes: a = 4, b = 3, c = a + b, d = a·c, so ∂d/∂a = 2a + b = 11, ∂d/∂b = a."""
    a = cr.tensor(4.0, requires_grad=True)
    b = cr.tensor(3.0, requires_grad=True)
    c = a + b
    d = a * c
    d.backward()
    assert a.grad.item() == 11.0
    assert b.grad.item() == 4.0
    assert c.grad is None  # intermediate gradients are not kept unless asked for


def test_the_graph_records_op_names_and_parents():
    a = cr.tensor(4.0, requires_grad=True)
    b = cr.tensor(3.0, requires_grad=True)
    d = a * (a + b)
    assert d.op == "mul" and d.parents[0] is a and d.parents[1].op == "add"
    assert a.is_leaf and a.op is None and a.parents == ()
    assert not d.is_leaf


def test_jacobian_of_w_times_x_is_w():
    W = cr.tensor(np.arange(12.0).reshape(3, 4))
    J = cr.jacobian(lambda x: W @ x, cr.tensor(np.ones(4)))
    np.testing.assert_array_equal(J.data, W.data)


def test_gradients_accumulate_across_backward_calls_until_zeroed():
    w = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    (w * 3).sum().backward()
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [3.0 + 2.0, 3.0 + 4.0])
    grad = w.grad
    (w * 1).sum().backward()
    assert w.grad is grad  # accumulated in place, like PyTorch
    w.grad.zero_()
    (w * 5).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [5.0, 5.0])


def test_a_variable_used_twice_gets_the_sum_of_both_routes():
    x = cr.tensor(np.array(3.0), requires_grad=True)
    y = x * x + x * 2 + x  # dy/dx = 2x + 3
    y.backward()
    assert x.grad.item() == 9.0


def test_retain_grad_keeps_an_intermediate_gradient():
    a = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = (a * 3).retain_grad()
    other = a * 2
    loss = (h * h).sum() + other.sum()
    loss.retain_grad()
    loss.backward()
    np.testing.assert_array_equal(h.grad.data, 2 * h.data)
    assert loss.grad.item() == 1.0
    assert other.grad is None
    np.testing.assert_array_equal(a.grad.data, 18 * a.data + 2)
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.tensor([1.0]).retain_grad()


def test_detach_shares_data_but_cuts_the_graph():
    a = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = a * 2
    d = h.detach()
    assert not d.requires_grad and d.is_leaf and d.data is h.data
    (d * a).sum().backward()  # no gradient flows through d back into a via h
    np.testing.assert_array_equal(a.grad.data, h.data)


def test_no_grad_as_a_context_manager():
    w = cr.tensor(np.array([1.0]), requires_grad=True)
    with cr.no_grad():
        y = w * 2
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()
    assert not y.requires_grad and y.op is None and y.parents == ()


def test_no_grad_restores_grad_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError), cr.no_grad():
        1 / 0
    assert cr.is_grad_enabled()


def test_no_grad_as_a_decorator_with_and_without_parentheses():
    w = cr.tensor(np.array([1.0]), requires_grad=True)

    @cr.no_grad()
    def called(x, scale=2.0):
        return x * scale

    @cr.no_grad
    def bare(x, scale=2.0):
        return x * scale

    for fn in (called, bare):
        y = fn(w, scale=3.0)
        assert not y.requires_grad and y.item() == 3.0
        assert cr.is_grad_enabled()
    assert called.__name__ == "called"


def test_enable_grad_inside_no_grad_and_set_grad_enabled():
    w = cr.tensor(np.array([1.0]), requires_grad=True)
    with cr.no_grad():
        with cr.enable_grad():
            assert (w * 2).requires_grad
        assert not (w * 2).requires_grad
    with cr.set_grad_enabled(False):
        assert not (w * 2).requires_grad
    assert (w * 2).requires_grad


def test_no_grad_decorator_is_reentrant():
    """One decorated function re-entered (recursion) must restore grad mode on the way out."""
    @cr.no_grad()
    def depth(n):
        return depth(n - 1) if n else cr.is_grad_enabled()

    try:
        assert depth(2) is False
        assert cr.is_grad_enabled()
    finally:
        GradMode.enabled = True


def test_bare_no_grad_decorator_on_a_method():
    """Bare @cr.no_grad must give a real function, so methods still receive ``self``."""
    class Model:
        scale = 2.0

        @cr.no_grad
        def predict(self, x):
            return x * self.scale

    w = cr.tensor(np.array([1.0]), requires_grad=True)
    assert not Model().predict(w).requires_grad


def test_bare_no_grad_decorator_passes_none_through():
    """A first positional argument of None is an argument, not 'no arguments'."""
    @cr.no_grad
    def identity(x=5):
        return x

    assert identity(None) is None


def test_grad_mode_is_per_process_not_per_thread():
    # Documented behaviour: the switch is global (class attribute), so it is visible from
    # another thread. This pins the behaviour so a change to thread-local mode is deliberate.
    seen = []
    with cr.no_grad():
        t = threading.Thread(target=lambda: seen.append(cr.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [False]


def test_backward_on_a_non_scalar_needs_a_gradient():
    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*one-element outputs"):
        y.backward()
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\) but the output has shape"):
        y.backward(np.ones(3))
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad.data, [2.0, 20.0])


def test_backward_on_a_one_element_non_scalar_is_allowed():
    x = cr.tensor(np.array([[3.0]]), requires_grad=True)
    (x * x).backward()
    assert x.grad.shape == (1, 1) and x.grad.item() == 6.0


def test_backward_without_a_graph_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.tensor([1.0]).sum().backward()


def test_second_backward_through_a_freed_graph_raises():
    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (cr.exp(x) * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (cr.exp(x) * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.data.copy()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first)
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_requires_grad_on_an_integer_tensor_raises():
    with pytest.raises(TypeError, match="floating-point"):
        cr.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        cr.tensor([1, 2]).requires_grad_()
    assert cr.tensor([1, 2], dtype=cr.float32, requires_grad=True).requires_grad


def test_a_100000_op_chain_backpropagates_without_recursion():
    a = cr.tensor(np.array(1.0), requires_grad=True)
    x = a
    start = time.perf_counter()
    for _ in range(100_000):
        x = x * 1.00001
    x.backward()
    elapsed = time.perf_counter() - start
    assert a.grad.item() == pytest.approx(1.00001**100_000, rel=1e-9)
    assert elapsed < 20.0, f"100,000-op forward + backward took {elapsed:.1f} s"
    del x  # tearing down a 100,000-deep graph must not overflow the C stack either
    gc.collect()


def test_saved_intermediates_are_freed_after_backward():
    logits = cr.tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    loss = cr.ops.cross_entropy(logits, cr.tensor([0, 2, 1, 2]))
    log_probs = weakref.ref(loss._saved[0])  # the saved log-softmax
    assert log_probs() is not None
    loss.backward()
    gc.collect()
    assert loss._saved is None
    assert log_probs() is None


def test_retain_graph_keeps_saved_intermediates():
    logits = cr.tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    loss = cr.ops.cross_entropy(logits, cr.tensor([0, 2, 1, 2]))
    log_probs = weakref.ref(loss._saved[0])
    loss.backward(retain_graph=True)
    gc.collect()
    assert log_probs() is not None
    loss.backward()
    gc.collect()
    assert log_probs() is None


def test_every_node_releases_its_saved_arrays():
    x = cr.tensor(np.random.default_rng(1).standard_normal((3, 4)), requires_grad=True)
    h = cr.tanh(x @ cr.tensor(np.ones((4, 2)))).var(axis=0)
    loss = cr.log_softmax(h).sum()
    loss.backward()
    node, stack = loss, [loss]
    while stack:
        node = stack.pop()
        assert node.is_leaf or node._saved is None, node.op
        stack.extend(node.parents)


def test_shared_gradient_is_not_aliased_between_inputs():
    """add passes one gradient array to both inputs: each .grad must own its memory."""
    a = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = cr.tensor(np.array([3.0, 4.0]), requires_grad=True)
    c = a + b
    c.backward(np.array([1.0, 1.0]))
    a.grad.data += 100  # in place
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])
    assert not np.shares_memory(a.grad.data, b.grad.data)


@pytest.mark.parametrize("build", [
    lambda a, b: cr.concat([a, b]),
    lambda a, b: cr.stack([a, b]),
    lambda a, b: a + b.reshape(2),
    lambda a, b: a * 1 + b,
    lambda a, b: cr.ops.astype(a, a.dtype) + b,
], ids=["concat", "stack", "reshape", "mul-one", "astype"])
def test_leaf_gradients_own_their_memory(build):
    a = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = cr.tensor(np.array([3.0, 4.0]), requires_grad=True)
    out = build(a, b)
    seed = np.ones(out.shape)
    out.backward(seed)
    for g in (a.grad.data, b.grad.data):
        assert g.flags.writeable
        assert not np.shares_memory(g, seed)
    assert not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data += 7
    seed += 3
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])


def test_the_callers_gradient_array_is_not_adopted_as_a_grad():
    a = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    seed = np.array([5.0, 6.0])
    a.backward(seed)  # backward on a leaf itself
    seed[:] = 0
    np.testing.assert_array_equal(a.grad.data, [5.0, 6.0])


def test_retained_intermediate_grad_is_a_copy():
    a = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = (a + 0).retain_grad()
    (h * 1).sum().backward()
    h.grad.data += 5
    np.testing.assert_array_equal(a.grad.data, [1.0, 1.0])


def test_gradient_dtype_follows_the_tensor():
    w32 = cr.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    w64 = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    (w32 * w64).sum().backward()  # the product is float64 (NumPy promotion)
    assert w32.grad.dtype == np.float32 and w64.grad.dtype == np.float64


def test_only_tensors_that_require_grad_get_gradients():
    a = cr.tensor(np.array([1.0]), requires_grad=True)
    b = cr.tensor(np.array([2.0]))
    (a * b).sum().backward()
    assert b.grad is None and a.grad.item() == 2.0


def test_detect_anomaly_names_the_op():
    x = cr.tensor(np.array([0.0, 1.0]), requires_grad=True)
    with cr.detect_anomaly(), pytest.raises(FloatingPointError, match="'sqrt'"):
        with np.errstate(divide="ignore"):
            cr.sqrt(x).sum().backward()
    assert not GradMode.anomaly


def test_pow_zero_has_zero_gradient_at_zero():
    """x**0 is constant: gradient 0 everywhere, as in PyTorch (not 0·x^-1 = nan at 0)."""
    x = cr.tensor(np.array([0.0, 2.0]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])


def test_vector_dot_vector_backward():
    """1-D @ 1-D gives a 0-d result; each operand's gradient is the other operand."""
    a = cr.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = cr.tensor(np.array([4.0, 5.0, 6.0]), requires_grad=True)
    (a @ b).backward()
    np.testing.assert_array_equal(a.grad.data, b.data)
    np.testing.assert_array_equal(b.grad.data, a.data)
