"""Devices, as PyTorch programs name them. chainrule computes on the CPU with NumPy: the CPU is
the only device, but code written for PyTorch (``device = cr.device("cuda" if
cr.cuda.is_available() else "cpu")``, ``x.to(device)``, ``device=device``) runs unchanged.

A ``cr.device("cuda:0")`` can be constructed (so it can be printed or compared), but passing it
anywhere a tensor would live on it raises a clear error.

>>> import chainrule as cr
>>> cr.device("cpu"), cr.tensor([1.0]).device
(device(type='cpu'), device(type='cpu'))
>>> try:
...     cr.zeros(2, device="cuda")
... except RuntimeError as error:
...     print(error)
zeros: chainrule runs on the CPU with NumPy; CUDA is not available (device 'cuda')
"""

_KNOWN_TYPES = ("cpu", "cuda", "mps", "xpu", "meta", "xla", "hip", "vulkan", "ipu", "hpu", "mtia")


class device:  # noqa: N801  (PyTorch's spelling: cr.device)
    """A device name: ``device("cpu")``, ``device("cuda:0")``, ``device("cuda", 1)``.

    ``.type`` and ``.index`` as in PyTorch; equal to another device with the same type and index,
    and to its string.

    >>> d = device("cuda:1"); d.type, d.index, str(d)
    ('cuda', 1, 'cuda:1')
    >>> device("cpu") == "cpu"
    True
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002  (PyTorch's argument name)
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu', got {type!r}")
        name = type.strip()
        if ":" in name:
            name, _, number = name.partition(":")
            if index is not None:
                raise ValueError(f"device: {type!r} already names an index, got index={index}")
            if not number.isdigit():
                raise ValueError(f"device: invalid device string {type!r}")
            index = int(number)
        if name not in _KNOWN_TYPES:
            raise RuntimeError(
                f"device: expected one of {', '.join(_KNOWN_TYPES)} device type at start of "
                f"device string: {type!r}"
            )
        if index is not None and (not isinstance(index, int) or index < 0):
            raise ValueError(f"device: index must be a non-negative integer, got {index!r}")
        self.type = name
        self.index = index

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type={self.type!r})"
        return f"device(type={self.type!r}, index={self.index})"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except (ValueError, RuntimeError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))


CPU = device("cpu")


class DeviceUnavailableError(RuntimeError, ValueError):
    """A tensor or module was asked to live on a device other than the CPU. A RuntimeError as
    PyTorch raises for a missing CUDA, and a ValueError (a bad argument value)."""


def _missing(dev):
    if dev.type == "cuda":
        return "CUDA is not available"
    if dev.type == "mps":
        return "MPS (Apple GPUs) is not available"
    return f"the {dev.type!r} device is not available"


def check_device(dev, op):
    """Return the CPU device for ``None``, ``"cpu"``, ``"cpu:0"`` or ``device("cpu")``; raise a
    clear error naming ``op`` for any other device.

    >>> check_device(None, "zeros")
    device(type='cpu')
    """
    if dev is None or dev is CPU:
        return CPU
    if isinstance(dev, int) and not isinstance(dev, bool):  # torch: an int means cuda:<n>
        dev = device("cuda", dev)
    if not isinstance(dev, device):
        if isinstance(getattr(dev, "type", None), str):  # e.g. a torch.device
            dev = str(dev)
        try:
            dev = device(dev)
        except TypeError:
            raise TypeError(f"{op}: expected a device such as 'cpu', got {dev!r}") from None
    if dev.type == "cpu" and dev.index in (None, 0):
        return CPU
    raise DeviceUnavailableError(
        f"{op}: chainrule runs on the CPU with NumPy; {_missing(dev)} (device '{dev}')"
    )


def is_device_like(value):
    """True for a device or a string that names one (``"cpu"``, ``"cuda:0"``)."""
    if isinstance(value, device):
        return True
    if not isinstance(value, str) and isinstance(getattr(value, "type", None), str):
        return True  # e.g. a torch.device
    if isinstance(value, str):
        name = value.partition(":")[0].strip()
        return name in _KNOWN_TYPES
    return False


def set_default_device(dev):
    """Accepts the CPU (PyTorch's ``torch.set_default_device``); any other device raises.

    >>> set_default_device("cpu"); get_default_device()
    device(type='cpu')
    """
    check_device(dev, "set_default_device")


def get_default_device():
    """The CPU: the device new tensors are made on."""
    return CPU
