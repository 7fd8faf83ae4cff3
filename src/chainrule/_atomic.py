"""Atomic file writes, used by everything that saves a user's file (weights, checkpoints,
histories, pictures): the target is always either the old file or the complete new one.

The data goes to a hidden temporary file in the target's folder, is flushed and fsynced, then
``os.replace``-d over the target, and the folder is fsynced so the rename itself is durable.
On any error (Ctrl-C included) the temporary file is removed and the old target is untouched.
A process killed mid-write (``kill -9``, a power cut) cannot clean up; its temporary file
carries its process id (``.<name>.<pid>-<random>.tmp``), and the next save into that folder
removes the temporary files of processes that no longer run.

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
>>> atomic_write(target, b"hi") == target, target.read_bytes()
(True, b'hi')
"""

import errno
import os
import re
import secrets
import time
from pathlib import Path

# .<name>.<pid>-<8 hex>.tmp; the pid-less form .<name>.<8 hex>.tmp came from older versions.
_TEMP = re.compile(r"^\..+\.(?:(\d+)-)?[0-9a-f]{8}\.tmp$")
_LEGACY_AGE = 3600.0  # seconds after which a pid-less temporary file counts as abandoned


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process: assume it is still writing
    return True


def sweep_temporary_files(folder) -> list:
    """Remove the temporary files that killed saves left in ``folder`` (those of processes
    that no longer run); returns the names removed. Never touches any other file.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / ".w.bin.999999999-0a1b2c3d.tmp").write_bytes(b"x")  # no such process
    >>> sweep_temporary_files(d), sorted(p.name for p in d.iterdir())
    (['.w.bin.999999999-0a1b2c3d.tmp'], [])
    """
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = _TEMP.match(entry.name)
        if match is None:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if match.group(1) is not None:
                if _alive(int(match.group(1))):
                    continue
            elif now - entry.stat(follow_symlinks=False).st_mtime < _LEGACY_AGE:
                continue
            os.unlink(entry.path)
            removed.append(entry.name)
        except OSError:
            continue
    return removed


def check_writable(folder, where="write") -> None:
    """Pre-flight: create and remove a temporary file in ``folder`` (OSError naming it if that
    fails), so a read-only or full folder is found before the work, not after it."""
    folder = Path(folder)
    probe = folder / f".probe.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as e:
        raise type(e)(e.errno, f"{where}: cannot write into the folder ({e.strerror})",
                      str(folder)) from None
    os.close(fd)
    os.unlink(probe)


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
    sweep_temporary_files(folder)
    tmp = folder / f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
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
