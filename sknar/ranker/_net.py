"""NARNet: the skorch layer of NAR, for users who want skorch's machinery directly."""

import math
from functools import partial

import torch
from skorch import NeuralNet
from skorch.callbacks import GradientNormClipping, LRScheduler
from skorch.utils import to_tensor

from ..nn import NARLoss, NARModule

__all__ = ["NARNet", "warmup_cosine_factor"]


class NARNet(NeuralNet):
    """A :class:`skorch.NeuralNet` that trains :class:`~sknar.nn.NARModule`.

    The target ``y`` is a float array of shape (n, 2): column 0 the tier label (0 = best),
    column 1 the accuracy, which orders the pairs of the rank loss (in ``[0, 1]``, e.g. the
    quantiles that :class:`~sknar.NARRanker` then passes, with ``criterion__top_weight``
    above 0). For soft tier targets
    (e.g. :meth:`sknar.TierTransformer.soft_transform`), append them: shape
    (n, 2 + n_tiers), columns 2 onwards one probability row per sample; column 0 is then
    ignored by the loss. :meth:`get_loss` is the
    override point: it splits ``y`` and calls the criterion with the module's two outputs.
    Everything else is skorch: route module settings with ``module__d_model=...``, the rank
    loss weight with ``criterion__rank_loss_weight=...``, add callbacks, ``save_params`` and
    ``load_params``.

    Defaults differ from skorch's where skorch's would surprise here: no validation split
    (``train_split=None``), quiet (``verbose=0``), AdamW, a cosine learning-rate schedule over
    ``max_epochs`` (after ``warmup_epochs`` of linear warm-up) and gradient-norm clipping at
    1.0 (set ``callbacks`` to replace them).
    Most users want :class:`~sknar.NARRanker`, which builds a NARNet inside ``fit``.

    Parameters
    ----------
    module : torch module class or instance, default=NARModule
        The network; it must return ``(tier_logits, scores)``, e.g.
        :class:`~sknar.nn.NARModule`, or :class:`~sknar.nn.NAREnsemble` for several
        networks trained side by side (``module__n_members=3``).
    criterion : loss class, default=NARLoss
        Called as ``criterion(tier_logits, scores, tiers, accuracies)``.
    optimizer : torch optimizer class, default=torch.optim.AdamW
        The optimizer.
    warmup_epochs : int, default=0
        Epochs of linear learning-rate warm-up before the cosine decay (only with the
        default callbacks).
    train_split : callable or None, default=None
        skorch's validation split; None trains on all the data given.
    callbacks : list or None, default=None
        skorch callbacks; None means the cosine schedule and gradient clipping above.
    verbose : int, default=0
        skorch's per-epoch table when positive.
    **kwargs
        Any other :class:`skorch.NeuralNet` parameter (``lr``, ``max_epochs``, ``batch_size``,
        ``device``, ``module__*``, ``criterion__*``, ``optimizer__*``, ``iterator_train__*``).

    Examples
    --------
    >>> import numpy as np
    >>> from sknar.ranker import NARNet
    >>> rng = np.random.RandomState(0)
    >>> X = rng.rand(32, 2 * 3 * 3).astype(np.float32)
    >>> y = np.column_stack([rng.randint(0, 2, 32), rng.rand(32)]).astype(np.float32)
    >>> net = NARNet(module__n_patches=2, module__patch_size=3, module__n_tiers=2,
    ...              module__d_model=8, module__n_heads=2, module__d_ff=8, max_epochs=2)
    >>> tier_logits, scores = net.fit(X, y).forward(X)
    >>> tuple(tier_logits.shape)
    (32, 2)
    """

    def __init__(
        self,
        module=NARModule,
        criterion=NARLoss,
        optimizer=torch.optim.AdamW,
        train_split=None,
        callbacks=None,
        verbose=0,
        warmup_epochs=0,
        **kwargs,
    ):
        super().__init__(
            module,
            criterion,
            optimizer=optimizer,
            train_split=train_split,
            callbacks=callbacks,
            verbose=verbose,
            **kwargs,
        )
        self.warmup_epochs = warmup_epochs

    def get_default_callbacks(self):
        """skorch's default callbacks, plus the schedule and clipping when ``callbacks=None``.

        Returns
        -------
        callbacks : list of (str, skorch.callbacks.Callback)
            Named callbacks, skorch's first.
        """
        defaults = list(super().get_default_callbacks())
        if self.callbacks is None:
            defaults += _schedule_callbacks(self.warmup_epochs, self.max_epochs)
        return defaults

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Tier cross-entropy plus the weighted pairwise rank loss of this batch.

        Parameters
        ----------
        y_pred : tuple of torch.Tensor
            The module's ``(tier_logits, scores)``.
        y_true : array-like of shape (n, 2) or (n, 2 + n_tiers)
            Tier labels, accuracies and, optionally, soft tier targets (see above).
        X : array-like, default=None
            The batch's input; unused.
        training : bool, default=False
            Whether the batch is a training batch; unused.

        Returns
        -------
        loss : torch.Tensor
            A scalar.
        """
        tier_logits, scores = y_pred
        y_true = to_tensor(y_true, device=self.device)
        tiers = y_true[:, 2:] if y_true.shape[1] > 2 else y_true[:, 0].long()
        accuracies = y_true[:, 1]
        return self.criterion_(tier_logits, scores, tiers, accuracies)


def _schedule_callbacks(warmup_epochs, max_epochs):
    """NARNet's default callbacks: the warm-up and cosine schedule, and gradient clipping."""
    schedule = LRScheduler(
        policy=torch.optim.lr_scheduler.LambdaLR,
        # A partial of a module-level function, so that the net pickles.
        lr_lambda=partial(
            warmup_cosine_factor,
            warmup_epochs=int(warmup_epochs),
            total_epochs=int(max_epochs),
        ),
    )
    return [
        ("lr_scheduler", schedule),
        ("gradient_clipping", GradientNormClipping(gradient_clip_value=1.0)),
    ]


def warmup_cosine_factor(epoch, warmup_epochs, total_epochs):
    """Learning-rate factor of ``epoch``: linear warm-up, then a cosine decay towards zero.

    Parameters
    ----------
    epoch : int
        Epochs done so far (0 for the first epoch).
    warmup_epochs : int
        Epochs of linear warm-up; 0 starts at the full learning rate.
    total_epochs : int
        Length of the whole schedule.

    Returns
    -------
    factor : float
        Multiplier of the base learning rate, in ``[0, 1]``.

    Examples
    --------
    >>> from sknar.ranker import warmup_cosine_factor
    >>> [round(warmup_cosine_factor(e, 2, 6), 3) for e in range(6)]
    [0.333, 0.667, 1.0, 0.854, 0.5, 0.146]
    """
    if epoch < warmup_epochs:
        return (epoch + 1) / (warmup_epochs + 1)
    decay_epochs = max(total_epochs - warmup_epochs, 1)
    return 0.5 * (1.0 + math.cos(math.pi * min(epoch - warmup_epochs, decay_epochs) / decay_epochs))
