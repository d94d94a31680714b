import itertools
import pickle
import subprocess
import sys

import networkx as nx
import numpy as np
import pytest

from sknar.spaces import SearchSpace
from sknar.spaces.nasbench_graph import GNN_OPS, GraphArch, NASBenchGraphSpace

ALL_LINKS = list(itertools.product(*(range(slot + 1) for slot in range(4))))


@pytest.fixture(scope="module")
def space():
    return NASBenchGraphSpace()


@pytest.fixture(scope="module")
def package():
    return pytest.importorskip(
        "nas_bench_graph",
        reason="the nas-bench-graph package (extra 'graph') is needed for the cross-checks",
    )


@pytest.fixture(scope="module")
def archs(space):
    return list(space.enumerate())


def test_protocol_attributes(space):
    assert isinstance(space, SearchSpace)
    assert space.name == "nasbench_graph"
    assert space.op_names == GNN_OPS and space.n_ops == 9
    assert space.max_nodes == 6 and space.n_cells == 0 and space.cost_datasets is None
    proteins = NASBenchGraphSpace(op_set="proteins")
    assert proteins.op_names == ("gcn", "sage", "arma", "fc", "skip")
    assert proteins != space and pickle.loads(pickle.dumps(proteins)) == proteins
    with pytest.raises(ValueError, match="op_set must be one of"):
        NASBenchGraphSpace(op_set="tiny").validate(([0, 0, 0, 0], ["gcn"] * 4))


def test_keys_equal_the_benchmark_for_every_input(space, package):
    # every link a slot order allows x every op assignment, identity network excluded
    Arch = package.Arch
    for link in ALL_LINKS:
        for ops in itertools.product(GNN_OPS, repeat=4):
            if ops == ("skip",) * 4:
                continue
            assert space.key((link, ops)) == Arch(list(link), list(ops)).valid_hash(), (
                link,
                ops,
            )


def test_enumerate_equals_the_bench_keys(space, archs, package):
    bench = package.light_read("cora")
    keys = [space.key(arch) for arch in archs]
    assert len(archs) == len(set(archs)) == 26206
    assert set(keys) == set(bench)
    assert keys == sorted(keys)
    assert all(space.validate(arch) == arch for arch in archs)


def test_proteins_op_set_equals_its_bench(package):
    proteins = NASBenchGraphSpace(op_set="proteins")
    keys = {proteins.key(arch) for arch in proteins.enumerate()}
    assert len(keys) == 2021
    assert keys == set(package.light_read("proteins"))
    with pytest.raises(ValueError, match="unknown op 'gat' in slot 0; the 'proteins' op set"):
        proteins.validate(([0, 0, 0, 0], ["gat", "gcn", "gcn", "gcn"]))


def test_canonical_form_is_a_hashable_named_tuple(space):
    arch = space.validate(([0, 1, 0, 0], ["gcn", "sage", "gat", "gin"]))
    assert isinstance(arch, GraphArch)
    assert arch == GraphArch((0, 0, 0, 1), ("gcn", "gat", "gin", "sage"))
    assert hash(arch) == hash(GraphArch((0, 0, 0, 1), ("gcn", "gat", "gin", "sage")))
    assert pickle.loads(pickle.dumps(arch)) == arch
    assert "GraphArch(link=(0, 0, 0, 1)" in repr(arch)


def test_isomorphic_forms_share_one_canonical_form(space):
    # two parallel slots reading the input can be listed in either order
    first = space.validate(([0, 0, 1, 2], ["gcn", "gat", "gin", "sage"]))
    second = space.validate(([0, 0, 1, 2], ["gat", "gcn", "sage", "gin"]))
    assert first == second
    assert space.hash(first) == str(space.key(first))


def test_accepted_forms(space):
    expected = space.validate(((0, 1, 2, 3), ("gcn", "gat", "gin", "sage")))
    assert space.validate({"link": [0, 1, 2, 3], "ops": ["gcn", "gat", "gin", "sage"]}) == expected
    assert space.validate([np.array([0, 1, 2, 3]), ["gcn", "gat", "gin", "sage"]]) == expected
    assert space.validate(space.to_networkx(expected)) == expected

    class Legacy:
        link = [0, 1, 2, 3]
        ops = ["gcn", "gat", "gin", "sage"]

    assert space.validate(Legacy()) == expected


@pytest.mark.parametrize(
    "arch, message",
    [
        (([0, 2, 0, 0], ["gcn"] * 4), "link\\[1\\] = 2: .* cycle"),
        (([0, 0, 0, 4], ["gcn"] * 4), "link\\[3\\] = 4"),
        (([0, 0, 0, -1], ["gcn"] * 4), "link\\[3\\] = -1"),
        (([0, 0, 0], ["gcn"] * 4), "wrong shape: link must have 4 entries"),
        (([0, 0, 0, 0], ["gcn"] * 5), "wrong shape: ops must have 4 entries"),
        (([0, 0, 0, 0], "gcngcn"), "wrong shape: ops must be a sequence"),
        (([0, 0, 0, 0.5], ["gcn"] * 4), "link\\[3\\] must be an int"),
        (([0, 0, 0, 0], ["gcn", "gcn", "gcn", "mlp"]), "unknown op 'mlp' in slot 3"),
        (([0, 1, 2, 3], ["skip"] * 4), "all four ops are 'skip'"),
        (([0, 0, 0, 0], ["gcn"] * 4, 1), "wrong shape: an architecture is a \\(link, ops\\)"),
        ({"link": [0, 0, 0, 0]}, "missing"),
        ("gcn", "got str"),
    ],
)
def test_bad_architectures_name_the_rule(space, arch, message):
    with pytest.raises(ValueError, match=message):
        space.validate(arch)


