"""Atomic file writes for the teaching tools: write a temporary file in the target folder,
then ``os.replace`` it onto the target, so a crash never leaves a half-written image.

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
>>> atomic_write(target, lambda f: f.write(b"hi")) == target, target.read_bytes()
(True, b'hi')
"""

import os
import tempfile
from pathlib import Path


def atomic_write(path, write):
    """Call ``write(binary_file)`` on a temporary file next to ``path``, then move it there.

    The parent folder is created when missing. Returns ``path`` as a :class:`pathlib.Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def suffix_format(path, allowed, op):
    """The file format named by ``path``'s suffix (``"png"``), checked against ``allowed``."""
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in allowed:
        listed = ", ".join("." + a for a in allowed)
        raise ValueError(f"{op}: cannot tell the format of {str(path)!r}; use a path ending in "
                         f"{listed}")
    return fmt
