"""A character-level LSTM language model on Shakespeare's *Hamlet* (shipped, public domain).

The model reads one character at a time and predicts the next::

    ids (T, B) → Embedding(61, 32) → LSTM(32 → 128) → Linear(128 → 61) → cross-entropy

Before training every character is equally likely, so the loss starts near ln 61 ≈ 4.11 nats;
after 200 Adam steps (about 10 s on two cores) it is near 1.8 and has learnt spelling, spaces
and the ``Speaker:`` layout. ``chainrule demo charlstm`` or ``python examples/charlstm.py``;
the loss curve goes to ``./demo-charlstm/loss.png``.

Training uses *truncated backpropagation through time*: the text is cut into ``B`` long
streams read side by side, ``T`` characters at a time; the LSTM's state is carried from one
chunk to the next (so it remembers across chunks) but detached (so backward stops at the
chunk boundary). Samples are drawn before and after training with temperature sampling
(``cr.datasets.sample_chars``), seeded, so a run is reproducible.
"""

import math
import time

import numpy as np

import chainrule as cr
from chainrule.data.text import CharVocab, sample_chars, shakespeare


class CharLSTM(cr.nn.Module):
    """Embedding → LSTM → Linear: next-character scores for every position."""

    def __init__(self, vocab_size, embedding_dim=32, hidden_size=128, num_layers=1):
        super().__init__()
        self.config = {"vocab_size": vocab_size, "embedding_dim": embedding_dim,
                       "hidden_size": hidden_size, "num_layers": num_layers}
        self.embed = cr.nn.Embedding(vocab_size, embedding_dim)
        self.lstm = cr.nn.LSTM(embedding_dim, hidden_size, num_layers=num_layers)
        self.head = cr.nn.Linear(hidden_size, vocab_size)

    def get_config(self):  # cr.save_model / cr.load_model(registry={"CharLSTM": CharLSTM})
        return dict(self.config)

    def forward(self, ids, state=None):
        """``ids (T, B)`` → ``(logits (T, B, V), (h, c))``."""
        out, state = self.lstm(self.embed(ids), state)
        return self.head(out), state


def streams(ids, batch):
    """The id sequence cut into ``batch`` equal streams, side by side: shape ``(L, batch)``."""
    length = len(ids) // batch
    return ids[: length * batch].reshape(batch, length).T


def detach(state):
    return tuple(s.detach() for s in state)


def sampler(model, temperature=0.8):
    """A ``next_logits`` callback for ``sample_chars`` that keeps the LSTM state between calls
    and feeds only the characters it has not seen yet."""
    memory = {"seen": 0, "state": None, "logits": None}

    def next_logits(ids):
        new = ids[memory["seen"]:]
        with cr.no_grad():
            logits, memory["state"] = model(cr.tensor(new.reshape(-1, 1)), memory["state"])
        memory["seen"] = len(ids)
        return logits.data[-1, 0]

    return next_logits


def generate(model, vocab, prompt, length=200, temperature=0.8, seed=0):
    was_training = model.training
    model.eval()
    try:
        return sample_chars(sampler(model), vocab, prompt, length, temperature, seed)
    finally:
        model.train(was_training)


def evaluate(model, data, seq_len):
    """Mean cross-entropy (nats per character) over ``data (L, B)``, state carried along."""
    total, count, state = 0.0, 0, None
    with cr.no_grad():
        for start in range(0, data.shape[0] - 1, seq_len):
            x = data[start:start + seq_len]
            y = data[start + 1:start + seq_len + 1]
            x = x[: len(y)]
            logits, state = model(cr.tensor(x), state)
            loss = cr.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                  cr.tensor(y.reshape(-1)), reduction="sum")
            total += loss.item()
            count += y.size
    return total / count


