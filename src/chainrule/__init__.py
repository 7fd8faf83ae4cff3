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

# --- opsmath: the everyday operator set (issue 12)
from chainrule.ops import (  # noqa: E402
    ValuesIndices,
    acos,
    acosh,
    all,
    allclose,
    amax,
    amin,
    any,
    argmax,
    argmin,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    ceil,
    celu,
    copysign,
    cos,
    cosh,
    cummax,
    cummin,
    cumprod,
    cumsum,
    erf,
    erfc,
    exp2,
    expm1,
    floor,
    floor_divide,
    fmod,
    frac,
    glu,
    hardsigmoid,
    hardswish,
    hardtanh,
    hypot,
    isclose,
    isfinite,
    isinf,
    isnan,
    lerp,
    log1p,
    log2,
    log10,
    logaddexp,
    logcumsumexp,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    logsigmoid,
    median,
    mish,
    nan_to_num,
    norm,
    prelu,
    prod,
    reciprocal,
    relu6,
    remainder,
    round,
    rsqrt,
    selu,
    sign,
    silu,
    sin,
    sinh,
    softmin,
    softsign,
    square,
    std,
    std_mean,
    tan,
    tanhshrink,
    threshold,
    trunc,
    var_mean,
)
from chainrule.ops.forms import (  # noqa: E402
    add,
    div,
    divide,
    mul,
    multiply,
    neg,
    negative,
    sub,
    subtract,
    true_divide,
)
from chainrule.ops.math import ALIASES as _MATH_ALIASES  # noqa: E402

globals().update(_MATH_ALIASES)  # arcsin, arccos, ... (NumPy's names)
absolute = abs
fix = trunc
# --- end opsmath

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
