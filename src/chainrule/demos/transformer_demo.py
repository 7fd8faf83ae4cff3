"""A small decoder-only Transformer learns to write like *Hamlet*, one character at a time.

The model (a miniature GPT): each character id becomes a learned vector (token embedding) plus
a learned vector for its position; ``n_layers`` pre-norm ``TransformerEncoderLayer`` blocks
with a *causal* mask (position i may only look at positions 0..i, so it cannot peek at the
character it must predict); a final ``LayerNorm`` and a ``Linear`` head give, at every
position, scores for the next character. Training minimises the cross-entropy of those
predictions with Adam.

Before training the model knows nothing: its loss is about ln(61) ≈ 4.11 nats (a uniform guess
among Hamlet's 61 characters) and its samples are noise. A few hundred steps later it has
learned letter frequencies, spaces, common words and the ``Speaker:`` layout of the play.

    chainrule demo transformer        (or python examples/transformer.py)
"""

import math
import time

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.backend import get_rng
from chainrule.data.text import CharVocab, shakespeare

CONFIG = {"context": 64, "d_model": 64, "nhead": 2, "n_layers": 2, "dim_feedforward": 256,
          "batch": 32, "steps": 200, "lr": 6e-3, "seed": 0}


class CharTransformer(nn.Module):
    """Token + learned position embeddings, causal Transformer blocks, LayerNorm, Linear head.

    ``forward(ids)`` maps ``(N, L)`` int64 character ids (``L <= context``) to ``(N, L,
    vocab)`` next-character logits.

    >>> import chainrule as cr
    >>> _ = cr.manual_seed(0)
    >>> CharTransformer(vocab=10, context=8, d_model=16, nhead=2, n_layers=1)(
    ...     cr.tensor([[1, 2, 3]])).shape
    (1, 3, 10)
    """

    def __init__(self, vocab, context=64, d_model=64, nhead=2, n_layers=2, dim_feedforward=256,
                 dropout=0.0):
        super().__init__()
        self.context = int(context)
        # A learned vector per character and per position, both N(0, 1).
        self.token_embedding = nn.Embedding(vocab, d_model)
        self.position_embedding = nn.Parameter(get_rng().standard_normal((context, d_model))
                                               .astype(np.float32))
        block = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=dropout,
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(block, n_layers)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab)
        self._masks = {}

    def causal_mask(self, length):
        """The (L, L) additive causal mask, made once per length."""
        mask = self._masks.get(length)
        if mask is None:
            mask = self._masks[length] = nn.generate_square_subsequent_mask(length)
        return mask

    def forward(self, ids):
        idx = ids.data if isinstance(ids, cr.Tensor) else np.asarray(ids)
        length = idx.shape[-1]
        if length > self.context:
            raise ValueError(f"CharTransformer: sequence length {length} exceeds the context "
                             f"{self.context}")
        # Row lookups; repeated ids accumulate their gradients in the embedding table.
        x = self.token_embedding(idx) + self.position_embedding[:length]
        x = self.blocks(x, mask=self.causal_mask(length), is_causal=True)
        return self.head(self.norm(x))


def batches(ids, batch, context, rng):
    """A random batch of ``(inputs, targets)``: windows of the text and the same windows
    shifted one character on."""
    starts = rng.integers(0, len(ids) - context - 1, size=batch)
    window = starts[:, None] + np.arange(context + 1)
    chunk = ids[window]
    return chunk[:, :-1], chunk[:, 1:]


def loss_of(model, x, y):
    logits = model(x)
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), cr.tensor(
        y.reshape(-1)))


@cr.no_grad()
def sample(model, vocab, prompt, n_chars, temperature=0.8, seed=0):
    """Continue ``prompt`` by ``n_chars`` characters drawn from the model's softmax at
    ``temperature`` (seeded, so the same model gives the same text)."""
    rng = np.random.default_rng(seed)
    was_training = model.training
    model.eval()
    ids = list(vocab.encode(prompt))
    for _ in range(n_chars):
        window = np.array(ids[-model.context:])[None, :]
        logits = model(window).data[0, -1].astype(np.float64) / temperature
        p = np.exp(logits - logits.max())
        ids.append(int(rng.choice(len(p), p=p / p.sum())))
    model.train(was_training)
    return vocab.decode(ids)


@cr.no_grad()
def evaluate(model, ids, batch, context, seed=1, rounds=4):
    """Mean loss on ``rounds`` fixed batches of held-out text."""
    rng = np.random.default_rng(seed)
    return float(np.mean([loss_of(model, *batches(ids, batch, context, rng)).item()
                          for _ in range(rounds)]))


