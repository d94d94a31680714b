"""NARRanker: the scikit-learn contract, reproducibility, persistence and learning."""

import io
import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from sknar import NARRanker
from sknar.encoding import NARFeatureEncoder
from sknar.metrics import get_scorer, kendall_tau
from sknar.model_selection import TierStratifiedKFold
from sknar.ranker import PRESETS
from sknar.utils.testing import require_data

TINY = dict(n_tiers=3, d_model=16, n_heads=2, d_ff=16, max_epochs=30, batch_size=32)


def _synthetic(n, seed):
    """Architectures as 4 patches of 2x2 whose accuracy is a smooth function of them."""
    rng = np.random.RandomState(seed)
    X = rng.rand(n, 16)
    y = X[:, :4].sum(axis=1) - X[:, 4:8].sum(axis=1) ** 2 / 4 + 0.05 * rng.randn(n)
    return X, y


@pytest.fixture(scope="module")
def data():
    X, y = _synthetic(400, seed=0)
    return X[:300], y[:300], X[300:], y[300:]


@pytest.fixture(scope="module")
def fitted(data):
    X_train, y_train, _, _ = data
    return NARRanker(random_state=0, **TINY).fit(X_train, y_train)


def test_learns_a_ranking_far_better_than_chance(fitted, data):
    _, _, X_test, y_test = data
    assert kendall_tau(y_test, fitted.predict(X_test)) > 0.5
    expected = kendall_tau(y_test, fitted.predict(X_test))
    assert fitted.score(X_test, y_test) == pytest.approx(expected)


def test_tier_probabilities_and_labels(fitted, data):
    _, _, X_test, y_test = data
    proba = fitted.predict_proba(X_test)
    assert proba.shape == (len(X_test), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    tiers = fitted.predict_tier(X_test)
    np.testing.assert_array_equal(tiers, proba.argmax(axis=1))
    true_tiers = fitted.tier_transformer_.transform(y_test)
    # column 0 is the top tier: predicted top-tier architectures are truly better on average
    assert y_test[tiers == 0].mean() > y_test[tiers == 2].mean()
    assert np.mean(tiers == true_tiers) > 0.5


@pytest.mark.parametrize("rank_by", ["score", "expected_tier", "combined"])
def test_every_ranking_output_ranks(fitted, data, rank_by):
    _, _, X_test, y_test = data
    ranker = clone(fitted).set_params(rank_by=rank_by)
    ranker.__dict__.update({k: v for k, v in vars(fitted).items() if k.endswith("_")})
    assert kendall_tau(y_test, ranker.predict(X_test)) > 0.4


def test_same_seed_same_predictions_and_user_rng_untouched(data):
    X_train, y_train, X_test, _ = data
    torch.manual_seed(123)
    np.random.seed(123)  # noqa: NPY002 (the user's legacy global state must be kept)
    torch_state = torch.random.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002
    first = NARRanker(random_state=7, **dict(TINY, max_epochs=3)).fit(X_train, y_train)
    second = NARRanker(random_state=7, **dict(TINY, max_epochs=3)).fit(X_train, y_train)
    np.testing.assert_array_equal(first.predict(X_test), second.predict(X_test))
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)  # noqa: NPY002
    other = NARRanker(random_state=8, **dict(TINY, max_epochs=3)).fit(X_train, y_train)
    assert not np.array_equal(first.predict(X_test), other.predict(X_test))


@pytest.mark.parametrize("dump, load", [
    (pickle.dumps, pickle.loads),
    (lambda obj: _joblib_bytes(obj), lambda raw: joblib.load(io.BytesIO(raw))),
])
def test_persistence_keeps_predictions(fitted, data, dump, load):
    _, _, X_test, _ = data
    restored = load(dump(fitted))
    np.testing.assert_array_equal(restored.predict(X_test), fitted.predict(X_test))
    np.testing.assert_array_equal(restored.predict_proba(X_test), fitted.predict_proba(X_test))


def _joblib_bytes(obj):
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    return buffer.getvalue()


def test_clone_keeps_parameters_only(fitted):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "net_")


