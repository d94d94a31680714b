"""The NAR torch module and its losses."""

import math

import pytest
import torch
from torch.nn import functional as F

from sknar.nn import NAREnsemble, NARLoss, NARModule, pairwise_logistic_rank_loss


@pytest.fixture
def module():
    torch.manual_seed(0)
    return NARModule(n_patches=3, patch_size=2, n_tiers=4, d_model=8, n_heads=2, d_ff=16)


def test_outputs_have_one_logit_per_tier_and_one_score(module):
    tier_logits, scores = module(torch.randn(5, 3 * 4))
    assert tier_logits.shape == (5, 4)
    assert scores.shape == (5,)


def test_the_decoder_runs_once_for_all_tiers(module):
    calls = []
    module.decoder.register_forward_hook(lambda *args: calls.append(args[2].shape))
    module(torch.randn(5, 12))
    assert calls == [torch.Size([5, 4, 8])]


def test_tier_embeddings_are_saved_and_reloaded(module):
    state = module.state_dict()
    assert state["tier_embeddings"].shape == (4, 8)
    other = NARModule(n_patches=3, patch_size=2, n_tiers=4, d_model=8, n_heads=2, d_ff=16)
    other.load_state_dict(state)
    module.eval()
    other.eval()
    X = torch.randn(6, 12)
    torch.testing.assert_close(module(X)[0], other(X)[0])


def test_inference_uses_the_trained_tier_embeddings(module):
    module.eval()
    X = torch.randn(6, 12)
    before = module(X)[0]
    with torch.no_grad():
        module.tier_embeddings.add_(torch.randn_like(module.tier_embeddings))
    assert not torch.allclose(before, module(X)[0])


def test_op_codes_are_categories_not_magnitudes():
    torch.manual_seed(0)
    module = NARModule(n_patches=2, patch_size=2, n_op_codes=5, d_model=8, n_heads=2, d_ff=8)
    module.eval()
    X = torch.zeros(2, 8)
    X[0, 0], X[1, 0] = 2.0, 4.0
    embedded = module.patch_embedding  # the numeric embedding must not see the op patch
    with torch.no_grad():
        embedded.weight.zero_()
        embedded.bias.zero_()
    tier_logits, _ = module(X)
    assert not torch.allclose(tier_logits[0], tier_logits[1])


def test_rank_loss_matches_hand_computation():
    scores = torch.tensor([2.0, 0.0, 1.0])
    targets = torch.tensor([0.9, 0.5, 0.5])
    # ordered pairs: (0, 1) and (0, 2); the tie (1, 2) carries no order
    expected = (math.log1p(math.exp(-2.0)) + math.log1p(math.exp(-1.0))) / 2
    assert float(pairwise_logistic_rank_loss(scores, targets)) == pytest.approx(expected)


def test_rank_loss_without_ordered_pairs_is_zero_with_a_gradient():
    scores = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = pairwise_logistic_rank_loss(scores, torch.tensor([0.5, 0.5]))
    loss.backward()
    assert loss.item() == 0.0
    assert scores.grad is not None


def test_rank_loss_falls_when_scores_follow_targets():
    targets = torch.tensor([3.0, 2.0, 1.0])
    good = pairwise_logistic_rank_loss(torch.tensor([3.0, 2.0, 1.0]), targets)
    bad = pairwise_logistic_rank_loss(torch.tensor([1.0, 2.0, 3.0]), targets)
    assert good < bad


def test_nar_loss_adds_the_weighted_rank_loss():
    logits = torch.tensor([[2.0, 0.5], [0.1, 1.0]])
    scores = torch.tensor([0.0, 1.0])
    tiers = torch.tensor([0, 1])
    accuracies = torch.tensor([0.9, 0.1])
    cross_entropy = F.cross_entropy(logits, tiers)
    rank = pairwise_logistic_rank_loss(scores, accuracies)
    assert torch.isclose(NARLoss(rank_loss_weight=0.0)(logits, scores, tiers, accuracies),
                         cross_entropy)
    assert torch.isclose(NARLoss(rank_loss_weight=2.5)(logits, scores, tiers, accuracies),
                         cross_entropy + 2.5 * rank)


def test_nar_loss_accepts_soft_tier_targets():
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 1.0, 0.3]])
    soft = torch.tensor([[0.8, 0.2, 0.0], [0.1, 0.8, 0.1]])
    expected = -(soft * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    value = NARLoss(rank_loss_weight=0.0)(logits, torch.zeros(2), soft, torch.zeros(2))
    assert torch.isclose(value, expected)
    hard = NARLoss(rank_loss_weight=0.0)(logits, torch.zeros(2), torch.tensor([0, 1]),
                                         torch.zeros(2))
    assert not torch.isclose(value, hard)


def test_module_runs_without_cuda_state_and_moves_with_to(module):
    # No module-level device: the module is wherever its parameters are.
    assert all(p.device.type == "cpu" for p in module.parameters())
    double = module.to(torch.float64)
    tier_logits, scores = double(torch.randn(3, 12, dtype=torch.float64))
    assert tier_logits.dtype == scores.dtype == torch.float64


def test_ensemble_members_are_independent_nar_modules():
    torch.manual_seed(0)
    ensemble = NAREnsemble(n_members=3, n_patches=3, patch_size=2, n_tiers=4, d_model=8,
                           n_heads=2, d_ff=16)
    ensemble.eval()
    X = torch.randn(5, 12)
    tier_logits, scores = ensemble(X)
    assert tier_logits.shape == (5, 3, 4)
    assert scores.shape == (5, 3)
    for index, member in enumerate(ensemble.members):
        member_logits, member_scores = member(X)
        torch.testing.assert_close(tier_logits[:, index], member_logits)
        torch.testing.assert_close(scores[:, index], member_scores)
    assert not torch.allclose(scores[:, 0], scores[:, 1])
    for bad in (0, 2.5):
        with pytest.raises(ValueError, match="n_members"):
            NAREnsemble(n_members=bad, n_patches=3, patch_size=2)


def test_nar_loss_of_an_ensemble_is_the_mean_of_its_members_losses():
    torch.manual_seed(0)
    logits = torch.randn(6, 3, 4)
    scores = torch.randn(6, 3)
    tiers = torch.tensor([0, 1, 2, 3, 0, 1])
    accuracies = torch.rand(6)
    loss = NARLoss(rank_loss_weight=2.0)
    members = [loss(logits[:, k], scores[:, k], tiers, accuracies) for k in range(3)]
    torch.testing.assert_close(loss(logits, scores, tiers, accuracies),
                               torch.stack(members).mean())
    soft = F.one_hot(tiers, 4).float() * 0.7 + 0.075
    members = [loss(logits[:, k], scores[:, k], soft, accuracies) for k in range(3)]
    torch.testing.assert_close(loss(logits, scores, soft, accuracies),
                               torch.stack(members).mean())
