"""PyTorch's legacy typed constructors (``cr.FloatTensor([1, 2])``, ``cr.LongTensor(3)``) and the
type strings of ``x.type()`` (``'chainrule.FloatTensor'``).

``cr.FloatTensor(data)`` is ``cr.tensor(data, dtype=cr.float32)``; ``cr.FloatTensor(2, 3)``
(integers only) is an uninitialised tensor of that shape, zero-filled here so runs are
repeatable. ``isinstance(x, cr.FloatTensor)`` checks the dtype, as in PyTorch.

>>> import chainrule as cr
>>> cr.FloatTensor([1, 2]).dtype, cr.LongTensor(2, 3).shape
(dtype('float32'), (2, 3))
>>> isinstance(cr.tensor([1.0]), cr.FloatTensor), cr.tensor([1]).type()
(True, 'chainrule.LongTensor')
"""

import numpy as np

TYPE_NAMES = {
    "FloatTensor": np.float32, "DoubleTensor": np.float64, "HalfTensor": np.float16,
    "LongTensor": np.int64, "IntTensor": np.int32, "ShortTensor": np.int16,
    "CharTensor": np.int8, "ByteTensor": np.uint8, "BoolTensor": np.bool_,
}
_NAME_OF = {np.dtype(dt): name for name, dt in TYPE_NAMES.items()}


def type_string(dtype):
    """``'chainrule.FloatTensor'`` for float32, and so on (PyTorch's ``x.type()``)."""
    dtype = np.dtype(dtype)
    name = _NAME_OF.get(dtype)
    return f"chainrule.{name}" if name else f"chainrule.{dtype.name}"


def dtype_of_type_string(text, op="type"):
    """The dtype a type string names: ``'torch.FloatTensor'``, ``'chainrule.LongTensor'``..."""
    head, _, name = text.rpartition(".")
    if head.endswith("cuda"):
        raise RuntimeError(
            f"{op}: chainrule runs on the CPU with NumPy; CUDA is not available ({text!r})"
        )
    if name not in TYPE_NAMES or head not in ("", "torch", "chainrule", "cr"):
        raise ValueError(
            f"{op}: unknown tensor type {text!r}; expected e.g. 'chainrule.FloatTensor'"
        )
    return np.dtype(TYPE_NAMES[name])


class TypedTensor(type):
    """The metaclass of ``cr.FloatTensor`` and its siblings."""

    def __instancecheck__(cls, obj):
        from chainrule.tensor import Tensor

        return isinstance(obj, Tensor) and obj.data.dtype == cls.dtype

    def __call__(cls, *args, requires_grad=False, device=None):
        from chainrule.creation import tensor
        from chainrule.device import check_device

        check_device(device, cls.__name__)
        if args and all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                        for a in args):
            return tensor(np.zeros(tuple(int(a) for a in args), dtype=cls.dtype),
                          requires_grad=requires_grad)
        if len(args) > 1:
            raise TypeError(f"{cls.__name__}: expected data or integer sizes, got {args!r}")
        data = args[0] if args else []
        return tensor(data, dtype=cls.dtype, requires_grad=requires_grad)


def _make(name, dtype):
    doc = f"``cr.{name}(data)`` or ``cr.{name}(*sizes)``: a {np.dtype(dtype).name} tensor."
    return TypedTensor(name, (), {"dtype": np.dtype(dtype), "__doc__": doc,
                                       "__module__": "chainrule"})


FloatTensor = _make("FloatTensor", np.float32)
DoubleTensor = _make("DoubleTensor", np.float64)
HalfTensor = _make("HalfTensor", np.float16)
LongTensor = _make("LongTensor", np.int64)
IntTensor = _make("IntTensor", np.int32)
ShortTensor = _make("ShortTensor", np.int16)
CharTensor = _make("CharTensor", np.int8)
ByteTensor = _make("ByteTensor", np.uint8)
BoolTensor = _make("BoolTensor", np.bool_)