def test_net_routes_presets_and_overrides(fitted):
    members = getattr(fitted.net_.module_, "members", [fitted.net_.module_])
    assert len(members) == fitted.settings_["n_members"] == PRESETS["fast"]["n_members"]
    assert members[0].tier_embeddings.shape == (3, 16)
    rank_loss_weight = fitted.net_.get_params()["criterion__rank_loss_weight"]
    assert rank_loss_weight == PRESETS["fast"]["rank_loss_weight"]
    assert fitted.net_.max_epochs == 30
    # Training batches as asked; prediction in large batches (faster whole-space scoring).
    assert fitted.net_.batch_size == 32
    assert fitted.net_.get_params()["iterator_valid__batch_size"] == 1024


def test_fast_preset_is_narrower_on_small_training_sets(data):
    from sknar.ranker import SMALL_DATA_OVERRIDES, SMALL_DATA_SIZE

    X, y = data[0], data[1]
    small = SMALL_DATA_OVERRIDES["fast"]
    n_small = SMALL_DATA_SIZE - 1
    fit_small = NARRanker(max_epochs=1, random_state=0).fit(X[:n_small], y[:n_small])
    assert fit_small.settings_["d_model"] == small["d_model"] < PRESETS["fast"]["d_model"]
    members = getattr(fit_small.net_.module_, "members", [fit_small.net_.module_])
    assert members[0].tier_embeddings.shape[1] == small["d_model"]
    assert fit_small.net_.batch_size == small["batch_size"]
    n_large = SMALL_DATA_SIZE
    fit_large = NARRanker(max_epochs=1, random_state=0).fit(X[:n_large], y[:n_large])
    assert fit_large.settings_ == {**PRESETS["fast"], "max_epochs": 1}
    # Explicit parameters win over the small-data settings, and the paper preset keeps its own.
    explicit = NARRanker(d_model=16, max_epochs=1, random_state=0).fit(X[:100], y[:100])
    assert explicit.settings_["d_model"] == 16
    assert explicit.settings_["batch_size"] == small["batch_size"]
    assert NARRanker(preset="paper")._settings(10) == PRESETS["paper"]


def test_members_are_trained_side_by_side_and_averaged(data):
    from sknar.nn import NAREnsemble

    X_train, y_train, X_test, y_test = data
    ranker = NARRanker(n_members=3, random_state=0, **dict(TINY, max_epochs=10))
    ranker.fit(X_train, y_train)
    assert isinstance(ranker.net_.module_, NAREnsemble)
    assert len(ranker.net_.module_.members) == ranker.settings_["n_members"] == 3
    tier_logits, scores = ranker._forward(X_test.astype(np.float32))
    assert tier_logits.shape == (len(X_test), 3, 3) and scores.shape == (len(X_test), 3)
    # Members start apart, and the ranking is the mean of their standardised rankings.
    assert not np.allclose(scores[:, 0], scores[:, 1])
    member_probas = np.exp(tier_logits) / np.exp(tier_logits).sum(axis=2, keepdims=True)
    np.testing.assert_allclose(ranker.predict_proba(X_test), member_probas.mean(axis=1),
                               rtol=1e-6)
    # rank_by changes only how predict combines the members: the refit is the same net.
    z_train = ranker._forward(X_train.astype(np.float32))[1]
    member_z = (scores - z_train.mean(axis=0)) / z_train.std(axis=0)
    score_ranker = clone(ranker).set_params(rank_by="score").fit(X_train, y_train)
    np.testing.assert_allclose(score_ranker.predict(X_test), member_z.mean(axis=1), rtol=1e-5)
    assert ranker.score(X_test, y_test) > 0.3
    restored = pickle.loads(pickle.dumps(ranker))
    np.testing.assert_array_equal(restored.predict(X_test), ranker.predict(X_test))


def test_plain_array_layout_is_the_largest_square_patch(fitted):
    assert (fitted.n_patches_, fitted.patch_size_) == (1, 4)
    X = np.random.RandomState(0).rand(40, 12)
    y = np.arange(40.0)
    ranker = NARRanker(random_state=0, **dict(TINY, max_epochs=1)).fit(X, y)
    assert (ranker.n_patches_, ranker.patch_size_) == (3, 2)
    explicit = NARRanker(patch_size=1, random_state=0, **dict(TINY, max_epochs=1)).fit(X, y)
    assert (explicit.n_patches_, explicit.patch_size_) == (12, 1)


