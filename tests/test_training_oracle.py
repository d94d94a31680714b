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
    oracle._fit = lambda *args: seen.append(torch.get_num_threads())
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


def test_score_rates_any_split_and_keeps_the_mode(oracle, digits):
    network = oracle.train_network(CONV)
    assert not network.training
    network.train()
    accuracy = oracle.score(network, digits.test)
    assert oracle.evaluate(network, digits.test) == accuracy  # the former name still works
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


# --- fidelity and the per-epoch hook ----------------------------------------------------


def test_on_epoch_reports_each_epoch_and_leaves_the_training_alone(space, small):
    train, validation = small
    oracle = TrainingOracle(space, train, validation, network_params=TINY, epochs=2)
    seen = []
    result = oracle.evaluate(CONV, on_epoch=lambda epoch, accuracy: seen.append((epoch, accuracy)))
    assert set(result) >= {"accuracy", "epochs", "seconds"}
    assert [epoch for epoch, _ in seen] == [1, 2] and result["epochs"] == 2
    assert seen[-1][1] == result["accuracy"] and result["seconds"] > 0
    # scoring between epochs changes nothing of the training
    assert oracle(CONV) == result["accuracy"]
    assert all(0.0 <= accuracy <= 1.0 for _, accuracy in seen)


class _Pruned(Exception):
    pass


@pytest.mark.parametrize("error", [_Pruned("stop"), RuntimeError("CUDA out of memory (mine)")])
def test_an_exception_of_on_epoch_stops_the_training_unchanged(space, small, error):
    train, validation = small
    oracle = TrainingOracle(space, train, validation, network_params=TINY, epochs=3)
    calls = []

    def prune(epoch, accuracy):
        calls.append(epoch)
        raise error

    with pytest.raises(type(error)) as raised:
        oracle(CONV, on_epoch=prune)
    assert raised.value is error and calls == [1]  # not wrapped, not a TrainingError
    assert error.__context__ is None and error.__cause__ is None


def test_epochs_is_a_whole_training_on_a_shorter_schedule(space, small):
    train, validation = small
    long = TrainingOracle(space, train, validation, network_params=TINY, epochs=2)
    short = TrainingOracle(space, train, validation, network_params=TINY, epochs=1)
    low = long.evaluate(CONV, epochs=1)
    assert low["epochs"] == 1 and low["accuracy"] == short(CONV)
    assert long(CONV, epochs=2) == long(CONV)
    # the first epoch of the long schedule is not the short schedule: a fidelity is not a
    # prefix of the long training
    after_first = []
    long.train_network(
        CONV,
        after_epoch=lambda network, epoch: (
            epoch == 1 and after_first.append(network.classifier.weight.detach().clone())
        ),
    )
    assert not torch.equal(after_first[0], short.train_network(CONV).classifier.weight)
    with pytest.raises(ValueError, match="epochs must be a positive int, got 0"):
        long(CONV, epochs=0)
    with pytest.raises(ValueError, match="on_epoch must be callable"):
        long(CONV, on_epoch=3)


# --- refused at construction (each once accepted) ----------------------------------------


def test_a_single_training_class_is_refused(space, small):
    (X, y), (X_val, y_val) = small
    with pytest.raises(ValueError, match=r"train split holds a single class \(3\)"):
        TrainingOracle(space, (X, np.full_like(y, 3)), (X_val, np.full_like(y_val, 3)))


def test_validation_labels_the_training_lacks_are_refused(space, small):
    (X, y), (X_val, y_val) = small
    shifted = y_val % 10 + 5  # 5-14 against 0-9: n_classes was inferred as 15
    with pytest.raises(ValueError, match=r"labels the train split lacks: \[10, 11, 12, 13, 14\]"):
        TrainingOracle(space, (X, y), (X_val, shifted))
    with pytest.raises(ValueError, match=r"labels the train split lacks: \[10, 11, 12, 13, 14\]"):
        TrainingOracle(space, (X, y), (X_val, shifted), n_classes=15)
    assert TrainingOracle(space, (X, y), (X_val, y_val)).n_classes == 10


def test_cuda_without_cuda_is_refused_at_construction(space, small, monkeypatch):
    train, validation = small
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="device='cuda' asks for a GPU.*use device='cpu'"):
        TrainingOracle(space, train, validation, device="cuda")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), np.float32("nan")])
