"""File helpers for the teaching tools: atomic writes (shared with the rest of the library) and
telling a file's format from its suffix.

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
>>> atomic_write(target, lambda f: f.write(b"hi")) == target, target.read_bytes()
(True, b'hi')
"""

from pathlib import Path

from chainrule._atomic import atomic_write as _atomic_write


def atomic_write(path, write):
    """Call ``write(binary_file)`` on a temporary file next to ``path``, then move it there.

    The parent folder is created when missing. Returns ``path`` as a :class:`pathlib.Path`.
    """
    _atomic_write(path, write, "write", make_parents=True)
    return Path(path)


def suffix_format(path, allowed, op):
    """The file format named by ``path``'s suffix (``"png"``), checked against ``allowed``."""
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in allowed:
        listed = ", ".join("." + a for a in allowed)
        raise ValueError(f"{op}: cannot tell the format of {str(path)!r}; use a path ending in "
                         f"{listed}")
    return fmt
