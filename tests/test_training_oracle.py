"""The training oracle and the digits data: real trainings of tiny networks."""

import pickle

import numpy as np
import pytest
import torch
from joblib import Parallel, delayed
from sklearn.pipeline import make_pipeline
from torch import nn
from torch.utils.data import Dataset

from sknar.encoding import NARFeatureEncoder
from sknar.oracles import TrainingError, TrainingOracle, _training, load_digits_split
from sknar.ranker import NARRanker
from sknar.sampler import TierSampler
from sknar.search import RandomSearch, TierSearch
from sknar.spaces import NASBench101Space, NASBench201Space, NASBenchGraphSpace

TINY = {"C": 2, "N": 1}
CONV = ["nor_conv_3x3"] * 6
POOL = ["avg_pool_3x3", "skip_connect", "nor_conv_1x1", "none", "nor_conv_1x1", "skip_connect"]


@pytest.fixture(scope="module")
def space():
    return NASBench201Space()


@pytest.fixture(scope="module")
def digits():
    return load_digits_split()


@pytest.fixture(scope="module")
def small(digits):
    """A few hundred digits: enough to tell architectures apart, quick to train on."""
    (X_train, y_train), (X_val, y_val) = digits.train, digits.validation
    return (X_train[:256], y_train[:256]), (X_val[:128], y_val[:128])


@pytest.fixture(scope="module")
def oracle(space, small):
    train, validation = small
    return TrainingOracle(space, train, validation, network_params=TINY, epochs=1)


# --- the digits ------------------------------------------------------------------------


def test_digits_split_is_fixed_stratified_and_disjoint(digits):
    again = load_digits_split()
    sizes = [len(split[1]) for split in (digits.train, digits.validation, digits.test)]
    assert sizes == [1077, 360, 360] and sum(sizes) == 1797
    for name in ("train", "validation", "test"):
        X, y = getattr(digits, name)
        assert X.dtype == np.float32 and X.shape[1:] == (1, 8, 8) and y.dtype == np.int64
        assert 0.0 <= X.min() and X.max() <= 1.0
        assert np.bincount(y, minlength=10).min() >= 0.09 * len(y)  # every class, ~10% each
        np.testing.assert_array_equal(X, getattr(again, name)[0])
    flat = [split[0].reshape(len(split[0]), -1) for split in (digits.train, digits.test)]
    train_rows = {row.tobytes() for row in flat[0]}
    assert sum(row.tobytes() in train_rows for row in flat[1]) < 5  # only duplicate images
    other = load_digits_split(random_state=1)
    assert not np.array_equal(other.train[1], digits.train[1])


def test_digits_split_rejects_bad_sizes():
    with pytest.raises(ValueError, match="test_size must be in"):
        load_digits_split(test_size=1.5)
    with pytest.raises(ValueError, match="validation_size \\+ test_size must be below 1"):
        load_digits_split(validation_size=0.5, test_size=0.5)


# --- the oracle ------------------------------------------------------------------------


def test_oracle_is_deterministic_and_leaves_the_global_rngs_alone(oracle):
    torch.manual_seed(123)
    np.random.seed(123)  # noqa: NPY002 (the user's legacy global state must be kept)
    torch_state = torch.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002
    first = oracle(CONV)
    assert 0.0 <= first <= 1.0
    assert torch.equal(torch.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)  # noqa: NPY002
    assert oracle(CONV) == first


def test_oracle_uses_its_threads_and_restores_the_setting(space, small):
    train, validation = small
    previous = torch.get_num_threads()
    seen = []
    oracle = TrainingOracle(space, train, validation, network_params=TINY, n_threads=2)
    oracle._fit = lambda network, arch, seed: seen.append(torch.get_num_threads())
    try:
        torch.set_num_threads(3)
        oracle(CONV)
        assert seen == [2] and torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(previous)
    with pytest.raises(ValueError, match="n_threads must be a positive int"):
        TrainingOracle(space, train, validation, n_threads=0)


