"""Neural-network building blocks: Module, Parameter, layers, containers, losses, init, utils.

Layers are composed from the primitives of :mod:`chainrule.ops` and never define a backward of
their own; names and semantics follow ``torch.nn``.

>>> import chainrule as cr
>>> net = cr.nn.Sequential(cr.nn.Linear(2, 8), cr.nn.ReLU(), cr.nn.Linear(8, 1))
>>> loss = cr.nn.MSELoss()(net(cr.ones(4, 2)), cr.zeros(4, 1))
>>> loss.backward(); net[0].weight.grad.shape
(8, 2)
"""

from chainrule.nn import functional, init, utils
from chainrule.nn.activation import (
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Step,
    Tanh,
)
from chainrule.nn.attention import MultiheadAttention
from chainrule.nn.containers import Concat, ModuleList, Sequential
from chainrule.nn.conv import Conv1d, Conv2d
from chainrule.nn.dropout import Dropout
from chainrule.nn.linear import Flatten, Identity, Linear, Unflatten
from chainrule.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from chainrule.nn.module import Module
from chainrule.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from chainrule.nn.parameter import Parameter
from chainrule.nn.pooling import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from chainrule.nn.serialize import module_from_config, module_to_config
from chainrule.nn.transformer import (
    TransformerEncoder,
    TransformerEncoderLayer,
    generate_square_subsequent_mask,
)

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "Concat", "CrossEntropyLoss", "Dropout", "ELU",
    "Flatten", "GELU", "HuberLoss", "Identity", "L1Loss", "LeakyReLU", "Linear", "LogSoftmax",
    "MSELoss", "Module", "ModuleList", "NLLLoss", "Parameter", "ReLU", "Sequential", "Sigmoid",
    "Softmax", "Softplus", "Step", "Tanh", "functional", "init", "module_from_config",
    "module_to_config", "utils",
]
__all__ += ["LayerNorm", "MultiheadAttention", "TransformerEncoder", "TransformerEncoderLayer",
            "generate_square_subsequent_mask"]
# opsmath: PyTorch's wider activation family
from chainrule.nn.activation import (  # noqa: E402
    CELU,
    GLU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LogSigmoid,
    Mish,
    PReLU,
    ReLU6,
    SiLU,
    Softmin,
    Softsign,
    Tanhshrink,
    Threshold,
)

__all__ += [  # opsmath
    "CELU", "GLU", "Hardsigmoid", "Hardswish", "Hardtanh", "LogSigmoid", "Mish", "PReLU", "ReLU6",
    "SELU", "SiLU", "Softmin", "Softsign", "Tanhshrink", "Threshold",
]
__all__ += [
    "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool1d", "AvgPool2d", "BatchNorm2d", "Conv1d",
    "Conv2d", "MaxPool1d", "MaxPool2d", "Unflatten",
]

# embeddings and recurrent layers (issue 9)
from chainrule.nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # noqa: E402
from chainrule.nn.sparse import Embedding  # noqa: E402

__all__ += ["Embedding", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell"]
