"""PyTorch's "Learn the Basics: Automatic Differentiation with torch.autograd" tutorial, with
``torch`` renamed to ``cr`` and the prints turned into checks against PyTorch itself."""

import numpy as np
import torch

import chainrule as cr


def test_autograd_tutorial_runs_and_agrees_with_torch():
    cr.manual_seed(0)
    x = cr.ones(5)  # input tensor
    y = cr.zeros(3)  # expected output
    w = cr.randn(5, 3, requires_grad=True)
    b = cr.randn(3, requires_grad=True)
    z = cr.matmul(x, w)+b
    loss = cr.nn.functional.binary_cross_entropy_with_logits(z, y)

    print(f"Gradient function for z = {z.grad_fn}")
    print(f"Gradient function for loss = {loss.grad_fn}")
    assert z.grad_fn.name() == "AddBackward0" and loss.grad_fn is not None

    loss.backward()
    print(w.grad)
    print(b.grad)

    tw = torch.tensor(w.numpy(), requires_grad=True)
    tb = torch.tensor(b.numpy(), requires_grad=True)
    tloss = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.matmul(torch.ones(5), tw) + tb, torch.zeros(3))
    tloss.backward()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-5)

    z = cr.matmul(x, w)+b
    print(z.requires_grad)
    assert z.requires_grad

    with cr.no_grad():
        z = cr.matmul(x, w)+b
    print(z.requires_grad)
    assert not z.requires_grad

    z = cr.matmul(x, w)+b
    z_det = z.detach()
    print(z_det.requires_grad)
    assert not z_det.requires_grad

    inp = cr.eye(4, 5, requires_grad=True)
    out = (inp+1).pow(2).t()
    out.backward(cr.ones_like(out), retain_graph=True)
    print(f"First call\n{inp.grad}")
    first = inp.grad.numpy().copy()
    out.backward(cr.ones_like(out), retain_graph=True)
    print(f"\nSecond call\n{inp.grad}")
    second = inp.grad.numpy().copy()
    inp.grad.zero_()
    out.backward(cr.ones_like(out), retain_graph=True)
    print(f"\nCall after zeroing gradients\n{inp.grad}")

    tinp = torch.eye(4, 5, requires_grad=True)
    tout = (tinp + 1).pow(2).t()
    tout.backward(torch.ones_like(tout), retain_graph=True)
    np.testing.assert_allclose(first, tinp.grad.numpy())
    np.testing.assert_allclose(second, 2 * tinp.grad.numpy())
    np.testing.assert_allclose(inp.grad.numpy(), tinp.grad.numpy())


def test_grad_fn_walks_like_torchs():
    a = cr.tensor([2.0, 3.0], requires_grad=True)
    q = 3 * a ** 3 - a ** 2
    ta = torch.tensor([2.0, 3.0], requires_grad=True)
    tq = 3 * ta ** 3 - ta ** 2
    assert q.grad_fn.name() == tq.grad_fn.name() == "SubBackward0"
    assert [type(n).__name__ for n, _ in q.grad_fn.next_functions] == ["GradFn", "GradFn"]
    assert q.grad_fn.next_functions[0][0].name() == tq.grad_fn.next_functions[0][0].name()
    leaf = q.grad_fn.next_functions[1][0].next_functions[0][0]
    assert leaf.name() == "AccumulateGrad" and leaf.variable is a
    assert a.grad_fn is None and cr.ones(2).grad_fn is None
