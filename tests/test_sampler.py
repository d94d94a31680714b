"""Tests of TierSampler on a small user-defined space and on the benchmark spaces."""

import functools
import itertools

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import InvalidParameterError

from sknar.sampler import TierSampler
from sknar.tiers import TierTransformer
from sknar.utils.testing import ChainSpace, require_data

TOY_OPS = ("a", "b", "c")
TOY_SLOTS = 6


# The chain of 6 slots of 3 ops (729 architectures), of unknown size (drawn by rejection)
# or of known size (enumerated).
ToySpace = ChainSpace
SmallToySpace = functools.partial(ChainSpace, known_size=True)


def toy_tiers(space, archs, seed=0, n_tiers=4):
    """Tiers of a noisy 'accuracy' that grows with the number of ``c`` ops."""
    rng = check_random_state(seed)
    accuracy = [space.structure_features(arch)["n_c"] + rng.normal(0, 1.0) for arch in archs]
    return TierTransformer(n_tiers=n_tiers).fit_transform(np.asarray(accuracy))


@pytest.fixture(scope="module", params=["enumerate", "rejection"])
def fitted(request):
    space = SmallToySpace() if request.param == "enumerate" else ToySpace()
    archs = space.sample(200, random_state=0)
    sampler = TierSampler(space, batch_size=300, random_state=0)
    return sampler.fit(archs, toy_tiers(space, archs)), archs


def total_variation(p, q):
    return 0.5 * float(np.abs(np.asarray(p) - np.asarray(q)).sum())


# --- fit ----------------------------------------------------------------------------------


def test_fit_learns_shared_histograms_and_separating_features(fitted):
    sampler, _ = fitted
    assert sampler.feature_names_ == [
        "flops", "params", "n_nodes", "n_edges", "n_a", "n_b", "n_c"
    ]
    for name in sampler.feature_names_:
        histograms = sampler.histograms_[name]
        assert histograms.shape == (4, sampler.bin_edges_[name].size - 1)
        np.testing.assert_allclose(histograms.sum(axis=1), 1.0)
        assert 0.0 <= sampler.divergences_[name] <= 1.0
    # The tiers follow n_c: it separates the tiers, a constant feature never does.
    assert "n_c" in sampler.selected_features_
    assert sampler.divergences_["n_nodes"] == 0.0
    assert "n_nodes" not in sampler.selected_features_
    # n_c has 7 values and n_bins=8: one bin per value.
    assert sampler.bin_edges_["n_c"].size - 1 == len(np.unique(sampler.bin_edges_["n_c"])) - 1


def test_random_tiers_select_nothing_and_sample_uniformly():
    space = SmallToySpace()
    archs = space.sample(300, random_state=1)
    tiers = np.random.RandomState(1).permutation(np.arange(300) % 4)
    sampler = TierSampler(space, features=("n_a", "n_b", "n_c"), random_state=0)
    sampler.fit(archs, tiers)
    assert sampler.selected_features_ == []
    assert len(set(sampler.sample(50))) == 50


def test_permutation_test_can_be_switched_off():
    space = SmallToySpace()
    archs = space.sample(40, random_state=2)
    tiers = np.arange(40) % 4
    strict = TierSampler(space, features=("n_a",), random_state=0).fit(archs, tiers)
    loose = TierSampler(
        space, features=("n_a",), significance=None, divergence_threshold=0.0
    ).fit(archs, tiers)
    assert loose.null_divergences_["n_a"] == 0.0
    assert loose.selected_features_ == ["n_a"]
    assert strict.null_divergences_["n_a"] > 0.0


# --- sample -------------------------------------------------------------------------------


def test_sample_returns_distinct_valid_new_architectures(fitted):
    sampler, archs = fitted
    space = sampler.space
    drawn = sampler.sample(120, exclude=archs)
    assert len(drawn) == 120
    keys = [space.hash(arch) for arch in drawn]
    assert len(set(keys)) == 120
    assert not set(keys) & {space.hash(arch) for arch in archs}
    assert [space.validate(arch) for arch in drawn] == drawn


