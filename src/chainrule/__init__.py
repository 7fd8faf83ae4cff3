"""chainrule: tensors with reverse-mode autograd, neural networks and training on NumPy.

>>> import chainrule as cr
>>> a = cr.tensor(4.0, requires_grad=True); b = cr.tensor(3.0, requires_grad=True)
>>> c = a + b; d = a * c
>>> d.backward(); a.grad.item(), b.grad.item()
(11.0, 4.0)

The core (tensors, autograd, primitives) imports only NumPy. Everything heavier (training,
saving, plots, teaching tools) is loaded on first use, so ``import chainrule`` stays fast.
"""

from importlib import import_module as _import_module

from chainrule.autograd import (
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from chainrule.backend import (
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    manual_seed,
    set_default_dtype,
)
from chainrule.creation import (
    arange,
    empty,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from chainrule.gradcheck import gradcheck, jacobian
from chainrule.ops import (
    abs,
    broadcast_to,
    clip,
    concat,
    elu,
    exp,
    flatten,
    gelu,
    leaky_relu,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    pow,
    relu,
    reshape,
    sigmoid,
    softmax,
    softplus,
    sqrt,
    squeeze,
    stack,
    step,
    sum,
    tanh,
    transpose,
    unsqueeze,
    var,
    where,
)
from chainrule.tensor import Tensor

__version__ = "0.1.0"

cat = concat  # PyTorch's name
clamp = clip

# Sub-packages and functions that pull in optional dependencies load lazily (PEP 562).
_LAZY_MODULES = {
    "nn": "chainrule.nn",
    "optim": "chainrule.optim",
    "data": "chainrule.data",
    "datasets": "chainrule.data.datasets",
    "train": "chainrule.train",
    "classic": "chainrule.classic",
    "teach": "chainrule.teach",
    "io": "chainrule.io",
    "onnx": "chainrule.onnx_export",
    "sklearn": "chainrule.sklearn",
    "torch_interop": "chainrule.torch_interop",
}
_LAZY_ATTRS = {
    "save": ("chainrule.io", "save"),
    "load": ("chainrule.io", "load"),
    "load_model": ("chainrule.io", "load_model"),
    "save_model": ("chainrule.io", "save_model"),
    "save_checkpoint": ("chainrule.io", "save_checkpoint"),
    "load_checkpoint": ("chainrule.io", "load_checkpoint"),
    "explain": ("chainrule.teach", "explain"),
    "compile": ("chainrule.jit", "compile"),
}


def __getattr__(name):
    if name in _LAZY_MODULES:
        module = _import_module(_LAZY_MODULES[name])
        globals()[name] = module
        return module
    if name in _LAZY_ATTRS:
        module_name, attr = _LAZY_ATTRS[name]
        value = getattr(_import_module(module_name), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_MODULES) | set(_LAZY_ATTRS))
