"""The charlstm demo learns (loss from ln 61 to well under 2.5 nats), samples reproducibly,
and draws a real PNG; sample_chars follows its contract."""

import math
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import demos
from chainrule.data.text import CharVocab, sample_chars


def test_charlstm_demo_learns_and_draws(tmp_path, capsys):
    from chainrule.demos.charlstm_demo import main

    result = main(out_dir=tmp_path, steps=120, progress=False)
    assert abs(result["first_loss"] - math.log(61)) < 0.1  # an untrained model guesses uniformly
    assert result["last_loss"] < 2.3
    assert result["val_loss"] < 2.4  # held-out text: it learnt the language, not the chunks
    assert Path(result["picture"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result["after"].startswith("Hamlet:\n") and len(result["after"]) == 8 + 300
    out = capsys.readouterr().out
    assert "Before training" in out and "After 120 steps" in out and "step  100" in out
    words = sum(w in result["after"].lower().split() for w in ("the", "and", "to", "my", "of"))
    assert words >= 2  # common words appear; the untrained sample has none
    assert "charlstm" in demos.DEMOS


def test_sampling_is_seeded_and_follows_the_temperature():
    vocab = CharVocab("abc")
    logits = np.log(np.array([0.7, 0.2, 0.1]))
    a = sample_chars(lambda ids: logits, vocab, "a", length=400, temperature=1.0, seed=3)
    assert a == sample_chars(lambda ids: logits, vocab, "a", length=400, seed=3)
    counts = np.array([a[1:].count(c) for c in "abc"]) / 400
    np.testing.assert_allclose(counts, [0.7, 0.2, 0.1], atol=0.06)
    cold = sample_chars(lambda ids: logits, vocab, "a", length=400, temperature=0.25, seed=3)
    assert cold[1:].count("a") > 380  # low temperature sharpens towards the mode
    seen = []
    sample_chars(lambda ids: seen.append(len(ids)) or cr.tensor(logits), vocab, "ab", length=3)
    assert seen == [2, 3, 4]  # the callback sees the whole sequence so far; tensors accepted
    assert sample_chars(lambda ids: logits, vocab, "", length=5, temperature=0) == "aaaaa"
    with pytest.raises(ValueError, match="3 scores, got shape"):
        sample_chars(lambda ids: np.zeros(4), vocab, "a", length=1)
