import csv
import json
import pickle

import networkx as nx
import numpy as np
import pytest

from sknar.spaces import SearchSpace
from sknar.spaces.nasbench201 import EDGES, NASBench201Space
from sknar.utils.testing import require_data

EXAMPLE = "nar_reference/nasbench201_vertice_example.json"
CSV_FILE = "nasbench201/nats_tss_test_acc_200ep.csv"
NETWORKS = {"cifar10-valid": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "ImageNet16-120"}
ARCH = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
)
ARCH_OPS = [
    "nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "nor_conv_3x3", "skip_connect"
]


@pytest.fixture(scope="module")
def space():
    return NASBench201Space()


@pytest.fixture(scope="module")
def example():
    with open(require_data(EXAMPLE)) as handle:
        return json.load(handle)["0"]


@pytest.fixture(scope="module")
def csv_rows():
    with open(require_data(CSV_FILE), newline="") as handle:
        return list(csv.DictReader(handle))


def test_protocol_attributes(space):
    assert isinstance(space, SearchSpace)
    assert space.name == "nasbench201"
    assert space.max_nodes == 4 and space.n_cells == 15 and space.n_ops == 5
    assert space.cost_datasets == ("cifar10", "cifar100", "ImageNet16-120")
    assert pickle.loads(pickle.dumps(space)) == space


@pytest.mark.parametrize("network", list(NETWORKS))
def test_cost_features_equal_nar_example(space, example, network):
    costs = space.cost_features(example["arch_str"], dataset=NETWORKS[network])
    expected_flops = np.array(list(example[f"{network}_opt_flops"].values()))
    expected_params = np.array(list(example[f"{network}_opt_params"].values()))
    assert costs["flops"].dtype == np.int64
    np.testing.assert_array_equal(costs["flops"], expected_flops)
    np.testing.assert_array_equal(costs["params"], expected_params)


@pytest.mark.parametrize("network", list(NETWORKS))
def test_total_cost_equals_nar_example(space, example, network):
    total = space.total_cost(example["arch_str"], dataset=NETWORKS[network])
    assert total == {
        "flops": example[f"{network}_total_flops"],
        "params": example[f"{network}_total_params"],
    }
    # the NAR name of the CIFAR-10 network is accepted too
    assert space.total_cost(example["arch_str"], dataset=network) == total


def test_dataset_none_means_cifar10(space):
    assert space.total_cost(ARCH) == space.total_cost(ARCH, dataset="cifar10")


def test_parameter_count_of_the_largest_network(space):
    # NAS-Bench-201 publishes 1.531546 M parameters for the all-3x3-convolution CIFAR-10
    # network: this checks the 3x3 cell convolutions, absent from the NAR example.
    assert space.total_cost(["nor_conv_3x3"] * 6)["params"] == 1_531_546


def test_op_codes_equal_nar_adjacency(space, example):
    patches = space.patch_features([example["arch_str"]])
    np.testing.assert_array_equal(patches.ops[0], np.array(example["cell_adjacency"]))
    assert [space.op_code(op) for op in space.op_names] == [0, 1, 2, 3, 4]


def test_unknown_dataset_is_rejected(space):
    with pytest.raises(ValueError, match="unknown NAS-Bench-201 dataset 'mnist'"):
        space.cost_features(ARCH, dataset="mnist")


def test_accepted_forms_give_the_canonical_string(space):
    graph = space.to_networkx(ARCH)
    assert space.validate(ARCH_OPS) == ARCH
    assert space.validate(tuple(ARCH_OPS)) == ARCH
    assert space.validate(graph) == ARCH
    assert space.validate("  " + ARCH + "\n") == ARCH
    assert space.validate(space.validate(ARCH)) == ARCH
    assert space.hash(ARCH_OPS) == ARCH
    # edges listed out of order in a node group are normalised
    swapped = ARCH.replace("|skip_connect~0|nor_conv_3x3~1|", "|nor_conv_3x3~1|skip_connect~0|")
    assert space.validate(swapped) == ARCH


