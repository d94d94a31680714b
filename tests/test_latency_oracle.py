"""LatencyOracle: timings of built networks, their cache, and its checks."""

import pytest

from sknar.nn import build_network
from sknar.oracles import LatencyOracle
from sknar.spaces import NASBench201Space

SMALL = {"C": 8, "N": 1}
CONVS = ["nor_conv_3x3"] * 6
SKIPS = ["skip_connect"] * 6


@pytest.fixture(scope="module")
def space():
    return NASBench201Space()


def test_a_cell_of_convolutions_is_slower_than_a_cell_of_skips(space):
    oracle = LatencyOracle(space, batch_size=8, network_params=SMALL, n_repeats=15)
    convs, skips = oracle(CONVS), oracle(SKIPS)
    assert convs > skips > 0


def test_measurement_says_what_it_was_measured_on(space):
    oracle = LatencyOracle(
        space, input_shape=(1, 16, 16), batch_size=2, network_params=SMALL, n_repeats=4
    )
    measurement = oracle.measure(CONVS)
    assert measurement["min_ms"] <= measurement["q25_ms"] <= measurement["median_ms"]
    assert measurement["median_ms"] <= measurement["q75_ms"]
    assert measurement["input_shape"] == [1, 16, 16]
    assert (measurement["batch_size"], measurement["n_repeats"]) == (2, 4)
    assert measurement["device"] == "cpu"


def test_cache_measures_each_network_once(space, monkeypatch):
    from sknar.oracles import _latency

    built = []

    def counting_build(space, arch, **params):
        built.append(arch)
        return build_network(space, arch, **params)

    monkeypatch.setattr(_latency, "build_network", counting_build)
    cached = LatencyOracle(space, network_params=SMALL, n_repeats=2)
    assert cached(CONVS) == cached(list(CONVS))
    assert len(built) == 1 and len(cached.measurements_) == 1
    fresh = LatencyOracle(space, network_params=SMALL, n_repeats=2, cache=False)
    fresh(CONVS)
    fresh(CONVS)
    assert len(built) == 3 and fresh.measurements_ == {}


def test_in_channels_come_from_the_input_shape(space):
    oracle = LatencyOracle(space, input_shape=(1, 32, 32), network_params=SMALL, n_repeats=1)
    assert oracle(SKIPS) > 0


@pytest.mark.parametrize(
    "params, match",
    [
        ({"input_shape": (32, 32)}, "input_shape"),
        ({"input_shape": (3, 0, 32)}, "input_shape"),
        ({"batch_size": 0}, "batch_size"),
        ({"n_repeats": 0}, "n_repeats"),
        ({"n_warmup": -1}, "n_warmup"),
        ({"n_threads": 1.5}, "n_threads"),
        ({"network_params": {"in_channels": 1}}, "in_channels"),
        ({"device": "cuda:7"}, "device"),
    ],
)
def test_bad_parameters_are_named(space, params, match):
    with pytest.raises(ValueError, match=match):
        LatencyOracle(space, **params)


def test_an_architecture_outside_the_space_is_refused(space):
    with pytest.raises(ValueError):
        LatencyOracle(space, network_params=SMALL)(["conv_9x9"] * 6)