def test_non_finite_learning_rate_is_refused(space, small, value):
    train, validation = small
    with pytest.raises(ValueError, match="learning_rate must be a finite real number"):
        TrainingOracle(space, train, validation, learning_rate=value)
    with pytest.raises(ValueError, match="momentum must be a finite real number"):
        TrainingOracle(space, train, validation, momentum=value)


def test_images_too_small_for_the_network_are_refused_before_training(space, small):
    (X, y), (X_val, y_val) = small
    tiny_images = np.zeros((len(y), 1, 5, 5), dtype=np.float32)
    with pytest.raises(ValueError, match=r"do not fit the network: .*multiples of 4.*got 5x5"):
        TrainingOracle(space, (tiny_images, y), (tiny_images[: len(y_val)], y_val))


def test_validation_images_of_another_size_are_refused(space, small):
    (X, y), (X_val, y_val) = small
    wide = np.zeros((len(y_val), 1, 8, 12), dtype=np.float32)
    with pytest.raises(ValueError, match=r"validation images are of shape \(1, 8, 12\), the "):
        TrainingOracle(space, (X, y), (wide, y_val))


def test_fashion_mnist_sized_images_train(space):
    # 1 channel of 28x28, as the IDX loader returns them (28 is a multiple of 4).
    rng = np.random.default_rng(0)
    X = rng.random((64, 1, 28, 28), dtype=np.float32)
    y = np.arange(64) % 10
    oracle = TrainingOracle(space, (X, y), (X[:32], y[:32]), network_params=TINY, epochs=1)
    assert oracle.in_channels == 1 and oracle.n_classes == 10
    assert 0.0 <= oracle(CONV) <= 1.0


def test_fashion_mnist_from_the_loader_trains_both_networks():
    from sknar.datasets import load_fashion_mnist
    from sknar.utils.testing import require_data

    folder = require_data("fashion-mnist/train-images-idx3-ubyte.gz").parent
    data = load_fashion_mnist(n_train=200, n_validation=100, n_test=100, directory=folder)
    nb201 = TrainingOracle(
        NASBench201Space(), data.train, data.validation, network_params=TINY, epochs=1
    )
    assert (nb201.in_channels, nb201.n_classes) == (1, 10)
    result = nb201.evaluate(CONV)
    assert 0.0 <= result["accuracy"] <= 1.0 and result["epochs"] == 1
    nb101 = TrainingOracle(
        NASBench101Space(), data.train, data.validation, network_params={"C": 4, "N": 1}, epochs=1
    )
    cell = ([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    assert 0.0 <= nb101(cell) <= 1.0


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
        assert oracle.score(network, digits.validation) == result.best_value
        assert 0.0 <= oracle.score(network, digits.test) <= 1.0


# --- table oracles with fidelities: the same calls as a training ------------------------


def test_table_fidelities_answer_like_a_training(space):
    from sknar.oracles import TabularOracle

    archs = [CONV, POOL]
    oracle = TabularOracle(
        archs, [94.0, 80.0], space=space, fidelities={4: [50.0, 40.0], 12: [70.0, 60.0]},
        epochs=108,
    )
    assert oracle.fidelity_epochs == (4, 12, 108)
    assert oracle(CONV) == oracle(CONV, epochs=108) == 94.0
    assert oracle(POOL, epochs=4) == 40.0
    seen = []
    result = oracle.evaluate(POOL, epochs=12, on_epoch=lambda e, v: seen.append((e, v)))
    assert seen == [(4, 40.0), (12, 60.0)] and result["accuracy"] == 60.0
    assert result["epochs"] == 12 and result["seconds"] >= 0
    error = _Pruned()

    def prune(epoch, value):
        raise error

    with pytest.raises(_Pruned) as raised:
        oracle(CONV, on_epoch=prune)
    assert raised.value is error
    with pytest.raises(ValueError, match=r"no value at epochs=36; its fidelities: \[4, 12, 108\]"):
        oracle(CONV, epochs=36)
    plain = TabularOracle(archs, [94.0, 80.0], space=space)
    assert plain.evaluate(CONV)["accuracy"] == 94.0 and plain.evaluate(CONV)["epochs"] is None
    with pytest.raises(ValueError, match="its fidelities: none"):
        plain(CONV, epochs=12)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"fidelities": {12: [1.0, 2.0]}}, "epochs .* is required with fidelities"),
        ({"fidelities": {200: [1.0, 2.0]}, "epochs": 200}, "must lie below epochs=200"),
        ({"fidelities": {0: [1.0, 2.0]}, "epochs": 200}, "a key of fidelities must be a positive"),
        ({"fidelities": {12: [1.0]}, "epochs": 200}, r"fidelities\[12\]"),
        ({"fidelities": {12: [1.0, float("nan")]}, "epochs": 200}, r"fidelities\[12\]"),
        ({"fidelities": {}, "epochs": 200}, "non-empty dict"),
        ({"epochs": 0}, "epochs must be a positive int"),
    ],
)
def test_table_fidelities_are_checked(space, kwargs, message):
    from sknar.oracles import TabularOracle

    with pytest.raises(ValueError, match=message):
        TabularOracle([CONV, POOL], [94.0, 80.0], space=space, **kwargs)


