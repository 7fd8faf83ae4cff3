"""Module: the base class of every layer and model.

A module owns Parameters, buffers (state that is saved but not trained, e.g. BatchNorm's
running statistics) and sub-modules. Assigning one as an attribute registers it, so
``parameters()``, ``state_dict()``, ``train()``/``eval()`` and ``repr`` find it without any
bookkeeping in user code. Registered objects also live in the instance ``__dict__``, so reading
``self.weight`` in ``forward`` is a plain attribute lookup.

>>> import chainrule as cr
>>> class Affine(Module):
...     def __init__(self):
...         super().__init__()
...         self.w = Parameter(cr.ones(3))
...         self.b = Parameter(cr.zeros(3))
...     def forward(self, x):
...         return x * self.w + self.b
>>> m = Affine()
>>> [name for name, _ in m.named_parameters()]
['w', 'b']
>>> m(cr.ones(3)).tolist()
[1.0, 1.0, 1.0]
"""

import inspect
from collections import OrderedDict, namedtuple

import numpy as np

from chainrule.nn.parameter import Parameter
from chainrule.tensor import Tensor

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])

_FORWARD_ALIASES = set()  # forward functions installed as __call__ by Module.__init_subclass__


def _addindent(text, spaces):
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * spaces
    return lines[0] + "\n" + "\n".join(pad + line for line in lines[1:])


def _array_of(value):
    return value.data if isinstance(value, Tensor) else value


def _name_parameters(value, name):
    """Tell each Parameter its dotted path ("0.weight") when it, or a module holding it, is
    registered as ``name``; explain() and the graph drawings read it. Registration-time only."""
    if isinstance(value, Parameter):
        value._module_path = name
    elif value is not None:
        for path, p in value.named_parameters():
            p._module_path = f"{name}.{path}"


