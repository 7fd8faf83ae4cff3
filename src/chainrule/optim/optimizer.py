"""Optimizer: the base class every optimiser shares (param groups, state, zero_grad, state_dict).

A subclass states its defaults, checks them in :meth:`Optimizer._validate` and writes
:meth:`Optimizer._update`, which hands each parameter to a module-level *kernel*: a function of
arrays and scalars that updates the parameter in place with NumPy ufuncs and ``out=``, so no
array is allocated per step (temporaries come from a pool of scratch arrays that is never
saved). The kernels are elementwise, so the same call can update a whole group at once when
its parameters, gradients and state are views of flat arrays (``foreach=True``, and
``cr.compile``): the numbers are the same bit for bit.

>>> import numpy as np, chainrule as cr
>>> w = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
>>> opt = cr.optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward(); opt.step(); w
tensor([0.8, 1.6], dtype=float64, requires_grad=True)
>>> opt.zero_grad(); w.grad is None
True
"""

import copy
from collections import defaultdict
from itertools import chain

import numpy as np

from chainrule.autograd import enable_grad
from chainrule.optim.flat import partition
from chainrule.tensor import Tensor

# Parameters bigger than SLICE_ABOVE slices are updated in slices of CHUNK_BYTES per array
# (see _run). Measured with benchmarks/bench_chunking.py on the 2-core machine: one pass is
# fastest while the arrays fit in the last-level cache (Adam over W2's 2 MB: 1.19x faster than
# 128 kB slices), 1 MB slices are fastest beyond (Adam over 84 MB: 1.71x one pass; plain SGD
# 1.44x); two threads never beat one thread's slices there.
CHUNK_BYTES = 1 << 20
SLICE_ABOVE = 4


