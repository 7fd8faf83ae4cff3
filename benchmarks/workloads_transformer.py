"""W7 "transformer": a decoder-only character Transformer written three ways (chainrule,
PyTorch eager with ``nn.TransformerEncoderLayer``, and a hand-written NumPy floor with its own
forward and backward), from the same weights and the same batches.

Model: vocabulary 65, token + learned position embeddings, 2 pre-norm blocks
(``TransformerEncoderLayer(d_model=64, nhead=2, dim_feedforward=256, dropout=0,
activation='relu', norm_first=True, batch_first=True)``) under a causal mask, a final
LayerNorm and a Linear head; context 64, batch 32; mean cross-entropy; Adam (lr 1e-3).
Batches are windows of *Hamlet* (61 characters, ids inside the 65-entry vocabulary), drawn
once from a seeded generator and cycled, identically for the three implementations.
"""

import numpy as np
from floor_kernels import adam_update

VOCAB, D_MODEL, HEADS, BLOCKS, CONTEXT, BATCH, FF, LR = 65, 64, 2, 2, 64, 32, 256, 1e-3
N_BATCHES = 16


def _flops(batch=BATCH, context=CONTEXT):
    tokens = batch * context
    per_block = 2 * tokens * (3 * D_MODEL * D_MODEL + D_MODEL * D_MODEL + 2 * D_MODEL * FF) \
        + 2 * 2 * batch * context * context * D_MODEL  # scores and weights @ values
    forward = BLOCKS * per_block + 2 * tokens * D_MODEL * VOCAB
    return 3 * forward  # backward is about twice the forward


# workloads.Spec's fields (key, title, steps, flops per step); workloads.py makes the Spec
SPEC = ("W7", "transformer: vocab 65, d 64, 2 heads, 2 blocks, ctx 64, batch 32, Adam", 100,
        _flops())

__all__ = ["SPEC", "w7_chainrule", "w7_numpy", "w7_torch"]


# --------------------------------------------------------------------------- data and weights
def transformer_batches(batch=BATCH, context=CONTEXT, n=N_BATCHES, seed=7):
    """``n`` (inputs, targets) pairs of int64 ids, shape (batch, context), from Hamlet."""
    from chainrule.data.text import CharVocab, shakespeare

    text = shakespeare()
    ids = CharVocab(text).encode(text)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        starts = rng.integers(0, len(ids) - context - 1, size=batch)
        chunk = ids[starts[:, None] + np.arange(context + 1)]
        out.append((chunk[:, :-1].copy(), chunk[:, 1:].copy()))
    return out


def transformer_weights(seed=0, context=CONTEXT):
    """The state dict (PyTorch's key names for the blocks) as float32 arrays."""
    rng = np.random.default_rng(seed)

    def uniform(shape, fan_in):
        bound = 1 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape).astype(np.float32)

    sd = {"token_embedding": rng.standard_normal((VOCAB, D_MODEL)).astype(np.float32),
          "position_embedding": rng.standard_normal((context, D_MODEL)).astype(np.float32)}
    for i in range(BLOCKS):
        p = f"blocks.layers.{i}."
        sd[p + "self_attn.in_proj_weight"] = uniform((3 * D_MODEL, D_MODEL), D_MODEL)
        sd[p + "self_attn.in_proj_bias"] = uniform((3 * D_MODEL,), D_MODEL)
        sd[p + "self_attn.out_proj.weight"] = uniform((D_MODEL, D_MODEL), D_MODEL)
        sd[p + "self_attn.out_proj.bias"] = uniform((D_MODEL,), D_MODEL)
        sd[p + "linear1.weight"] = uniform((FF, D_MODEL), D_MODEL)
        sd[p + "linear1.bias"] = uniform((FF,), D_MODEL)
        sd[p + "linear2.weight"] = uniform((D_MODEL, FF), FF)
        sd[p + "linear2.bias"] = uniform((D_MODEL,), FF)
        for norm in ("norm1", "norm2"):
            sd[p + norm + ".weight"] = (1 + 0.1 * rng.standard_normal(D_MODEL)).astype(np.float32)
            sd[p + norm + ".bias"] = (0.1 * rng.standard_normal(D_MODEL)).astype(np.float32)
    sd["norm.weight"] = np.ones(D_MODEL, np.float32)
    sd["norm.bias"] = np.zeros(D_MODEL, np.float32)
    sd["head.weight"] = uniform((VOCAB, D_MODEL), D_MODEL)
    sd["head.bias"] = uniform((VOCAB,), D_MODEL)
    return sd


def _cycle(items):
    state = [0]

    def next_item():
        item = items[state[0] % len(items)]
        state[0] += 1
        return item

    return next_item


