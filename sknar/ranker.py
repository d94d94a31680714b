"""NARRanker: the Neural Architecture Ranker as a scikit-learn estimator."""

import numbers
from contextlib import contextmanager
from math import isqrt

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._net import NARNet
from .encoding import get_patch_layout
from .metrics import kendall_tau
from .nn import NAREnsemble, NARModule
from .tiers import TierTransformer

__all__ = ["NARRanker", "PRESETS", "SMALL_DATA_OVERRIDES", "SMALL_DATA_SIZE"]

#: Model and training settings of each preset; explicit parameters override them.
PRESETS = {
    # Chosen on a validation split of 781 NAS-Bench-201 training architectures (CIFAR-10):
    # no dropout and a strong rank loss ranked best. Three members: trained on n
    # architectures of a random draw and validated on the rest (NAS-Bench-201 CIFAR-100 and
    # ImageNet16-120 and the NAS-Bench-101 slice, CIFAR-10 too at 1,000; two or three draws
    # each), three networks ranked better than one by +0.028 / +0.024 / +0.023 Kendall tau
    # at n = 100 / 424 / 1,000, and, with identical tokens merged, fit 1,000 NAS-Bench-201
    # architectures in under a minute on one CPU core.
    "fast": dict(
        n_members=3,
        d_model=64,
        n_layers=2,
        n_heads=4,
        d_ff=128,
        dropout=0.0,
        rank_loss_weight=10.0,
        max_epochs=100,
        lr=2e-3,
        weight_decay=1e-2,
        batch_size=64,
    ),
    # The reference's NAS-Bench-201 configuration (its NAS-Bench-101 one is wider: d_model
    # 256, d_ff 1024, batch 256, 35 epochs); its Noam schedule peaks near lr 1e-3.
    "paper": dict(
        n_members=1,
        d_model=128,
        n_layers=6,
        n_heads=4,
        d_ff=512,
        dropout=0.1,
        rank_loss_weight=1.0,
        max_epochs=55,
        lr=1e-3,
        weight_decay=1e-2,
        batch_size=128,
    ),
}
#: Below this many training architectures a preset switches to its small-data settings.
SMALL_DATA_SIZE = 300
#: What changes in each preset below ``SMALL_DATA_SIZE`` training architectures. Trained on
#: n architectures and validated on others of the same draw (NAS-Bench-201, three datasets,
#: two draws, never the benchmarks' splits), a narrower model in smaller batches ranked
#: better at n = 100 and 250 (mean Kendall tau +0.037 and +0.024); at 424 the same narrow
#: model in batches of 32 (with rank loss weight 30) was worse (-0.007).
SMALL_DATA_OVERRIDES = {"fast": dict(d_model=32, d_ff=64, batch_size=32), "paper": {}}
_MAX_AUTO_PATCH_SIZE = 16
_MIN_PREDICT_BATCH_SIZE = 1024
_RANK_BY = ("combined", "score", "expected_tier")


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
        Default model size and training schedule. ``"fast"`` is tuned for a laptop CPU;
        ``"paper"`` uses the reference NAS-Bench-201 configuration (d_model 128, 6 layers,
        4 heads, d_ff 512, 55 epochs, batch 128).
        Parameters left as None take the preset's value; with fewer than
        ``SMALL_DATA_SIZE`` (300) training architectures the fast preset is narrower
        (d_model 32, d_ff 64) and trains in batches of 32 (``SMALL_DATA_OVERRIDES``).
        ``settings_`` tells what a fit used.
    n_members : int, default=None
        Number of NAR networks trained side by side from independent initialisations (a
        deep ensemble, :class:`~sknar.nn.NAREnsemble`); predictions average them. Fit and
        prediction time grow in proportion. None takes the preset's: 3 for ``"fast"``, 1
        for ``"paper"``.
    d_model, n_layers, n_heads, d_ff : int, default=None
        Width, encoder depth, attention heads and feed-forward width.
    dropout : float, default=None
        Dropout in the transformer layers.
    rank_loss_weight : float, default=None
        Weight of the pairwise rank loss; 0 trains the tier classifier only (the score head
        then stays untrained, so ``rank_by="combined"`` ranks by the expected tier alone
        and ``rank_by="score"`` is refused).
    max_epochs : int, default=None
        Training epochs (the cosine learning-rate schedule spans them).
    lr : float, default=None
        AdamW learning rate.
    weight_decay : float, default=None
        AdamW weight decay.
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
        architecture once. NAR's encoding repeats a cell's FLOPs and params patches for
        every cell of a stage (NAS-Bench-201: 31 tokens, 6 distinct; NAS-Bench-101: 19, 11
        distinct), and the repeats carry no information; merging them makes fit and
        prediction several times faster. Prediction checks that the merged tokens are still
        identical and raises a ValueError naming the first that is not.
    device : str, default="cpu"
        Torch device to train on, e.g. ``"cuda"``. A ranker trained on a GPU unpickles and
        predicts on a CPU-only machine.
    n_threads : int or None, default=1
        Torch intra-op threads while fitting and predicting; the previous setting is
        restored afterwards. NAR models are small, so one thread is usually fastest, and
        several threads on a busy machine spin against each other (measured here: training
        steps 50 times slower with 2 threads beside one other busy process on 2 cores).
        None keeps torch's global setting.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout and shuffling. The caller's global torch and
        numpy random states are left untouched.
    verbose : int, default=0
        Print skorch's per-epoch table when positive.

    Attributes
    ----------
    net_ : sknar._net.NARNet
        The fitted skorch net.
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
    n_features_in_ : int
        Number of features seen in ``fit``.

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
        self.random_state = random_state
        self.verbose = verbose

    # --- fitting -------------------------------------------------------------------------

    def fit(self, X, y):
        """Fit the ranker on architectures' features and their accuracies.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_patches * patch_size ** 2)
            Flattened patches, e.g. the output of
            :class:`~sknar.encoding.NARFeatureEncoder`.
        y : array-like of shape (n_samples,)
            Accuracies (higher is better); finite.

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
        settings = self.settings_ = self._settings(len(y))
        n_patches, patch_size = self._token_layout(X if layout_source is None else layout_source)
        if settings["rank_loss_weight"] == 0 and (self.n_tiers == 1 or self.rank_by == "score"):
            raise ValueError(
                "rank_loss_weight=0 leaves the score head untrained: it needs n_tiers >= 2 "
                f"and rank_by other than 'score' (got n_tiers={self.n_tiers}, "
                f"rank_by={self.rank_by!r})."
            )
        n_members = settings["n_members"]
        if not isinstance(n_members, numbers.Integral) or n_members < 1:
            raise ValueError(f"n_members must be a positive int, got {n_members!r}.")
        if settings["d_model"] % settings["n_heads"]:
            raise ValueError(
                f"n_heads={settings['n_heads']} must divide d_model={settings['d_model']}."
            )
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
        self.n_op_codes_ = _count_op_codes(X[:, : patch_size * patch_size])
        self.token_index_, self.token_twins_ = _identical_tokens(
            X, n_patches, patch_size, merge=self.merge_identical_tokens
        )
        X = self._network_input(X)
        targets = np.column_stack([tiers, y]).astype(np.float32)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        with _forked_torch_rng(seed, self.device), _torch_threads(self.n_threads):
            self.net_ = self._build_net(settings, seed)
            self.net_.fit(X, targets)
        tier_logits, scores = self._forward(X)
        member_tiers = _expected_tier(tier_logits)
        self.score_center_ = np.column_stack([scores.mean(axis=0), -member_tiers.mean(axis=0)])
        self.score_spread_ = np.column_stack(
            [_nonzero_std(scores), _nonzero_std(member_tiers)]
        )
        return self

    def _settings(self, n_samples):
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {self.preset!r}.")
        if self.rank_by not in _RANK_BY:
            raise ValueError(f"rank_by must be one of {_RANK_BY}, got {self.rank_by!r}.")
        settings = dict(PRESETS[self.preset])
        if n_samples < SMALL_DATA_SIZE:
            settings.update(SMALL_DATA_OVERRIDES.get(self.preset, {}))
        for name in settings:
            value = getattr(self, name)
            if value is not None:
                settings[name] = value
        return settings

    def _build_net(self, settings, seed):
        n_members = settings["n_members"]
        ensemble = {"module": NAREnsemble, "module__n_members": n_members}
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
            optimizer__weight_decay=settings["weight_decay"],
            lr=settings["lr"],
            max_epochs=settings["max_epochs"],
            batch_size=settings["batch_size"],
            iterator_valid__batch_size=max(settings["batch_size"], _MIN_PREDICT_BATCH_SIZE),
            iterator_train__shuffle=True,
            iterator_train__generator=torch.Generator().manual_seed(seed),
            device=self.device,
            verbose=self.verbose,
        )

    def _token_layout(self, X):
        n_patches = None if self.n_patches == "auto" else self.n_patches
        patch_size = None if self.patch_size == "auto" else self.patch_size
        try:
            return get_patch_layout(X, n_patches=n_patches, patch_size=patch_size)
        except ValueError:
            if n_patches is not None or patch_size is not None or np.ndim(X) != 2:
                raise
        width = np.shape(X)[1]
        patch_size = max(
            p for p in range(1, min(_MAX_AUTO_PATCH_SIZE, isqrt(max(width, 1))) + 1)
            if width % (p * p) == 0
        )
        return width // (patch_size * patch_size), patch_size

    # --- prediction ----------------------------------------------------------------------

    def _forward(self, X):
        """Tier logits (n, n_members, n_tiers) and scores (n, n_members) of every member."""
        # Each DataLoader pass draws a base seed from torch's global RNG: keep the user's.
        with torch.no_grad(), torch.random.fork_rng(devices=[]), _torch_threads(self.n_threads):
            tier_logits, scores = self.net_.forward(X, training=False, device="cpu")
        tier_logits, scores = tier_logits.double().numpy(), scores.double().numpy()
        if scores.ndim == 1:
            return tier_logits[:, None, :], scores[:, None]
        return tier_logits, scores

    def _checked(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, reset=False)
        self._check_merged_tokens(X)
        return self._network_input(X)

    def _network_input(self, X):
        """The columns of the tokens the network sees (a writable array)."""
        if len(self.token_index_) == self.n_patches_:
            return _writable(X)
        return _token_view(X, self.patch_size_)[:, self.token_index_].reshape(len(X), -1)

    def _check_merged_tokens(self, X):
        tokens = _token_view(X, self.patch_size_)
        for token, twin in enumerate(self.token_twins_):
            if token == twin:
                continue
            differs = np.flatnonzero(np.any(tokens[:, token] != tokens[:, twin], axis=1))
            if differs.size:
                raise ValueError(
                    f"token {token} of X differs from token {twin} at row {differs[0]}, "
                    "but the two were identical in every training architecture and were "
                    "merged (merge_identical_tokens=True). Fit on architectures that show "
                    "the difference, or with merge_identical_tokens=False."
                )

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


@contextmanager
def _forked_torch_rng(seed, device):
    """Seed torch inside the block and restore the caller's RNG state afterwards."""
    devices = []
    if str(device).startswith("cuda") and torch.cuda.is_available():
        index = torch.device(device).index
        devices = [torch.cuda.current_device() if index is None else index]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@contextmanager
