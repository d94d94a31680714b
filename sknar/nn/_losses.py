"""Losses of NAR: tier cross-entropy plus a pairwise logistic rank loss on the scores."""

from torch import nn
from torch.nn import functional as F


def pairwise_logistic_rank_loss(scores, targets):
    """Mean of ``log(1 + exp(-(s_i - s_j)))`` over all pairs with ``targets_i > targets_j``.

    Parameters
    ----------
    scores : torch.Tensor of shape (n,) or (n, n_members)
        Predicted scores, higher meaning better; with a member axis (an
        :class:`~sknar.nn.NAREnsemble`), the mean of the members' losses.
    targets : torch.Tensor of shape (n,)
        True accuracies. Pairs with equal accuracies carry no order and are ignored.

    Returns
    -------
    loss : torch.Tensor
        A scalar; zero (with a gradient path) when no pair is ordered.

    Examples
    --------
    >>> import torch
    >>> from sknar.nn import pairwise_logistic_rank_loss
    >>> loss = pairwise_logistic_rank_loss(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 0.0]))
    >>> round(float(loss), 4)  # log(2): the two scores do not order the pair
    0.6931
    """
    ordered = targets[:, None] > targets[None, :]
    if not bool(ordered.any()):
        return scores.sum() * 0.0
    # With a member axis, margins[ordered] has one column per member: every member is
    # averaged over the same pairs, so the mean is the mean of the members' losses.
    margins = scores[:, None] - scores[None, :]
    return F.softplus(-margins[ordered]).mean()


class NARLoss(nn.Module):
    """Tier cross-entropy plus ``rank_loss_weight`` times the pairwise rank loss.

    Parameters
    ----------
    rank_loss_weight : float, default=1.0
        Weight of the pairwise logistic rank loss on the auxiliary scores; 0 disables it.
    label_smoothing : float, default=0.0
        Label smoothing of the tier cross-entropy.

    Examples
    --------
    >>> import torch
    >>> from sknar.nn import NARLoss
    >>> loss = NARLoss(rank_loss_weight=0.0)
    >>> logits = torch.tensor([[10.0, 0.0], [0.0, 10.0]])
    >>> value = loss(logits, torch.zeros(2), torch.tensor([0, 1]), torch.tensor([1.0, 0.0]))
    >>> float(value) < 1e-3
    True
    """

    def __init__(self, rank_loss_weight=1.0, label_smoothing=0.0):
        super().__init__()
        self.rank_loss_weight = rank_loss_weight
        self.label_smoothing = label_smoothing

    def forward(self, tier_logits, scores, tiers, accuracies):
        """Loss of a batch.

        Parameters
        ----------
        tier_logits : torch.Tensor of shape (n, n_tiers) or (n, n_members, n_tiers)
            Tier logits, column 0 the top tier; with a member axis (an
            :class:`~sknar.nn.NAREnsemble`) the loss is the mean of the members' losses.
        scores : torch.Tensor of shape (n,) or (n, n_members)
            Auxiliary scores.
        tiers : torch.LongTensor of shape (n,) or torch.Tensor of shape (n, n_tiers)
            True tier labels (0 = best), or soft targets: one probability row per sample
            (e.g. ordinal targets that put some mass on the neighbouring tiers).
        accuracies : torch.Tensor of shape (n,)
            True accuracies, which order the pairs of the rank loss.

        Returns
        -------
        loss : torch.Tensor
            A scalar.
        """
        if tier_logits.dim() == 3:
            n_members = tier_logits.shape[1]
            tier_logits = tier_logits.reshape(-1, tier_logits.shape[-1])
            tiers = tiers.repeat_interleave(n_members, dim=0)
        tier_loss = F.cross_entropy(tier_logits, tiers, label_smoothing=self.label_smoothing)
        if not self.rank_loss_weight:
            return tier_loss
        rank_loss = pairwise_logistic_rank_loss(scores, accuracies)
        return tier_loss + self.rank_loss_weight * rank_loss
