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

# shape, indexing and linear algebra (issue 12, opsshape)
from chainrule.ops import (  # noqa: E402
    abs,
    addmm,
    argsort,
    argwhere,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    baddbmm,
    bmm,
    broadcast_to,
    chunk,
    clip,
    column_stack,
    concat,
    cross,
    det,
    diag,
    diag_embed,
    diagonal,
    dot,
    dstack,
    einsum,
    elu,
    exp,
    flatten,
    flip,
    fliplr,
    flipud,
    gather,
    gelu,
    hstack,
    index_add,
    index_select,
    inner,
    kron,
    kthvalue,
    leaky_relu,
    log,
    log_softmax,
    logsumexp,
    masked_fill,
    masked_select,
    matmul,
    max,
    maximum,
    mean,
    meshgrid,
    min,
    minimum,
    mm,
    moveaxis,
    mv,
    narrow,
    nonzero,
    outer,
    pow,
    relu,
    repeat_interleave,
    reshape,
    roll,
    rot90,
    scatter,
    scatter_add,
    scatter_reduce,
    select,
    sigmoid,
    slogdet,
    softmax,
    softplus,
    sort,
    split,
    sqrt,
    squeeze,
    stack,
    step,
    sum,
    swapaxes,
    swapdims,
    take,
    take_along_axis,
    take_along_dim,
    tanh,
    tensordot,
    tile,
    topk,
    trace,
    transpose,
    tril,
    triu,
    unbind,
    unflatten,
    unsqueeze,
    var,
    vdot,
    vstack,
    where,
)
from chainrule.ops import inv as inverse  # noqa: E402
from chainrule.tensor import Tensor

movedim = moveaxis
ger = outer
row_stack = vstack

__version__ = "0.2.0"

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
# ---- PyTorch conventions (issue 12, item 8): devices, dtypes, constructors, random draws
from chainrule import cuda  # noqa: E402
from chainrule.autograd import inference_mode  # noqa: E402, F401
from chainrule.backend import TORCH_DTYPES as _TORCH_DTYPES  # noqa: E402
from chainrule.backend import (  # noqa: E402, F401
    Generator,
    default_generator,
    get_rng_state,
    set_rng_state,
)
from chainrule.creation import (  # noqa: E402, F401
    as_tensor,
    bernoulli,
    empty_like,
    from_numpy,
    multinomial,
    normal,
    rand_like,
    randint_like,
    randn_like,
    randperm,
)
from chainrule.device import device, get_default_device, set_default_device  # noqa: E402, F401
from chainrule.ops import (  # noqa: E402, F401
    clone,
    contiguous,
    eq,
    equal,
    ge,
    gt,
    histc,
    le,
    lt,
    ne,
)
from chainrule.size import Size  # noqa: E402, F401
from chainrule.tensor_types import (  # noqa: E402, F401
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
)

uint8, int8, int16 = _TORCH_DTYPES["uint8"], _TORCH_DTYPES["int8"], _TORCH_DTYPES["int16"]
short, long, double, half = (_TORCH_DTYPES[n] for n in ("short", "long", "double", "half"))
complex64, complex128 = _TORCH_DTYPES["complex64"], _TORCH_DTYPES["complex128"]
cfloat, cdouble = complex64, complex128


def is_tensor(obj):
    """True for a chainrule Tensor (``torch.is_tensor``).

    >>> is_tensor(tensor(1.0)), is_tensor(1.0)
    (True, False)
    """
    return isinstance(obj, Tensor)


def is_floating_point(input):  # noqa: A002
    """True for a floating-point tensor."""
    return input.data.dtype.kind == "f"


def numel(input):  # noqa: A002
    """The number of elements of ``input`` (``torch.numel``).

    >>> numel(zeros(2, 3))
    6
    """
    return input.data.size


def initial_seed():
    """The seed of the library generator: the last one given to :func:`manual_seed`, or the
    fresh one drawn at import."""
    from chainrule import backend

    return backend._rng.get("seed")

# Sub-packages and functions that pull in optional dependencies load lazily (PEP 562).
_LAZY_MODULES = {
    "nn": "chainrule.nn",
    "optim": "chainrule.optim",
    "data": "chainrule.data",
    "datasets": "chainrule.datasets",
    "train": "chainrule.train",
    "classic": "chainrule.classic",
    "teach": "chainrule.teach",
    "io": "chainrule.io",
    "onnx": "chainrule.onnx",
    "sklearn": "chainrule.sklearn",
    "torch_interop": "chainrule.torch_interop",
    "utils": "chainrule.utils",
    "backends": "chainrule.backends",
    "accelerator": "chainrule.accelerator",
    "linalg": "chainrule.linalg",
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


# PyTorch's dtype names that shadow builtins (cr.float is float32, cr.int int32, cr.bool bool):
# assigned last, so nothing above in this module sees them in place of the builtins.
float = _TORCH_DTYPES["float"]  # noqa: A001
int = _TORCH_DTYPES["int"]  # noqa: A001
bool = _TORCH_DTYPES["bool"]  # noqa: A001
