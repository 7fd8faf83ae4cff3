"""The lecture notes' "PyTorch made easy" two-layer network, written with chainrule tensors.

N=64 samples, D_in=1000 inputs, H=100 hidden units, D_out=10 outputs; ReLU; loss = sum of
squared errors; autograd for the backward pass; weights updated by hand under ``no_grad``,
then the gradients zeroed — line for line the notes' code with ``torch`` replaced by ``cr``.
"""

import chainrule as cr


def main(out_dir=None, steps=500, seed=0):
    cr.manual_seed(seed)
    N, D_in, H, D_out = 64, 1000, 100, 10
    x = cr.randn(N, D_in)
    y = cr.randn(N, D_out)
    w1 = cr.randn(D_in, H, requires_grad=True)
    w2 = cr.randn(H, D_out, requires_grad=True)

    learning_rate = 1e-6
    losses = []
    for t in range(steps):
        # Forward pass: the same operations as the notes; the graph is recorded as we go.
        y_pred = x.mm(w1).clamp(min=0).mm(w2)
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        if t % 100 == 99 or t == 0:
            print(f"step {t + 1:4d}  loss {loss.item():.6g}")
        loss.backward()
        with cr.no_grad():
            w1 -= learning_rate * w1.grad
            w2 -= learning_rate * w2.grad
            # Manually zero the gradients after updating weights.
            w1.grad.zero_()
            w2.grad.zero_()
    return {"losses": losses}


if __name__ == "__main__":
    main()
