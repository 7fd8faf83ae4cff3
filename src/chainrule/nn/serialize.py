"""Architecture as data: a module tree to and from a JSON-serialisable dict.

Each node is ``{"class": <name in chainrule.nn>, "config": module.get_config(),
"children": [...]}``. Containers (Sequential, ModuleList, Concat) record their children in order
(with their names, so a Sequential built from an OrderedDict keeps its state_dict keys); other
layers rebuild their own sub-modules from their config. Weights are not part of it: load them
with ``load_state_dict`` after rebuilding.

>>> import chainrule as cr
>>> net = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.ReLU())
>>> d = module_to_config(net)
>>> d["class"], [c["class"] for c in d["children"]]
('Sequential', ['Linear', 'ReLU'])
>>> module_from_config(d)
Sequential(
  (0): Linear(in_features=2, out_features=3, bias=True)
  (1): ReLU()
)
"""

from collections import OrderedDict

__all__ = ["module_from_config", "module_to_config"]


def _nn():
    import chainrule.nn as nn  # late import: chainrule.nn imports this module

    return nn


def module_to_config(module):
    """The architecture of ``module`` as nested dicts of plain JSON types.

    Every module must implement ``get_config()`` (all built-in layers do); a custom class is
    recorded by its class name and needs ``registry`` when rebuilt.
    """
    from chainrule.nn.module import Module

    if not isinstance(module, Module):
        raise TypeError(f"module_to_config: expected a Module, got {type(module).__name__}")
    config = dict(module.get_config())
    node = {"class": type(module).__name__, "config": config, "children": []}
    if getattr(module, "_config_children", False):
        for name, child in module._modules.items():
            if child is None:
                raise ValueError(
                    f"module_to_config: {type(module).__name__} has an empty slot '{name}'"
                )
            entry = module_to_config(child)
            entry["name"] = name
            node["children"].append(entry)
    return node


def _resolve_class(name, registry):
    if registry and name in registry:
        return registry[name]
    from chainrule.nn.module import Module

    cls = getattr(_nn(), name, None)
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise ValueError(
            f"module_from_config: unknown module class {name!r}; it is not a layer of "
            "chainrule.nn (pass registry={name: cls} for custom classes)"
        )
    return cls


def module_from_config(d, registry=None):
    """Rebuild a module tree recorded by :func:`module_to_config` (fresh weights).

    ``registry`` maps extra class names to classes, for custom modules with ``get_config``.
    """
    try:
        cls_name, config = d["class"], dict(d.get("config") or {})
    except (TypeError, KeyError):
        raise ValueError(
            f"module_from_config: expected a dict with 'class' and 'config', got {d!r}"
        ) from None
    cls = _resolve_class(cls_name, registry)
    if hasattr(cls, "from_config"):  # a layer whose config nests other layers' configs
        return cls.from_config(config)
    if not getattr(cls, "_config_children", False):
        if d.get("children"):
            raise ValueError(
                f"module_from_config: {cls_name} is not a container but the record lists "
                f"{len(d['children'])} children"
            )
        return cls(**config)
    children = [module_from_config(c, registry) for c in d.get("children", [])]
    names = [c.get("name", str(i)) for i, c in enumerate(d.get("children", []))]
    if names != [str(i) for i in range(len(names))]:
        if not issubclass(cls, _nn().Sequential):
            raise ValueError(f"module_from_config: {cls_name} children must be named 0..n-1")
        return cls(OrderedDict(zip(names, children)), **config)
    if issubclass(cls, _nn().ModuleList):
        return cls(children, **config)
    return cls(*children, **config)
