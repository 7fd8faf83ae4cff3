"""Embedding lookups against PyTorch: repeated indices accumulate, padding_idx gets no
gradient, out-of-range indices are named."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.ops.embedding import scatter_rows


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_embedding_matches_torch(oracle, padding_idx, dtype):
    rng = np.random.default_rng(0)
    idx = np.array([[2, 0, 2, 4], [4, 4, 1, 2]])  # repeats, and the padding row is used
    weight = rng.normal(size=(5, 3))
    oracle(lambda w, i: F.embedding(i, w, padding_idx),
           lambda w, i: torch.nn.functional.embedding(i, w, padding_idx), [weight, idx], dtype,
           grad=[True, False], gradcheck=padding_idx is None)  # padding: zero by design


@given(st.integers(1, 30), st.integers(0, 40), st.integers(1, 4), st.integers(0, 2**31))
def test_scatter_rows_equals_add_at(rows, n, dim, seed):
    rng = np.random.default_rng(seed)
    index = rng.integers(0, rows, n)
    values = rng.normal(size=(n, dim))
    expected = np.zeros((rows, dim))
    np.add.at(expected, index, values)
    np.testing.assert_allclose(scatter_rows(index, values, (rows, dim), np.float64), expected,
                               rtol=1e-12, atol=1e-12)


def test_module_loads_torch_weights_and_agrees():
    torch.manual_seed(0)
    tm = torch.nn.Embedding(7, 4, padding_idx=3).double()
    cm = cr.nn.Embedding(7, 4, padding_idx=3).double()
    cm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    idx = np.array([[3, 1, 1], [6, 3, 0]])
    up = np.random.default_rng(1).normal(size=(2, 3, 4))
    (tm(torch.from_numpy(idx)) * torch.from_numpy(up)).sum().backward()
    out = cm(cr.tensor(idx))
    (out * cr.tensor(up)).sum().backward()
    np.testing.assert_allclose(out.data, tm(torch.from_numpy(idx)).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(cm.weight.grad.data, tm.weight.grad.numpy(), rtol=1e-12)
    assert np.all(cm.weight.grad.data[3] == 0)


def test_default_init_padding_row_and_from_pretrained():
    cr.manual_seed(0)
    emb = cr.nn.Embedding(2000, 8, padding_idx=5)
    w = emb.weight.data
    assert w.dtype == np.float32 and np.all(w[5] == 0)
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02  # N(0, 1)
    table = np.arange(6.0).reshape(3, 2)
    frozen = cr.nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(cr.tensor([2, 0])).data, [[4, 5], [0, 1]])
    table[0, 0] = 99  # a copy: the caller's array is not aliased
    assert frozen.weight.data[0, 0] == 0
    trainable = cr.nn.Embedding.from_pretrained(table, freeze=False)
    assert trainable.weight.requires_grad
    clone = cr.nn.module_from_config(cr.nn.module_to_config(emb))
    assert repr(clone) == repr(emb) == "Embedding(2000, 8, padding_idx=5)"


def test_errors_name_index_and_table_size():
    emb = cr.nn.Embedding(10, 3)
    with pytest.raises(IndexError, match="index 10 is out of range for a table of 10"):
        emb(cr.tensor([1, 10]))
    with pytest.raises(IndexError, match="index -1 is out of range"):
        emb(cr.tensor([-1]))
    with pytest.raises(TypeError, match="integer indices"):
        emb(cr.tensor([1.0]))
    with pytest.raises(ValueError, match="padding_idx 10"):
        cr.nn.Embedding(10, 3, padding_idx=10)
    with pytest.raises(ValueError, match="2-D"):
        F.embedding(cr.tensor([0]), cr.ones(3))