def test_bad_inputs_are_named(fitted, data):
    X_train, y_train, X_test, _ = data
    with pytest.raises(ValueError, match="wrong feature width"):
        NARRanker(patch_size=3, **TINY).fit(X_train, y_train)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X_test[:, :12])
    y_nan = y_train.copy()
    y_nan[5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        NARRanker(**TINY).fit(X_train, y_nan)
    with pytest.raises(ValueError, match="preset"):
        NARRanker(preset="huge").fit(X_train, y_train)
    with pytest.raises(ValueError, match="n_heads"):
        NARRanker(d_model=10, n_heads=4).fit(X_train, y_train)
    with pytest.raises(ValueError, match="rank_by"):
        NARRanker(rank_by="best").fit(X_train, y_train)
    for n_members in (0, 2.5):
        with pytest.raises(InvalidParameterError, match="'n_members' parameter of NARRanker"):
            NARRanker(n_members=n_members).fit(X_train, y_train)


@pytest.mark.slow  # many trainings
def test_grid_search_and_cross_validation_with_sknar_scorers(data):
    X_train, y_train, _, _ = data
    ranker = NARRanker(random_state=0, **dict(TINY, max_epochs=5))
    cv = TierStratifiedKFold(n_splits=2, n_tiers=3, shuffle=True, random_state=0)
    search = GridSearchCV(
        ranker, {"rank_loss_weight": [0.0, 1.0]}, scoring=get_scorer("kendall_tau"), cv=cv,
        n_jobs=2,
    ).fit(X_train, y_train)
    assert set(search.cv_results_["param_rank_loss_weight"]) == {0.0, 1.0}
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    scores = cross_val_score(ranker, X_train, y_train, cv=cv, scoring="neg_mean_squared_error")
    assert scores.shape == (2,)


def test_pipeline_reads_the_token_layout_from_the_encoder():
    from sknar.datasets import load_nasbench201

    require_data("nasbench201/nats_tss_test_acc_200ep.csv")
    bench = load_nasbench201("cifar10")
    rng = np.random.RandomState(0)
    order = rng.permutation(len(bench.archs))
    train, test = order[:300], order[300:1300]
    archs = [bench.archs[i] for i in train]
    model = make_pipeline(
        NARFeatureEncoder(bench.space, dataset="cifar10"),
        NARRanker(random_state=0, **dict(TINY, n_tiers=5, max_epochs=15)),
    ).fit(archs, bench.y[train])
    ranker = model[-1]
    assert (ranker.n_patches_, ranker.patch_size_, ranker.n_op_codes_) == (31, 4, 5)
    # The 15 cells repeat per stage: the op patch, the FLOPs and params patches of the first
    # and third stage, and one patch for the second stage, whose scaled FLOPs and params
    # coincide.
    assert ranker.token_index_.tolist() == [0, 1, 2, 11, 21, 22]
    tau = kendall_tau(bench.y[test], model.predict([bench.archs[i] for i in test]))
    assert tau > 0.4


def _with_repeated_tokens(X):
    """X's 4 tokens of 2x2 followed by two copies of token 1: tokens 4 and 5."""
    tokens = X.reshape(len(X), 4, 4)
    return np.concatenate([tokens, tokens[:, [1, 1]]], axis=1).reshape(len(X), -1)


def test_identical_tokens_are_merged_and_checked_at_prediction(data):
    X_train, y_train, X_test, _ = data
    params = dict(TINY, max_epochs=5, patch_size=2, random_state=0)
    merged = NARRanker(**params).fit(_with_repeated_tokens(X_train), y_train)
    assert merged.token_index_.tolist() == [0, 1, 2, 3]
    assert merged.token_twins_.tolist() == [0, 1, 2, 3, 1, 1]
    # The network sees exactly the distinct tokens: the same fit as without the repeats.
    plain = NARRanker(**params).fit(X_train, y_train)
    np.testing.assert_array_equal(
        merged.predict(_with_repeated_tokens(X_test)), plain.predict(X_test)
    )
    unmerged = NARRanker(merge_identical_tokens=False, **params)
    unmerged.fit(_with_repeated_tokens(X_train), y_train)
    assert unmerged.token_index_.tolist() == list(range(6))
    broken = _with_repeated_tokens(X_test)
    broken[3, 5 * 4] += 1.0
    with pytest.raises(ValueError, match="token 5 of X differs from token 1 at row 3"):
        merged.predict(broken)
    assert np.all(np.isfinite(unmerged.predict(broken)))


def test_thread_setting_is_restored(data):
    X_train, y_train, X_test, _ = data
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        ranker = NARRanker(n_threads=1, random_state=0, **dict(TINY, max_epochs=1))
        ranker.fit(X_train, y_train).predict(X_test)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)
    with pytest.raises(ValueError, match="n_threads"):
        NARRanker(n_threads=0, **TINY).fit(X_train, y_train)