def test_sample_is_reproducible(fitted):
    sampler, archs = fitted
    assert sampler.sample(30, exclude=archs[:10]) == sampler.sample(30, exclude=archs[:10])
    other = clone(sampler).set_params(random_state=1).fit(archs, toy_tiers(sampler.space, archs))
    assert other.sample(30) != sampler.sample(30)


@pytest.mark.parametrize("space", [SmallToySpace(), ToySpace()], ids=["enumerate", "rejection"])
def test_guided_share_follows_top_tier_histogram(space):
    archs = space.sample(300, random_state=3)
    sampler = TierSampler(
        space,
        features=("n_c",),
        significance=None,
        divergence_threshold=0.0,
        noise=0.5,
        batch_size=400,
        random_state=0,
    ).fit(archs, toy_tiers(space, archs, seed=3))
    top = sampler.histograms_["n_c"][0]
    uniform_space = np.bincount(
        [ops.count("c") for ops in itertools.product(TOY_OPS, repeat=TOY_SLOTS)], minlength=7
    ) / 3**TOY_SLOTS
    edges = sampler.bin_edges_["n_c"]
    uniform = np.bincount(np.searchsorted(edges[1:-1], np.arange(7), side="right"),
                          weights=uniform_space, minlength=top.size)
    # The check has power: the top tier is far from the uniform distribution.
    assert total_variation(top, uniform) > 0.3

    drawn = sampler.sample(300)
    n_c = np.array([arch.count("c") for arch in drawn], dtype=float)
    bins = np.searchsorted(edges[1:-1], n_c, side="right")
    guided = np.bincount(bins[:150], minlength=top.size) / 150
    # Sampling noise of 150 draws over a few bins is about 0.05 in total variation.
    assert total_variation(guided, top) < 0.12
    # The uniform share (drawn among what the guided share left) is far from the top tier.
    assert total_variation(np.bincount(bins[150:], minlength=top.size) / 150, top) > 0.2


def test_noise_one_is_uniform_and_no_selected_feature_is_uniform(fitted):
    sampler, archs = fitted
    uniform = clone(sampler).set_params(noise=1.0).fit(archs, toy_tiers(sampler.space, archs))
    n_c = [arch.count("c") for arch in uniform.sample(200)]
    # Uniform n_c has mean 2; the top tier's is well above.
    assert abs(np.mean(n_c) - 2.0) < 0.3
    guided = [arch.count("c") for arch in sampler.sample(100)[:50]]
    assert np.mean(guided) > 3.0


def test_enumerated_space_is_listed_once_and_kept_across_refits():
    space = SmallToySpace()
    listings = []
    enumerate_space = space.enumerate

    def counting_enumerate(verbose=False):
        listings.append(verbose)
        return enumerate_space(verbose)

    space.enumerate = counting_enumerate
    archs = space.sample(100, random_state=0)
    sampler = TierSampler(space, random_state=0).fit(archs, toy_tiers(space, archs))
    first = sampler.sample(20, exclude=archs)
    assert sampler.sample(20, exclude=archs) == first and len(listings) == 1
    sampler.fit(archs, toy_tiers(space, archs))
    assert sampler.sample(20, exclude=archs) == first and len(listings) == 1
    # Another seed per call, given to sample: the draws change, the listing stays.
    assert sampler.sample(20, exclude=archs, random_state=1) != first and len(listings) == 1
    sampler.set_params(space=SmallToySpace()).fit(archs, toy_tiers(space, archs))
    assert len(sampler.sample(20, exclude=archs)) == 20


def test_copies_of_a_sampler_leave_the_listed_space_out():
    import pickle

    space = SmallToySpace()
    archs = space.sample(100, random_state=0)
    sampler = TierSampler(space, random_state=0).fit(archs, toy_tiers(space, archs))
    first = sampler.sample(20, exclude=archs)
    assert len(sampler._pool) == 729
    for copied in (pickle.loads(pickle.dumps(sampler)), clone(sampler)):
        assert "_pool" not in vars(copied)
    copied = pickle.loads(pickle.dumps(sampler))
    assert copied.sample(20, exclude=archs) == first


