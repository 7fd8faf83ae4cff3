"""chainrule.data: TensorDataset, DataLoader (batching, shuffling, resuming), random_split."""

import numpy as np
import pytest

from chainrule.backend import manual_seed
from chainrule.data import DataLoader, Dataset, Subset, TensorDataset, collate, random_split
from chainrule.tensor import Tensor


def make_dataset(n=103, d=3):
    X = np.arange(n * d, dtype=np.float32).reshape(n, d)
    y = np.arange(n, dtype=np.int64)  # the label is the sample id: batches reveal the order
    return TensorDataset(X, y)


def epoch_ids(loader):
    return np.concatenate([yb.data for _, yb in loader])


class PerSample(Dataset):
    """A generic dataset (no __getitems__): forces per-sample collation."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full(3, 3 * i, dtype=np.float32) + np.arange(3, dtype=np.float32), i


# --- TensorDataset -------------------------------------------------------------------------


def test_tensor_dataset_shape_mismatch_names_the_shapes():
    with pytest.raises(ValueError, match=r"\(5, 3\).*\(4,\)"):
        TensorDataset(np.zeros((5, 3)), np.zeros(4))


def test_tensor_dataset_fetches_a_batch_with_one_fancy_index():
    ds = make_dataset(10)
    xb, yb = ds[np.array([7, 2, 2])]
    assert yb.tolist() == [7, 2, 2]
    np.testing.assert_array_equal(xb, ds.arrays[0][[7, 2, 2]])
    x3, y3 = ds[3]
    assert y3 == 3 and x3.tolist() == [9.0, 10.0, 11.0]


def test_tensor_dataset_accepts_tensors_and_keeps_dtypes():
    ds = TensorDataset(Tensor(np.ones((4, 2), dtype=np.float64)), np.arange(4))
    assert ds.arrays[0].dtype == np.float64 and len(ds) == 4


def test_tensor_dataset_needs_a_sample_dimension():
    with pytest.raises(ValueError, match="first"):
        TensorDataset(np.float32(1.0))


# --- DataLoader: every sample once per epoch --------------------------------------------


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_each_epoch_visits_each_sample_exactly_once(shuffle, drop_last):
    loader = DataLoader(make_dataset(103), batch_size=10, shuffle=shuffle, drop_last=drop_last,
                        seed=0)
    for _ in range(3):
        ids = epoch_ids(loader)
        assert len(np.unique(ids)) == len(ids)  # no sample twice
        if drop_last:
            assert len(ids) == 100 and len(loader) == 10
        else:
            assert sorted(ids.tolist()) == list(range(103)) and len(loader) == 11
        if not shuffle:
            assert ids.tolist() == list(range(len(ids)))


def test_generic_dataset_epoch_matches_in_memory_epoch():
    n = 23
    fast = DataLoader(make_dataset(n), batch_size=5, shuffle=True, seed=3)
    slow = DataLoader(PerSample(n), batch_size=5, shuffle=True, seed=3)
    for (xa, ya), (xb, yb) in zip(fast, slow):
        np.testing.assert_array_equal(xa.data, xb.data)
        np.testing.assert_array_equal(ya.data, yb.data)
        assert xb.dtype == np.float32 and yb.dtype == np.int64


def test_len_counts_batches():
    ds = make_dataset(10)
    assert len(DataLoader(ds, batch_size=3)) == 4
    assert len(DataLoader(ds, batch_size=3, drop_last=True)) == 3
    assert len(DataLoader(ds, batch_size=10, drop_last=True)) == 1
    assert len(DataLoader(ds, batch_size=11, drop_last=True)) == 0
    assert list(DataLoader(ds, batch_size=11, drop_last=True)) == []


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_batch_size_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(make_dataset(4), batch_size=bad)


# --- DataLoader: dtypes and shapes ------------------------------------------------------


def test_batches_are_tensors_with_the_stored_dtypes():
    X32 = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    X64 = X32.astype(np.float64)
    y = np.arange(20) % 3
    for X in (X32, X64):
        batches = list(DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True, seed=1))
        assert [tuple(xb.shape) for xb, _ in batches] == [(8, 4), (8, 4), (4, 4)]
        for xb, yb in batches:
            assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
            assert xb.dtype == X.dtype  # float64 is NOT silently converted to float32
            assert yb.dtype == np.int64 and yb.shape == (xb.shape[0],)
            assert not xb.requires_grad
            # rows and labels stay paired
            rows = [int(np.where((X == r).all(axis=1))[0][0]) for r in xb.data]
            assert [y[i] for i in rows] == yb.data.tolist()


def test_single_array_dataset_yields_one_tuple_per_batch():
    (xb,) = next(iter(DataLoader(TensorDataset(np.zeros((6, 2), np.float32)), batch_size=4)))
    assert xb.shape == (4, 2)


def test_unshuffled_batches_are_read_only_views_that_protect_the_dataset():
    ds = make_dataset(8)
    xb, _ = next(iter(DataLoader(ds, batch_size=4)))
    assert np.shares_memory(xb.data, ds.arrays[0])  # no copy
    with pytest.raises(ValueError):
        xb.data[0, 0] = -1.0
    assert ds.arrays[0][0, 0] == 0.0


def test_collate_stacks_tuples_and_dicts():
    xb, yb = collate([(np.zeros(2, np.float32), 1), (np.ones(2, np.float32), 0)])
    assert xb.shape == (2, 2) and xb.dtype == np.float32 and yb.dtype == np.int64
    batch = collate([{"x": np.zeros(3), "y": 1.5}, {"x": np.ones(3), "y": 2.5}])
    assert batch["x"].shape == (2, 3) and batch["y"].tolist() == [1.5, 2.5]
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        collate([np.zeros(2), np.zeros(3)])


def test_dict_samples_become_dicts_of_tensors():
    class Dicts(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": np.full(2, i, dtype=np.float32), "y": i}

    batch = next(iter(DataLoader(Dicts(), batch_size=5)))
    assert isinstance(batch["x"], Tensor) and batch["y"].data.tolist() == [0, 1, 2, 3, 4]


# --- DataLoader: reproducible shuffling -------------------------------------------------


def test_seeded_shuffles_repeat_across_runs_and_differ_across_epochs():
    runs = []
    for _ in range(2):
        loader = DataLoader(make_dataset(50), batch_size=7, shuffle=True, seed=42)
        runs.append([epoch_ids(loader).tolist() for _ in range(3)])
    assert runs[0] == runs[1]
    e0, e1, e2 = runs[0]
    assert e0 != e1 and e1 != e2 and e0 != list(range(50))
    other = DataLoader(make_dataset(50), batch_size=7, shuffle=True, seed=43)
    assert epoch_ids(other).tolist() != e0


def test_unseeded_shuffle_follows_the_library_seed():
    loader = DataLoader(make_dataset(50), batch_size=7, shuffle=True)
    manual_seed(0)
    first = [epoch_ids(loader).tolist() for _ in range(2)]
    manual_seed(0)
    again = [epoch_ids(loader).tolist() for _ in range(2)]
    assert first == again and first[0] != first[1]


def test_an_early_break_still_counts_as_an_epoch():
    loader = DataLoader(make_dataset(50), batch_size=50, shuffle=True, seed=0)
    a = next(iter(loader))[1].data.tolist()
    b = next(iter(loader))[1].data.tolist()
    assert a != b and loader.epoch == 2


# --- DataLoader: state_dict / resume ----------------------------------------------------


def test_resumed_run_continues_with_the_same_shuffles():
    reference = DataLoader(make_dataset(40), batch_size=6, shuffle=True, seed=7)
    expected = [epoch_ids(reference).tolist() for _ in range(4)]

    first = DataLoader(make_dataset(40), batch_size=6, shuffle=True, seed=7)
    got = [epoch_ids(first).tolist() for _ in range(2)]
    state = first.state_dict()
    assert state["epoch"] == 2 and state["batch"] == 0

    resumed = DataLoader(make_dataset(40), batch_size=6, shuffle=True, seed=7)
    resumed.load_state_dict(dict(state))
    got += [epoch_ids(resumed).tolist() for _ in range(2)]
    assert got == expected


def test_resume_in_the_middle_of_an_epoch():
    reference = DataLoader(make_dataset(40), batch_size=6, shuffle=True, seed=7)
    expected = [epoch_ids(reference).tolist() for _ in range(2)]

    loader = DataLoader(make_dataset(40), batch_size=6, shuffle=True, seed=7)
    seen = []
    for _, yb in loader:
        seen += yb.data.tolist()
        if len(seen) == 18:
            break
    state = loader.state_dict()
    assert (state["epoch"], state["batch"]) == (0, 3)

    resumed = DataLoader(make_dataset(40), batch_size=6, shuffle=True, seed=7)
    resumed.load_state_dict(state)
    assert resumed.state_dict()["batch"] == 3
    seen += epoch_ids(resumed).tolist()
    assert seen == expected[0]
    assert epoch_ids(resumed).tolist() == expected[1]


def test_load_state_dict_rejects_a_mid_epoch_state_of_another_batch_size():
    loader = DataLoader(make_dataset(40), batch_size=6)
    with pytest.raises(ValueError, match="batch_size"):
        loader.load_state_dict({"epoch": 0, "batch": 2, "batch_size": 8})
    with pytest.raises(ValueError, match="epoch"):
        loader.load_state_dict({"batch": 2})


# --- random_split -----------------------------------------------------------------------


@pytest.mark.parametrize("lengths", [[70, 20, 13], [0.7, 0.2, 0.1], [0.5, 0.5]])
def test_random_split_is_disjoint_and_complete(lengths):
    ds = make_dataset(103)
    parts = random_split(ds, lengths, seed=0)
    ids = [p.__getitems__(np.arange(len(p)))[1] for p in parts]
    allids = np.concatenate(ids)
    assert sorted(allids.tolist()) == list(range(103))
    assert all(isinstance(p, Subset) for p in parts)
    if isinstance(lengths[0], int):
        assert [len(p) for p in parts] == lengths


def test_random_split_lengths_match_pytorch_for_fractions():
    torch = pytest.importorskip("torch")
    for n, fr in [(103, [0.7, 0.2, 0.1]), (10, [0.33, 0.33, 0.34]), (7, [0.5, 0.5]),
                  (11, [0.25, 0.25, 0.5])]:
        ours = [len(p) for p in random_split(make_dataset(n), fr, seed=0)]
        theirs = [len(p) for p in torch.utils.data.random_split(range(n), fr)]
        assert ours == theirs, (n, fr)


def test_random_split_is_seeded_and_subsets_batch_through_a_loader():
    a = random_split(make_dataset(30), [20, 10], seed=5)
    b = random_split(make_dataset(30), [20, 10], seed=5)
    assert a[1].indices.tolist() == b[1].indices.tolist()
    ids = epoch_ids(DataLoader(a[1], batch_size=4))
    assert ids.tolist() == a[1].indices.tolist()  # labels are ids: the right rows came back
    # a subset of a generic dataset works too (per-sample path)
    sub = random_split(PerSample(9), [6, 3], seed=1)[1]
    xb, yb = next(iter(DataLoader(sub, batch_size=3)))
    assert yb.data.tolist() == sub.indices.tolist() and xb.shape == (3, 3)


@pytest.mark.parametrize("lengths", [[50, 40], [0.5, 0.6], [-1, 104], [0.5, float("nan")]])
def test_random_split_rejects_bad_lengths(lengths):
    with pytest.raises(ValueError, match="random_split"):
        random_split(make_dataset(103), lengths, seed=0)