class Module:
    """Base class for layers and models: subclass it, create parameters and sub-modules in
    ``__init__`` (after ``super().__init__()``), and compute the output in ``forward``.

    ``module(x)`` runs ``forward(x)``. For speed, a subclass's ``forward`` becomes its
    ``__call__`` directly (no wrapper frame, no hooks); to change the computation, override
    ``forward`` in a subclass rather than assigning ``module.forward`` on an instance.

    >>> import chainrule as cr
    >>> net = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.ReLU())
    >>> net.num_parameters()
    9
    """

    def __init__(self):
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        forward = cls.__dict__.get("forward")
        if not inspect.isfunction(forward) or "__call__" in cls.__dict__:
            return
        inherited = cls.__call__
        # Only replace the default call (or an earlier alias), never a custom __call__.
        if inherited is Module.__call__ or inherited in _FORWARD_ALIASES:
            cls.__call__ = forward  # module(x) is forward(x) with no extra Python frame
            _FORWARD_ALIASES.add(forward)

    def forward(self, *args, **kwargs):
        """The computation; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ----------------------------------------------------------------- registration
    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if params is None:
            if isinstance(value, (Parameter, Module)):
                raise AttributeError(
                    f"cannot assign {type(value).__name__} '{name}' before Module.__init__() "
                    f"is called; call super().__init__() first in {type(self).__name__}.__init__"
                )
            d[name] = value
            return
        buffers, modules = d["_buffers"], d["_modules"]
        if isinstance(value, Parameter):
            buffers.pop(name, None)
            modules.pop(name, None)
            params[name] = value
            _name_parameters(value, name)
        elif isinstance(value, Module):
            params.pop(name, None)
            buffers.pop(name, None)
            modules[name] = value
            _name_parameters(value, name)
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to parameter '{name}' of "
                    f"{type(self).__name__}: expected a Parameter or None (wrap it in "
                    "nn.Parameter, or change the values in place through .data)"
                )
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to sub-module '{name}' of "
                    f"{type(self).__name__}: expected a Module or None"
                )
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, (Tensor, np.ndarray)):
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to buffer '{name}' of "
                    f"{type(self).__name__}: expected a Tensor, an ndarray or None"
                )
            buffers[name] = value
        d[name] = value

    def __delattr__(self, name):
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            d.get(registry, {}).pop(name, None)
        d.get("_non_persistent", set()).discard(name)
        object.__delattr__(self, name)

    def _check_name(self, name, what):
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{what}: name must be a non-empty string without '.', got {name!r}")
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{what}: call Module.__init__() before registering '{name}'")
        if (hasattr(self, name) and name not in self._parameters and name not in self._buffers
                and name not in self._modules):
            raise KeyError(f"{what}: attribute '{name}' already exists on {type(self).__name__}")

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for an absent optional one) as ``name``.

        >>> m = Module(); m.register_parameter("bias", None); m.bias is None
        True
        """
        self._check_name(name, "register_parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: '{name}' must be a Parameter or None, got "
                f"{type(param).__name__}"
            )
        self._buffers.pop(name, None)
        self._modules.pop(name, None)
        self._parameters[name] = param
        self.__dict__[name] = param
        _name_parameters(param, name)

    def register_buffer(self, name, tensor, persistent=True):
        """Register state that is saved in ``state_dict`` but not trained (a Tensor, an ndarray
        or None). ``persistent=False`` keeps it out of ``state_dict``.

        >>> import numpy as np
        >>> m = Module(); m.register_buffer("count", np.zeros((), dtype=np.int64))
        >>> list(m.state_dict())
        ['count']
        """
        self._check_name(name, "register_buffer")
        if tensor is not None and not isinstance(tensor, (Tensor, np.ndarray)):
            raise TypeError(
                f"register_buffer: '{name}' must be a Tensor, an ndarray or None, got "
                f"{type(tensor).__name__}"
            )
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)
        self.__dict__[name] = tensor

    def add_module(self, name, module):
        """Register ``module`` (or None) as the sub-module ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: '{name}' must be a Module, got {type(module).__name__}")
        self._check_name(name, "add_module")
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._modules[name] = module
        self.__dict__[name] = module
        _name_parameters(module, name)

    register_module = add_module

    def get_submodule(self, target):
        """The sub-module at dotted path ``target`` (``""`` is the module itself).

        >>> import chainrule as cr
        >>> net = cr.nn.Sequential(cr.nn.Linear(2, 2)); type(net.get_submodule("0")).__name__
        'Linear'
        """
        module = self
        if not target:
            return module
        for part in target.split("."):
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(
                    f"get_submodule: {type(module).__name__} has no sub-module '{part}' "
                    f"(path '{target}')"
                )
            module = child
        return module

    # ----------------------------------------------------------------- traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yield ``(dotted name, module)`` for this module and every descendant, once each."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is None:
                continue
            sub = f"{prefix}.{name}" if prefix else name
            yield from child.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        """This module and every descendant."""
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """Yield ``(name, module)`` for the direct sub-modules."""
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        """The direct sub-modules."""
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry, prefix, recurse, remove_duplicate=True):
        seen = set()
        if recurse:
            modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            modules = [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in module.__dict__[registry].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield ``(dotted name, Parameter)``; a parameter shared by two layers appears once.

        >>> import chainrule as cr
        >>> [n for n, _ in cr.nn.Sequential(cr.nn.Linear(2, 1)).named_parameters()]
        ['0.weight', '0.bias']
        """
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Every Parameter of this module and its descendants (what an optimizer updates)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield ``(dotted name, buffer)`` (Tensors or ndarrays)."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """Every buffer of this module and its descendants."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def num_parameters(self, trainable_only=False):
        """The number of scalar parameters (only those requiring grad if ``trainable_only``).

        >>> import chainrule as cr
        >>> cr.nn.Linear(3, 2).num_parameters()
        8
        """
        return sum(p.data.size for p in self.parameters()
                   if p.requires_grad or not trainable_only)

    # ----------------------------------------------------------------- modes and updates
    def train(self, mode=True):
        """Set training mode (Dropout drops, BatchNorm uses batch statistics); returns self."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {type(mode).__name__}")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self):
        """Set evaluation mode (``train(False)``); returns self.

        >>> import chainrule as cr
        >>> cr.nn.Dropout().eval().training
        False
        """
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` on every parameter (e.g. to freeze a layer); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear the gradients of every parameter: drop them (default) or fill them with zeros."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            elif p.grad.data.flags.writeable:
                p.grad.data.fill(0)
            else:
                p.grad.data = np.zeros_like(p.grad.data)

    def apply(self, fn):
        """Call ``fn(m)`` on every sub-module (children first) and then on self; returns self.

        >>> import chainrule as cr
        >>> net = cr.nn.Sequential(cr.nn.Linear(2, 2))
        >>> _ = net.apply(lambda m: cr.nn.init.zeros_(m.bias) if hasattr(m, "bias") else None)
        >>> net[0].bias.tolist()
        [0.0, 0.0]
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, *args, dtype=None, device=None, non_blocking=False):
        """Cast floating parameters, their gradients and floating buffers to ``dtype`` in place
        (the Parameter objects stay the same, so an optimizer built earlier still sees them),
        as ``torch.nn.Module.to``: ``m.to(dtype)``, ``m.to(device)``, ``m.to(device, dtype)``,
        ``m.to(tensor)``. The CPU is the only device: ``"cpu"`` is accepted, CUDA raises.

        >>> import chainrule as cr
        >>> cr.nn.Linear(2, 2).to(cr.float64).weight.dtype
        dtype('float64')
        """
        from chainrule.device import check_device, is_device_like

        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.data.dtype if dtype is None else dtype
            elif is_device_like(arg):
                device = arg
            elif arg is not None:
                dtype = arg
        check_device(device, "Module.to")
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"to: dtype must be a floating dtype, got {dtype}")
        for p in self.parameters():
            if p.data.dtype.kind == "f" and p.data.dtype != dtype:
                p.data = p.data.astype(dtype)
                if p.grad is not None:
                    p.grad.data = p.grad.data.astype(dtype)
        for m in self.modules():
            for name, b in m._buffers.items():
                array = _array_of(b)
                if array is None or array.dtype.kind != "f" or array.dtype == dtype:
                    continue
                if isinstance(b, Tensor):
                    b.data = array.astype(dtype)
                else:
                    m._buffers[name] = m.__dict__[name] = array.astype(dtype)
        return self

    def double(self):
        """Cast to float64 (see :meth:`to`)."""
        return self.to(np.float64)

    def half(self):
        """Cast to float16 (see :meth:`to`)."""
        return self.to(np.float16)

    def cpu(self):
        """``self``: modules always live on the CPU."""
        return self

    def cuda(self, device=None):
        """Raises: chainrule runs on the CPU with NumPy."""
        from chainrule.device import check_device

        check_device("cuda" if device is None else device, "Module.cuda")

    def float(self):
        """Cast to float32 (see :meth:`to`)."""
        return self.to(np.float32)

    # ----------------------------------------------------------------- state
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Parameters and persistent buffers by dotted name, as PyTorch names them
        (``0.weight``, ``2.running_mean``). Values are the NumPy arrays themselves (shared,
        as PyTorch shares its tensors: copy them to keep a snapshot); ``keep_vars=True`` gives
        the Parameter/Tensor objects instead.

        >>> import chainrule as cr
        >>> list(cr.nn.Sequential(cr.nn.Linear(2, 1)).state_dict())
        ['0.weight', '0.bias']
        """
        if destination is None:
            destination = OrderedDict()
        # Every path to a shared module is listed (PyTorch does the same), so keys match.
        modules = self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False)
        for module_prefix, module in modules:
            head = f"{module_prefix}." if module_prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    destination[head + name] = p if keep_vars else p.data
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    destination[head + name] = b if keep_vars else _array_of(b)
        return destination

    def load_state_dict(self, state_dict, strict=True):
        """Copy the arrays of ``state_dict`` into this module's parameters and buffers in place
        (casting to their dtypes). Nothing is changed unless every entry fits.

        With ``strict=True`` missing and unexpected keys are errors; otherwise they are
        returned as ``(missing_keys, unexpected_keys)``. A shape mismatch is always an error.

        >>> import chainrule as cr
        >>> a, b = cr.nn.Linear(2, 1), cr.nn.Linear(2, 1)
        >>> b.load_state_dict(a.state_dict())
        IncompatibleKeys(missing_keys=[], unexpected_keys=[])
        >>> bool((a.weight.data == b.weight.data).all())
        True
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(
                f"load_state_dict: expected a mapping of names to arrays, got "
                f"{type(state_dict).__name__}"
            )
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        if strict and unexpected:
            errors.append("Unexpected key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if strict and missing:
            errors.append("Missing key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in missing) + ".")
        updates = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = _array_of(state_dict[key])
            try:
                value = np.asarray(value)
            except Exception as err:  # e.g. a torch tensor that requires grad
                errors.append(f"cannot convert the value for '{key}' to an array: {err}")
                continue
            current = _array_of(target)
            if value.shape != current.shape:
                errors.append(
                    f"size mismatch for {key}: copying a value with shape {value.shape} from "
                    f"the state_dict, the shape in the current model is {current.shape}."
                )
                continue
            updates.append((key, target, current, value))
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        for key, target, current, value in updates:
            if current.flags.writeable:
                np.copyto(current, value, casting="unsafe")
            else:  # e.g. a read-only array: replace it rather than write into it
                fresh = value.astype(current.dtype, copy=True)
                if isinstance(target, Tensor):
                    target.data = fresh
                else:
                    module_path, _, name = key.rpartition(".")
                    module = self.get_submodule(module_path)
                    module._buffers[name] = module.__dict__[name] = fresh
        return IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------- description
    def get_config(self):
        """The constructor keyword arguments that rebuild this layer (JSON-serialisable).

        Built-in layers define it; a custom module must define it to be saved by architecture.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not define get_config(); only modules that can be "
            "rebuilt from their constructor arguments can be saved by architecture (save the "
            "state_dict and rebuild the class in code instead)"
        )

    def extra_repr(self):
        """The text inside the parentheses of this module's repr (override in layers)."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        children = [f"({name}): {_addindent(repr(m), 2)}" for name, m in self._modules.items()]
        body = lines + children
        if not body:
            return f"{type(self).__name__}()"
        if len(lines) == 1 and not children:
            return f"{type(self).__name__}({extra})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(body) + "\n)"


def _resolve_dtype(dtype, op):
    """A layer's parameter dtype: ``dtype`` (a NumPy dtype or its name) or the default."""
    from chainrule.backend import get_default_dtype

    dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{op}: dtype must be a floating dtype, got {dtype}")
    return dtype


def _dtype_config(array):
    """``{"dtype": name}`` for get_config when parameters are not float32 (the default)."""
    return {} if array.dtype == np.float32 else {"dtype": array.dtype.name}