def test_sample_raises_when_space_is_exhausted():
    space = SmallToySpace()
    archs = space.sample(100, random_state=0)
    sampler = TierSampler(space, random_state=0).fit(archs, toy_tiers(space, archs))
    with pytest.raises(ValueError, match="cannot supply 700 distinct new"):
        sampler.sample(700, exclude=archs)
    # Taking every remaining architecture exhausts the top tier's bins: the rest is uniform.
    with pytest.warns(RuntimeWarning, match="guided draws found"):
        assert len(sampler.sample(629, exclude=archs)) == 629


def test_rejection_sampling_reports_exhaustion():
    space = ToySpace()
    archs = space.sample(100, random_state=0)
    sampler = TierSampler(space, noise=1.0, batch_size=50, max_batches=2, random_state=0)
    sampler.fit(archs, toy_tiers(space, archs))
    with pytest.raises(ValueError, match="could not supply 500 distinct new"):
        sampler.sample(500, exclude=archs)


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tiers, message",
    [
        ([0, 0, 0, 2, 2, 2], r"tier\(s\) \[1\] absent"),
        ([0] * 6, "at least 2 tiers"),
        ([0, 0, 0, 0, 0, 1], "too few architectures per tier"),
        ([0, 0, 0, 1, 1, -1], r"non-negative integers \(0 = best tier\); index 5"),
        ([0, 0, 0, 1, 1, 1.5], r"non-negative integers \(0 = best tier\); index 5"),
        ([0, 0, 0, 1, 1], "one tier per architecture"),
    ],
)
def test_fit_rejects_bad_tiers(tiers, message):
    space = SmallToySpace()
    with pytest.raises(ValueError, match=message):
        TierSampler(space).fit(space.sample(6, random_state=0), tiers)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"space": "chain"}, "'space' parameter of TierSampler must be an instance of"),
        ({"dataset": 10}, "'dataset' parameter of TierSampler must be an instance of 'str'"),
        ({"n_bins": 0}, r"'n_bins' parameter of TierSampler must be an int in the range \[1,"),
        ({"n_bins": 2.5}, r"'n_bins' parameter of TierSampler must be an int in the range"),
        ({"divergence_threshold": -0.1}, r"'divergence_threshold' parameter .* \[0.0, inf\)"),
        ({"significance": 1.0}, r"'significance' parameter .* range \(0.0, 1.0\) or None"),
        ({"n_permutations": 0}, "'n_permutations' parameter of TierSampler must be an int"),
        ({"noise": 1.5}, r"'noise' parameter of TierSampler must be a float in the range \[0.0"),
        ({"features": {"flops"}}, "'features' parameter of TierSampler must be an instance"),
        ({"min_tier_size": 0}, "'min_tier_size' parameter of TierSampler must be an int"),
        ({"candidates": "all"}, "'candidates' parameter of TierSampler must be a str among"),
        ({"max_enumerate": 0}, "'max_enumerate' parameter of TierSampler must be an int"),
        ({"batch_size": 0}, "'batch_size' parameter of TierSampler must be an int"),
        ({"max_batches": -1}, "'max_batches' parameter of TierSampler must be an int"),
        ({"random_state": "seed"}, "'random_state' parameter of TierSampler must be an int"),
    ],
)
def test_fit_rejects_bad_params(params, message):
    space = SmallToySpace()
    archs = space.sample(12, random_state=0)
    with pytest.raises(InvalidParameterError, match=message):
        TierSampler(space).set_params(**params).fit(archs, np.arange(12) % 2)


def test_fit_rejects_an_unknown_feature():
    space = SmallToySpace()
    archs = space.sample(12, random_state=0)
    with pytest.raises(ValueError, match="unknown feature 'depth'"):
        TierSampler(space, features=("depth",)).fit(archs, np.arange(12) % 2)


@pytest.mark.parametrize(
    "args, message",
    [
        ((1.5,), r"'n' parameter of TierSampler.sample must be an int in the range \[0, inf\)"),
        (("3",), r"'n' parameter of TierSampler.sample must be an int .* Got '3' instead"),
        ((-1,), r"'n' parameter of TierSampler.sample must be an int .* Got -1 instead"),
        ((3, 5), "'exclude' parameter of TierSampler.sample must be an instance of"),
    ],
)
def test_sample_rejects_bad_arguments(fitted, args, message):
    sampler, _ = fitted
    n, *exclude = args
    with pytest.raises(InvalidParameterError, match=message):
        sampler.sample(n, **({"exclude": exclude[0]} if exclude else {}))


