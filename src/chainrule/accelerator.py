"""``cr.accelerator``: PyTorch's accelerator queries (``torch.accelerator``). chainrule runs on
the CPU with NumPy, so there is no accelerator.

>>> import chainrule as cr
>>> cr.accelerator.is_available(), cr.accelerator.current_accelerator()
(False, None)
"""


def is_available():
    """False: no accelerator."""
    return False


def current_accelerator(check_available=False):
    """None: there is no accelerator."""
    return None


def device_count():
    """0: no accelerator devices."""
    return 0