def plot_losses(steps, train, val_steps, val, path, baseline):
    """The loss curve as a PNG (matplotlib's Agg canvas: no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.plot(steps, train, color="C0", alpha=0.35, linewidth=1, label="training batch")
    window = max(1, len(train) // 25)
    smooth = np.convolve(train, np.ones(window) / window, mode="valid")
    ax.plot(steps[window - 1:], smooth, color="C0", linewidth=2, label="training (smoothed)")
    ax.plot(val_steps, val, "o--", color="C1", label="held-out text")
    ax.axhline(baseline, color="gray", linestyle=":", label=f"uniform guess ln(V) = "
               f"{baseline:.2f}")
    ax.set_xlabel("training step")
    ax.set_ylabel("cross-entropy (nats per character)")
    ax.set_title("A 2-block character Transformer learning Hamlet (held out: last 10%)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    return path


def _one_blas_thread():
    """A context that runs BLAS on one thread when threadpoolctl is installed: this model's
    matrices are small, and a second BLAS thread spins more than it helps (badly so on a
    shared, loaded machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def main(out_dir=None, steps=None, progress=True):
    with _one_blas_thread():
        return _main(out_dir, steps, progress)


def _main(out_dir, steps, progress):
    from chainrule.demos import output_dir
    from chainrule.train.progress import make_reporter

    cfg = dict(CONFIG, steps=CONFIG["steps"] if steps is None else int(steps))
    cr.manual_seed(cfg["seed"])
    text = shakespeare()
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    split = int(0.9 * len(ids))
    train_ids, val_ids = ids[:split], ids[split:]
    model = CharTransformer(vocab.size, cfg["context"], cfg["d_model"], cfg["nhead"],
                            cfg["n_layers"], cfg["dim_feedforward"])
    optimizer = cr.optim.Adam(model.parameters(), lr=cfg["lr"])
    baseline = math.log(vocab.size)
    print(f"Hamlet: {len(text):,} characters, {vocab.size} distinct; model with "
          f"{model.num_parameters():,} parameters ({cfg['n_layers']} blocks, d_model "
          f"{cfg['d_model']}, {cfg['nhead']} heads, context {cfg['context']})")
    prompt = "Hamlet:"
    before = sample(model, vocab, prompt, 120)
    print(f"\nSample before training:\n{before}\n")
    rng = np.random.default_rng(cfg["seed"])
    losses, val_steps, val_losses = [], [0], [evaluate(model, val_ids, cfg["batch"],
                                                         cfg["context"])]
    reporter = make_reporter(progress)
    reporter.train_begin(1, cfg["steps"])
    reporter.epoch_begin(1)
    start = time.perf_counter()
    every = max(1, cfg["steps"] // 8)
    try:
        for step in range(1, cfg["steps"] + 1):
            loss = loss_of(model, *batches(train_ids, cfg["batch"], cfg["context"], rng))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            reporter.batch_end(step, {"loss": float(np.mean(losses[-20:]))})
            if step % every == 0 or step == cfg["steps"]:
                val_steps.append(step)
                val_losses.append(evaluate(model, val_ids, cfg["batch"], cfg["context"]))
                reporter.message(f"step {step:4d}  training loss {np.mean(losses[-20:]):.3f}"
                                 f"  held-out loss {val_losses[-1]:.3f}")
    finally:
        reporter.train_end()
    seconds = time.perf_counter() - start
    after = sample(model, vocab, prompt, 300)
    print(f"\n{cfg['steps']} steps in {seconds:.1f} s ({cfg['steps'] / seconds:.1f} steps/s): "
          f"held-out loss {val_losses[0]:.2f} -> {val_losses[-1]:.2f} nats per character "
          f"(uniform guess {baseline:.2f})")
    print(f"\nSample after training:\n{after}\n")
    folder = output_dir(out_dir, "transformer")
    picture = None
    try:
        picture = plot_losses(np.arange(1, len(losses) + 1), np.array(losses), val_steps,
                              val_losses, folder / "transformer_loss.png", baseline)
        print(f"loss curve written to {picture}")
    except ImportError as err:
        print(f"(no loss-curve picture: {err})")
    return {"losses": losses, "val_steps": val_steps, "val_losses": val_losses,
            "initial_loss": val_losses[0], "final_loss": val_losses[-1], "baseline": baseline,
            "sample_before": before, "sample_after": after, "seconds": seconds,
            "picture": picture}


if __name__ == "__main__":
    main()