def test_one_tier_is_plain_pairwise_ranking(data):
    X_train, y_train, X_test, y_test = data
    ranker = NARRanker(random_state=0, **dict(TINY, n_tiers=1)).fit(X_train, y_train)
    assert ranker.tier_transformer_ is None
    np.testing.assert_allclose(ranker.predict_proba(X_test), 1.0)
    assert ranker.score(X_test, y_test) > 0.5


def test_read_only_input_is_accepted_without_warnings(fitted, data):
    import warnings

    X_train, y_train, X_test, _ = data
    # float32, so that validation does not copy (as with joblib's memory-mapped folds).
    X_train, X_test = X_train.astype(np.float32), X_test.astype(np.float32)
    X_train.flags.writeable = X_test.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ranker = NARRanker(random_state=0, **dict(TINY, max_epochs=1)).fit(X_train, y_train)
        assert ranker.predict(X_test).shape == (len(X_test),)


def test_without_rank_loss_the_tier_head_alone_ranks(data):
    X_train, y_train, X_test, y_test = data
    ranker = NARRanker(random_state=0, **dict(TINY, rank_loss_weight=0.0)).fit(X_train, y_train)
    expected_tier = ranker.predict_proba(X_test) @ np.arange(ranker.n_tiers_)
    # The untrained score head does not leak into the ranking.
    np.testing.assert_allclose(ranker.predict(X_test), -expected_tier)
    assert ranker.score(X_test, y_test) > 0.5
    for params in ({"n_tiers": 1}, {"rank_by": "score"}):
        with pytest.raises(ValueError, match="rank_loss_weight=0 leaves the score head"):
            NARRanker(**dict(TINY, rank_loss_weight=0.0, **params)).fit(X_train, y_train)


def test_a_ranker_fitted_on_cuda_loads_and_predicts_on_cpu(fitted, data):
    import copy
    import warnings

    _, _, X_test, _ = data
    on_gpu = copy.copy(fitted)
    # What a ranker fitted with device="cuda" carries; its tensors are saved device-free by
    # skorch and mapped to the CPU when no GPU is there.
    on_gpu.net_ = copy.copy(fitted.net_)
    on_gpu.net_.device = "cuda"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        restored = pickle.loads(pickle.dumps(on_gpu))
    if not torch.cuda.is_available():
        assert str(restored.net_.device) == "cpu"
    np.testing.assert_allclose(restored.predict(X_test), fitted.predict(X_test), rtol=1e-5)


def test_narnet_routes_module_parameters_and_takes_soft_tier_targets():
    from sknar.ranker import NARNet
    from sknar.tiers import TierTransformer

    rng = np.random.RandomState(0)
    X = rng.rand(48, 2 * 3 * 3).astype(np.float32)
    accuracy = X.sum(axis=1)
    tiers = TierTransformer(n_tiers=3).fit(accuracy)
    soft = tiers.soft_transform(accuracy)
    y = np.column_stack([tiers.transform(accuracy), accuracy, soft]).astype(np.float32)
    net = NARNet(module__n_patches=2, module__patch_size=3, module__n_tiers=3,
                 module__d_model=8, module__n_heads=2, module__d_ff=8, max_epochs=3,
                 criterion__rank_loss_weight=0.5)
    net.fit(X, y)
    assert net.module_.tier_embeddings.shape == (3, 8)
    assert net.criterion_.rank_loss_weight == 0.5
    assert net.train_split is None and net.verbose == 0
    assert len(net.history) == 3 and np.isfinite(net.history[-1, "train_loss"])
    y_true = torch.as_tensor(y)
    with torch.no_grad():
        y_pred = net.forward(X, training=False)
        soft_loss = net.get_loss(y_pred, y_true)
        hard_loss = net.get_loss(y_pred, y_true[:, :2])
        logits, scores = y_pred
        accuracies = y_true[:, 1]
        expected_soft = net.criterion_(logits, scores, y_true[:, 2:], accuracies)
        expected_hard = net.criterion_(logits, scores, y_true[:, 0].long(), accuracies)
    # Columns 2 onwards are the soft targets; without them column 0 holds the hard tiers.
    torch.testing.assert_close(soft_loss, expected_soft)
    torch.testing.assert_close(hard_loss, expected_hard)
    assert not torch.equal(expected_soft, expected_hard)