# --------------------------------------------------------------------------- chainrule
def _chainrule_model(context):
    import chainrule as cr
    from chainrule import nn

    class CharTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.token_embedding = nn.Embedding(VOCAB, D_MODEL)
            self.position_embedding = nn.Parameter(np.zeros((context, D_MODEL), np.float32))
            layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, FF, dropout=0.0,
                                               batch_first=True, norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, BLOCKS)
            self.norm = nn.LayerNorm(D_MODEL)
            self.head = nn.Linear(D_MODEL, VOCAB)
            self.mask = nn.generate_square_subsequent_mask(context)

        def forward(self, ids):
            x = self.token_embedding(ids) + self.position_embedding
            x = self.blocks(x, mask=self.mask, is_causal=True)
            return self.head(self.norm(x))

    return cr, CharTransformer()


def make_chainrule(batch=BATCH, context=CONTEXT, seed=0):
    cr, model = _chainrule_model(context)
    sd = transformer_weights(seed, context)
    sd["token_embedding.weight"] = sd.pop("token_embedding")
    model.load_state_dict(sd)
    data = _cycle([(cr.tensor(x), cr.tensor(y.reshape(-1)))
                   for x, y in transformer_batches(batch, context)])
    optimizer = cr.optim.Adam(model.parameters(), lr=LR)
    return _next_token_step(model, cr.nn.functional.cross_entropy, optimizer, data)


def w7_chainrule(spec):
    return make_chainrule()


def _next_token_step(model, cross_entropy, optimizer, data):
    """One training step, the same text for chainrule and PyTorch (they share the API)."""

    def train(x, y):
        loss = cross_entropy(model(x).reshape(-1, VOCAB), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    def step():
        return train(*data())

    # cr.compile captures train(x, y): the batch must be an argument, not drawn inside the
    # step (a capture fixes Python state such as the batch counter).
    step.train, step.data = train, data
    return step


# --------------------------------------------------------------------------- PyTorch eager
def make_torch(batch=BATCH, context=CONTEXT, seed=0):
    import torch
    from torch import nn

    class CharTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.token_embedding = nn.Embedding(VOCAB, D_MODEL)
            self.position_embedding = nn.Parameter(torch.zeros(context, D_MODEL))
            layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, FF, dropout=0.0,
                                               batch_first=True, norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, BLOCKS, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(D_MODEL)
            self.head = nn.Linear(D_MODEL, VOCAB)
            self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(context))

        def forward(self, ids):
            x = self.token_embedding(ids) + self.position_embedding
            x = self.blocks(x, mask=self.mask, is_causal=True)
            return self.head(self.norm(x))

    model = CharTransformer().train()
    sd = transformer_weights(seed, context)
    sd["token_embedding.weight"] = sd.pop("token_embedding")
    sd = {k: torch.from_numpy(v) for k, v in sd.items()}
    sd["mask"] = model.mask
    model.load_state_dict(sd)
    data = _cycle([(torch.from_numpy(x), torch.from_numpy(y.reshape(-1)))
                   for x, y in transformer_batches(batch, context)])
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    return _next_token_step(model, nn.functional.cross_entropy, optimizer, data)


def w7_torch(spec):
    return make_torch()


