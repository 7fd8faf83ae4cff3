"""``cr.backends.cudnn``: the switches PyTorch programs set for reproducibility. They are
accepted and have no effect (there is no cuDNN); chainrule is deterministic on the CPU."""

deterministic = False
benchmark = False
enabled = False


def is_available():
    """False: no cuDNN."""
    return False