def test_oracle_learns_and_architectures_differ(space, small):
    train, validation = small
    oracle = TrainingOracle(
        space, train, validation, network_params={"C": 4, "N": 1}, epochs=3, batch_size=32
    )
    accuracies = {tuple(arch): oracle(arch) for arch in (CONV, POOL, ["none"] * 6)}
    assert accuracies[tuple(CONV)] > 0.3  # well above chance (0.1) after 24 short steps
    # no op reaches the output: the classifier sees a constant, the accuracy is chance level
    assert accuracies[("none",) * 6] < 0.2
    assert len(set(accuracies.values())) == 3


def test_random_state_changes_the_training(space, small):
    train, validation = small
    networks = [
        TrainingOracle(
            space, train, validation, network_params=TINY, epochs=1, random_state=seed
        ).train_network(CONV)
        for seed in (0, 1)
    ]
    weights = [network.classifier.weight.detach() for network in networks]
    assert not torch.equal(*weights)


def test_no_random_state_draws_fresh_seeds_without_the_global_generator(space, small):
    train, validation = small
    oracle = TrainingOracle(
        space, train, validation, network_params=TINY, epochs=1, random_state=None
    )
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002
    weights = [oracle.train_network(CONV).classifier.weight.detach() for _ in range(2)]
    assert not torch.equal(*weights)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)  # noqa: NPY002


@pytest.mark.slow  # worker processes
def test_oracle_pickles_and_runs_in_parallel_workers(oracle):
    clone = pickle.loads(pickle.dumps(oracle))
    serial = [oracle(CONV), oracle(POOL)]
    assert clone(CONV) == serial[0]
    parallel = Parallel(n_jobs=2)(delayed(oracle)(arch) for arch in (CONV, POOL))
    assert parallel == serial


class _Pairs(Dataset):
    """The digits as a plain map-style Dataset of (image, label) pairs."""

    def __init__(self, split):
        self.X, self.y = split

    def __len__(self):
        return len(self.y)

    def __getitem__(self, index):
        return torch.as_tensor(self.X[index]), int(self.y[index])


def test_a_dataset_trains_like_the_arrays(space, small, oracle):
    train, validation = small
    with pytest.raises(ValueError, match="n_classes is required"):
        TrainingOracle(space, _Pairs(train), _Pairs(validation), network_params=TINY)
    from_datasets = TrainingOracle(
        space, _Pairs(train), _Pairs(validation), network_params=TINY, epochs=1, n_classes=10
    )
    # same seed, same batches in the same order: the same network
    assert from_datasets(CONV) == oracle(CONV)


def test_evaluate_scores_any_split_and_keeps_the_mode(oracle, digits):
    network = oracle.train_network(CONV)
    assert not network.training
    network.train()
    accuracy = oracle.evaluate(network, digits.test)
    assert network.training and 0.0 <= accuracy <= 1.0
    X, y = digits.test
    with torch.no_grad():
        predicted = network.eval()(torch.as_tensor(X)).argmax(dim=1).numpy()
    assert accuracy == pytest.approx(np.mean(predicted == y))


def test_nan_loss_raises_a_training_error_naming_the_architecture(space, small):
    train, validation = small
    exploding = TrainingOracle(
        space, train, validation, network_params=TINY, epochs=2, learning_rate=1e30
    )
    with pytest.raises(TrainingError, match=r"training architecture '\|nor_conv_3x3~0\|.*loss"):
        exploding(CONV)


