"""Losses of NAR: tier cross-entropy plus a pairwise logistic rank loss on the scores, part of
it weighted towards the top of the order (LambdaRank weights)."""

import torch
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
    ordered = (targets[:, None] > targets[None, :]).to(scores.dtype)
    margins = scores[:, None] - scores[None, :]
    if margins.dim() == 3:
        # One column per member: every member is averaged over the same pairs, so the
        # mean is the mean of the members' losses.
        ordered = ordered.unsqueeze(-1).expand_as(margins)
    # A multiplying mask rather than boolean indexing: no data-dependent shapes, so no
    # gather and scatter in the backward pass (it runs once per training batch). Without
    # ordered pairs the sum is zero, with a gradient path.
    return (F.softplus(-margins) * ordered).sum() / ordered.sum().clamp(min=1.0)


def lambda_rank_loss(scores, targets, sharpness=5.0):
    """Pairwise logistic loss with LambdaRank weights, which put the top of the order first.

    Each pair with ``targets_i > targets_j`` counts with the weight
    ``|G_i - G_j| * |D_i - D_j|``: gains ``G = 2 ** (sharpness * targets) - 1`` and
    discounts ``D = 1 / log2(1 + r)`` of the true ranks ``r`` in the batch (1 = best, tied
    targets share the better rank), i.e. how much NDCG the batch would lose if the two
    swapped places. Pairs of good architectures, and pairs whose better member leads the
    batch, dominate; pairs far down the order barely count. The loss is the weighted mean
    of ``log(1 + exp(-(s_i - s_j)))``, on the scale of
    :func:`pairwise_logistic_rank_loss`.

    Parameters
    ----------
    scores : torch.Tensor of shape (n,) or (n, n_members)
        Predicted scores, higher meaning better; with a member axis, the mean of the
        members' losses.
    targets : torch.Tensor of shape (n,)
        What orders the pairs, in ``[0, 1]`` so that the gains stay finite: e.g. each
        architecture's quantile among the training accuracies (what
        :class:`~sknar.NARRanker` passes). Pairs with equal targets are ignored.
    sharpness : float, default=5.0
        How fast the gains grow towards the top: the best architecture gains
        ``2 ** sharpness - 1``, the median one ``2 ** (sharpness / 2) - 1``.

    Returns
    -------
    loss : torch.Tensor
        A scalar; zero (with a gradient path) when no pair is ordered.

    Examples
    --------
    >>> import torch
    >>> from sknar.nn import lambda_rank_loss
    >>> targets = torch.tensor([1.0, 0.5, 0.0])
    >>> top_swapped = lambda_rank_loss(torch.tensor([0.0, 1.0, -1.0]), targets)
    >>> bottom_swapped = lambda_rank_loss(torch.tensor([1.0, -1.0, 0.0]), targets)
    >>> bool(top_swapped > bottom_swapped)  # one swap each, but at the top it costs more
    True
    """
    ordered = targets[:, None] > targets[None, :]
    if not bool(ordered.any()):
        return scores.sum() * 0.0
    # ordered[j, i] is targets_j > targets_i: column sums count the better architectures.
    ranks = 1.0 + ordered.sum(dim=0).to(scores.dtype)
    gains = torch.pow(2.0, sharpness * targets.to(scores.dtype)) - 1.0
    discounts = 1.0 / torch.log2(1.0 + ranks)
    weights = (gains[:, None] - gains[None, :]).abs() * (
        discounts[:, None] - discounts[None, :]
    ).abs()
    weights = weights[ordered]
    margins = scores[:, None] - scores[None, :]
    losses = F.softplus(-margins[ordered])
    if losses.dim() == 2:
        # One column per member: each member is weighted by the same pairs.
        weights = weights[:, None].expand_as(losses)
    return (weights * losses).sum() / weights.sum()


class NARLoss(nn.Module):
    """Tier cross-entropy plus ``rank_loss_weight`` times the pairwise rank loss.

    The rank loss is ``(1 - top_weight)`` times :func:`pairwise_logistic_rank_loss` (every
    ordered pair alike) plus ``top_weight`` times :func:`lambda_rank_loss` (pairs weighted
    by what swapping them costs at the top of the order).

    Parameters
    ----------
    rank_loss_weight : float, default=1.0
        Weight of the rank loss on the auxiliary scores; 0 disables it.
    label_smoothing : float, default=0.0
        Label smoothing of the tier cross-entropy.
    top_weight : float in [0, 1], default=0.0
        Share of the rank loss that weighs pairs towards the top; above 0 the accuracies
        given to :meth:`forward` must lie in ``[0, 1]`` (e.g. quantiles).
    top_sharpness : float, default=5.0
        ``sharpness`` of :func:`lambda_rank_loss`.

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

    def __init__(
        self, rank_loss_weight=1.0, label_smoothing=0.0, top_weight=0.0, top_sharpness=5.0
    ):
        super().__init__()
        if not 0.0 <= top_weight <= 1.0:
            raise ValueError(f"top_weight must lie in [0, 1], got {top_weight!r}.")
        self.rank_loss_weight = rank_loss_weight
        self.label_smoothing = label_smoothing
        self.top_weight = top_weight
        self.top_sharpness = top_sharpness

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
            True accuracies, which order the pairs of the rank loss (in ``[0, 1]`` when
            ``top_weight > 0``).

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
        return tier_loss + self.rank_loss_weight * self.rank_loss(scores, accuracies)

    def rank_loss(self, scores, accuracies):
        """The rank loss alone: the pairwise loss and its top-weighted share.

        Parameters
        ----------
        scores : torch.Tensor of shape (n,) or (n, n_members)
            Auxiliary scores.
        accuracies : torch.Tensor of shape (n,)
            What orders the pairs (in ``[0, 1]`` when ``top_weight > 0``).

        Returns
        -------
        loss : torch.Tensor
            A scalar.
        """
        loss = 0.0
        if self.top_weight < 1.0:
            loss = (1.0 - self.top_weight) * pairwise_logistic_rank_loss(scores, accuracies)
        if self.top_weight > 0.0:
            top = lambda_rank_loss(scores, accuracies, sharpness=self.top_sharpness)
            loss = loss + self.top_weight * top
        return loss
