"""The training step the cr.compile tests compile, written as PyTorch users write it."""


def training_step(model, opt, loss_fn, scheduler=None, scale=1.0):
    """``step(x, y)``: loss, zero_grad, backward, step (and the scheduler's step); returns the
    loss (times ``scale``, e.g. -1 to maximise)."""

    def step(x, y):
        loss = loss_fn(model(x), y) * scale if scale != 1.0 else loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
        return loss

    return step
