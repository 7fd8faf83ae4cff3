"""Atomic file writes, used by everything that saves a user's file (weights, checkpoints,
histories, pictures): the target is always either the old file or the complete new one.

The data goes to a hidden temporary file in the target's folder, is flushed and fsynced, then
``os.replace``-d over the target, and the folder is fsynced so the rename itself is durable.
On any error (Ctrl-C included) the temporary file is removed and the old target is untouched.

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
>>> atomic_write(target, b"hi") == target, target.read_bytes()
(True, b'hi')
"""

import errno
import os
import secrets
from pathlib import Path


def atomic_write(path, data, where="write", make_parents=False):
    """Write ``data`` (bytes, or a callable taking the open binary file) to ``path`` atomically.

    New files get the usual permissions (0o666 less the umask); an existing file keeps its
    own. A symlink is written through, not replaced. Returns the path written.
    """
    path = Path(os.path.realpath(os.fspath(path)))
    folder = path.parent
    if make_parents:
        folder.mkdir(parents=True, exist_ok=True)
    elif not folder.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"{where}: no such folder", str(folder))
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, f"{where}: the target is a folder", str(path))
    tmp = folder / f".{path.name}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            if callable(data):
                data(file)
            else:
                file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if path.exists():  # keep the permissions the previous file had
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_folder(folder)
    return path


def atomic_write_text(path, text, where="write", make_parents=False):
    """:func:`atomic_write` for text (UTF-8, newlines as given)."""
    return atomic_write(path, text.encode("utf-8"), where, make_parents)


def _fsync_folder(folder):
    """Make the rename durable (POSIX); skipped where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