class _Required:
    """Marker for a hyper-parameter without a default (every group must give it)."""

    def __repr__(self):
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Base class of the optimisers: ``param_groups``, per-parameter ``state``, ``defaults``.

    ``params`` is an iterable of Tensors, of ``(name, Tensor)`` pairs (e.g.
    ``model.named_parameters()``), or of dicts, each a *param group*
    ``{"params": [...], "lr": ...}`` whose keys override ``defaults`` for that group (as in
    PyTorch). ``state[p]`` is the dict of buffers (NumPy arrays) and counters the optimiser
    keeps for parameter ``p``.

    ``foreach=True`` (a group key, as in PyTorch) updates each group with one kernel call
    instead of one per parameter: on its first step the group's parameters, state buffers and
    a gradient buffer are copied into one flat array each, and ``p.data`` and ``state[p]``
    become views of them (so hold on to the tensor, not to an old ``p.data``). Each step
    copies the gradients in and runs the kernel once, in cache-sized slices; parameters above
    ``SLICE_ABOVE * CHUNK_BYTES``, which are sliced anyway, keep their own arrays. The numbers are
    those of ``foreach=False`` (the default; ``None`` means the same) bit for bit. A step in
    which some parameter has no gradient, or a gradient of another dtype, updates that group
    one parameter at a time; a replaced ``p.data`` or a loaded state is flattened again. Like
    ``lr``, ``foreach`` is a group key that ``load_state_dict`` restores (as PyTorch does), and
    ``state_dict()`` saves plain arrays either way, so the two load each other's states.

    >>> import numpy as np, chainrule as cr
    >>> a = cr.tensor(np.zeros(2), requires_grad=True)
    >>> b = cr.tensor(np.zeros(3), requires_grad=True)
    >>> opt = cr.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    >>> [g["lr"] for g in opt.param_groups]
    [0.1, 0.5]
    """

    def __init__(self, params, defaults):
        name = type(self).__name__
        if isinstance(params, set):
            raise TypeError(
                f"{name}: parameters must be an ordered collection (list, tuple, generator), "
                "not a set, so that their order (and state_dict indices) is stable"
            )
        if isinstance(params, (Tensor, np.ndarray)):
            raise TypeError(
                f"{name}: params should be an iterable of Tensors or dicts, got a single "
                f"{type(params).__name__}; wrap it in a list: {name}([w], ...)"
            )
        self.defaults = dict(defaults)
        self._validate({k: v for k, v in self.defaults.items() if v is not required})
        self.state = defaultdict(dict)
        self.param_groups = []
        self._scratch = {}  # (shape, dtype) -> list of work arrays; never part of state_dict
        self._flat = {}  # id(group) -> (group, its params, [Flat], loose params): foreach
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ configuration
    # Hyper-parameters that must be >= 0, with the words PyTorch's errors use for them;
    # subclasses extend the dict, and override _validate only for other rules.
    _non_negative = {"lr": "learning rate", "weight_decay": "weight_decay value",
                     "eps": "epsilon value"}

    def _validate(self, group):
        """Raise ValueError naming the optimiser and the bad value; subclasses extend this."""
        for key, words in self._non_negative.items():
            value = group.get(key, 0.0)
            if value is not required and (isinstance(value, bool)
                                          or not isinstance(value, (int, float, np.number))):
                raise TypeError(f"{type(self).__name__}: {key} must be a number, got "
                                f"{value!r} ({type(value).__name__})")
            if not value >= 0.0:
                raise ValueError(f"{type(self).__name__}: invalid {words}: {value}")
        foreach = group.get("foreach")
        if foreach is not None and not isinstance(foreach, (bool, np.bool_)):
            raise TypeError(f"{type(self).__name__}: foreach must be True, False or None, got "
                            f"{foreach!r}")

    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with ``"params"`` and optional hyper-parameters).

        Useful to unfreeze layers during fine-tuning; missing hyper-parameters take the defaults.

        >>> import numpy as np, chainrule as cr
        >>> a = cr.tensor(np.zeros(2), requires_grad=True)
        >>> b = cr.tensor(np.zeros(2), requires_grad=True)
        >>> opt = cr.optim.SGD([a], lr=0.1); opt.add_param_group({"params": [b], "lr": 0.01})
        >>> len(opt.param_groups), opt.param_groups[1]["lr"]
        (2, 0.01)
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{name}: a param group must be a dict, got {type(param_group).__name__}"
            )
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError(f"{name}: a param group needs a 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                f"{name}: parameters must be an ordered collection (list, tuple, generator), "
                "not a set, so that their order (and state_dict indices) is stable"
            )
        tensors, names = [], []
        for item in params:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                names.append(item[0])
                item = item[1]
            if not isinstance(item, Tensor):
                raise TypeError(
                    f"{name}: can only optimize Tensors, but parameter {len(tensors)} is a "
                    f"{type(item).__name__}"
                )
            if not item.is_leaf:
                raise ValueError(
                    f"{name}: can't optimize a non-leaf Tensor (parameter {len(tensors)} was made "
                    f"by op '{item.op}'); optimise the leaf it came from or .detach() it"
                )
            if item.dtype.kind != "f":
                raise TypeError(
                    f"{name}: parameter {len(tensors)} has dtype {item.dtype}; only "
                    "floating-point tensors can be optimised"
                )
            tensors.append(item)
        if names:
            if len(names) != len(tensors):
                raise ValueError(f"{name}: either all parameters of a group are named or none")
            group["param_names"] = names
        group["params"] = tensors
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(f"{name}: param group didn't specify a value of required "
                                 f"hyper-parameter {key!r}")
            group.setdefault(key, default)
        self._validate(group)
        ids = {id(p) for p in tensors}
        if len(ids) != len(tensors):
            raise ValueError(f"{name}: a param group lists the same parameter more than once")
        for other in self.param_groups:
            if any(id(p) in ids for p in other["params"]):
                raise ValueError(f"{name}: some parameters appear in more than one param group")
        self.param_groups.append(group)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key not in ("params", "param_names"):
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    # ------------------------------------------------------------------ training loop
    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters.

        ``set_to_none=True`` (default) drops them (``p.grad = None``: cheapest, and a step then
        skips parameters that get no new gradient); ``False`` fills the existing arrays with 0.

        >>> import numpy as np, chainrule as cr
        >>> w = cr.tensor(np.ones(2), requires_grad=True); opt = cr.optim.SGD([w])
        >>> (w * 3).sum().backward(); opt.zero_grad(set_to_none=False); w.grad
        tensor([0., 0.], dtype=float64)
        """
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif grad.data.flags.writeable:
                    grad.data.fill(0)
                else:  # a read-only (e.g. broadcast) gradient: replace it by zeros
                    grad.data = np.zeros_like(p.data)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()`` if given.

        ``closure`` re-evaluates the model and returns the loss (it runs with grad enabled).
        The update is the subclass's (see its docstring); parameters whose ``.grad`` is None
        are skipped.

        >>> import numpy as np, chainrule as cr
        >>> w = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
        >>> opt = cr.optim.SGD([w], lr=0.5, foreach=True)
        >>> (w * w).sum().backward(); opt.step(); w
        tensor([0., 0.], dtype=float64, requires_grad=True)
        """
        loss = None if closure is None else self._closure(closure)
        state = self.state
        for group in self.param_groups:
            if group.get("foreach"):
                self._foreach_update(group)
            else:  # (self._units inlined: this runs every step, for tiny models too)
                self._update(group, [(p.data, p.grad.data, state[p]) for p in group["params"]
                                     if p.grad is not None])
        return loss

    def _update(self, group, units):
        """Update ``units``, an iterable of ``(param, grad, state)``: the arrays of one
        parameter (or the flat arrays of several) and its state dict, creating the state on
        the first step. Subclasses write this with :meth:`_run` and their kernel."""
        raise NotImplementedError(f"{type(self).__name__} defines neither step() nor _update()")

    def _state_keys(self, group):
        """The state entries an update of ``group`` reads and does not create itself when the
        state exists (for ``cr.compile``, which flattens the state present at capture)."""
        return set()

    def _units(self, params):
        state = self.state  # (a list, not a generator: this runs every step for tiny models)
        return [(p.data, p.grad.data, state[p]) for p in params if p.grad is not None]

    def _foreach_update(self, group):
        params = group["params"]
        for p in params:
            grad = p.grad
            if grad is None or grad.data.dtype != p.data.dtype:
                # Skipped (or cast) parameters would leave the group's state uneven: update
                # it one parameter at a time this step and flatten it again afterwards.
                self._flat.pop(id(group), None)
                self._update(group, self._units(params))
                return
        flats, loose = self._group_flats(group)
        copyto = np.copyto
        units = []
        for flat in flats:
            for view, p in zip(flat.gviews, flat.params):
                grad = p.grad.data
                if grad is not view:  # (it is after a compiled step, or zero_grad(False))
                    copyto(view, grad)
            units.append((flat.p, flat.g, flat.state))
        if loose:
            units.extend(self._units(loose))
        self._update(group, units)
        for flat in flats:
            flat.publish()

    def _group_flats(self, group, subset=None):
        """The group's :class:`~chainrule.optim.flat.Flat` buffers and loose parameters,
        flattened again when a parameter array or a state entry was replaced. ``cr.compile``
        shares them (its backward writes into the gradient buffers), or flattens ``subset``
        apart when the step it captured updated only some of the group's parameters."""
        params = group["params"]
        if subset is not None and len(subset) != len(params):
            self._flat.pop(id(group), None)  # re-homing the subset makes it stale
            return partition(self, subset, limit=SLICE_ABOVE * CHUNK_BYTES)
        entry = self._flat.get(id(group))
        if (entry is not None and entry[0] is group and len(entry[1]) == len(params)
                and all(a is b for a, b in zip(entry[1], params))
                and all(flat.intact() for flat in entry[2])):
            return entry[2], entry[3]
        live = {id(g) for g in self.param_groups}
        for key in [k for k in self._flat if k not in live]:
            del self._flat[key]
        # A parameter updated in slices anyway (see _run) gains no fewer kernel calls from a
        # flat buffer, only the copy of its gradient: it stays loose.
        flats, loose = partition(self, params, limit=SLICE_ABOVE * CHUNK_BYTES)
        self._flat[id(group)] = (group, tuple(params), flats, loose)
        return flats, loose

    def __getstate__(self):
        # Views do not survive a copy or a pickle: the copy flattens afresh on its first step.
        state = self.__dict__.copy()
        state["_flat"] = {}
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("_flat", {})

    @staticmethod
    def _closure(closure):
        with enable_grad():
            return closure()

    def _run(self, kernel, arrays, scalars, chunked=True):
        """Call ``kernel(*arrays, tmp, tmp2, tmp3, *scalars)`` to update one parameter in place.

        ``arrays`` are the parameter, its gradient and its state buffers (None where unused); the
        three ``tmp`` are scratch arrays. A parameter larger than ``SLICE_ABOVE * CHUNK_BYTES``
        is updated in ``CHUNK_BYTES`` slices: a dozen elementwise passes over arrays that stay in
        the cache run up to 1.7x faster than passes that stream from memory, and the scratch
        stays small. Every element goes through the same operations either way, so results are
        identical. (``chunked`` is kept for callers; 1 MB slices pay for every kernel.)
        """
        param = arrays[0]
        if param.nbytes <= SLICE_ABOVE * CHUNK_BYTES or not all(
            a is None or a.flags.c_contiguous for a in arrays
        ):
            key = (param.shape, param.dtype)
            work = self._scratch.get(key)
            if work is None:
                work = self._scratch[key] = [np.empty_like(param) for _ in range(3)]
            kernel(*arrays, *work, *scalars)
            return
        n = param.size
        chunk = CHUNK_BYTES // param.itemsize
        key = (chunk, param.dtype)
        work = self._scratch.get(key)
        if work is None:
            work = self._scratch[key] = [np.empty(chunk, param.dtype) for _ in range(3)]
        flat = [None if a is None else a.reshape(-1) for a in arrays]
        for i in range(0, n, chunk):
            j = i + chunk
            if j > n:
                work = [w[: n - i] for w in work]
            kernel(*[None if a is None else a[i:j] for a in flat], *work, *scalars)

    # ------------------------------------------------------------------ checkpoints
    def _index_params(self):
        """Map id(param) -> its position counting through all groups in order (PyTorch's ids)."""
        return {id(p): i for i, p in enumerate(chain.from_iterable(g["params"]
                                                                   for g in self.param_groups))}

    def state_dict(self):
        """The optimiser's state as a plain dict, with PyTorch's layout.

        ``{"state": {index: {"step": 3.0, "exp_avg": ndarray, ...}}, "param_groups": [{"lr": ...,
        "params": [0, 1, ...]}, ...]}`` where ``index`` counts parameters through the groups in
        order. Everything is deep-copied, so later steps never change a saved dict.

        >>> import numpy as np, chainrule as cr
        >>> w = cr.tensor(np.ones(2), requires_grad=True); opt = cr.optim.SGD([w], momentum=0.9)
        >>> (w * w).sum().backward(); opt.step()
        >>> sd = opt.state_dict(); sorted(sd["state"][0]), sd["param_groups"][0]["params"]
        (['momentum_buffer'], [0])
        """
        index = self._index_params()
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for param, pstate in self.state.items():
            key = index.get(id(param)) if isinstance(param, Tensor) else param
            if key is not None and pstate:
                state[key] = copy.deepcopy(pstate)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a state saved by :meth:`state_dict` into an optimiser built on the same params.

        Hyper-parameters (``lr`` and so on) come from the saved groups; buffers are copied and
        cast to each parameter's dtype. Parameters are matched by position, as in PyTorch.

        >>> import numpy as np, chainrule as cr
        >>> w = cr.tensor(np.ones(2), requires_grad=True); opt = cr.optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step(); saved = opt.state_dict()
        >>> fresh = cr.optim.Adam([w]); fresh.load_state_dict(saved)
        >>> fresh.param_groups[0]["lr"], fresh.state[w]["step"]
        (0.1, 1.0)
        """
        name = type(self).__name__
        groups = self.param_groups
        saved_groups = state_dict["param_groups"]
        _check_same_optimizer(self, saved_groups)
        if len(groups) != len(saved_groups):
            raise ValueError(
                f"{name}.load_state_dict: the saved state has {len(saved_groups)} param groups "
                f"but this optimizer has {len(groups)}"
            )
        for i, (g, s) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: param group {i} has {len(g['params'])} parameters "
                    f"but the saved group has {len(s['params'])}"
                )
        id_map = dict(zip(chain.from_iterable(s["params"] for s in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state = defaultdict(dict)
        for key, pstate in state_dict["state"].items():
            param = id_map.get(key)
            if param is None:  # state not tied to a parameter: keep as is (PyTorch does)
                state[key] = copy.deepcopy(pstate)
            else:
                state[param] = {k: _restore(v, k, param, key, name) for k, v in pstate.items()}
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            new = copy.deepcopy({k: v for k, v in saved.items() if k != "params"})
            new["params"] = group["params"]
            if "param_names" in group and "param_names" not in new:
                new["param_names"] = group["param_names"]
            new_groups.append(new)
        self.state = state
        self.param_groups = new_groups
        self._flat.clear()


def _hyper_parameters(cls):
    """The default hyper-parameter names of an optimiser class (built on a dummy parameter)."""
    names = _HYPER_PARAMETERS.get(cls)
    if names is None:
        dummy = [Tensor(np.zeros(1, np.float32), requires_grad=True)]
        try:
            names = frozenset(cls(dummy).defaults)
        except Exception:  # e.g. an lr without a default
            try:
                names = frozenset(cls(dummy, lr=0.01).defaults)
            except Exception:
                names = frozenset()
        _HYPER_PARAMETERS[cls] = names
    return names


_HYPER_PARAMETERS = {}


def _optimizer_classes():
    import chainrule.optim as optim

    return [c for c in vars(optim).values()
            if isinstance(c, type) and issubclass(c, Optimizer) and c is not Optimizer]


def _check_same_optimizer(opt, saved_groups):
    """Refuse the state of another optimiser class: its groups hold hyper-parameters this one
    does not have, which another chainrule optimiser does (momentum for Adam, betas for SGD).
    Keys nobody declares (a scheduler's initial_lr, PyTorch's foreach) are let through."""
    mine = set(opt.defaults) | {"params", "param_names"}
    classes = _optimizer_classes()
    foreign = set().union(*(_hyper_parameters(c) for c in classes)) - mine
    for group in saved_groups:
        extra = sorted(k for k in group if k in foreign)
        if extra:
            keys = set(group) - {"params", "param_names"}
            best = max(classes, key=lambda c: (len(keys & _hyper_parameters(c))
                                               - len(_hyper_parameters(c) - keys)))
            name = type(opt).__name__
            raise ValueError(
                f"{name}.load_state_dict: the saved state is from another optimiser "
                f"({best.__name__}, by its hyper-parameters {extra}), not {name}; load it into "
                f"{best.__name__}, or start {name} fresh")


def _restore(value, key, param, index, name):
    """Copy one saved state entry: arrays become param-dtype ndarrays, 'step' a float."""
    if key == "step":
        return float(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    to_numpy = getattr(value, "numpy", None)  # a chainrule or torch tensor
    if callable(to_numpy):
        value = to_numpy()
    array = np.array(value, dtype=param.data.dtype, copy=True)
    if array.shape != param.data.shape:
        raise ValueError(
            f"{name}.load_state_dict: state {key!r} of parameter {index} has shape {array.shape} "
            f"but the parameter has shape {param.data.shape}"
        )
    return array


def _lerp_(start, end, weight, tmp):
    """``start += weight * (end - start)`` in place, in PyTorch's order of operations.

    Like ``torch.lerp``, a large weight uses ``end - (end - start) * (1 - weight)`` so that
    ``weight == 1`` gives exactly ``end``. ``tmp`` is a scratch array of the same shape.
    """
    np.subtract(end, start, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        start += tmp
    else:
        tmp *= 1 - weight
        np.subtract(end, tmp, out=start)
