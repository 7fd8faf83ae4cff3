"""Loss modules and functional losses against PyTorch: value and input gradient, float64, every
reduction and option."""

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

REDUCTIONS = ["mean", "sum", "none"]


def close(ours, theirs, rtol=1e-10, atol=1e-12):
    ours = ours.data if isinstance(ours, cr.Tensor) else np.asarray(ours)
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


def check(loss, ref, x, target, target_grad=False, seed=0):
    """Compare loss values and the gradients with respect to input (and target)."""
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    tc = cr.tensor(target, requires_grad=target_grad)
    tt = torch.tensor(target, requires_grad=target_grad)
    lc, lt = loss(xc, tc), ref(xt, tt)
    close(lc, lt)
    g = np.random.default_rng(seed).uniform(0.5, 1.5, size=lt.shape)
    lc.backward(g)
    lt.backward(torch.from_numpy(g))
    close(xc.grad, xt.grad)
    if target_grad:
        close(tc.grad, tt.grad)


@pytest.fixture
def rng():
    return np.random.default_rng(99)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_l1_match_torch(rng, reduction):
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    check(nn.MSELoss(reduction=reduction), torch.nn.MSELoss(reduction=reduction), x, y, True)
    check(nn.L1Loss(reduction=reduction), torch.nn.L1Loss(reduction=reduction), x, y, True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("delta", [0.5, 1.0, 2.5])
def test_huber_matches_torch_on_both_sides_of_delta(rng, reduction, delta):
    x = rng.normal(scale=2.0, size=(6, 5))
    y = rng.normal(size=(6, 5))
    y[0, :2] = x[0, :2] - delta  # exactly at the switch
    check(nn.HuberLoss(reduction=reduction, delta=delta),
          torch.nn.HuberLoss(reduction=reduction, delta=delta), x, y, True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_bce_matches_torch(rng, reduction, weighted):
    p = rng.uniform(0.02, 0.98, size=(5, 3))
    y = rng.uniform(size=(5, 3))  # soft targets too
    w = rng.uniform(0.5, 2.0, size=(3,)) if weighted else None
    ours = nn.BCELoss(weight=w, reduction=reduction)
    theirs = torch.nn.BCELoss(weight=None if w is None else torch.tensor(w), reduction=reduction)
    check(ours, theirs, p, y)


def test_bce_clamps_log_at_saturated_probabilities():
    p = np.array([0.0, 1.0, 0.3])
    y = np.array([1.0, 0.0, 1.0])
    close(nn.BCELoss()(cr.tensor(p), cr.tensor(y)),
          torch.nn.BCELoss()(torch.tensor(p), torch.tensor(y)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
def test_bce_with_logits_matches_torch(rng, reduction, weighted, pos_weighted):
    x = rng.normal(scale=4.0, size=(6, 3))
    y = (rng.uniform(size=(6, 3)) > 0.5).astype(float)
    y[0] = [0.3, 0.7, 0.5]
    w = rng.uniform(0.5, 2.0, size=(6, 1)) if weighted else None
    pw = rng.uniform(0.5, 3.0, size=(3,)) if pos_weighted else None
    ours = nn.BCEWithLogitsLoss(weight=w, reduction=reduction, pos_weight=pw)
    theirs = torch.nn.BCEWithLogitsLoss(
        weight=None if w is None else torch.tensor(w), reduction=reduction,
        pos_weight=None if pw is None else torch.tensor(pw))
    check(ours, theirs, x, y)


def test_bce_with_logits_is_stable_for_huge_logits():
    loss = nn.BCEWithLogitsLoss()(cr.tensor(np.array([1e4, -1e4])), cr.tensor(np.array([0.0, 1.0])))
    assert np.isfinite(loss.item()) and abs(loss.item() - 1e4) < 1e-6


CE_OPTIONS = [
    {},
    {"weight": True},
    {"ignore_index": 2},
    {"weight": True, "ignore_index": 1},
    {"label_smoothing": 0.2},
    {"label_smoothing": 0.1, "weight": True},
    {"label_smoothing": 0.3, "weight": True, "ignore_index": 0},
]


def _ce_pair(rng, options, reduction, n_classes=4, cls=(nn.CrossEntropyLoss,
                                                         torch.nn.CrossEntropyLoss)):
    options = dict(options)
    w = rng.uniform(0.3, 2.0, size=n_classes) if options.pop("weight", False) else None
    ours = cls[0](weight=w, reduction=reduction, **options)
    theirs = cls[1](weight=None if w is None else torch.tensor(w), reduction=reduction, **options)
    return ours, theirs


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", CE_OPTIONS, ids=str)
def test_cross_entropy_class_indices_match_torch(rng, reduction, options):
    ours, theirs = _ce_pair(rng, options, reduction)
    x = rng.normal(scale=2.0, size=(7, 4))
    t = np.array([0, 1, 2, 3, 2, 1, 0])
    check(ours, theirs, x, t)
    # (N, C, d) inputs: classes on axis 1
    check(ours, theirs, rng.normal(size=(3, 4, 5)), rng.integers(0, 4, size=(3, 5)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [o for o in CE_OPTIONS if "ignore_index" not in o], ids=str)
def test_cross_entropy_class_probabilities_match_torch(rng, reduction, options):
    ours, theirs = _ce_pair(rng, options, reduction)
    x = rng.normal(size=(5, 4))
    q = rng.dirichlet(np.ones(4), size=5)
    check(ours, theirs, x, q)


def test_cross_entropy_unbatched_and_functional(rng):
    x = rng.normal(size=4)
    close(F.cross_entropy(cr.tensor(x), cr.tensor(2)),
          torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(2)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"weight": True}, {"ignore_index": 1},
                                     {"weight": True, "ignore_index": 3}], ids=str)
def test_nll_loss_matches_torch(rng, reduction, options):
    ours, theirs = _ce_pair(rng, options, reduction, cls=(nn.NLLLoss, torch.nn.NLLLoss))
    logp = torch.log_softmax(torch.tensor(rng.normal(size=(6, 4))), 1).numpy()
    check(ours, theirs, logp, np.array([0, 1, 3, 3, 2, 1]))
    check(ours, theirs, rng.normal(size=(2, 4, 3)), rng.integers(0, 4, size=(2, 3)))
    check(ours, theirs, rng.normal(size=4), np.array(1))


def test_log_softmax_then_nll_equals_cross_entropy(rng):
    x = cr.tensor(rng.normal(size=(5, 3)))
    t = cr.tensor([0, 2, 1, 1, 0])
    close(nn.NLLLoss()(nn.LogSoftmax(dim=1)(x), t), nn.CrossEntropyLoss()(x, t))


def test_nll_loss_all_ignored_mean_is_nan_like_torch():
    x = np.log(np.full((2, 3), 1 / 3))
    ours = F.nll_loss(cr.tensor(x), cr.tensor([1, 1]), ignore_index=1)
    theirs = torch.nn.functional.nll_loss(torch.tensor(x), torch.tensor([1, 1]), ignore_index=1)
    assert np.isnan(ours.item()) and torch.isnan(theirs)


def test_loss_errors_name_the_problem():
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(IndexError, match="target 5 is out of range for 3 classes"):
        nn.NLLLoss()(cr.zeros(2, 3), cr.tensor([0, 5]))
    with pytest.raises(ValueError, match=r"target must have shape \(2,\)"):
        nn.NLLLoss()(cr.zeros(2, 3), cr.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="delta must be positive"):
        nn.HuberLoss(delta=0.0)


def test_loss_weights_are_buffers_like_torch():
    w = np.array([1.0, 2.0, 3.0])
    ours = nn.CrossEntropyLoss(weight=w)
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(w))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss(pos_weight=[1.0]).state_dict()) == list(
        torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0])).state_dict())
    assert nn.CrossEntropyLoss(weight=[1, 2]).weight.dtype == np.float32


def test_losses_train_float32_inputs_stay_float32():
    x = cr.tensor(np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32),
                  requires_grad=True)
    for loss in (nn.L1Loss()(x, cr.zeros(4, 3)), nn.HuberLoss()(x, cr.zeros(4, 3)),
                 nn.NLLLoss()(x, cr.tensor([0, 1, 2, 0]))):
        assert loss.dtype == np.float32
        loss.backward()
        assert x.grad.dtype == np.float32
