"""The rank loss weighted towards the top of the order, and NARRanker's ``top_weight``."""

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from sknar import NARRanker
from sknar.nn import NARLoss, lambda_rank_loss, pairwise_logistic_rank_loss
from sknar.ranker import PRESETS

TINY = dict(n_tiers=3, n_members=2, d_model=16, n_heads=2, d_ff=16, max_epochs=15, batch_size=32)


def _lambda_weight(gain_i, gain_j, rank_i, rank_j):
    return abs(gain_i - gain_j) * abs(1 / math.log2(1 + rank_i) - 1 / math.log2(1 + rank_j))


def test_lambda_rank_loss_matches_hand_computation():
    scores = torch.tensor([2.0, 0.0, 1.0])
    targets = torch.tensor([1.0, 0.5, 0.5])
    gains = [2.0**5 - 1, 2.0**2.5 - 1, 2.0**2.5 - 1]
    # ordered pairs (0, 1) and (0, 2); the tied pair carries no order and the tied
    # architectures share rank 2
    weights = [_lambda_weight(gains[0], gains[1], 1, 2)] * 2
    losses = [math.log1p(math.exp(-2.0)), math.log1p(math.exp(-1.0))]
    expected = sum(w * v for w, v in zip(weights, losses)) / sum(weights)
    assert float(lambda_rank_loss(scores, targets)) == pytest.approx(expected, rel=1e-6)


def test_a_swap_at_the_top_costs_more_than_the_same_swap_further_down():
    targets = torch.linspace(1.0, 0.0, 8)
    in_order = torch.linspace(1.0, 0.0, 8)
    top_swapped = in_order.clone()
    top_swapped[[0, 1]] = top_swapped[[1, 0]]
    bottom_swapped = in_order.clone()
    bottom_swapped[[6, 7]] = bottom_swapped[[7, 6]]
    top = lambda_rank_loss(top_swapped, targets)
    bottom = lambda_rank_loss(bottom_swapped, targets)
    assert top > bottom > lambda_rank_loss(in_order, targets)
    # The unweighted loss cannot tell the two swaps apart.
    assert pairwise_logistic_rank_loss(top_swapped, targets) == pytest.approx(
        float(pairwise_logistic_rank_loss(bottom_swapped, targets))
    )


def test_lambda_rank_loss_of_members_is_their_mean_and_empty_order_is_zero():
    torch.manual_seed(0)
    scores = torch.randn(7, 3)
    targets = torch.rand(7)
    members = [lambda_rank_loss(scores[:, k], targets) for k in range(3)]
    torch.testing.assert_close(lambda_rank_loss(scores, targets), torch.stack(members).mean())
    flat = torch.tensor([0.3, 1.2], requires_grad=True)
    loss = lambda_rank_loss(flat, torch.tensor([0.5, 0.5]))
    loss.backward()
    assert loss.item() == 0.0 and flat.grad is not None


def test_nar_loss_mixes_the_plain_and_the_top_weighted_rank_loss():
    torch.manual_seed(0)
    logits = torch.randn(6, 3)
    scores = torch.randn(6)
    tiers = torch.tensor([0, 1, 2, 0, 1, 2])
    quantiles = torch.rand(6)
    cross_entropy = F.cross_entropy(logits, tiers)
    plain = pairwise_logistic_rank_loss(scores, quantiles)
    top = lambda_rank_loss(scores, quantiles)
    mixed = NARLoss(rank_loss_weight=2.0, top_weight=0.25)(logits, scores, tiers, quantiles)
    torch.testing.assert_close(mixed, cross_entropy + 2.0 * (0.75 * plain + 0.25 * top))
    only_plain = NARLoss(rank_loss_weight=2.0)(logits, scores, tiers, quantiles)
    torch.testing.assert_close(only_plain, cross_entropy + 2.0 * plain)
    only_top = NARLoss(rank_loss_weight=2.0, top_weight=1.0)(logits, scores, tiers, quantiles)
    torch.testing.assert_close(only_top, cross_entropy + 2.0 * top)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="top_weight"):
            NARLoss(top_weight=bad)


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.rand(160, 16)
    y = X[:, :4].sum(axis=1) - X[:, 4:8].sum(axis=1) ** 2 / 4 + 0.05 * rng.randn(160)
    return X, y


def test_presets_leave_the_rank_loss_unweighted(data):
    X, y = data
    assert PRESETS["fast"]["top_weight"] == 0.0 and PRESETS["paper"]["top_weight"] == 0.0
    default = NARRanker(random_state=0, **{**TINY, "max_epochs": 1}).fit(X, y)
    explicit = NARRanker(top_weight=0.0, random_state=0, **{**TINY, "max_epochs": 1}).fit(X, y)
    assert default.settings_["top_weight"] == 0.0
    np.testing.assert_array_equal(default.predict(X), explicit.predict(X))


def test_only_the_order_of_the_accuracies_matters(data):
    # Tiers and the rank loss's quantiles depend on the order alone.
    X, y = data
    ranker = NARRanker(top_weight=0.5, random_state=0, **TINY).fit(X, y)
    stretched = NARRanker(top_weight=0.5, random_state=0, **TINY).fit(X, np.exp(3.0 * y) + 50.0)
    np.testing.assert_allclose(ranker.predict(X), stretched.predict(X), rtol=1e-5, atol=1e-6)


def test_top_weight_changes_what_is_learned(data):
    X, y = data
    plain = NARRanker(top_weight=0.0, random_state=0, **TINY).fit(X, y)
    top = NARRanker(top_weight=1.0, random_state=0, **TINY).fit(X, y)
    assert not np.allclose(plain.predict(X), top.predict(X))


@pytest.mark.parametrize("bad", [-0.5, 1.01, "high"])
def test_bad_top_weight_is_named(data, bad):
    X, y = data
    with pytest.raises(ValueError, match="top_weight"):
        NARRanker(top_weight=bad, max_epochs=1).fit(X[:40], y[:40])