@pytest.mark.slow  # loads both benchmarks twice: 5 to 15 s
def test_benchmark_tables_with_their_fidelities():
    from sknar.datasets import load_nasbench101, load_nasbench201_12_epochs
    from sknar.oracles import TabularOracle
    from sknar.utils.testing import require_data

    require_data("nasbench201/nats_tss_cifar10_12ep.csv")
    nb201 = TabularOracle.from_nasbench201(multi_fidelity=True)
    data = load_nasbench201_12_epochs()
    assert nb201.fidelity_epochs == (12, 200)
    assert nb201(data.archs[1], epochs=12) == data.y_valid_12[1]
    assert nb201(data.archs[1]) == data.y_200[1]
    with pytest.raises(ValueError, match="for 'cifar10' only"):
        TabularOracle.from_nasbench201("cifar100", multi_fidelity=True)
    require_data("nasbench101/nb101_20k_val108.json.gz")
    nb101 = TabularOracle.from_nasbench101(multi_fidelity=True)
    table = load_nasbench101()
    assert nb101.fidelity_epochs == (4, 12, 36, 108)
    assert nb101(table.archs[3], epochs=4) == table.val_acc_by_epochs[4][3]
    assert nb101(table.archs[3]) == table.y[3]


def test_descriptions_tell_experiments_apart(space, small):
    from sknar.oracles import TabularOracle

    train, validation = small
    oracle = TrainingOracle(space, train, validation, network_params=TINY, epochs=1)
    description = oracle.describe()
    np.testing.assert_array_equal(description["train"][0], train[0])
    assert description["epochs"] == 1 and description["network_params"] == TINY
    assert "device" not in description  # a resume on another device is the same experiment
    other_data = TrainingOracle(space, validation, train, network_params=TINY, epochs=1)
    assert other_data.describe()["train"][0].shape != description["train"][0].shape
    assert TrainingOracle(space, train, validation, epochs=2).describe()["epochs"] == 2
    dataset = TrainingOracle(space, _Pairs(train), _Pairs(validation), n_classes=10)
    assert dataset.describe()["train"] == {"dataset": f"{__name__}._Pairs", "length": 256}
    table = TabularOracle([CONV], [1.0], space=space, fidelities={4: [0.5]}, epochs=12)
    assert table.describe()["epochs"] == 12 and list(table.describe()["fidelities"]) == ["4"]


# --- under Optuna's pruning ----------------------------------------------------------------


@pytest.mark.parametrize("lower, pruned", [(0.99, True), (0.0, False)])
def test_a_real_training_under_optunas_pruner_stops_early_and_is_recorded_pruned(
    space, small, lower, pruned
):
    optuna = pytest.importorskip("optuna")
    from sknar.integration.optuna import pruning_callback

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    train, validation = small
    oracle = TrainingOracle(space, train, validation, network_params=TINY, epochs=3)
    epochs_run = []

    def objective(trial):
        report = pruning_callback(trial)

        def on_epoch(epoch, accuracy):
            epochs_run.append(epoch)
            report(epoch, accuracy)

        return oracle(POOL, on_epoch=on_epoch)

    # No tiny network reaches 0.99 after an epoch: the first report prunes it; nothing is
    # below 0.0: the training runs its 3 epochs.
    study = optuna.create_study(
        direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=lower)
    )
    study.optimize(objective, n_trials=1)
    (trial,) = study.trials
    if pruned:
        assert trial.state == optuna.trial.TrialState.PRUNED
        assert epochs_run == [1] and list(trial.intermediate_values) == [1]
    else:
        assert trial.state == optuna.trial.TrialState.COMPLETE
        assert epochs_run == [1, 2, 3] and 0.0 <= trial.value <= 1.0
        assert trial.intermediate_values[3] == pytest.approx(trial.value)