def _torch_threads(n_threads):
    """Use ``n_threads`` torch threads inside the block (None: leave the setting alone)."""
    if n_threads is None:
        yield
        return
    if int(n_threads) < 1:
        raise ValueError(f"n_threads must be a positive int or None, got {n_threads!r}.")
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _count_op_codes(op_patches, max_codes=64):
    """Number of op codes if the first patch holds small non-negative integers, else None.

    NAR's first patch is the op-code patch; treating its entries as categories lets the model
    tell ops apart that cost nothing (skip, pooling, zero). Generic tabular X, whose first
    values are not such codes, keeps a plain linear embedding.
    """
    if op_patches.size == 0 or not np.all(np.isfinite(op_patches)):
        return None
    if op_patches.min() < 0 or not np.array_equal(op_patches, np.round(op_patches)):
        return None
    n_codes = int(op_patches.max()) + 1
    return n_codes if 2 <= n_codes <= max_codes else None


def _token_view(X, patch_size):
    """X as (n_samples, n_tokens, patch_size ** 2)."""
    return X.reshape(len(X), -1, patch_size * patch_size)


def _identical_tokens(X, n_patches, patch_size, *, merge):
    """Kept token indices and, for every token, the kept token it equals.

    Tokens are compared over all training rows; the first of each group of identical tokens
    is kept, so the op-code patch (token 0) stays first.
    """
    if not merge:
        everything = np.arange(n_patches)
        return everything, everything
    tokens = _token_view(X, patch_size)
    first_seen = {}
    twins = np.empty(n_patches, dtype=np.intp)
    for token in range(n_patches):
        values = np.ascontiguousarray(tokens[:, token]).tobytes()
        twins[token] = first_seen.setdefault(values, token)
    return np.unique(twins), twins


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
