"""The lecture's PyTorch tutorial network, rewritten with cr.nn and cr.optim, follows PyTorch's
loss curve step for step (float64, the same initial weights), for all 500 steps."""

import numpy as np
import torch

import chainrule as cr


def test_tutorial_network_follows_pytorch_for_500_steps():
    rng = np.random.default_rng(0)
    N, D_in, H, D_out = 64, 1000, 100, 10
    x = rng.standard_normal((N, D_in))
    y = rng.standard_normal((N, D_out))

    torch.manual_seed(0)
    t_model = torch.nn.Sequential(
        torch.nn.Linear(D_in, H), torch.nn.ReLU(), torch.nn.Linear(H, D_out)
    ).double()
    model = cr.nn.Sequential(cr.nn.Linear(D_in, H), cr.nn.ReLU(), cr.nn.Linear(H, D_out))
    model.load_state_dict({k: v.detach().numpy().copy() for k, v in t_model.state_dict().items()})
    model.double()

    t_loss_fn, loss_fn = torch.nn.MSELoss(reduction="sum"), cr.nn.MSELoss(reduction="sum")
    t_opt = torch.optim.SGD(t_model.parameters(), lr=1e-4)
    opt = cr.optim.SGD(model.parameters(), lr=1e-4)
    tx, ty, cx, cy = torch.from_numpy(x), torch.from_numpy(y), cr.tensor(x), cr.tensor(y)

    ours, theirs = [], []
    for _ in range(500):
        loss = loss_fn(model(cx), cy)
        opt.zero_grad()
        loss.backward()
        opt.step()
        ours.append(loss.item())

        t_loss = t_loss_fn(t_model(tx), ty)
        t_opt.zero_grad()
        t_loss.backward()
        t_opt.step()
        theirs.append(t_loss.item())

    np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    assert ours[-1] < 1e-3 * ours[0]  # it learned: the curve is not flat
    for name, p in model.state_dict().items():
        np.testing.assert_allclose(p, t_model.state_dict()[name].numpy(), rtol=1e-7, atol=1e-12)
