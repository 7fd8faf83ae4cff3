"""Text shipped with the package, and a character vocabulary for sequence models.

``shakespeare()`` is Shakespeare's *Hamlet* (public domain), about 150,000 characters in
61 distinct characters, laid out as ``Speaker:`` followed by the lines spoken. It lives in
``chainrule/data/_data/hamlet.txt`` (origin: ``_data/LICENSE.txt``), so character models train
offline.

>>> text = shakespeare()
>>> text[:9]
'Bernardo:'
>>> vocab = CharVocab(text)
>>> vocab.decode(vocab.encode("To be")) == "To be"
True
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

_DATA = Path(__file__).resolve().parent / "_data"


@cache
def _read(name):
    path = _DATA / name
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"chainrule.datasets: the embedded text file {path} is missing; reinstall chainrule "
            "(the package data under chainrule/data/_data/ was not installed)"
        ) from None


def shakespeare(n_chars=None) -> str:
    """The text of *Hamlet* (public domain), or its first ``n_chars`` characters.

    >>> len(shakespeare(100))
    100
    """
    text = _read("hamlet.txt")
    if n_chars is None:
        return text
    if int(n_chars) != n_chars or n_chars < 1:
        raise ValueError(f"shakespeare: n_chars must be a positive integer, got {n_chars!r}")
    return text[: int(n_chars)]


class CharVocab:
    """The sorted set of characters of a text, as integer ids ``0 .. size-1``.

    >>> v = CharVocab("abca")
    >>> v.size, v.encode("cab").tolist(), v.decode([2, 0])
    (3, [2, 0, 1], 'ca')
    """

    def __init__(self, text):
        if not text:
            raise ValueError("CharVocab: the text is empty")
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    @property
    def size(self):
        return len(self.chars)

    def __len__(self):
        return len(self.chars)

    def encode(self, text) -> np.ndarray:
        """The ids of ``text``'s characters (int64); unknown characters are named."""
        try:
            return np.fromiter((self.index[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as e:
            raise KeyError(f"CharVocab.encode: character {e.args[0]!r} is not in the "
                           f"vocabulary of {self.size} characters") from None

    def decode(self, ids) -> str:
        """The text of a sequence of ids (a list, an array or a 1-D tensor)."""
        ids = np.asarray(getattr(ids, "data", ids)).reshape(-1)
        return "".join(self.chars[int(i)] for i in ids)