def test_narnet_learning_rate_warms_up_then_decays():
    from sknar.ranker import NARNet

    rng = np.random.RandomState(0)
    X = rng.rand(16, 2 * 2 * 2).astype(np.float32)
    y = np.column_stack([rng.randint(0, 2, 16), rng.rand(16)]).astype(np.float32)
    net = NARNet(module__n_patches=2, module__patch_size=2, module__n_tiers=2,
                 module__d_model=8, module__n_heads=2, module__d_ff=8, max_epochs=6,
                 lr=0.1, warmup_epochs=2)
    lrs = net.fit(X, y).history[:, "event_lr"]
    assert lrs[0] < lrs[1] < lrs[2] == pytest.approx(0.1)
    assert lrs[2] > lrs[3] > lrs[4] > lrs[5] > 0.0
    restored = pickle.loads(pickle.dumps(net))  # the schedule pickles with the net
    np.testing.assert_array_equal(restored.forward(X)[1].numpy(), net.forward(X)[1].numpy())


# --- parameters, failures and what a fit leaves behind ----------------------------------

BAD_PARAMETERS = [
    # (parameter, value): each fitted silently or failed deep inside torch before
    ("max_epochs", 0),
    ("max_epochs", -5),
    ("max_epochs", 2.5),
    ("n_heads", 0),
    ("n_layers", 0),
    ("d_model", 0),
    ("d_ff", 0),
    ("n_members", 0),
    ("batch_size", 0),
    ("lr", 0),
    ("lr", -1e-3),
    ("weight_decay", -1.0),
    ("dropout", 1.0),
    ("rank_loss_weight", -10),
    ("n_tiers", 0),
    ("n_tiers", 2.0),
    ("preset", "huge"),
    ("rank_by", "best"),
    ("patch_size", 0),
    ("n_patches", "many"),
    ("merge_identical_tokens", "yes"),
    ("device", 0),
    ("n_threads", 0),
    ("random_state", "seed"),
    ("verbose", -1),
]


@pytest.mark.parametrize(
    "name, value", [pytest.param(n, v, id=f"{n}={v!r}") for n, v in BAD_PARAMETERS]
)
def test_bad_parameters_are_refused_at_fit_naming_the_parameter(data, name, value):
    X_train, y_train, _, _ = data
    ranker = NARRanker(**{name: value})
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of NARRanker"):
        ranker.fit(X_train, y_train)
    assert not hasattr(ranker, "net_")


@pytest.mark.parametrize("device, message", [
    ("bogus", "device='bogus' is not a torch device"),
    pytest.param("cuda", "torch finds no CUDA device", marks=pytest.mark.skipif(
        torch.cuda.is_available(), reason="this machine has a GPU")),
])
def test_an_unusable_device_is_refused_before_training(data, device, message):
    X_train, y_train, _, _ = data
    with pytest.raises(ValueError, match=message):
        NARRanker(device=device, **TINY).fit(X_train, y_train)


def test_none_takes_the_presets_value_for_every_setting(data):
    X_train, y_train, _, _ = data
    ranker = NARRanker(**{name: None for name in PRESETS["fast"]}, n_threads=None)
    ranker._validate_params()  # None is valid for every preset setting
    assert ranker._settings(len(y_train)) == PRESETS["fast"]


