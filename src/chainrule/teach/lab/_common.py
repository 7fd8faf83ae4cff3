"""What the experiments share: a seeded start, a small training loop, the report and figures.

A lab's report is a claim (quoted from the notes), a table and a one-line finding, shown as
plain text (or rich tables when rich is installed) by :func:`show`.

>>> print(report_text("Claim", ["a"], [["1"]], "Finding").strip())
Claim
<BLANKLINE>
What the run measured
  a
  1
  Finding
"""

import sys

import numpy as np

from chainrule.backend import manual_seed
from chainrule.teach._files import atomic_write, suffix_format
from chainrule.teach._render import plain_text, print_rich
from chainrule.teach.plots import _figure


def seeded(seed):
    """Seed the library (initialisation) and return a NumPy generator for the data."""
    manual_seed(seed)
    return np.random.default_rng(seed)


def sections(claim, header, rows, finding):
    return [("text", [claim]), ("table", "What the run measured", header, rows, finding)]


def report_text(claim, header, rows, finding):
    """The report as plain text."""
    return plain_text(sections(claim, header, rows, finding))


def show(claim, header, rows, finding, echo=True, stream=None):
    """Print the report (rich when available) and return it as plain text."""
    parts = sections(claim, header, rows, finding)
    text = plain_text(parts)
    if echo:
        stream = stream or sys.stdout
        if not print_rich(parts, stream):
            stream.write(text)
    return text


def figure(width, height):
    """A matplotlib Figure on the Agg canvas (no display, no pyplot)."""
    return _figure((width, height))


def save(fig, path, op):
    """Write ``fig`` atomically; returns the path. (The constrained layout already fits
    everything in, so no second "tight" layout pass is spent.)"""
    fmt_ = suffix_format(path, ("png", "svg", "pdf"), op)
    return atomic_write(path, lambda f: fig.savefig(f, format=fmt_, dpi=100))


def fmt(x, digits=3):
    """A number for a table: 3 significant digits, scientific when tiny or huge."""
    x = float(x)
    if not np.isfinite(x):
        return str(x)
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


def steps_text(n, limit):
    """'42' or '> 500' (never reached within the budget)."""
    return f"> {limit}" if n is None else str(int(n))
