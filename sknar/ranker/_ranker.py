"""NARRanker: the Neural Architecture Ranker as a scikit-learn estimator."""

import numbers

import numpy as np
import torch
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..metrics import kendall_tau
from ..nn import NAREnsemble, NARModule
from ..tiers import TierTransformer
from ..utils._torch import check_device, limit_threads
from ._batches import TensorBatches
from ._callbacks import EpochProgress, TrainingGuard, divergence_message
from ._net import NARNet, _schedule_callbacks
from ._presets import PRESETS, SMALL_DATA_OVERRIDES, SMALL_DATA_SIZE
from ._runtime import forked_torch_rng
from ._tokens import (
    check_merged_tokens,
    count_op_codes,
    identical_tokens,
    token_layout,
    token_view,
)

__all__ = ["NARRanker"]

_MIN_PREDICT_BATCH_SIZE = 1024
_RANK_BY = ("combined", "score", "expected_tier")
_COUNT = Interval(numbers.Integral, 1, None, closed="left")


class NARRanker(RegressorMixin, BaseEstimator):
    """Rank architectures with NAR: tier classification plus a pairwise-ranked score.

    ``fit`` turns the accuracies into ``n_tiers`` equal-frequency quality tiers with
    :class:`~sknar.TierTransformer`, then trains a transformer over the architecture's patch
    tokens (see :class:`~sknar.nn.NARModule`) with a tier cross-entropy and a pairwise logistic
    rank loss on an auxiliary score. The default preset trains three such networks side by
    side and averages them (``n_members``). The skorch net it trains is kept in ``net_``.

    Parameters
    ----------
    n_tiers : int, default=5
        Number of quality tiers (tier 0 = best). 1 trains the pairwise rank loss alone
        (plain ranking, the ablation of the tiers).
    preset : {"fast", "paper"}, default="fast"
        Default model size and training schedule (:data:`~sknar.ranker.PRESETS`):
        ``"fast"`` is a small ensemble sized for a CPU; ``"paper"`` one network of the NAR
        paper's NAS-Bench-201 configuration (d_model 128, 6 layers, 4 heads, d_ff 512,
        55 epochs, batch 128). Parameters left as None take the preset's value; with fewer
        than :data:`~sknar.ranker.SMALL_DATA_SIZE` (300) training architectures the preset's
        small-data settings apply (:data:`~sknar.ranker.SMALL_DATA_OVERRIDES`: the fast
        preset is narrower, d_model 32 and d_ff 64, and trains in batches of 32).
        ``settings_`` tells what a fit used.
    n_members : int, default=None
        Number of NAR networks trained side by side from independent initialisations (a
        deep ensemble, :class:`~sknar.nn.NAREnsemble`); predictions average them. Fit and
        prediction time grow in proportion. None takes the preset's: 3 for ``"fast"``, 1
        for ``"paper"``.
    d_model, n_layers, n_heads, d_ff : int, default=None
        Width, encoder depth, attention heads and feed-forward width; ``n_heads`` must
        divide ``d_model``.
    dropout : float, default=None
        Dropout in the transformer layers, in ``[0, 1)``.
    rank_loss_weight : float, default=None
        Weight of the pairwise rank loss, at least 0; 0 trains the tier classifier only
        (the score head then stays untrained, so ``rank_by="combined"`` ranks by the
        expected tier alone and ``rank_by="score"`` is refused).
    top_weight : float in [0, 1], default=None
        Share of the rank loss that weighs pairs by what swapping them costs at the top of
        the order (:func:`~sknar.nn.lambda_rank_loss`: LambdaRank weights on each
        architecture's quantile among the training accuracies); the rest weighs every
        ordered pair alike (:func:`~sknar.nn.pairwise_logistic_rank_loss`). None takes the
        preset's: 0 for both presets, since on validation splits inside the training
        architectures the top-weighted share did not raise precision@10 consistently (see
        the user guide).
    max_epochs : int, default=None
        Training epochs, at least 1 (the cosine learning-rate schedule spans them).
    lr : float, default=None
        AdamW learning rate, above 0.
    weight_decay : float, default=None
        AdamW weight decay, at least 0.
    batch_size : int, default=None
        Mini-batch size for training; prediction uses batches of
        ``max(batch_size, 1024)`` (larger batches score a whole space faster and do not
        change what is learned).
    rank_by : {"combined", "score", "expected_tier"}, default="combined"
        What :meth:`predict` returns: the auxiliary score, minus the expected tier under
        :meth:`predict_proba`, or the sum of both after standardising each on the training
        architectures. With several members, ``"score"`` and ``"combined"`` average the
        members' standardised values.
    patch_size, n_patches : int or "auto", default="auto"
        Token layout of X. With "auto" it is read from X when X comes from
        :class:`~sknar.encoding.NARFeatureEncoder` (its output carries the layout, also
        through pipelines and row slicing); for a plain array, the patch size is the largest
        ``P <= 16`` with ``P * P`` dividing the number of features (``P = 1``, one token per
        feature, for generic tabular X).
    merge_identical_tokens : bool, default=True
        Feed the network each group of tokens that are identical in every training
        architecture once (NAR's encoding repeats a cell's FLOPs and params patches for
        every cell of a stage). Prediction checks that the merged tokens are still
        identical and raises a ValueError naming the first that is not.
    device : str or torch.device, default="cpu"
        Torch device to train on, e.g. ``"cuda"``. A ranker trained on a GPU unpickles and
        predicts on a CPU-only machine.
    n_threads : int or None, default=1
        Torch intra-op threads while fitting and predicting; the previous setting is
        restored afterwards. None keeps torch's global setting.
    warm_start : bool, default=False
        Refit from the weights of the previous fit instead of a fresh initialisation, when
        the network has the same shape (the same kept tokens, op codes, number of tiers and
        model settings; otherwise the refit starts afresh). Meant for the rounds of a
        search, where each refit adds a few architectures: a warm refit with a fraction of
        the epochs (e.g. ``max_epochs=20``) starts where the last one ended. The learning
        rate schedule starts again over ``max_epochs``; the tiers and the standardisation
        of the scores are refitted on the new data.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout and shuffling. The caller's global torch and
        numpy random states are left untouched.
    verbose : int, default=0
        0 is silent; 1 shows a progress bar over the training epochs (all members train
        side by side, so one bar); 2 prints skorch's per-epoch table instead.

    Attributes
    ----------
    net_ : NARNet
        The fitted skorch net, trimmed for prediction: its module is kept, its optimizer,
        criterion, callbacks and history are not (see ``loss_curve_``).
    loss_curve_ : list of float
        Mean training loss of each epoch.
    tier_transformer_ : TierTransformer or None
        Maps training accuracies to tiers (None when ``n_tiers=1``).
    n_tiers_ : int
        Number of tiers actually fitted.
    settings_ : dict
        Model and training settings the fit used: the preset's (small-data ones included)
        with the explicit parameters applied.
    n_patches_, patch_size_ : int
        Token layout of X.
    token_index_ : ndarray of shape (n_tokens,)
        The tokens of X the network sees, in order (all of them when
        ``merge_identical_tokens=False``).
    token_twins_ : ndarray of shape (n_patches_,)
        For each token of X, the token in ``token_index_`` it is identical to (itself when
        kept).
    n_op_codes_ : int or None
        Number of op codes found in the first (op-code) patch, embedded as categories; None
        when the first patch does not hold small non-negative integers.
    score_center_, score_spread_ : ndarray of shape (n_members, 2)
        Mean and spread of each member's score and negated expected tier on the training
        architectures, which standardise them in :meth:`predict`.
    n_features_in_ : int
        Number of features seen in ``fit``.

    See Also
    --------
    make_nar_pipeline : The encoder and this ranker in one pipeline.
    NARNet : The skorch net this ranker trains.

    Examples
    --------
    >>> import numpy as np
    >>> from sknar import NARRanker
    >>> rng = np.random.RandomState(0)
    >>> X = rng.rand(60, 4 * 2 * 2)
    >>> y = X[:, :4].sum(axis=1)
    >>> ranker = NARRanker(n_tiers=3, d_model=16, d_ff=16, max_epochs=20, random_state=0)
    >>> ranker.fit(X, y).predict_proba(X).shape
    (60, 3)
    >>> ranker.score(X, y) > 0.5
    True
    """

    _parameter_constraints: dict = {
        "n_tiers": [_COUNT],
        "preset": [StrOptions(set(PRESETS))],
        "n_members": [_COUNT, None],
        "d_model": [_COUNT, None],
        "n_layers": [_COUNT, None],
        "n_heads": [_COUNT, None],
        "d_ff": [_COUNT, None],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left"), None],
        "rank_loss_weight": [Interval(numbers.Real, 0, None, closed="left"), None],
        "top_weight": [Interval(numbers.Real, 0, 1, closed="both"), None],
        "max_epochs": [_COUNT, None],
        "lr": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left"), None],
        "batch_size": [_COUNT, None],
        "rank_by": [StrOptions(set(_RANK_BY))],
        "patch_size": [_COUNT, StrOptions({"auto"})],
        "n_patches": [_COUNT, StrOptions({"auto"})],
        "merge_identical_tokens": ["boolean"],
        "device": [str, torch.device],
        "n_threads": [_COUNT, None],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        n_tiers=5,
        preset="fast",
        n_members=None,
        d_model=None,
        n_layers=None,
        n_heads=None,
        d_ff=None,
        dropout=None,
        rank_loss_weight=None,
        top_weight=None,
        max_epochs=None,
        lr=None,
        weight_decay=None,
        batch_size=None,
        rank_by="combined",
        patch_size="auto",
        n_patches="auto",
        merge_identical_tokens=True,
        device="cpu",
        n_threads=1,
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.n_tiers = n_tiers
        self.preset = preset
        self.n_members = n_members
        self.d_model = d_model
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.d_ff = d_ff
        self.dropout = dropout
        self.rank_loss_weight = rank_loss_weight
        self.top_weight = top_weight
        self.max_epochs = max_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.rank_by = rank_by
        self.patch_size = patch_size
        self.n_patches = n_patches
        self.merge_identical_tokens = merge_identical_tokens
        self.device = device
        self.n_threads = n_threads
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    # --- fitting -------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the ranker on architectures' features and their accuracies.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_patches * patch_size ** 2)
            Flattened patches, e.g. the output of
            :class:`~sknar.encoding.NARFeatureEncoder`.
        y : array-like of shape (n_samples,)
            Accuracies (higher is better); finite. Any scale works: the tiers are
            quantiles of ``y`` and the rank loss uses only the order of its values.

        Returns
        -------
        self : NARRanker
            The fitted ranker.
        """
        # The layout travels on the encoder's output (or its DataFrame columns), which
        # validation turns into a plain array: read it first.
        carries_layout = hasattr(X, "n_patches") or hasattr(X, "columns")
        layout_source = X if carries_layout else None
        X, y = validate_data(self, X, y, dtype=np.float32, y_numeric=True)
        X = _writable(X)
        settings = self._settings(len(y))
        check_device(self.device)
        try:
            self._fit(X, y, settings, X if layout_source is None else layout_source)
        except BaseException:
            # An interrupted or failed fit leaves no half-trained model behind.
            self._forget_fit()
            raise
        return self

    def _fit(self, X, y, settings, layout_source):
        previous = self._previous_network() if self.warm_start else None
        self.settings_ = settings
        n_patches, patch_size = self._token_layout(layout_source)
        if self.n_tiers == 1:
            # One tier: the tier head has nothing to learn and NAR reduces to pairwise ranking.
            self.tier_transformer_ = None
            self.n_tiers_ = 1
            tiers = np.zeros(len(y))
        else:
            self.tier_transformer_ = TierTransformer(n_tiers=self.n_tiers).fit(y)
            self.n_tiers_ = self.tier_transformer_.n_tiers_
            tiers = self.tier_transformer_.transform(y)
        self.n_patches_, self.patch_size_ = n_patches, patch_size
        self.n_op_codes_ = count_op_codes(X[:, : patch_size * patch_size])
        self.token_index_, self.token_twins_ = identical_tokens(
            X, n_patches, patch_size, merge=self.merge_identical_tokens
        )
        X = self._network_input(X)
        targets = np.column_stack([tiers, _rank_targets(y, settings["top_weight"])])
        targets = targets.astype(np.float32)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        initial_state = None
        if previous is not None and previous[0] == self._network_shape():
            initial_state = previous[1]
        self.net_ = self._train(X, targets, settings, seed, initial_state)
        self.loss_curve_ = [float(loss) for loss in self.net_.history[:, "train_loss"]]
        tier_logits, scores = self._forward(X)
        if not (np.all(np.isfinite(tier_logits)) and np.all(np.isfinite(scores))):
            raise FloatingPointError(
                divergence_message(
                    "the trained network's outputs are not finite",
                    epoch=settings["max_epochs"],
                    max_epochs=settings["max_epochs"],
                    lr=settings["lr"],
                    largest_feature=float(np.max(np.abs(X), initial=0.0)),
                )
            )
        member_tiers = _expected_tier(tier_logits)
        self.score_center_ = np.column_stack([scores.mean(axis=0), -member_tiers.mean(axis=0)])
        self.score_spread_ = np.column_stack([_nonzero_std(scores), _nonzero_std(member_tiers)])
        # Prediction needs the module only: the optimizer state and the history would
        # make the pickled model several times larger.
        self.net_.trim_for_prediction()

    def _previous_network(self):
        """The shape and weights of the fitted network, or None before a first fit."""
        if not hasattr(self, "net_"):
            return None
        state = {k: v.detach().clone() for k, v in self.net_.module_.state_dict().items()}
        return self._network_shape(), state

    def _network_shape(self):
        """What a network's weights depend on: kept tokens, op codes, tiers, model sizes."""
        model = ("n_members", "d_model", "n_layers", "n_heads", "d_ff")
        return (
            tuple(int(t) for t in self.token_index_),
            self.patch_size_,
            self.n_op_codes_,
            self.n_tiers_,
            tuple(self.settings_[name] for name in model),
        )

    def _train(self, X, targets, settings, seed, initial_state=None):
        """Build and train the skorch net (from ``initial_state`` when given); refuse an
        interrupted training."""
        guard = TrainingGuard(max_epochs=settings["max_epochs"])
        progress = EpochProgress(total=settings["max_epochs"]) if self.verbose == 1 else None
        with forked_torch_rng(seed, self.device), limit_threads(self.n_threads):
            net = self._build_net(settings, seed, guard, progress)
            try:
                if initial_state is None:
                    net.fit(X, targets)
                else:
                    net.initialize()
                    net.module_.load_state_dict(initial_state)
                    net.partial_fit(X, targets)
            finally:
                if progress is not None:
                    progress.close()
        if guard.epochs_done_ < settings["max_epochs"]:
            # skorch catches KeyboardInterrupt and returns as if training had finished.
            raise KeyboardInterrupt(
                f"NARRanker.fit was interrupted after {guard.epochs_done_} of "
                f"{settings['max_epochs']} epochs; the partly trained model was discarded."
            )
        return net

    def _forget_fit(self):
        for name in [name for name in vars(self) if name.endswith("_")]:
            if not name.startswith("_"):
                delattr(self, name)

    def _settings(self, n_samples):
        settings = dict(PRESETS[self.preset])
        if n_samples < SMALL_DATA_SIZE:
            settings.update(SMALL_DATA_OVERRIDES.get(self.preset, {}))
        for name in settings:
            value = getattr(self, name)
            if value is not None:
                settings[name] = value
        if settings["d_model"] % settings["n_heads"]:
            raise ValueError(
                f"n_heads={settings['n_heads']} must divide d_model={settings['d_model']}."
            )
        if settings["rank_loss_weight"] == 0 and (self.n_tiers == 1 or self.rank_by == "score"):
            raise ValueError(
                "rank_loss_weight=0 leaves the score head untrained: it needs n_tiers >= 2 "
                f"and rank_by other than 'score' (got n_tiers={self.n_tiers}, "
                f"rank_by={self.rank_by!r})."
            )
        return settings

    def _build_net(self, settings, seed, guard, progress):
        n_members = settings["n_members"]
        ensemble = {"module": NAREnsemble, "module__n_members": n_members}
        callbacks = _schedule_callbacks(0, settings["max_epochs"])
        callbacks.append(("training_guard", guard))
        if progress is not None:
            callbacks.append(("progress", progress))
        return NARNet(
            **(ensemble if n_members > 1 else {"module": NARModule}),
            module__n_patches=len(self.token_index_),
            module__patch_size=self.patch_size_,
            module__n_tiers=self.n_tiers_,
            module__d_model=settings["d_model"],
            module__n_layers=settings["n_layers"],
            module__n_heads=settings["n_heads"],
            module__d_ff=settings["d_ff"],
            module__dropout=settings["dropout"],
            module__n_op_codes=self.n_op_codes_,
            criterion__rank_loss_weight=settings["rank_loss_weight"],
            criterion__top_weight=settings["top_weight"],
            optimizer__weight_decay=settings["weight_decay"],
            lr=settings["lr"],
            max_epochs=settings["max_epochs"],
            batch_size=settings["batch_size"],
            iterator_valid__batch_size=max(settings["batch_size"], _MIN_PREDICT_BATCH_SIZE),
            iterator_train=TensorBatches,
            iterator_valid=TensorBatches,
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(seed),
            # One fused update of all the weights instead of a loop of small operations.
            optimizer__fused=True,
            callbacks=callbacks,
            device=self.device,
            verbose=int(self.verbose >= 2),
        )

    def _token_layout(self, X):
        return token_layout(
            X,
            n_patches=None if self.n_patches == "auto" else self.n_patches,
            patch_size=None if self.patch_size == "auto" else self.patch_size,
        )

    # --- prediction ----------------------------------------------------------------------

    def _forward(self, X):
        """Tier logits (n, n_members, n_tiers) and scores (n, n_members) of every member."""
        # Each DataLoader pass draws a base seed from torch's global RNG: keep the user's.
        with torch.no_grad(), torch.random.fork_rng(devices=[]), limit_threads(self.n_threads):
            tier_logits, scores = self.net_.forward(X, training=False, device="cpu")
        tier_logits, scores = tier_logits.double().numpy(), scores.double().numpy()
        if scores.ndim == 1:
            return tier_logits[:, None, :], scores[:, None]
        return tier_logits, scores

    def _checked(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, reset=False)
        check_merged_tokens(X, self.token_twins_, self.patch_size_)
        return self._network_input(X)

    def _network_input(self, X):
        """The columns of the tokens the network sees (a writable array)."""
        if len(self.token_index_) == self.n_patches_:
            return _writable(X)
        return token_view(X, self.patch_size_)[:, self.token_index_].reshape(len(X), -1)

    def predict(self, X):
        """Ranking score of each architecture; higher is better.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features laid out as in ``fit``.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Sort descending to rank; what it is depends on ``rank_by``.
        """
        tier_logits, scores = self._forward(self._checked(X))
        if self.rank_by == "expected_tier" or self.settings_["rank_loss_weight"] == 0:
            return -_members_proba(tier_logits) @ np.arange(tier_logits.shape[-1])
        score_z = (scores - self.score_center_[:, 0]) / self.score_spread_[:, 0]
        if self.rank_by == "score":
            return scores[:, 0] if scores.shape[1] == 1 else score_z.mean(axis=1)
        member_tiers = _expected_tier(tier_logits)
        tier_z = (-member_tiers - self.score_center_[:, 1]) / self.score_spread_[:, 1]
        return (score_z + tier_z).mean(axis=1)

    def predict_proba(self, X):
        """Probability of each quality tier, column 0 the top tier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features laid out as in ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_tiers_)
            Rows sum to one.
        """
        tier_logits, _ = self._forward(self._checked(X))
        return _members_proba(tier_logits)

    def predict_tier(self, X):
        """Most probable tier of each architecture (0 = best).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features laid out as in ``fit``.

        Returns
        -------
        tiers : ndarray of shape (n_samples,)
            Integer tier labels.
        """
        return np.argmax(self.predict_proba(X), axis=1)

    def score(self, X, y, sample_weight=None):
        """Kendall's tau-b between ``y`` and :meth:`predict` (1 = same ranking).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features laid out as in ``fit``.
        y : array-like of shape (n_samples,)
            True accuracies.
        sample_weight : None
            Not supported; present for the scikit-learn signature.

        Returns
        -------
        tau : float
        """
        if sample_weight is not None:
            raise ValueError("NARRanker.score does not support sample_weight.")
        return kendall_tau(y, self.predict(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        return tags


def _rank_targets(y, top_weight):
    """What orders the rank loss's pairs: ``y`` scaled by a power of two, or, when part of
    the loss is top-weighted, each value's quantile in ``(0, 1]``, which keeps its gains
    finite whatever the scale of ``y`` (ties share a quantile, so the order is the same)."""
    if top_weight > 0:
        return rankdata(y) / len(y)
    return _power_of_two_scaled(y)


def _power_of_two_scaled(y):
    """``y`` divided by the power of two that brings its largest magnitude into [1, 2).

    The rank loss compares accuracies in float32, where 1e40 overflows and 1e-50 vanishes.
    A power of two scales exactly, so ordinary accuracies keep the very float32 values, ties
    and pair order they had unscaled.
    """
    largest = np.max(np.abs(y), initial=0.0)
    if largest == 0 or not np.isfinite(largest):
        return y
    return np.ldexp(y, 1 - int(np.frexp(largest)[1]))


def _writable(X):
    """A writable array: torch warns on (and cannot safely share) read-only memory, such as
    the memory-mapped folds that joblib hands to parallel grid-search workers."""
    return X if X.flags.writeable else X.copy()


def _softmax(logits):
    """Softmax over the last axis."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _members_proba(tier_logits):
    """Tier probabilities averaged over the members: shape (n, n_tiers)."""
    return _softmax(tier_logits).mean(axis=1)


def _expected_tier(tier_logits):
    """Expected tier under each member's probabilities: shape (n, n_members)."""
    return _softmax(tier_logits) @ np.arange(tier_logits.shape[-1])


def _nonzero_std(values):
    """Standard deviation of each column, 1.0 where a column is constant."""
    spread = np.std(values, axis=0)
    return np.where(spread > 0, spread, 1.0)
