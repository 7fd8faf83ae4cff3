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


def sample_chars(next_logits, vocab, prompt="", length=200, temperature=1.0, seed=0):
    """Generate ``length`` characters after ``prompt`` from a character model.

    ``next_logits(ids)`` receives the ids so far (a 1-D int64 array, prompt included) and
    returns the unnormalised scores ``(vocab.size,)`` of the next character (an array or a
    tensor). A Transformer can read the last context window of ``ids``; a recurrent model can
    keep its state between calls and read only the ids it has not seen yet. Each character is
    drawn from ``softmax(logits / temperature)`` with a seeded generator, so a call is
    reproducible; ``temperature=0`` picks the most likely character. An empty prompt starts
    from a newline (the text's first character class in *Hamlet*'s layout).

    >>> vocab = CharVocab("ab")
    >>> sample_chars(lambda ids: np.array([0.0, 5.0]), vocab, "a", length=3, temperature=0)
    'abbb'
    """
    if length < 0:
        raise ValueError(f"sample_chars: length must be >= 0, got {length}")
    if temperature < 0:
        raise ValueError(f"sample_chars: temperature must be >= 0, got {temperature}")
    rng = np.random.default_rng(seed)
    start = prompt if prompt else ("\n" if "\n" in vocab.index else vocab.chars[0])
    ids = list(vocab.encode(start))
    for _ in range(int(length)):
        logits = _as_scores(next_logits(np.array(ids, dtype=np.int64)))
        if logits.shape != (vocab.size,):
            raise ValueError(f"sample_chars: next_logits must return {vocab.size} scores, "
                             f"got shape {logits.shape}")
        if temperature == 0:
            ids.append(int(np.argmax(logits)))
            continue
        z = logits / temperature
        p = np.exp(z - z.max())
        p /= p.sum()
        ids.append(int(rng.choice(vocab.size, p=p)))
    text = vocab.decode(ids)
    return text if prompt else text[len(start):]


def _as_scores(value):
    """A model's output (array or tensor, e.g. shape (1, V)) as a float64 vector."""
    data = getattr(value, "data", value)
    return np.asarray(data, dtype=np.float64).reshape(-1)