def _interrupt_at_epoch(monkeypatch, epoch):
    from sknar.ranker import NARNet

    train_step = NARNet.train_step

    def interrupted(net, batch, **fit_params):
        if len(net.history) == epoch:
            raise KeyboardInterrupt
        return train_step(net, batch, **fit_params)

    monkeypatch.setattr(NARNet, "train_step", interrupted)


def test_keyboard_interrupt_is_raised_and_leaves_no_model(data, monkeypatch):
    from sklearn.exceptions import NotFittedError

    X_train, y_train, X_test, _ = data
    ranker = NARRanker(random_state=0, **dict(TINY, max_epochs=3)).fit(X_train, y_train)
    _interrupt_at_epoch(monkeypatch, epoch=2)
    with pytest.raises(KeyboardInterrupt, match="interrupted after 1 of 3 epochs"):
        ranker.fit(X_train, y_train)
    # The earlier fit is gone too: no half-trained model answers predict.
    assert not [name for name in vars(ranker) if name.endswith("_")]
    with pytest.raises(NotFittedError):
        ranker.predict(X_test)


def test_a_diverging_training_raises_naming_the_likely_cause(data):
    X_train, y_train, _, _ = data
    ranker = NARRanker(lr=1e6, random_state=0, **dict(TINY, max_epochs=5))
    with pytest.raises(FloatingPointError, match=r"diverged: .* at epoch \d+ of 5.*lr=1e\+06"):
        ranker.fit(X_train, y_train)
    assert not hasattr(ranker, "net_")


@pytest.mark.parametrize("factor", [1e40, 1e-50, 100.0])
def test_the_ranking_does_not_depend_on_the_scale_of_y(data, factor):
    X_train, y_train, X_test, _ = data
    params = dict(TINY, max_epochs=5, random_state=0)
    plain = NARRanker(**params).fit(X_train, y_train)
    scaled = NARRanker(**params).fit(X_train, factor * y_train)
    np.testing.assert_array_equal(scaled.predict(X_test), plain.predict(X_test))
    np.testing.assert_array_equal(scaled.predict_proba(X_test), plain.predict_proba(X_test))


def test_ordinary_accuracies_reach_the_rank_loss_unchanged_in_float32():
    from sknar.ranker._ranker import _power_of_two_scaled

    # Scaling by a power of two is exact: the float32 targets, their ties and their order
    # are those of the unscaled accuracies, so fits on ordinary accuracies do not change.
    rng = np.random.RandomState(0)
    for accuracies in (rng.uniform(10, 94.4, 500), rng.uniform(0.1, 0.95, 500)):
        accuracies[:50] = accuracies[50:100] + 1e-9  # float32 near-ties stay ties
        scaled = _power_of_two_scaled(accuracies)
        ratio = scaled.astype(np.float32) / accuracies.astype(np.float32)
        assert np.all(ratio == ratio[0]) and np.log2(ratio[0]) % 1 == 0
        assert 1 <= np.max(np.abs(scaled)) < 2
    assert np.all(np.isfinite(_power_of_two_scaled(1e40 * accuracies).astype(np.float32)))


def test_the_fitted_model_keeps_what_prediction_needs_only(fitted, data):
    _, _, X_test, _ = data
    net = fitted.net_
    assert net.optimizer_ is None and len(net.history) == 0 and not net.callbacks_
    assert len(fitted.loss_curve_) == 30 and fitted.loss_curve_[-1] < fitted.loss_curve_[0]
    size = len(pickle.dumps(fitted))
    assert size < len(pickle.dumps(net.module_)) + 20_000


def test_verbose_one_shows_a_progress_bar_and_two_the_epoch_table(data, capfd):
    X_train, y_train, _, _ = data
    params = dict(TINY, max_epochs=3, random_state=0)
    NARRanker(**params).fit(X_train, y_train)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    NARRanker(verbose=1, **params).fit(X_train, y_train)
    out, err = capfd.readouterr()
    assert out == "" and "NARRanker" in err and "3/3" in err and "loss=" in err
    NARRanker(verbose=2, **params).fit(X_train, y_train)
    out, err = capfd.readouterr()
    assert "train_loss" in out and "3/3" not in err