@pytest.mark.parametrize(
    "arch, message",
    [
        ("|none~0|+|none~0|none~1|", "expected 3 node groups"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "wrong number of edges into node 2"),
        ("|none~0|+|none~0|none~1|none~1|+|none~0|none~1|none~2|", "wrong number of edges"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "bad source index '1'"),
        ("|none~0|+|none~0|none~0|+|none~0|none~1|none~2|", "two edges from node 0"),
        ("|none~0|+|none~0|none~1|+|none~0|none~1|none~x|", "bad source index 'x'"),
        ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'conv' on edge 0->1"),
        ("none~0+none~0|none~1+none~0|none~1|none~2", "malformed arch string"),
        (["none"] * 5, "wrong number of edges"),
        (["none"] * 5 + ["conv5x5"], "unknown op 'conv5x5' on edge 2->3"),
        (42, "got int"),
    ],
)
def test_bad_architectures_name_the_rule(space, arch, message):
    with pytest.raises(ValueError, match=message):
        space.validate(arch)


def test_enumerate_yields_every_string_once_in_product_order(space):
    archs = list(space.enumerate())
    assert len(archs) == len(set(archs)) == 5**6
    assert archs[0] == space.validate(["none"] * 6)
    assert archs[1] == space.validate(["none"] * 5 + ["skip_connect"])
    assert archs[-1] == space.validate(["avg_pool_3x3"] * 6)
    assert all(space.validate(arch) == arch for arch in archs[::97])


def test_enumerate_covers_the_benchmark(space, csv_rows):
    benchmark = {space.validate(row["ArchitectureString"]) for row in csv_rows}
    assert benchmark == set(space.enumerate())


def test_isomorphism_key_reproduces_the_benchmark_partition(space, csv_rows):
    keys = [space.isomorphism_key(row["ArchitectureString"]) for row in csv_rows]
    assert keys == [row["UniqueString"] for row in csv_rows]
    assert len(set(keys)) == 6466


def test_isomorphism_key_semantics(space):
    ops = ["nor_conv_3x3", "none", "skip_connect", "none", "none", "skip_connect"]
    # node 3 = node 2 = node 1 = conv(input): skip edges pass their source through
    assert space.isomorphism_key(ops) == "#+#+#+(0)@nor_conv_3x3"
    # node 1 copies the input, so the two convs into node 3 are interchangeable
    first = ["skip_connect", "none", "none", "nor_conv_1x1", "nor_conv_3x3", "none"]
    second = ["skip_connect", "none", "none", "nor_conv_3x3", "nor_conv_1x1", "none"]
    assert space.hash(first) != space.hash(second)
    assert space.isomorphism_key(first) == space.isomorphism_key(second)
    third = ["nor_conv_1x1", "none", "none", "nor_conv_1x1", "nor_conv_3x3", "none"]
    assert space.isomorphism_key(third) != space.isomorphism_key(first)
    # as in the benchmark, zero terms are kept: skip(0) + none(1) does not read as the input
    fourth = ["skip_connect", "skip_connect", "none", "nor_conv_1x1", "none", "nor_conv_3x3"]
    assert space.isomorphism_key(fourth) == "#+(#+0)@nor_conv_3x3+(0)@nor_conv_1x1"


def test_representatives_are_the_simplest_member_of_each_class(space):
    archs = list(space.enumerate())
    representatives = space.representatives(archs)
    keys = [space.isomorphism_key(arch) for arch in archs]
    fewest_edges = {}
    for arch, key in zip(archs, keys):
        n_edges = space.structure_features(arch)["n_edges"]
        fewest_edges[key] = min(fewest_edges.get(key, n_edges), n_edges)
    assert len(set(representatives)) == len(fewest_edges) == 6466
    for arch, key, representative in zip(archs, keys, representatives):
        assert space.isomorphism_key(representative) == key, arch
        assert space.structure_features(representative)["n_edges"] == fewest_edges[key], arch
    assert space.representatives(representatives) == representatives


def test_representatives_drop_idle_ops_and_accept_every_form(space):
    # node 1 feeds nothing, so the pooling on 0 -> 1 takes no part in the network
    idle_pool = ["avg_pool_3x3", "none", "none", "skip_connect", "none", "none"]
    graph = space.to_networkx(idle_pool)
    expected = space.validate(["none", "none", "none", "skip_connect", "none", "none"])
    assert space.representatives([idle_pool, graph, ARCH]) == [expected, expected, ARCH]
    with pytest.raises(ValueError, match="index 1 is invalid"):
        space.representatives([ARCH, ["conv"] * 6])