class _OutOfMemory(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 8.00 GiB")


def test_out_of_memory_raises_a_training_error_naming_the_architecture(oracle, monkeypatch):
    monkeypatch.setattr(_training, "build_network", lambda *args, **kwargs: _OutOfMemory())
    with pytest.raises(TrainingError, match=r"'\|nor_conv_3x3~0\|.*ran out of memory"):
        oracle(CONV)


def test_verbose_shows_progress_only_when_asked(space, small, capsys):
    train, validation = small
    quiet = TrainingOracle(space, train, validation, network_params=TINY, epochs=1)
    quiet(CONV)
    assert capsys.readouterr() == ("", "")
    loud = TrainingOracle(space, train, validation, network_params=TINY, epochs=1, verbose=True)
    loud(CONV)
    assert "epoch" in capsys.readouterr().err


def test_bad_data_and_parameters_are_named(space, small):
    (X, y), validation = small
    with pytest.raises(ValueError, match=r"X of the train split must be images .* \(256, 8, 8\)"):
        TrainingOracle(space, (X[:, 0], y), validation)
    with pytest.raises(ValueError, match="y of the validation split must have shape"):
        TrainingOracle(space, (X, y), (validation[0], validation[1][:-1]))
    with pytest.raises(ValueError, match=r"labels of the train split must be in \[0, 5\)"):
        TrainingOracle(space, (X, y), validation, n_classes=5)
    with pytest.raises(ValueError, match="must be an \\(X, y\\) pair"):
        TrainingOracle(space, X, validation)
    with pytest.raises(ValueError, match="network_params must not set 'n_classes'"):
        TrainingOracle(space, (X, y), validation, network_params={"n_classes": 10})
    with pytest.raises(ValueError, match="C must be a positive int"):
        TrainingOracle(space, (X, y), validation, network_params={"C": 0})
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        TrainingOracle(space, (X, y), validation, epochs=0)
    with pytest.raises(ValueError, match="learning_rate must be in"):
        TrainingOracle(space, (X, y), validation, learning_rate=0.0)
    with pytest.raises(ValueError, match="no network builder for the 'nasbench_graph' space"):
        TrainingOracle(NASBenchGraphSpace(), (X, y), validation)
    with pytest.raises(ValueError, match="unknown op"):
        TrainingOracle(space, (X, y), validation, network_params=TINY)(["conv_9x9"] * 6)


def test_nasbench101_cells_train_too(small):
    train, validation = small
    oracle = TrainingOracle(
        NASBench101Space(),
        train,
        validation,
        network_params={"C": 4, "N": 1, "bn_momentum": 0.1},
        epochs=1,
    )
    arch = ([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    assert 0.0 <= oracle(arch) <= 1.0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_oracle_trains_on_cuda(space, small):
    train, validation = small
    oracle = TrainingOracle(space, train, validation, network_params=TINY, epochs=1, device="cuda")
    network = oracle.train_network(CONV)
    assert next(network.parameters()).is_cuda
    assert 0.0 <= oracle(CONV) <= 1.0


# --- a real search on the digits ---------------------------------------------------------


@pytest.mark.slow  # two searches training networks
def test_digits_tier_search_against_random_search_end_to_end(space, digits, tmp_path):
    # The example's pipeline in a tiny configuration: one epoch, 10 trainings per search.
    oracle = TrainingOracle(space, digits.train, digits.validation, network_params=TINY, epochs=1)
    ranker = make_pipeline(
        NARFeatureEncoder(space),
        NARRanker(n_tiers=2, n_members=1, max_epochs=2, d_model=16, d_ff=32, n_layers=1, n_heads=2),
    )
    tier = TierSearch(
        space,
        ranker=ranker,
        sampler=TierSampler(space),
        n_initial=8,
        n_candidates=20,
        top_k=2,
        n_tiers=2,
        random_state=0,
    )
    # As in the example: the trainings of a batch in parallel, each one journaled.
    results = {
        "tier search": tier.run(oracle, budget=10, journal=tmp_path / "tier.jsonl"),
        "random search": RandomSearch(space, random_state=0).run(oracle, budget=10, n_jobs=2),
    }
    assert len((tmp_path / "tier.jsonl").read_text().splitlines()) == 1 + 10
    for result in results.values():
        assert result.n_queries == 10
        assert np.all(np.diff(result.best_so_far) >= 0)
        network = oracle.train_network(result.best_arch)  # trained once more: the same
        assert oracle.evaluate(network, digits.validation) == result.best_value
        assert 0.0 <= oracle.evaluate(network, digits.test) <= 1.0