def test_make_nar_pipeline_forwards_predict_tier():
    from sknar import make_nar_pipeline
    from sknar.spaces import NASBench201Space

    space = NASBench201Space()
    archs = space.sample(120, random_state=0)
    accuracy = np.array([a.count("conv_3x3") + 0.5 * a.count("conv_1x1") for a in archs])
    model = make_nar_pipeline(space, dataset="cifar10", random_state=0,
                              **dict(TINY, max_epochs=5))
    assert [name for name, _ in model.steps] == ["narfeatureencoder", "narranker"]
    assert model.get_params()["narranker__n_tiers"] == 3
    model.fit(archs, accuracy)
    features = model[0].transform(archs)
    np.testing.assert_array_equal(model.predict_tier(archs), model[-1].predict_tier(features))
    np.testing.assert_array_equal(model.predict_proba(archs), model[-1].predict_proba(features))
    restored = pickle.loads(pickle.dumps(clone(model).fit(archs, accuracy)))
    np.testing.assert_array_equal(restored.predict_tier(archs), model.predict_tier(archs))
    with pytest.raises(InvalidParameterError, match="'space' parameter of make_nar_pipeline"):
        make_nar_pipeline("nasbench201")


@pytest.mark.slow  # several full fits
def test_warm_start_refits_from_the_previous_weights(data):
    X_train, y_train, X_test, _ = data
    params = dict(TINY, n_members=2, random_state=0)
    cold = NARRanker(**params).fit(X_train, y_train)
    warm = pickle.loads(pickle.dumps(cold)).set_params(warm_start=True)
    warm.fit(X_train, y_train)
    # The second fit starts where the first ended: its first epoch's loss is far lower
    # than a fresh network's.
    assert warm.loss_curve_[0] < 0.5 * cold.loss_curve_[0]
    # With a learning rate too small to move, a warm refit keeps the previous weights.
    frozen = NARRanker(**dict(params, warm_start=True)).fit(X_train, y_train)
    first_state = {k: v.clone() for k, v in frozen.net_.module_.state_dict().items()}
    frozen.set_params(max_epochs=1, lr=1e-12).fit(X_train, y_train)
    refit_state = frozen.net_.module_.state_dict()
    for name, value in first_state.items():
        torch.testing.assert_close(refit_state[name], value, rtol=0, atol=1e-6)
    # A network of another shape cannot be continued: the refit starts afresh.
    reshaped = clone(cold).set_params(warm_start=True).fit(X_train, y_train)
    reshaped.set_params(n_tiers=4).fit(X_train, y_train)
    assert reshaped.loss_curve_ == pytest.approx(
        NARRanker(**dict(params, n_tiers=4)).fit(X_train, y_train).loss_curve_
    )
    assert np.all(np.isfinite(warm.predict(X_test)))


def test_a_fixed_random_state_gives_identical_scores(data):
    X_train, y_train, X_test, _ = data
    params = dict(TINY, max_epochs=5, n_members=3, random_state=3)
    first = NARRanker(**params).fit(X_train, y_train).predict(X_test)
    second = NARRanker(**params).fit(X_train, y_train).predict(X_test)
    np.testing.assert_array_equal(first, second)


def test_training_batches_are_those_of_a_seeded_data_loader():
    from skorch.dataset import Dataset

    from sknar.ranker._batches import TensorBatches

    X = np.arange(23 * 2, dtype=np.float32).reshape(23, 2)
    y = np.arange(23, dtype=np.float32)
    dataset = Dataset(X, y)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=5, shuffle=True, generator=torch.Generator().manual_seed(7)
    )
    batches = TensorBatches(dataset, 5, shuffle=True, generator=torch.Generator().manual_seed(7))
    assert len(batches) == len(loader) == 5
    for _ in range(3):  # epochs: each draws its own order
        for (X_loader, y_loader), (X_batch, y_batch) in zip(loader, batches, strict=True):
            torch.testing.assert_close(X_batch, X_loader)
            torch.testing.assert_close(y_batch, y_loader)
    unshuffled = [y_batch.tolist() for _, y_batch in TensorBatches(dataset, 10)]
    assert unshuffled == [list(range(10)), list(range(10, 20)), [20.0, 21.0, 22.0]]
