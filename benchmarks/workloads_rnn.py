"""W6 "charlstm": a character LSTM language model step, three ways (chainrule, PyTorch eager
``nn.LSTM``, and a hand-written NumPy floor with its own forward and BPTT).

Vocabulary 65, embedding 64, LSTM hidden 128, sequence 64, batch 32, cross-entropy over every
position, Adam(1e-3). Time-major ``(T, B)`` token ids (PyTorch's default layout). All three
start from the same weights and the same batch, drawn from one seeded generator.
"""

import numpy as np
from floor_kernels import adam_update
from workloads import Spec, _library

V, E, H, T, B = 65, 64, 128, 64, 32
LR = 1e-3

# forward + backward ≈ 3× the forward's multiply-adds ×2 flops
_FORWARD_MACS = T * B * (E * 4 * H + H * 4 * H + H * V)
SPECS = {
    "W6": Spec("W6", "charlstm V65-E64-LSTM128-V65, seq 64, batch 32, Adam", 150,
               6 * _FORWARD_MACS),
}


def charlstm_weights(seed=6):
    """Embedding N(0, 1); LSTM and Linear drawn like PyTorch's defaults."""
    rng = np.random.default_rng(seed)
    k = 1 / np.sqrt(H)

    def u(bound, *shape):
        return rng.uniform(-bound, bound, shape).astype(np.float32)

    return {
        "emb.weight": rng.standard_normal((V, E)).astype(np.float32),
        "lstm.weight_ih_l0": u(k, 4 * H, E),
        "lstm.weight_hh_l0": u(k, 4 * H, H),
        "lstm.bias_ih_l0": u(k, 4 * H),
        "lstm.bias_hh_l0": u(k, 4 * H),
        "head.weight": u(k, V, H),
        "head.bias": u(k, V),
    }


def charlstm_data(seed=6):
    """One batch: inputs ``(T, B)`` and next-character targets ``(T, B)`` (int64)."""
    rng = np.random.default_rng(seed + 1)
    seq = rng.integers(0, V, (T + 1, B)).astype(np.int64)
    return seq[:-1], seq[1:]


def _model(lib):
    nn = lib.nn

    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(V, E)
            self.lstm = nn.LSTM(E, H)
            self.head = nn.Linear(H, V)

        def forward(self, tokens):
            out, _ = self.lstm(self.emb(tokens))
            return self.head(out)

    return CharLSTM()


