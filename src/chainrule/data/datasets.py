"""Ready-made data sets (``cr.datasets``): toy generators, embedded real data, IDX and CSV.

Every function returns a `Bunch`: named fields ``X``, ``y``, ``description``,
``feature_names``, ``target_names``, and tuple unpacking ``X, y = ...`` for the short form.
Arrays are NumPy; features are float32 unless the function documents otherwise, class
labels int64.

>>> import chainrule as cr
>>> X, y = cr.datasets.moons(200, noise=0.1, seed=0)
>>> digits = cr.datasets.digits()
>>> digits.X.shape, digits.n_classes
((1797, 64), 10)

- toy: `logic_gate`, `circles`, `moons`, `spirals`, `blobs`
- embedded (offline): `digits` (8x8 handwritten digits), `iris`, `shakespeare` (Hamlet's
  text, for character models) with `CharVocab`
- your files: `mnist`, `fashion_mnist` (IDX files in a folder), `read_idx`, `write_idx`,
  `load_csv`
"""

from chainrule.data.bunch import Bunch
from chainrule.data.embedded import digits, iris
from chainrule.data.idx import fashion_mnist, mnist, read_idx, write_idx
from chainrule.data.synthetic import blobs, circles, logic_gate, moons, spirals
from chainrule.data.tabular import load_csv
from chainrule.data.text import CharVocab, shakespeare

__all__ = [
    "Bunch",
    "CharVocab",
    "blobs",
    "circles",
    "digits",
    "fashion_mnist",
    "iris",
    "load_csv",
    "logic_gate",
    "mnist",
    "moons",
    "read_idx",
    "shakespeare",
    "spirals",
    "write_idx",
]

# text generation helper for character models (issue 9)
from chainrule.data.text import sample_chars  # noqa: E402

__all__ += ["sample_chars"]