def train(steps=200, batch=32, seq_len=64, lr=1e-2, hidden_size=128, embedding_dim=32,
          n_chars=None, seed=0, progress=True, log_every=50, clip=1.0):
    """Train the model; returns ``(model, vocab, history, validation loss)``."""
    from chainrule.train.progress import make_reporter

    cr.manual_seed(seed)
    text = shakespeare(n_chars)
    vocab = CharVocab(shakespeare())
    ids = vocab.encode(text)
    split = int(0.9 * len(ids))
    train_data, val_data = streams(ids[:split], batch), streams(ids[split:], 8)
    model = CharLSTM(vocab.size, embedding_dim, hidden_size)
    optimizer = cr.optim.Adam(model.parameters(), lr=lr)
    history = {"step": [], "loss": []}
    reporter = make_reporter(progress)
    say = reporter.message if progress else print  # the falling loss is shown either way
    reporter.train_begin(1, steps)
    reporter.epoch_begin(1)
    state, position, running = None, 0, None
    try:
        for step in range(1, steps + 1):
            if position + seq_len + 1 > train_data.shape[0]:
                position, state = 0, None  # a new pass over the text
            x = cr.tensor(train_data[position:position + seq_len])
            y = cr.tensor(train_data[position + 1:position + seq_len + 1].reshape(-1))
            position += seq_len
            logits, state = model(x, state)
            state = detach(state)  # truncated BPTT: carry the state, not its graph
            loss = cr.nn.functional.cross_entropy(logits.reshape(-1, vocab.size), y)
            optimizer.zero_grad()
            loss.backward()
            cr.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            value = loss.item()
            running = value if running is None else 0.9 * running + 0.1 * value
            history["step"].append(step)
            history["loss"].append(value)
            reporter.batch_end(step, {"loss": running})
            if log_every and (step % log_every == 0 or step == 1):
                say(f"step {step:4d}  loss {value:.3f} nats/char")
    finally:
        reporter.train_end()
    model.eval()
    val_loss = evaluate(model, val_data, seq_len)
    model.train()
    return model, vocab, history, val_loss


def plot_loss(history, path, vocab_size):
    """The training loss per step, its running mean, and the uniform-guess level ln V."""
    from chainrule.teach.plots import _figure, _save

    steps = np.asarray(history["step"])
    loss = np.asarray(history["loss"])
    window = max(1, len(loss) // 20)
    smooth = np.convolve(loss, np.ones(window) / window, mode="valid")
    fig = _figure((7, 4.2))
    ax = fig.subplots()
    ax.plot(steps, loss, color="C0", alpha=0.35, linewidth=1, label="loss per step")
    ax.plot(steps[window - 1:], smooth, color="C0", linewidth=2.2,
            label=f"running mean ({window} steps)")
    ax.axhline(math.log(vocab_size), color="C3", linestyle="--", linewidth=1.2,
               label=f"uniform guess ln {vocab_size} = {math.log(vocab_size):.2f}")
    ax.set_xlabel("training step (one chunk of 64 characters × 32 streams)", fontsize=11)
    ax.set_ylabel("cross-entropy (nats per character)", fontsize=11)
    ax.set_ylim(0, math.log(vocab_size) * 1.1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=10)
    ax.set_title("Character LSTM on Hamlet: training loss", fontsize=13)
    return _save(fig, path, "charlstm demo")


def main(out_dir=None, steps=200, progress=True, seed=0):
    from chainrule.demos import output_dir

    prompt = "Hamlet:\n"
    start = time.perf_counter()
    cr.manual_seed(seed)
    vocab = CharVocab(shakespeare())
    untrained = CharLSTM(vocab.size)
    before = generate(untrained, vocab, prompt, seed=seed)
    print(f"Before training (a random model; temperature 0.8):\n{before}\n")
    model, vocab, history, val_loss = train(steps=steps, seed=seed, progress=progress)
    after = generate(model, vocab, prompt, length=300, seed=seed)
    print(f"\nAfter {steps} steps (temperature 0.8):\n{after}\n")
    first = history["loss"][0]
    last = float(np.mean(history["loss"][-20:]))  # the last 20 steps, smoothing the noise
    print(f"training loss {first:.3f} → {last:.3f} nats/char (uniform guess "
          f"ln {vocab.size} = {math.log(vocab.size):.3f}); held-out loss {val_loss:.3f}")
    picture = plot_loss(history, output_dir(out_dir, "charlstm") / "loss.png", vocab.size)
    seconds = time.perf_counter() - start
    print(f"loss curve: {picture}  ({seconds:.1f} s)")
    return {"before": before, "after": after, "first_loss": first, "last_loss": last,
            "val_loss": val_loss, "history": history, "picture": str(picture),
            "seconds": seconds}


def _register_onnx():
    """``cr.onnx.export(CharLSTM)``: the model is Embedding → LSTM → Linear, each a built-in
    converter; logits (T, B, V) are the graph's output (the state is not exported)."""
    from chainrule.onnx_export import register
    from chainrule.onnx_recurrent import emit

    @register(CharLSTM)
    def _charlstm(graph, model, x, value, path):
        for name in ("embed", "lstm", "head"):
            x, value = emit(graph, getattr(model, name), x, value, f"{path}.{name}")
        return x


_register_onnx()


if __name__ == "__main__":
    main()