# --------------------------------------------------------------------------- NumPy floor
def _ln_forward(x, w, b, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    xc = x - mu
    rstd = 1.0 / np.sqrt((xc * xc).mean(axis=-1, keepdims=True) + eps)
    xhat = xc * rstd
    return xhat * w + b, (xhat, rstd)


def _ln_backward(g, w, cache):
    xhat, rstd = cache
    gw = (g * xhat).sum(axis=0)
    gb = g.sum(axis=0)
    gh = g * w
    gx = rstd * (gh - gh.mean(axis=-1, keepdims=True)
                 - xhat * (gh * xhat).mean(axis=-1, keepdims=True))
    return gx, gw, gb


def make_numpy(batch=BATCH, context=CONTEXT, seed=0):
    """Forward and backward by hand on 2-D (tokens, features) arrays; attention on
    (batch, heads, L, D) views of the packed projections; Adam on every parameter."""
    sd = transformer_weights(seed, context)
    names = list(sd)
    params = [sd[k] for k in names]
    P = dict(zip(names, params))
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    t = [0]
    data = _cycle(transformer_batches(batch, context))
    B, L, E, H = batch, context, D_MODEL, HEADS
    D = E // H
    M = B * L
    scale = np.float32(1 / np.sqrt(D))
    mask = np.triu(np.full((L, L), -np.inf, np.float32), 1)
    rows = np.arange(M)

    def step():
        ids, targets = data()
        grads = {}
        x = (P["token_embedding"][ids] + P["position_embedding"]).reshape(M, E)
        caches = []
        for i in range(BLOCKS):
            p = f"blocks.layers.{i}."
            h, ln1 = _ln_forward(x, P[p + "norm1.weight"], P[p + "norm1.bias"])
            qkv = h @ P[p + "self_attn.in_proj_weight"].T + P[p + "self_attn.in_proj_bias"]
            q, k, vv = qkv.reshape(B, L, 3, H, D).transpose(2, 0, 3, 1, 4)
            s = q @ k.transpose(0, 1, 3, 2)
            s *= scale
            s += mask
            s -= s.max(axis=-1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(axis=-1, keepdims=True)
            o = (s @ vv).transpose(0, 2, 1, 3).reshape(M, E)
            x = x + o @ P[p + "self_attn.out_proj.weight"].T + P[p + "self_attn.out_proj.bias"]
            h2, ln2 = _ln_forward(x, P[p + "norm2.weight"], P[p + "norm2.bias"])
            z = h2 @ P[p + "linear1.weight"].T + P[p + "linear1.bias"]
            r = np.maximum(z, 0)
            x = x + r @ P[p + "linear2.weight"].T + P[p + "linear2.bias"]
            caches.append((h, ln1, q, k, vv, s, o, h2, ln2, z, r))
        hf, lnf = _ln_forward(x, P["norm.weight"], P["norm.bias"])
        logits = hf @ P["head.weight"].T + P["head.bias"]
        y = targets.reshape(-1)
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        loss = (np.log(total[:, 0]) - shifted[rows, y]).mean()
        g = e / total
        g[rows, y] -= 1
        g /= M
        # backward
        grads["head.weight"] = g.T @ hf
        grads["head.bias"] = g.sum(axis=0)
        gx, grads["norm.weight"], grads["norm.bias"] = _ln_backward(
            g @ P["head.weight"], P["norm.weight"], lnf)
        for i in reversed(range(BLOCKS)):
            p = f"blocks.layers.{i}."
            h, ln1, q, k, vv, s, o, h2, ln2, z, r = caches[i]
            # feed-forward: x = x + linear2(relu(linear1(norm2(x))))
            grads[p + "linear2.weight"] = gx.T @ r
            grads[p + "linear2.bias"] = gx.sum(axis=0)
            gz = gx @ P[p + "linear2.weight"]
            gz *= z > 0
            grads[p + "linear1.weight"] = gz.T @ h2
            grads[p + "linear1.bias"] = gz.sum(axis=0)
            gh2, grads[p + "norm2.weight"], grads[p + "norm2.bias"] = _ln_backward(
                gz @ P[p + "linear1.weight"], P[p + "norm2.weight"], ln2)
            gx = gx + gh2
            # attention: x = x + out_proj(attention(in_proj(norm1(x))))
            grads[p + "self_attn.out_proj.weight"] = gx.T @ o
            grads[p + "self_attn.out_proj.bias"] = gx.sum(axis=0)
            go = (gx @ P[p + "self_attn.out_proj.weight"]).reshape(B, L, H, D)
            go = go.transpose(0, 2, 1, 3)
            gqkv = np.empty((B, L, 3, H, D), np.float32)
            gq, gk, gv = gqkv.transpose(2, 0, 3, 1, 4)
            np.matmul(s.transpose(0, 1, 3, 2), go, out=gv)
            gs = go @ vv.transpose(0, 1, 3, 2)
            gs -= (gs * s).sum(axis=-1, keepdims=True)
            gs *= s
            gs *= scale
            np.matmul(gs, k, out=gq)
            np.matmul(gs.transpose(0, 1, 3, 2), q, out=gk)
            gqkv = gqkv.reshape(M, 3 * E)
            grads[p + "self_attn.in_proj_weight"] = gqkv.T @ h
            grads[p + "self_attn.in_proj_bias"] = gqkv.sum(axis=0)
            gh, grads[p + "norm1.weight"], grads[p + "norm1.bias"] = _ln_backward(
                gqkv @ P[p + "self_attn.in_proj_weight"], P[p + "norm1.weight"], ln1)
            gx = gx + gh
        gx = gx.reshape(B, L, E)
        grads["position_embedding"] = gx.sum(axis=0)
        gtok = np.zeros_like(P["token_embedding"])
        np.add.at(gtok, ids.reshape(-1), gx.reshape(M, E))
        grads["token_embedding"] = gtok
        adam_update(params, [grads[name] for name in names], m, v, t, LR, beta1, beta2, eps)
        return loss

    return step


def w7_numpy(spec):
    return make_numpy()
