"""Run folders: where `chainrule.train.run` keeps one training run, and the rules that keep a
user's files safe.

- A new run gets a folder of its own: ``runs/<data>-<date>-<time>`` claimed with an exclusive
  ``mkdir`` (``-2``, ``-3``, ... appended when another run took the name first), so two runs
  never share a folder, even when started in the same second.
- A folder given by the user (``--out``) is used when it is new, empty, or holds none of the
  files a run writes. If it holds another run (or a file a run would overwrite) it is refused
  unless ``overwrite=True``, which removes the old run's files first, so one folder always
  describes one run. Other files in it are never touched.
- The folder is checked to be writable before any training starts.

>>> import tempfile, pathlib
>>> base = pathlib.Path(tempfile.mkdtemp())
>>> a = claim_default(base, "iris"); b = claim_default(base, "iris")
>>> a != b and a.is_dir() and b.is_dir()
True
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from chainrule._atomic import check_writable, sweep_temporary_files

RUN_FILE = "run.json"
CHECKPOINT = "checkpoint.safetensors"
# Every file a run may write: a folder holding one of them holds a run (or would lose a file).
RUN_FILES = (RUN_FILE, CHECKPOINT, "model.safetensors", "history.json", "history.csv",
             "history.png", "confusion_matrix.png", "decision_boundary.png")


class RunFolderError(Exception):
    """A run folder that cannot be used as asked (one line for the user)."""


def claim_default(base, name) -> Path:
    """A new, empty folder ``base/<name>-<YYYYmmdd-HHMMSS>[-k]`` that no other run can claim."""
    base = Path(base)
    base.mkdir(parents=True, exist_ok=True)
    stem = f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    for k in range(1, 10_000):
        folder = base / (stem if k == 1 else f"{stem}-{k}")
        try:
            folder.mkdir()  # exclusive: fails if another run made it first
        except FileExistsError:
            continue
        return folder
    raise RunFolderError(f"cannot find a free run folder name under {base}")  # pragma: no cover


def existing_run_files(folder) -> list:
    """The run files (of `RUN_FILES` and those an old run.json lists) present in ``folder``."""
    folder = Path(folder)
    names = set(RUN_FILES)
    try:
        listed = json.loads((folder / RUN_FILE).read_text(encoding="utf-8")).get("files") or []
        names.update(n for n in listed if isinstance(n, str) and os.sep not in n and "/" not in n)
    except (OSError, ValueError, AttributeError):
        pass
    return sorted(n for n in names if (folder / n).is_file())


def claim_given(folder, overwrite: bool = False) -> Path:
    """Prepare the user's ``folder`` for a new run (see the module rules)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(f"--out {folder} is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    present = existing_run_files(folder)
    if present and not overwrite:
        what = "another run" if RUN_FILE in present or CHECKPOINT in present else "files"
        raise RunFolderError(
            f"{folder} already holds {what} ({', '.join(present)}); choose a new --out, "
            f"resume it with --resume {folder}, or pass --overwrite to replace it")
    for name in present:  # --overwrite: one folder describes one run
        try:
            (folder / name).unlink()
        except FileNotFoundError:
            pass
    sweep_temporary_files(folder)
    return folder


def check_folder(folder) -> None:
    """Pre-flight: ``folder`` accepts new files (RunFolderError naming it otherwise)."""
    try:
        check_writable(folder, "run folder")
    except OSError as e:
        raise RunFolderError(f"cannot write into the output folder {folder}: "
                             f"{e.strerror or e}") from None


def read_record(folder) -> dict:
    """The ``run.json`` of a run folder (RunFolderError when there is none or it is damaged)."""
    path = Path(folder) / RUN_FILE
    if not Path(folder).is_dir():
        raise RunFolderError(f"no such run folder: {folder}")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFolderError(f"{folder} holds no run to resume (no {RUN_FILE})") from None
    except (OSError, ValueError) as e:
        raise RunFolderError(f"cannot read {path}: {e}") from None
    if not isinstance(record, dict) or not isinstance(record.get("options"), dict):
        raise RunFolderError(f"{path} does not record the run's options (written by an older "
                             "chainrule?); start a new run")
    return record
