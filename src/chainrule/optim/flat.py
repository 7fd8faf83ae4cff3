"""Flat buffers: the parameters of an optimiser group, their gradients and each state buffer
re-homed as views of one array each, so an elementwise update runs once for the whole group.

Used by eager ``foreach=True`` (see :meth:`Optimizer.step`) and by ``cr.compile``
(:mod:`chainrule.jit.optim`), which makes the gradient views the targets of its backward.

>>> import numpy as np, chainrule as cr
>>> from chainrule.optim.flat import partition
>>> a = cr.tensor(np.ones(2), requires_grad=True)
>>> b = cr.tensor(np.zeros((2, 2)), requires_grad=True)
>>> opt = cr.optim.SGD([a, b], lr=0.1)
>>> (flat,), loose = partition(opt, [a, b])
>>> flat.p.shape, a.data.base is flat.p, loose
((6,), True, [])
"""

import numpy as np


class Flat:
    """Parameters of one dtype and one state layout, as views of flat arrays.

    ``p`` and ``g`` are the flat parameter and gradient arrays (``gviews[i]`` is the gradient
    slot of ``params[i]``); ``state`` is the optimiser state of all of them at once, shaped like
    one parameter's: flat arrays for the per-element buffers and the scalars they share (such
    as ``step``). An update kernel reads and writes it as if it were one parameter's state;
    :meth:`publish` then hands new buffers and scalars back to each parameter's own state, so
    ``state_dict()`` and a per-parameter step see them. The constructor copies the current
    values in and points each ``p.data`` and state entry at its view.
    """

    __slots__ = ("opt", "params", "p", "g", "gviews", "state", "_pstates", "_views", "_members",
                 "_guards", "_scalars")

    def __init__(self, opt, params):
        self.opt = opt
        self.params = list(params)
        self._pstates = [opt.state[p] for p in self.params]
        self.p, pviews = _flatten([p.data for p in self.params])
        for p, view in zip(self.params, pviews):
            p.data = view
        self._members = list(zip(self.params, pviews, self._pstates))
        self.g = np.empty_like(self.p)
        self.gviews = _split(self.g, self.params)
        self.state = {}
        self._views = {}  # key -> (flat array, its views) for the per-element buffers
        for key, value in self._pstates[0].items():
            if _is_buffer(value, self.params[0]):
                flat, views = _flatten([s[key] for s in self._pstates])
                for s, view in zip(self._pstates, views):
                    s[key] = view
                self.state[key] = flat
                self._views[key] = (flat, views)
            else:
                self.state[key] = value
        self._index()

    def _index(self):
        """The identity guards of :meth:`intact`, after the layout of the state changed."""
        self._guards = [(s, key, view) for key, (_, views) in self._views.items()
                        for s, view in zip(self._pstates, views)]
        self._scalars = [key for key in self.state if key not in self._views]

    def intact(self):
        """True while every ``p.data`` and state entry is still its view and the parameters
        agree on the scalars (nobody replaced a parameter array, loaded a state_dict or
        skipped a parameter). Takes the scalars from the parameters' states, where a step
        one parameter at a time (the one ``cr.compile`` captures) may have moved them."""
        state, flat_state, pstates = self.opt.state, self.state, self._pstates
        n = len(flat_state)
        for p, view, pstate in self._members:  # (plain loops: this runs before every step)
            if p.data is not view or state.get(p) is not pstate or len(pstate) != n:
                return False
        for pstate, key, view in self._guards:
            if pstate.get(key) is not view:
                return False
        for key in self._scalars:
            value = pstates[0].get(key)
            for pstate in pstates:
                if pstate.get(key) != value:
                    return False
            flat_state[key] = value
        return True

    def publish(self):
        """After an update: give each parameter's state the new scalars (``step``) and views of
        buffers the update created (e.g. the first momentum buffer)."""
        params, pstates, views = self.params, self._pstates, self._views
        changed = len(self.state) != len(views) + len(self._scalars)
        for key, value in self.state.items():
            entry = views.get(key)
            if entry is not None and entry[0] is value:
                continue  # updated in place: the views already show it
            if isinstance(value, np.ndarray) and _is_buffer(value, self):
                views[key] = (value, _split(value, params))
                for s, view in zip(pstates, views[key][1]):
                    s[key] = view
                changed = True
            else:
                changed = changed or views.pop(key, None) is not None
                for s in pstates:
                    s[key] = value
        if changed:
            self._index()


def partition(opt, params, limit=None):
    """``(flats, loose)``: ``params`` sorted into :class:`Flat` buffers, one per dtype and state
    layout (which buffers exist, the value of ``step``), so that one kernel call fits all the
    parameters of each; ``loose`` lists the parameters to update one by one: those whose state
    cannot be shared (a buffer of another shape, an unhashable value) and those of more than
    ``limit`` bytes."""
    layouts, loose = {}, []
    for p in params:
        key = None if limit is not None and p.data.nbytes > limit else _layout(p, opt.state[p])
        if key is None:
            loose.append(p)
        else:
            layouts.setdefault(key, []).append(p)
    return [Flat(opt, ps) for ps in layouts.values()], loose


def _layout(param, pstate):
    items = []
    for key, value in pstate.items():
        if _is_buffer(value, param):
            items.append((key, "buffer"))
        elif value is None or isinstance(value, (bool, int, float, str)):
            items.append((key, value))
        else:
            return None
    return param.data.dtype, frozenset(items)


def _is_buffer(value, like):
    """An array the update changes elementwise: the shape and dtype of the parameter (or of
    the flat array of a :class:`Flat`)."""
    ref = like.p if isinstance(like, Flat) else like.data
    return isinstance(value, np.ndarray) and value.shape == ref.shape and value.dtype == ref.dtype


def _flatten(arrays):
    """One flat array holding ``arrays`` back to back, and a view of each (values copied in)."""
    flat = np.empty(sum(a.size for a in arrays), arrays[0].dtype)
    views = _split(flat, arrays)
    for view, a in zip(views, arrays):
        view[...] = a
    return flat, views


def _split(flat, likes):
    """Views of ``flat`` shaped like each of ``likes`` (arrays or tensors), back to back."""
    views, start = [], 0
    for like in likes:
        shape = like.shape
        n = int(np.prod(shape, dtype=np.int64))
        views.append(flat[start:start + n].reshape(shape))
        start += n
    return views
