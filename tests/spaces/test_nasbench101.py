"""Tests of the NAS-Bench-101 space against the official benchmark's rules and data."""

import gzip
import itertools
import json
import pickle

import networkx as nx
import numpy as np
import pytest
from scipy import stats

from sknar.spaces import PatchFeatures, SearchSpace
from sknar.spaces.nasbench101 import NASBench101Cell, NASBench101Space
from sknar.utils.testing import require_data

C1, C3, MP = "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3"
OFFICIAL = "nasbench101/nb101_official_records_30.json"
RECORDS = "nasbench101/nb101_20k_val108.json.gz"
NAR_EXAMPLE = "nar_reference/nasbench101_vertice_example.json"

# A 5-vertex cell: input -> conv3x3 -> maxpool -> output, input -> conv1x1 -> output.
SMALL = (
    [[0, 1, 0, 1, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
    ["input", C3, MP, C1, "output"],
)


@pytest.fixture(scope="module")
def space():
    return NASBench101Space()


@pytest.fixture(scope="module")
def official_records():
    with open(require_data(OFFICIAL)) as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def records():
    with gzip.open(require_data(RECORDS), "rt") as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def record_cells(space, records):
    return [space.validate((r["matrix"], r["ops"])) for r in records]


@pytest.fixture(scope="module")
def nar_example():
    with open(require_data(NAR_EXAMPLE)) as handle:
        return json.load(handle)[0]


# --- the protocol ----------------------------------------------------------------------


def test_class_attributes(space):
    assert isinstance(space, SearchSpace)
    assert space.name == "nasbench101"
    assert space.op_names == (C1, C3, MP)
    assert (space.max_nodes, space.n_cells, space.cost_datasets) == (7, 9, None)
    assert space.n_ops == 3


def test_op_codes_follow_nar(space):
    codes = {op: space.op_code(op) for op in ("input", C1, C3, MP, "output")}
    assert codes == {"input": 1, C1: 2, C3: 3, MP: 4, "output": 5}
    with pytest.raises(ValueError, match="unknown op"):
        space.op_code("conv5x5")


def test_canonical_form_is_immutable_hashable_and_readable(space):
    cell = space.validate(SMALL)
    assert isinstance(cell, NASBench101Cell)
    assert cell.matrix == tuple(map(tuple, SMALL[0]))
    assert cell.ops == tuple(SMALL[1])
    assert pickle.loads(pickle.dumps(cell)) == cell
    assert len({cell, space.validate(cell), space.validate(cell._asdict())}) == 1
    assert "conv3x3-bn-relu" in repr(cell) and "NASBench101Cell" in repr(cell)
    with pytest.raises(TypeError):
        cell.matrix[0][1] = 0


@pytest.mark.parametrize(
    "form",
    [
        lambda m, o: (m, o),
        lambda m, o: [m, o],
        lambda m, o: (np.array(m), np.array(o)),
        lambda m, o: (np.array(m, dtype=bool), o),
        lambda m, o: (np.array(m, dtype=float), tuple(o)),
        lambda m, o: {"matrix": m, "ops": o},
        lambda m, o: {"module_adjacency": m, "module_operations": o},
    ],
)
def test_accepted_forms_give_the_same_cell(space, form):
    assert space.validate(form(*SMALL)) == space.validate(SMALL)


def test_networkx_round_trip(space):
    cell = space.validate(SMALL)
    graph = space.to_networkx(cell)
    assert isinstance(graph, nx.DiGraph) and graph.graph["space"] == "nasbench101"
    assert [graph.nodes[v]["op"] for v in range(5)] == list(cell.ops)
    assert sorted(graph.edges) == [(0, 1), (0, 3), (1, 2), (2, 4), (3, 4)]
    assert space.from_networkx(graph) == cell
    assert space.validate(graph) == cell


def test_from_networkx_rejects_foreign_graphs(space):
    graph = space.to_networkx(SMALL)
    relabelled = nx.relabel_nodes(graph, {v: f"v{v}" for v in graph})
    with pytest.raises(ValueError, match="integers"):
        space.from_networkx(relabelled)
    other = graph.copy()
    other.graph["space"] = "nasbench201"
    with pytest.raises(ValueError, match="nasbench201"):
        space.from_networkx(other)
    del graph.nodes[2]["op"]
    with pytest.raises(ValueError, match="node 2 has no 'op'"):
        space.from_networkx(graph)
    with pytest.raises(ValueError, match="DiGraph"):
        space.from_networkx(SMALL)


def test_structure_features(space):
    features = space.structure_features(SMALL)
    assert features == {"n_nodes": 5, "n_edges": 5, f"n_{C1}": 1, f"n_{C3}": 1, f"n_{MP}": 1}
    assert all(type(value) is int for value in features.values())


# --- validation and pruning ------------------------------------------------------------


def _official_prune(matrix, ops):
    """The official ModelSpec._prune: DFS from the input and, backwards, from the output."""
    n = len(matrix)
    from_input, frontier = {0}, [0]
    while frontier:
        top = frontier.pop()
        for v in range(top + 1, n):
            if matrix[top][v] and v not in from_input:
                from_input.add(v)
                frontier.append(v)
    to_output, frontier = {n - 1}, [n - 1]
    while frontier:
        top = frontier.pop()
        for v in range(top):
            if matrix[v][top] and v not in to_output:
                to_output.add(v)
                frontier.append(v)
    extraneous = set(range(n)) - (from_input & to_output)
    if len(extraneous) > n - 2:
        return None
    keep = [v for v in range(n) if v not in extraneous]
    pruned = tuple(tuple(matrix[i][j] for j in keep) for i in keep)
    return pruned, tuple(ops[v] for v in keep)


def test_pruning_agrees_with_the_official_procedure(space):
    rng = np.random.RandomState(0)
    n_valid = n_disconnected = 0
    for _ in range(3000):
        n = rng.randint(2, 8)
        matrix = np.triu(rng.rand(n, n) < rng.uniform(0.1, 0.6), k=1).astype(int).tolist()
        ops = ["input", *rng.choice([C1, C3, MP], size=n - 2), "output"]
        expected = _official_prune(matrix, ops)
        if expected is None:
            n_disconnected += 1
            with pytest.raises(ValueError, match="not reachable"):
                space.validate((matrix, ops))
        elif sum(map(sum, expected[0])) > 9:
            with pytest.raises(ValueError, match="too many edges"):
                space.validate((matrix, ops))
        else:
            n_valid += 1
            assert tuple(space.validate((matrix, ops))) == expected
    assert n_valid > 500 and n_disconnected > 200


def test_pruning_keeps_vertex_order(space):
    # vertex 2 has no path from the input, vertex 4 none to the output
    matrix = [
        [0, 1, 0, 1, 1, 0],
        [0, 0, 0, 1, 0, 1],
        [0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
    ]
    cell = space.validate((matrix, ["input", MP, C1, C3, C1, "output"]))
    assert cell.ops == ("input", MP, C3, "output")
    assert cell.matrix == ((0, 1, 1, 0), (0, 0, 1, 1), (0, 0, 0, 1), (0, 0, 0, 0))


def test_limits_apply_after_pruning(space):
    # 8 vertices and 10 edges, but vertex 6 is dead-ended: 7 vertices and 9 edges remain
    matrix = np.zeros((8, 8), dtype=int)
    for source, target in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 7), (0, 7), (0, 2), (1, 3)]:
        matrix[source, target] = 1
    matrix[5, 6] = 1
    ops = ["input", C3, C3, C1, MP, C3, C1, "output"]
    cell = space.validate((matrix, ops))
    assert (cell.n_vertices, cell.n_edges) == (7, 9)


def _chain(n):
    return np.eye(n, k=1, dtype=int), ["input", *[C3] * (n - 2), "output"]


@pytest.mark.parametrize(
    "arch, message",
    [
        (_chain(8), "too many vertices: 8"),
        ((np.triu(np.ones((7, 7), int), 1), ["input", *[C3] * 5, "output"]), "too many edges: 21"),
        (([[0, 1, 0], [0, 0, 1], [0, 1, 0]], ["input", C3, "output"]), "cycle"),
        (([[0, 1, 0], [0, 1, 1], [0, 0, 0]], ["input", C3, "output"]), "cycle: 1 -> 1"),
        (([[0, 0, 1], [1, 0, 0], [0, 0, 0]], ["input", C3, "output"]), "upper-triangular"),
        (([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"]), "unknown op"),
        (([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "output", "output"]), "unknown op"),
        (([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [C3, C3, "output"]), "first op must be 'input'"),
        (([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", C3, C1]), "last op must be 'output'"),
        (([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["input", C3, "output"]), "not reachable"),
        (([[0, 0], [0, 0]], ["input", "output"]), "not reachable"),
        (([[0, 1, 0], [0, 0, 1]], ["input", C3, "output"]), "square"),
        (([0, 1], ["input", "output"]), "square"),
        (([[0, 1], [0]], ["input", "output"]), "rectangular|square"),
        (([[0]], ["input"]), "at least an input and an output"),
        (([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "output"]), "2 entries but the matrix"),
        (([[0, 2], [0, 0]], ["input", "output"]), "0 or 1, got 2"),
        (([[0, 0.5], [0, 0]], ["input", "output"]), "0 or 1"),
        (([[0, float("nan")], [0, 0]], ["input", "output"]), "0 or 1"),
        (([[0, -1], [0, 0]], ["input", "output"]), "0 or 1"),
        (([["0", "1"], ["0", "0"]], ["input", "output"]), "numeric"),
        (([[0, 1], [0, 0]], "input output"), "sequence of op names"),
        ({"adjacency": [[0, 1], [0, 0]], "ops": ["input", "output"]}, "keys"),
        ("|nor_conv_3x3~0|", "pair"),
        (([[0, 1], [0, 0]], ["input", "output"], "extra"), "pair"),
    ],
)
def test_invalid_architectures_are_rejected(space, arch, message):
    with pytest.raises(ValueError, match=message):
        space.validate(arch)


def test_invalid_canonical_looking_cell_is_rejected(space):
    fake = NASBench101Cell(((0, 1), (1, 0)), ("input", "output"))
    with pytest.raises(ValueError, match="cycle"):
        space.validate(fake)


def test_validate_all_fast_path_agrees_with_validate(space):
    cells = space.sample(40, random_state=1) + [space.validate(SMALL)]
    # vertex 2 lies on no input-output path: a canonical-looking cell that needs pruning
    unpruned = NASBench101Cell(
        ((0, 1, 0, 1), (0, 0, 0, 1), (0, 0, 0, 0), (0, 0, 0, 0)), ("input", C1, MP, "output")
    )
    with_bools = NASBench101Cell(((False, True), (False, False)), ("input", "output"))
    mixed = [*cells, unpruned, with_bools, SMALL]
    assert space.validate_all(mixed) == [space.validate(arch) for arch in mixed]
    assert space.validate_all([unpruned])[0].ops == ("input", C1, "output")
    fake = NASBench101Cell(((0, 1, 0), (0, 0, 1), (0, 1, 0)), ("input", C3, "output"))
    with pytest.raises(ValueError, match="index 41 is invalid: the cell has a cycle"):
        space.validate_all([*cells, fake])
    unknown = NASBench101Cell(((0, 1, 0), (0, 0, 1), (0, 0, 0)), ("input", "conv", "output"))
    with pytest.raises(ValueError, match="index 0 is invalid: unknown op"):
        space.patch_features([unknown, *cells])


def test_validate_all_names_the_index(space):
    with pytest.raises(ValueError, match="index 1 .*unknown op"):
        bad = ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv", "output"])
        space.validate_all([SMALL, bad])


# --- hash ------------------------------------------------------------------------------


def test_hash_is_invariant_to_vertex_order_only(space):
    cell = space.validate(SMALL)
    # swap the two branches: vertex order 0, 3, 1, 2, 4
    order = [0, 3, 1, 2, 4]
    matrix = np.asarray(SMALL[0])[np.ix_(order, order)]
    reordered = space.validate((matrix, [SMALL[1][v] for v in order]))
    assert reordered != cell
    assert space.hash(reordered) == space.hash(cell)
    other_op = space.validate((SMALL[0], ["input", C1, MP, C1, "output"]))
    assert space.hash(other_op) != space.hash(cell)
    assert len(space.hash(cell)) == 32 and int(space.hash(cell), 16) >= 0


def test_hash_memo_belongs_to_the_space_object():
    import copy

    space = NASBench101Space()
    cells = space.sample(5, random_state=0)
    keys = [space.hash(cell) for cell in cells]
    memo = next(iter(space._memos.values()))
    assert memo.cache_info().currsize == 5 and memo.cache_info().maxsize == 1 << 16
    hits = memo.cache_info().hits
    assert [space.hash(cell) for cell in cells] == keys
    assert memo.cache_info().hits == hits + 5 and memo.cache_info().misses == 5
    # the memo is no part of the space: equal to a fresh one, left out of copies and pickles
    assert space == NASBench101Space() and hash(space) == hash(NASBench101Space())
    for copied in (copy.deepcopy(space), pickle.loads(pickle.dumps(space))):
        assert not hasattr(copied, "_memos") and copied == space
        assert [copied.hash(cell) for cell in cells] == keys
    other = NASBench101Space()
    other.hash(cells[0])
    assert next(iter(other._memos.values())).cache_info().currsize == 1
    bounded = NASBench101Space()
    bounded.hash_memo_size = 2
    assert [bounded.hash(cell) for cell in cells] == keys
    assert next(iter(bounded._memos.values())).cache_info().currsize == 2


def test_canonical_pairs_are_recognised_without_revalidation(space):
    cell = space.sample(1, random_state=4)[0]
    as_bools = (tuple(tuple(bool(x) for x in row) for row in cell.matrix), cell.ops)
    as_numpy = (tuple(tuple(np.int64(x) for x in row) for row in cell.matrix),
                tuple(np.str_(op) for op in cell.ops))
    for form in (cell, tuple(cell), as_bools, as_numpy):
        canonical = space.validate(form)
        assert canonical == cell and type(canonical) is NASBench101Cell
        assert all(type(x) is int for row in canonical.matrix for x in row)
        assert all(type(op) is str for op in canonical.ops)


def test_hash_matches_official_records(space, official_records):
    for key, record in official_records.items():
        assert space.hash(record["fixed"]) == key


def test_hash_matches_all_20k_records(space, records, record_cells):
    assert len(records) == 20001
    mismatched = [
        i for i, (r, c) in enumerate(zip(records, record_cells)) if space.hash(c) != r["hash"]
    ]
    assert mismatched == []


def test_hash_matches_nar_example(space, nar_example):
    assert space.hash(nar_example) == nar_example["unique_hash"]


# --- trainable parameters and costs ----------------------------------------------------


def test_trainable_parameters_match_official_records(space, official_records):
    for record in official_records.values():
        fixed = record["fixed"]
        assert space.trainable_parameters(fixed) == fixed["trainable_parameters"]


def test_trainable_parameters_match_all_20k_records(space, records, record_cells):
    mismatched = [
        i
        for i, (r, c) in enumerate(zip(records, record_cells))
        if space.trainable_parameters(c) != r["trainable_parameters"]
    ]
    assert mismatched == []


def test_batch_total_costs_match_records_and_single_cells(space, records, record_cells):
    flops, params = space.total_costs(record_cells)
    np.testing.assert_array_equal(params, [r["trainable_parameters"] for r in records])
    for index in range(0, len(record_cells), 997):
        assert space.total_cost(record_cells[index]) == {
            "flops": flops[index],
            "params": params[index],
        }


def test_official_records_are_in_benchmark_order(space, official_records, nar_example):
    for record in [*(r["fixed"] for r in official_records.values()), nar_example]:
        cell = space.validate(record)
        assert space.benchmark_order(cell) == cell


def test_benchmark_order_matters_for_the_channel_split(space):
    # Three branches feed the output (128 channels do not split evenly in 3): the first
    # two branches in vertex order get 43 channels, the last one 42.
    matrix = [
        [0, 1, 1, 1, 0],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0],
    ]
    first = space.validate((matrix, ["input", C3, C3, MP, "output"]))
    second = space.validate((matrix, ["input", MP, C3, C3, "output"]))
    assert space.hash(first) == space.hash(second)
    assert space.benchmark_order(second) == first
    assert space.trainable_parameters(first) == space.trainable_parameters(second)
    costs_first, costs_second = space.cost_features(first), space.cost_features(second)
    np.testing.assert_array_equal(costs_second["params"][:, [0, 2, 3, 1, 4]], costs_first["params"])
    # stack 0: conv3x3 vertices with 43 channels and their 1x1 input projections (+BN)
    assert costs_first["params"][0, 1] == 128 * 43 + 2 * 43 + 9 * 43 * 43 + 2 * 43
    assert costs_first["params"][0, 2] == costs_first["params"][0, 1]


def test_cost_features_match_nar_example(space, nar_example):
    costs = space.cost_features(nar_example)
    names = list(nar_example["vertex_flops"])
    assert names == list(space.cell_names)
    np.testing.assert_array_equal(costs["flops"], [nar_example["vertex_flops"][k] for k in names])
    np.testing.assert_array_equal(costs["params"], [nar_example["vertex_params"][k] for k in names])
    assert costs["flops"].dtype == np.int64 and costs["flops"].shape == (9, 7)
    total = space.total_cost(nar_example)
    assert total == {"flops": nar_example["flops"], "params": nar_example["trainable_parameters"]}
    assert all(type(value) is int for value in total.values())


def test_costs_follow_the_given_vertex_order(space, nar_example):
    cell = space.validate(nar_example)
    graph = space.to_networkx(cell)
    orders = [o for o in nx.all_topological_sorts(graph) if list(o) != list(range(7))]
    assert orders
    base = space.cost_features(cell)
    for order in orders[:5]:
        moved = space.validate(
            (np.asarray(cell.matrix)[np.ix_(order, order)], [cell.ops[v] for v in order])
        )
        costs = space.cost_features(moved)
        np.testing.assert_array_equal(costs["flops"], base["flops"][:, order])
        np.testing.assert_array_equal(costs["params"], base["params"][:, order])
        assert space.total_cost(moved) == space.total_cost(cell)


def test_costs_of_the_input_output_edge(space):
    # input -> output only: every cell is one 1x1 projection (conv + BN) of its input
    costs = space.cost_features(([[0, 1], [0, 0]], ["input", "output"]))
    in_out = [(128, 128, 32)] * 3 + [(128, 256, 16)] + [(256, 256, 16)] * 2
    in_out += [(256, 512, 8)] + [(512, 512, 8)] * 2
    np.testing.assert_array_equal(costs["params"][:, 1], [i * o + 2 * o for i, o, _ in in_out])
    np.testing.assert_array_equal(costs["flops"][:, 1], [2 * i * o * s * s for i, o, s in in_out])
    assert (costs["params"][:, 0] == 0).all()
    with pytest.raises(ValueError, match="CIFAR-10"):
        space.cost_features(SMALL, dataset="cifar100")


def test_trainable_parameters_sum_the_vertices(space):
    cell = space.validate(SMALL)
    stem_and_classifier = 3 * 3 * 3 * 128 + 2 * 128 + 512 * 10 + 10
    expected = int(space.cost_features(cell)["params"].sum()) + stem_and_classifier
    assert space.trainable_parameters(cell) == expected


# --- patches ---------------------------------------------------------------------------


def _nar_pad(matrix, vector, size=7):
    """The NAR reference padding, rebuilt: repeatedly append a zero row/column and swap it
    in front of the output."""
    matrix, vector = np.asarray(matrix, float), np.asarray(vector, float)
    for _ in range(size - len(vector)):
        matrix = np.pad(matrix, ((0, 1), (0, 1)))
        vector = np.pad(vector, (0, 1))
        index = list(range(len(vector)))
        index[-2], index[-1] = index[-1], index[-2]
        matrix, vector = matrix[np.ix_(index, index)], vector[index]
    return matrix, vector


def test_patch_features_match_the_nar_encoding(space, nar_example):
    small = space.validate(SMALL)
    archs = [nar_example, small, nar_example]
    patches = space.patch_features(archs)
    assert isinstance(patches, PatchFeatures)
    assert patches.ops.shape == (3, 7, 7) and patches.flops.shape == (3, 9, 7, 7)
    assert patches.params.shape == (3, 9, 7, 7) and patches.ops.dtype == np.float64
    codes = {"input": 1, C1: 2, C3: 3, MP: 4, "output": 5}
    for row, arch in enumerate(archs):
        cell = space.validate(arch)
        costs = space.cost_features(cell)
        adjacency, op_codes = _nar_pad(cell.matrix, [codes[op] for op in cell.ops])
        np.testing.assert_array_equal(patches.ops[row], adjacency * op_codes)
        for c in range(9):
            _, flops = _nar_pad(cell.matrix, costs["flops"][c])
            _, params = _nar_pad(cell.matrix, costs["params"][c])
            np.testing.assert_array_equal(patches.flops[row, c], adjacency * flops)
            np.testing.assert_array_equal(patches.params[row, c], adjacency * params)
    # the output of the 5-vertex cell is moved to the last row/column
    assert patches.ops[1, 3, 6] == 5 and patches.ops[1, :, 4:6].sum() == 0
    assert patches.flops[0, 0, 0, 1] == nar_example["vertex_flops"]["stack0/module0"][1]


def test_patch_features_report_the_bad_index(space):
    with pytest.raises(ValueError, match="index 1"):
        space.patch_features([SMALL, _chain(8)])


# --- sampling and enumeration ----------------------------------------------------------


@pytest.mark.parametrize("distribution", ["cells", "specs"])
def test_sample_gives_distinct_valid_cells(space, distribution):
    cells = space.sample(60, random_state=0, distribution=distribution)
    assert len(cells) == 60 and all(isinstance(c, NASBench101Cell) for c in cells)
    assert len({space.hash(c) for c in cells}) == 60
    assert [space.validate(c) for c in cells] == cells
    assert cells == space.sample(60, random_state=0, distribution=distribution)
    assert cells != space.sample(60, random_state=1, distribution=distribution)


def test_sampled_cells_are_in_benchmark_order(space):
    for cell in space.sample(50, random_state=3):
        assert space.benchmark_order(cell) == cell


def test_sample_arguments(space):
    assert space.sample(0) == []
    with pytest.raises(ValueError, match="distribution"):
        space.sample(3, distribution="uniform")
    with pytest.raises(ValueError, match="'n' parameter of NASBench101Space.sample must be"):
        space.sample(-1)
    with pytest.raises(ValueError, match="n must be at most 423624"):
        space.sample(423_625)


def test_specs_distribution_favours_pruned_cells(space):
    # about 10 of the 21 possible edges are drawn, and at most 9 may remain: the valid
    # random specs are mostly pruned ones, smaller than the typical cell of the space
    specs = space.sample(300, random_state=0, distribution="specs")
    cells = space.sample(300, random_state=0, distribution="cells")
    assert np.mean([c.n_vertices for c in specs]) < np.mean([c.n_vertices for c in cells]) - 0.5


def _masks_by_the_rules(n_vertices):
    """Every bit mask of an n-vertex matrix, filtered by the generator's rules."""
    from sknar.spaces.nasbench101._enumeration import _masks_to_matrices

    masks = np.arange(1 << (n_vertices * (n_vertices - 1) // 2), dtype=np.int64)
    matrices = _masks_to_matrices(masks, n_vertices)
    keep = matrices.sum(axis=(1, 2)) <= 9
    keep &= matrices[:, :-1, :].any(axis=2).all(axis=1)  # an out-edge but at the output
    keep &= matrices[:, :, 1:].any(axis=1).all(axis=1)  # an in-edge but at the input
    return masks[keep]


@pytest.mark.parametrize("n_vertices", range(2, 7))
def test_generator_masks_are_the_matrices_the_rules_keep(n_vertices):
    from sknar.spaces.nasbench101._enumeration import _full_dag_masks

    np.testing.assert_array_equal(_full_dag_masks(n_vertices), _masks_by_the_rules(n_vertices))


def test_seven_vertex_generator_masks_follow_the_rules():
    from sknar.spaces.nasbench101._enumeration import _full_dag_masks, _masks_to_matrices

    masks = _full_dag_masks(7)
    assert len(masks) == 4793 and (np.diff(masks) > 0).all()
    matrices = _masks_to_matrices(masks, 7)
    assert (matrices.sum(axis=(1, 2)) <= 9).all()
    assert matrices[:, :-1, :].any(axis=2).all() and matrices[:, :, 1:].any(axis=1).all()
    assert not np.tril(matrices).any()


@pytest.fixture(scope="module")
def enumerated(space):
    return list(space.enumerate())


@pytest.mark.slow
def test_enumeration_is_the_whole_space(space, enumerated, records, record_cells):
    from sknar.spaces.nasbench101._hashing import _official_hash

    assert len(enumerated) == 423_624
    hashes = {}
    for cell in enumerated:
        hashes[_official_hash(cell)] = cell
    assert len(hashes) == 423_624
    assert len(set(enumerated)) == 423_624
    # every benchmark record is there, in the benchmark's vertex order
    for record, cell in zip(records, record_cells):
        assert hashes[record["hash"]] == space.benchmark_order(cell)
    sizes = np.bincount([cell.n_vertices for cell in enumerated])
    # input -> output alone; one op on a chain, with or without the input -> output edge
    assert sizes[2] == 1 and sizes[3] == 6


@pytest.mark.slow
def test_enumerated_cells_are_valid(space, enumerated):
    rng = np.random.RandomState(0)
    for index in rng.choice(len(enumerated), size=20_000, replace=False):
        cell = enumerated[index]
        assert space.validate((list(map(list, cell.matrix)), list(cell.ops))) == cell
        assert cell.n_edges <= 9 and cell.n_vertices <= 7


@pytest.mark.slow
def test_uniform_sampling_weights_match_the_generator(space, enumerated):
    """Each cell is accepted with probability one over its number of generator specs."""
    from sknar.spaces.nasbench101._enumeration import _fingerprints, _generator_specs
    from sknar.spaces.nasbench101._hashing import _official_labels, _ordering_keys

    prints = np.concatenate([_generator_specs(n)[2].ravel() for n in range(2, 8)])
    assert len(prints) == 1_293_208
    values, counts = np.unique(prints, return_counts=True)
    assert len(values) == 423_624
    rng = np.random.RandomState(0)
    for index in rng.choice(len(enumerated), size=300, replace=False):
        cell = enumerated[index]
        matrix = np.asarray(cell.matrix, dtype=np.uint8)
        fingerprint = _fingerprints(matrix[None], _official_labels(cell)[None])[0, 0]
        n_specs = counts[np.searchsorted(values, fingerprint)]
        _, keys = _ordering_keys(matrix, _official_labels(cell))
        assert len(np.unique(keys)) == n_specs
    # and the draw reproduces the distribution of cell sizes of the whole space
    in_space = set(enumerated)
    sample = space.sample(2000, random_state=0)
    assert all(cell in in_space for cell in sample)
    expected = np.bincount([c.n_vertices for c in enumerated], minlength=8)[5:]
    observed = np.bincount([c.n_vertices for c in sample], minlength=8)[5:]
    expected = expected / expected.sum() * observed.sum()
    assert stats.chisquare(observed, expected).pvalue > 0.001


def test_enumerate_starts_in_generator_order(space):
    first = list(itertools.islice(space.enumerate(), 4))
    assert first[0] == space.validate(([[0, 1], [0, 0]], ["input", "output"]))
    # 3 vertices: the chain 0 -> 1 -> 2 with each op, before the chain plus 0 -> 2
    chain = ((0, 1, 0), (0, 0, 1), (0, 0, 0))
    assert [c.matrix for c in first[1:]] == [chain] * 3
    assert [c.ops[1] for c in first[1:]] == [C3, C1, MP]