def test_from_key(space, archs):
    for arch in archs[::250]:
        assert space.from_key(space.key(arch)) == arch
    with pytest.raises(ValueError, match="not the key of an architecture"):
        space.from_key(99999)
    with pytest.raises(ValueError, match="not canonical"):
        # link (0, 0, 0, 0) with ops gat, gin, gcn, gcn: four parallel slots must be sorted
        space.from_key(2111)
    with pytest.raises(ValueError, match="non-negative int"):
        space.from_key("1111")


def test_sample_is_distinct_valid_and_reproducible(space, archs):
    sample = space.sample(300, random_state=0)
    assert len(set(sample)) == 300 and set(sample) <= set(archs)
    assert sample == space.sample(300, random_state=0)
    assert sample != space.sample(300, random_state=1)
    with pytest.raises(ValueError, match="cannot draw 26207 .* n must be at most 26206"):
        space.sample(26207)
    assert len(NASBenchGraphSpace(op_set="proteins").sample(2021, random_state=0)) == 2021


def test_networkx_round_trip(space):
    for arch in space.sample(100, random_state=2):
        graph = space.to_networkx(arch)
        assert graph.graph["space"] == "nasbench_graph"
        assert graph.nodes[0]["op"] == "input" and graph.nodes[5]["op"] == "output"
        assert [graph.nodes[i]["op"] for i in range(1, 5)] == list(arch.ops)
        assert nx.is_directed_acyclic_graph(graph)
        # every slot lies on an input-output path
        for slot in range(1, 5):
            assert nx.has_path(graph, 0, slot) and nx.has_path(graph, slot, 5)
        assert space.from_networkx(graph) == arch


def test_from_networkx_errors(space):
    graph = space.to_networkx(([0, 1, 2, 3], ["gcn"] * 4))
    graph.add_edge(2, 5)
    with pytest.raises(ValueError, match="output node must be fed by exactly"):
        space.from_networkx(graph)
    graph = space.to_networkx(([0, 1, 2, 3], ["gcn"] * 4))
    graph.add_edge(0, 3)
    with pytest.raises(ValueError, match="slot node 3 must have exactly one input edge"):
        space.from_networkx(graph)
    graph = space.to_networkx(([0, 1, 2, 3], ["gcn"] * 4))
    graph.remove_node(5)
    with pytest.raises(ValueError, match="wrong shape"):
        space.from_networkx(graph)


def test_patch_features_follow_the_graph(space):
    archs = space.sample(40, random_state=3)
    patches = space.patch_features(archs)
    assert patches.ops.shape == (40, 6, 6)
    assert patches.flops.shape == patches.params.shape == (40, 0, 6, 6)
    for arch, patch in zip(archs, patches.ops):
        graph = space.to_networkx(arch)
        expected = np.zeros((6, 6))
        for src, dst in graph.edges:
            expected[src, dst] = space.op_code(graph.nodes[dst]["op"])
        np.testing.assert_array_equal(patch, expected)
    with pytest.raises(ValueError, match="index 1 is invalid"):
        space.patch_features([archs[0], ([0, 0, 0, 0], ["skip"] * 4)])


def test_op_codes(space):
    assert [space.op_code(op) for op in space.op_names] == list(range(1, 10))
    assert space.op_code("input") == 10 and space.op_code("output") == 11
    with pytest.raises(ValueError, match="unknown op"):
        space.op_code("conv3x3")


def test_costs_and_structure(space):
    arch = ([0, 1, 1, 0], ["gcn", "gat", "skip", "fc"])
    assert space.cost_features(arch)["flops"].shape == (0, 6)
    with pytest.raises(NotImplementedError, match="load_nasbench_graph"):
        space.total_cost(arch)
    features = space.structure_features(([0, 1, 2, 3], ["gcn", "gcn", "fc", "sage"]))
    assert features["n_nodes"] == 6 and features["n_edges"] == 5
    assert features["n_outputs"] == 1 and features["depth"] == 4
    assert features["n_gcn"] == 2 and features["n_fc"] == 1 and features["n_gat"] == 0
    wide = space.structure_features(([0, 0, 0, 0], ["gcn"] * 4))
    assert wide["n_outputs"] == 4 and wide["depth"] == 1 and wide["n_edges"] == 8


def test_importing_sknar_does_not_import_the_benchmark_package():
    code = (
        "import sys, sknar.spaces.nasbench_graph, sknar.datasets._nasbench_graph;"
        "assert 'nas_bench_graph' not in sys.modules, 'imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