def _w6(impl):
    """The same model text for both libraries; the loss over all T·B positions."""
    lib, convert = _library(impl)
    model = _model(lib)
    model.load_state_dict({k: convert(v) for k, v in charlstm_weights().items()})
    x, y = (convert(a) for a in charlstm_data())
    y = y.reshape(-1)
    loss_fn = lib.nn.CrossEntropyLoss()
    optimizer = lib.optim.Adam(model.parameters(), lr=LR)

    def step():
        logits = model(x)
        loss = loss_fn(logits.reshape(T * B, V), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return step


def w6_chainrule(spec):
    return _w6("chainrule")


def w6_torch(spec):
    return _w6("torch")


def _sigmoid_(a):
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1.0
    np.reciprocal(a, out=a)


def _one_blas_thread():
    """The context chainrule puts around its time loops (chainrule/ops/_blas.py: one BLAS
    thread when the machine is busy), so that the floor makes the same choice."""
    from chainrule.ops._blas import small_products

    return small_products


def w6_numpy(spec):
    """The floor: everything hand-fused. One input-projection product for all steps, the
    recurrence with in-place gate activations (tanh(a) = 2σ(2a) − 1, so one σ call per step),
    BPTT carrying dh/dc with the weight and input gradients as single products afterwards;
    the LSTM's products on one BLAS thread when the machine is busy (as chainrule's op)."""
    one_thread = _one_blas_thread()
    w = charlstm_weights()
    emb, W_ih, W_hh = w["emb.weight"], w["lstm.weight_ih_l0"], w["lstm.weight_hh_l0"]
    b = w["lstm.bias_ih_l0"] + w["lstm.bias_hh_l0"]
    b_ih, b_hh = w["lstm.bias_ih_l0"], w["lstm.bias_hh_l0"]
    W_out, b_out = w["head.weight"], w["head.bias"]
    params = [emb, W_ih, W_hh, b_ih, b_hh, W_out, b_out]
    x, y = charlstm_data()
    xf, yf = x.reshape(-1), y.reshape(-1)
    rows = np.arange(T * B)
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    t_adam = [0]
    f32 = np.float32
    A = np.empty((T, B, 4, H), f32)
    C = np.empty((T, B, H), f32)
    tanh_C = np.empty((T, B, H), f32)
    Hs = np.empty((T + 1, B, H), f32)  # Hs[0] = h0 = 0
    Cs_prev = np.empty((T, B, H), f32)
    dG = np.empty((T, B, 4, H), f32)
    scale = np.ones(4 * H, f32)
    scale[2 * H:3 * H] = 2

    def step():
        b[:] = b_ih + b_hh
        X = emb[xf]  # (T·B, E)
        with one_thread():  # the LSTM's products, as chainrule's op does
            A2 = A.reshape(T * B, 4 * H)
            np.matmul(X, (W_ih * scale[:, None]).T, out=A2)  # g rows doubled: tanh = 2σ(2a) − 1
            A2 += b * scale
            W_hh_T = W_hh.T * scale
            Hs[0] = 0
            c = np.zeros((B, H), f32)
            with np.errstate(over="ignore"):
                for t in range(T):
                    a = A[t].reshape(B, 4 * H)
                    a += Hs[t] @ W_hh_T
                    _sigmoid_(a)
                    g = A[t, :, 2]
                    g *= 2
                    g -= 1
                    Cs_prev[t] = c
                    np.multiply(A[t, :, 1], c, out=C[t])
                    C[t] += A[t, :, 0] * g
                    c = C[t]
                    np.tanh(c, out=tanh_C[t])
                    np.multiply(A[t, :, 3], tanh_C[t], out=Hs[t + 1])
        out = Hs[1:].reshape(T * B, H)
        logits = out @ W_out.T + b_out
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        loss = (np.log(s[:, 0]) - shifted[rows, yf]).mean()
        gl = e / s
        gl[rows, yf] -= 1
        gl /= T * B
        gW_out = gl.T @ out
        gb_out = gl.sum(0)
        dY = (gl @ W_out).reshape(T, B, H)
        D = A * (1 - A)
        D[:, :, 2] = 1 - A[:, :, 2] ** 2
        K = A[:, :, 3] * (1 - tanh_C ** 2)
        dh = np.zeros((B, H), f32)
        dc = np.zeros((B, H), f32)
        dh_t = np.empty((B, H), f32)
        with one_thread():
            for t in range(T - 1, -1, -1):
                np.add(dY[t], dh, out=dh_t)
                dc += dh_t * K[t]
                dg = dG[t]
                np.multiply(dc, A[t, :, 2], out=dg[:, 0])
                np.multiply(dc, Cs_prev[t], out=dg[:, 1])
                np.multiply(dc, A[t, :, 0], out=dg[:, 2])
                np.multiply(dh_t, tanh_C[t], out=dg[:, 3])
                dg *= D[t]
                dc *= A[t, :, 1]
                dh = dg.reshape(B, 4 * H) @ W_hh
            dG2 = dG.reshape(T * B, 4 * H)
            gW_ih = dG2.T @ X
            gW_hh = dG2.T @ Hs[:T].reshape(T * B, H)
            gb = dG2.sum(0)
            gX = dG2 @ W_ih
        gemb = np.zeros_like(emb)
        np.add.at(gemb, xf, gX)
        grads = [gemb, gW_ih, gW_hh, gb, gb, gW_out, gb_out]
        adam_update(params, grads, m, v, t_adam, LR, beta1, beta2, eps)
        return loss

    return step