def test_fit_names_invalid_architecture():
    space = SmallToySpace()
    archs = space.sample(5, random_state=0) + [("a", "b", "z", "a", "a", "a")]
    with pytest.raises(ValueError, match="index 5 is invalid: unknown op 'z'"):
        TierSampler(space).fit(archs, [0, 0, 0, 1, 1, 1])


def test_sample_before_fit_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        TierSampler(SmallToySpace()).sample(3)


# --- benchmark spaces ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def nb201_cifar10():
    from sknar.datasets import load_nasbench201

    require_data("nasbench201/nats_tss_test_acc_200ep.csv")
    data = load_nasbench201("cifar10")
    return data.space, data.archs, data.y


def test_nasbench201_top_tier_is_guided_to_large_networks(nb201_cifar10):
    space, archs, accuracy = nb201_cifar10
    rows = np.random.RandomState(0).choice(len(archs), 200, replace=False)
    train = [archs[row] for row in rows]
    tiers = TierTransformer(n_tiers=5).fit_transform(accuracy[rows])
    sampler = TierSampler(space, dataset="cifar10", random_state=0).fit(train, tiers)
    # Accurate NAS-Bench-201 cells are the large ones: FLOPs separate the tiers.
    assert "flops" in sampler.selected_features_
    drawn = sampler.sample(200, exclude=train)
    assert len({space.hash(arch) for arch in drawn} - {space.hash(a) for a in train}) == 200
    flops_guided, _ = space.total_costs(drawn[:100], "cifar10")
    flops_uniform, _ = space.total_costs(drawn[100:], "cifar10")
    assert np.median(flops_guided) > np.median(flops_uniform)
    row = {arch: i for i, arch in enumerate(archs)}
    guided_accuracy = accuracy[[row[space.validate(arch)] for arch in drawn[:100]]]
    uniform_accuracy = accuracy[[row[space.validate(arch)] for arch in drawn[100:]]]
    assert np.mean(guided_accuracy) > np.mean(uniform_accuracy)


def test_nasbench_graph_uses_structure_only():
    from sknar.spaces.nasbench_graph import NASBenchGraphSpace

    space = NASBenchGraphSpace()
    archs = space.sample(80, random_state=0)
    depth = np.array([space.structure_features(arch)["depth"] for arch in archs])
    tiers = TierTransformer(n_tiers=2).fit_transform(depth + np.arange(80) * 1e-3)
    sampler = TierSampler(space, random_state=0).fit(archs, tiers)
    assert "flops" not in sampler.feature_names_
    assert "depth" in sampler.selected_features_
    drawn = sampler.sample(40, exclude=archs)
    assert len({space.hash(arch) for arch in drawn}) == 40


def test_nasbench101_samples_by_rejection_without_enumeration(monkeypatch):
    from sknar.spaces.nasbench101 import NASBench101Space

    space = NASBench101Space()

    def no_enumeration(*args, **kwargs):
        raise AssertionError("NAS-Bench-101 must not be enumerated")

    monkeypatch.setattr(NASBench101Space, "enumerate", no_enumeration)
    archs = space.sample(60, random_state=0)
    flops = np.array([space.total_cost(arch)["flops"] for arch in archs], dtype=float)
    tiers = TierTransformer(n_tiers=3).fit_transform(flops)
    sampler = TierSampler(space, features=("flops",), batch_size=300, random_state=0)
    sampler.fit(archs, tiers)
    assert sampler.selected_features_ == ["flops"]
    drawn = sampler.sample(20, exclude=archs)
    assert len({space.hash(arch) for arch in drawn} | {space.hash(a) for a in archs}) == 80
    guided = [space.total_cost(arch)["flops"] for arch in drawn[:10]]
    assert np.median(guided) > np.median(flops)