def test_sample_is_distinct_valid_and_reproducible(space):
    archs = space.sample(200, random_state=0)
    assert len(set(archs)) == 200
    assert all(space.validate(arch) == arch for arch in archs)
    assert archs == space.sample(200, random_state=0)
    assert archs != space.sample(200, random_state=1)
    assert set(space.sample(5**6, random_state=0)) == set(space.enumerate())
    with pytest.raises(ValueError, match="cannot draw 15626 .* n must be at most 15625"):
        space.sample(5**6 + 1)


def test_sample_is_uniform_over_edge_ops(space):
    archs = space.sample(5000, random_state=0)
    counts = np.array(
        [[space.validate(a).count(f"{op}~") for op in space.op_names] for a in archs]
    ).sum(axis=0)
    # each op fills 1/5 of the 30,000 edges; 5 standard deviations is about 340
    assert np.all(np.abs(counts - 6000) < 350)


def test_patch_features_layout(space):
    archs = space.sample(50, random_state=3)
    patches = space.patch_features(archs, dataset="cifar100")
    assert patches.ops.shape == (50, 4, 4)
    assert patches.flops.shape == patches.params.shape == (50, 15, 4, 4)
    assert patches.ops.dtype == patches.flops.dtype == np.float64
    for i, arch in enumerate(archs):
        graph = space.to_networkx(arch)
        costs = space.cost_features(arch, dataset="cifar100")
        for edge, (src, dst) in enumerate(EDGES):
            assert patches.ops[i, src, dst] == space.op_code(graph.edges[src, dst]["op"])
            np.testing.assert_array_equal(patches.flops[i, :, src, dst], costs["flops"][:, edge])
            np.testing.assert_array_equal(
                patches.params[i, :, src, dst], costs["params"][:, edge]
            )
    # only the upper triangle carries edges
    lower = np.tril(np.ones((4, 4), dtype=bool))
    assert not patches.ops[:, lower].any() and not patches.flops[:, :, lower].any()


def test_patch_features_names_the_bad_index(space):
    with pytest.raises(ValueError, match="index 1 is invalid: unknown op"):
        space.patch_features([ARCH, ["bad"] * 6])


def test_total_costs_is_the_vectorised_total_cost(space):
    archs = space.sample(30, random_state=4)
    flops, params = space.total_costs(archs, dataset="ImageNet16-120")
    for arch, f, p in zip(archs, flops, params):
        assert space.total_cost(arch, dataset="ImageNet16-120") == {"flops": f, "params": p}


def test_structure_features(space):
    features = space.structure_features(ARCH)
    assert features["n_nodes"] == 4 and features["n_edges"] == 6
    assert features["n_nor_conv_3x3"] == 3 and features["n_skip_connect"] == 2
    assert features["n_avg_pool_3x3"] == 1 and features["n_none"] == 0
    assert space.structure_features(["none"] * 6)["n_edges"] == 0
    assert all(isinstance(v, int) for v in features.values())


def test_networkx_round_trip(space):
    for arch in space.sample(100, random_state=5):
        graph = space.to_networkx(arch)
        assert graph.graph["space"] == "nasbench201"
        assert sorted(graph.nodes) == [0, 1, 2, 3]
        assert all("op" in data for _, _, data in graph.edges(data=True))
        assert space.from_networkx(graph) == arch


def test_from_networkx_errors(space):
    backwards = nx.DiGraph()
    backwards.add_edge(2, 1, op="nor_conv_3x3")
    with pytest.raises(ValueError, match="bad edge 2->1"):
        space.from_networkx(backwards)
    extra = nx.DiGraph()
    extra.add_edge(0, 4, op="nor_conv_3x3")
    with pytest.raises(ValueError, match="nodes 0..3"):
        space.from_networkx(extra)
    foreign = space.to_networkx(ARCH)
    foreign.graph["space"] = "nasbench101"
    with pytest.raises(ValueError, match="'nasbench101' space"):
        space.from_networkx(foreign)
    no_op = nx.DiGraph()
    no_op.add_edge(0, 1)
    with pytest.raises(ValueError, match="no 'op' attribute"):
        space.from_networkx(no_op)
