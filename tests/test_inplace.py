"""In-place operations recorded on the graph (PyTorch's semantics), and the version check that
makes backward refuse an array overwritten after the forward pass. Each program runs in
chainrule and in PyTorch, written the same way."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def run_both(program, *arrays):
    """Run ``program(lib, *leaves)`` in both libraries; compare outputs and leaf gradients."""
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = program(cr, *xs)
    tout = program(torch, *ts)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = normal(*out.shape, seed=7)
    out.backward(g)
    tout.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        want = np.zeros_like(x.data) if t.grad is None else t.grad.numpy()
        got = np.zeros_like(x.data) if x.grad is None else x.grad.data
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    return out


def test_micrograd_sanity_check_with_augmented_assignment():
    # micrograd's test_more_ops, which uses `c += c + 1` on values that need gradients.
    def program(lib, a, b):
        c = a + b
        d = a * b + b ** 3
        c += c + 1
        c += 1 + c + (-a)
        d += d * 2 + (b + a).relu()
        d += 3 * d + (b - a).relu()
        e = c - d
        f = e ** 2
        g = f / 2.0
        g += 10.0 / f
        return g

    out = run_both(program, np.array(-4.0), np.array(2.0))
    assert abs(out.item() - 24.70408163265306) < 1e-12


@pytest.mark.parametrize("name, call", [
    ("mul_", lambda h, w: h.mul_(w)),
    ("mul_ scalar", lambda h, w: h.mul_(2.5)),
    ("add_ alpha", lambda h, w: h.add_(w, alpha=-3)),
    ("sub_", lambda h, w: h.sub_(w * w)),
    ("div_", lambda h, w: h.div_(w * w + 1)),
    ("pow_", lambda h, w: h.pow_(2)),
    ("exp_", lambda h, w: h.exp_()),
    ("tanh_", lambda h, w: h.tanh_()),
    ("sigmoid_", lambda h, w: h.sigmoid_()),
    ("clamp_", lambda h, w: h.clamp_(-0.5, 0.5)),
    ("clamp_ min", lambda h, w: h.clamp_(0)),
    ("copy_", lambda h, w: h.copy_(w * 3)),
    ("fill_", lambda h, w: h.fill_(1.5)),
    ("zero_", lambda h, w: h.zero_()),
    ("iadd", lambda h, w: h.__iadd__(w)),
    ("isub", lambda h, w: h.__isub__(w)),
    ("imul", lambda h, w: h.__imul__(w)),
    ("itruediv", lambda h, w: h.__itruediv__(w * w + 1)),
])
def test_inplace_methods_on_non_leaf_tensors_backpropagate_like_torch(name, call):
    def program(lib, x, w):
        h = x * 1.0  # a non-leaf
        before = h + w  # uses h before the change (add saves nothing, so torch allows it)
        out = call(h, w)
        assert out is h  # in-place ops return the tensor itself
        return h * 2 + before

    run_both(program, normal(2, 3), normal(2, 3, seed=1))


def test_inplace_index_ops_on_non_leaf_tensors():
    index = np.array([[0, 1, 0], [1, 0, 1]])

    def program(lib, x, src):
        h = x * 1.0
        idx = cr.tensor(index) if lib is cr else torch.from_numpy(index)
        h.masked_fill_(h > 0, 0.25)
        h.index_add_(1, idx[0], src, alpha=2)
        h.scatter_add_(0, idx, src)
        h.scatter_(1, idx, src * 3)
        return h

    run_both(program, normal(2, 3), normal(2, 3, seed=1))


@pytest.mark.parametrize("index", [
    1, (slice(None), 1), (0, slice(1, 3)), ([0, 1], [2, 0]), (Ellipsis, -1), "mask",
])
def test_item_assignment_of_a_tensor_that_needs_grad(index):
    def program(lib, x, v):
        idx = (lib.tensor([[True, False, True], [False, False, True]]) if index == "mask"
               else index)
        h = x * 2.0
        used = h.sum(0)  # recorded before the assignment: sees the old value
        h[idx] = v.sum() * 3  # a 0-d value, broadcast over the selected entries
        return h * h + used

    run_both(program, normal(2, 3), normal(3, seed=1))


def test_filling_a_buffer_row_by_row_collects_every_rows_gradient():
    def program(lib, w):
        out = lib.zeros(3, 2, dtype=lib.float64)
        for i in range(3):
            out[i] = w * (i + 1)
        out[1, 0] = 5.0  # a plain number overwrites one entry: no gradient flows there
        return out

    out = run_both(program, normal(2))
    assert out.requires_grad and not out.is_leaf


def test_assigning_an_array_or_number_into_a_plain_tensor_is_a_plain_write():
    x = cr.zeros(2, 3)
    x[0] = np.array([1.0, 2.0, 3.0])
    x[1, 1:] = 7
    assert x.tolist() == [[1.0, 2.0, 3.0], [0.0, 7.0, 7.0]]
    assert x.is_leaf and not x.requires_grad


def test_inplace_change_of_a_leaf_that_requires_grad_refuses():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    for change in (lambda: w.mul_(2), lambda: w.__iadd__(1), lambda: w.__setitem__(0, 5.0),
                   lambda: w.exp_(), lambda: w.zero_()):
        with pytest.raises(RuntimeError, match="in-place change of a tensor that requires grad"):
            change()
    assert w.tolist() == [1.0, 2.0]


def test_optimiser_updates_under_no_grad_stay_plain_writes():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    data = w.data
    with cr.no_grad():
        w -= 0.5 * cr.tensor([2.0, 2.0])
        w.mul_(2)
        w[0] = 10.0
        w.clamp_(max=5.0)
    assert w.data is data and w.is_leaf and w.op is None
    assert w.tolist() == [5.0, 2.0]


def test_recorded_inplace_keeps_the_dtype_and_checks_the_shape():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    h += np.array([1.0, 1.0], dtype=np.float64)
    assert h.dtype == np.float32
    with pytest.raises(ValueError, match=r"\+=.*\(2, 2\).*\(2,\)"):
        h += cr.ones(2, 2)


def test_retain_grad_survives_an_inplace_change():
    def program(lib, x):
        h = x * 3
        h.retain_grad()
        h.add_(1)
        return h * h

    xs = cr.tensor([1.0, 2.0], requires_grad=True)
    program(cr, xs).sum().backward()
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    h = t * 3
    h.retain_grad()
    h.add_(1)
    (h * h).sum().backward()
    assert xs.grad.tolist() == t.grad.tolist()


# --------------------------------------------------------------------------- version check
def test_overwriting_an_input_saved_for_backward_raises_naming_the_op():
    w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = cr.tensor([4.0, 5.0, 6.0])
    y = (w * x).sum()
    x.mul_(2)  # x needs no gradient: a real write into the array mul saved
    with pytest.raises(RuntimeError, match=r"backward of 'mul': .*input 1, shape \(3,\).* "
                                           r"modified in place by 'mul_'.*\.clone\(\)"):
        y.backward()


def test_an_optimiser_step_between_forward_and_backward_is_caught():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    with cr.no_grad():
        w.sub_(0.1)
    with pytest.raises(RuntimeError, match="backward of 'mul'"):
        loss.backward()


def test_an_overwritten_output_that_backward_reads_is_caught():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    y = w.exp()
    with cr.no_grad():
        y[0] = 0.0
    with pytest.raises(RuntimeError, match="backward of 'exp': .*its output"):
        y.sum().backward()


def test_ops_that_do_not_read_the_overwritten_array_still_backpropagate():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([4.0, 5.0])
    y = (w + x).sum() + w[0] + w.reshape(2, 1).sum()
    x.fill_(0)  # add never reads x, so this is fine (as in PyTorch)
    y.backward()
    assert w.grad.tolist() == [3.0, 2.0]


def test_a_graph_built_after_the_write_is_not_affected():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    x = cr.tensor([4.0, 5.0])
    x.mul_(2)
    (w * x).sum().backward()
    assert w.grad.tolist() == [8.0, 10.0]


def test_recorded_inplace_ops_never_corrupt_what_earlier_nodes_saved():
    # PyTorch refuses this program (exp saved its output); chainrule records the in-place op
    # out of place, so the old value survives and the gradient is the true one.
    w = cr.tensor([0.5, 1.0], requires_grad=True)
    y = w.exp()
    z = y * 1
    y += 1
    (y * z).sum().backward()
    e = np.exp(np.array([0.5, 1.0], dtype=np.float32))
    np.testing.assert_allclose(w.grad.data, (e + 1) * e + e * e, rtol=1e-6)


def test_graph_tools_see_the_version_each_node_used():
    from chainrule.teach.explainer import graph_nodes

    a = cr.tensor([1.0, 2.0], requires_grad=True)
    c = a * 1
    c += c + 1
    nodes = graph_nodes(c)
    assert [n.op for n in nodes if n.op] == ["mul", "add", "add"]
    assert len({id(n) for n in nodes}) == len(nodes)  # no cycle through the changed tensor
    assert c.parents[0].op == "mul" and c.parents[1].parents[0] is c.parents[0]


STEPS = ["add_", "sub_", "mul_2", "setitem", "setrow", "keep", "rebind", "exp_"]


@given(st.lists(st.sampled_from(STEPS), min_size=1, max_size=8))
def test_random_programs_of_inplace_steps_match_torch(steps):
    # Steps PyTorch accepts in any order: no op here saves the tensor it later changes.
    def program(lib, x, w):
        h = x * 1.0
        kept = []
        for step in steps:
            if step == "add_":
                h.add_(w)
            elif step == "sub_":
                h -= w * 0.5
            elif step == "mul_2":
                h.mul_(2.0)
            elif step == "setitem":
                h[0, 1] = w.sum()
            elif step == "setrow":
                h[1] = w[0] * 3
            elif step == "keep":
                kept.append(h + 0.0)  # add saves nothing: a later change of h is fine
            elif step == "rebind":
                h = h * 1.0 + 0.0
            else:
                h = h * 1.0
                h.exp_()
                h = h * 0.5
        for k in kept:
            h = h + k * 0.25
        return h

    run_both(program, normal(2, 3) * 0.3, normal(2, 3, seed=1) * 0.3)


def test_assigning_a_float64_value_into_a_float32_tensor_gives_each_its_own_dtype_of_gradient():
    v = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)  # float64
    h = cr.zeros(3, 2)  # float32
    h[1] = v * 2
    assert h.dtype == np.float32
    (h * 3).sum().backward()
    assert v.grad.dtype == np.float64 and v.grad.tolist() == [6.0, 6.0]
