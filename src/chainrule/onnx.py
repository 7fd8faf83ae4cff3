"""``chainrule.onnx``: the ONNX exporter under PyTorch's import path
(``from chainrule.onnx import export``); the code lives in :mod:`chainrule.onnx_export`, which
keeps working under its own name.

>>> from chainrule.onnx import export, register
>>> callable(export)
True
"""

from chainrule.onnx_export import DEFAULT_OPSET, UnsupportedLayerError, export, register

__all__ = ["DEFAULT_OPSET", "UnsupportedLayerError", "export", "register"]
