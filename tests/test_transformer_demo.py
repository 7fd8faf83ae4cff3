"""The transformer demo: a CI-sized run learns Hamlet's characters (the loss falls from about
ln(61) to well under 2.5 nats), writes a real PNG and samples seeded text."""

import numpy as np

import chainrule as cr
from chainrule import demos
from chainrule.data.text import CharVocab, shakespeare
from chainrule.demos.transformer_demo import CharTransformer, sample


def test_transformer_demo_learns_hamlet(tmp_path):
    result = demos.run("transformer", out_dir=tmp_path)
    assert 3.9 < result["initial_loss"] < 4.6  # about ln(61) = 4.11: knows nothing yet
    assert result["final_loss"] < 2.3  # letters, spaces and common words
    assert result["losses"][-1] < result["losses"][0] - 1.5
    assert result["sample_after"].startswith("Hamlet:") and len(result["sample_after"]) == 307
    assert result["sample_before"] != result["sample_after"][:127]
    words = result["sample_after"].split()
    assert sum(w.strip(".,;:!?'") in {"the", "and", "to", "of", "I", "you", "my"}
               for w in words) >= 3  # the commonest words appear
    png = result["picture"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_sampling_is_seeded_and_causal_model_ignores_the_future():
    cr.manual_seed(0)
    vocab = CharVocab(shakespeare(2000))
    model = CharTransformer(vocab.size, context=16, d_model=16, nhead=2, n_layers=1,
                            dim_feedforward=32)
    assert sample(model, vocab, "To", 20, seed=3) == sample(model, vocab, "To", 20, seed=3)
    ids = vocab.encode("To be, or not to b")[None, :16]
    changed = ids.copy()
    changed[0, 10] = (changed[0, 10] + 1) % vocab.size
    a, b = model(ids).data, model(changed).data
    np.testing.assert_allclose(a[0, :10], b[0, :10], rtol=1e-6)
    assert not np.allclose(a[0, 10:], b[0, 10:])
