"""Tests of sknar.encoding on two small user-defined spaces (which also shows that any space
following the protocol works) and on the benchmark spaces."""

import gzip
import hashlib
import itertools
import json
import pickle
import time

import networkx as nx
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import check_param_validation

from sknar.encoding import (
    AdjacencyOneHotEncoder,
    NARFeatureEncoder,
    PatchMatrix,
    PathEncoder,
    get_patch_layout,
)
from sknar.spaces import (
    NASBench101Space,
    NASBench201Space,
    NASBenchGraphSpace,
    PatchFeatures,
    SearchSpace,
)
from sknar.utils.testing import require_data


class _ListedSpace(SearchSpace):
    """A space small enough to list: sampling draws from the enumeration."""

    def sample(self, n, random_state=None):
        everything = list(self.enumerate())
        rng = np.random.default_rng(random_state)
        return [everything[i] for i in rng.choice(len(everything), size=n, replace=False)]


# --------------------------------------------------------------------------------------------
# A toy node-op space: cells of 2 to 4 nodes (input, up to two of "a"/"b", output), 2 cells.
# Op codes: input 1, a 2, b 3, output 4. In cell c, "a" costs 10 (c+1) FLOPs and no params,
# "b" costs 1000 (c+1) FLOPs and 7 (c+1) params.
# --------------------------------------------------------------------------------------------


class ToyNodeSpace(_ListedSpace):
    name = "toy-node"
    op_names = ("a", "b")
    max_nodes = 4
    n_cells = 2
    codes = {"input": 1, "a": 2, "b": 3, "output": 4}

    def validate(self, arch):
        if isinstance(arch, nx.DiGraph):
            return self.from_networkx(arch)
        if isinstance(arch, dict):
            if set(arch) != {"matrix", "ops"}:
                raise ValueError("a dict architecture needs exactly the keys 'matrix' and 'ops'")
            arch = (arch["matrix"], arch["ops"])
        try:
            matrix, ops = arch
            matrix = np.asarray(matrix)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"expected (matrix, ops), got {arch!r}") from exc
        n = len(ops)
        if matrix.shape != (n, n):
            raise ValueError(f"wrong shape: matrix {matrix.shape} for {n} ops")
        if not 2 <= n <= self.max_nodes:
            raise ValueError(f"too many vertices: {n} (2 to {self.max_nodes} allowed)")
        if not np.isin(matrix, (0, 1)).all() or np.tril(matrix).any():
            raise ValueError("the matrix must be 0/1 and strictly upper triangular (a DAG)")
        if ops[0] != "input" or ops[-1] != "output":
            raise ValueError("the first op must be 'input' and the last 'output'")
        for op in ops[1:-1]:
            if op not in self.op_names:
                raise ValueError(f"unknown op {op!r}")
        graph = nx.DiGraph(matrix)
        graph.add_nodes_from(range(n))
        if not nx.has_path(graph, 0, n - 1):
            raise ValueError("unreachable output")
        return (tuple(map(tuple, matrix.astype(int).tolist())), tuple(ops))

    def hash(self, arch):
        return repr(self.validate(arch))

    def enumerate(self, verbose=False):
        for n in range(2, self.max_nodes + 1):
            pairs = list(zip(*np.triu_indices(n, k=1)))
            for bits in itertools.product((0, 1), repeat=len(pairs)):
                matrix = np.zeros((n, n), dtype=int)
                for (i, j), bit in zip(pairs, bits):
                    matrix[i, j] = bit
                for inner in itertools.product(self.op_names, repeat=n - 2):
                    try:
                        yield self.validate((matrix, ("input", *inner, "output")))
                    except ValueError:
                        continue

    def cost_features(self, arch, dataset=None):
        _, ops = self.validate(arch)
        unit_flops = {"a": 10, "b": 1000}
        unit_params = {"a": 0, "b": 7}
        scale = np.arange(1, self.n_cells + 1)[:, None]
        flops = np.array([unit_flops.get(op, 0) for op in ops])[None, :] * scale
        params = np.array([unit_params.get(op, 0) for op in ops])[None, :] * scale
        return {"flops": flops.astype(np.int64), "params": params.astype(np.int64)}

    def patch_features(self, archs, dataset=None):
        canonical = self.validate_all(archs)
        size = self.max_nodes
        ops_patches = np.zeros((len(canonical), size, size))
        flops = np.zeros((len(canonical), self.n_cells, size, size))
        params = np.zeros_like(flops)
        for k, arch in enumerate(canonical):
            matrix, ops = np.asarray(arch[0]), arch[1]
            n = len(ops)
            slots = [*range(n - 1), size - 1]  # pad before the output
            padded = np.zeros((size, size))
            padded[np.ix_(slots, slots)] = matrix
            codes = np.zeros(size)
            codes[slots] = [self.codes[op] for op in ops]
            ops_patches[k] = padded * codes[None, :]
            costs = self.cost_features(arch)
            for cell in range(self.n_cells):
                for kind, target in (("flops", flops), ("params", params)):
                    per_node = np.zeros(size)
                    per_node[slots] = costs[kind][cell]
                    target[k, cell] = padded * per_node[None, :]
        return PatchFeatures(ops_patches, flops, params)

    def to_networkx(self, arch):
        matrix, ops = self.validate(arch)
        graph = nx.DiGraph(np.asarray(matrix))
        nx.set_node_attributes(graph, dict(enumerate(ops)), "op")
        graph.graph["space"] = self.name
        return graph

    def from_networkx(self, graph):
        nodes = sorted(graph.nodes)
        matrix = nx.to_numpy_array(graph, nodelist=nodes, dtype=int)
        return self.validate((matrix, [graph.nodes[node]["op"] for node in nodes]))


# --------------------------------------------------------------------------------------------
# A toy edge-op space: 3 nodes, edges (0,1), (0,2), (1,2), each "none", "x" or "y"; one cell.
# Op codes: none 0, x 1, y 2. "x" costs 5 FLOPs and 2 params, "y" 50 FLOPs and no params.
# to_networkx leaves "none" edges out.
# --------------------------------------------------------------------------------------------

EDGES = ((0, 1), (0, 2), (1, 2))


class ToyEdgeSpace(_ListedSpace):
    name = "toy-edge"
    op_names = ("none", "x", "y")
    max_nodes = 3
    n_cells = 1
    cost_datasets = ("small", "large")
    cost_unit = {"small": 1, "large": 4}

    def validate(self, arch):
        if isinstance(arch, nx.DiGraph):
            return self.from_networkx(arch)
        if isinstance(arch, str):
            arch = arch.split(",")
        arch = tuple(arch)
        if len(arch) != len(EDGES):
            raise ValueError(f"wrong shape: {len(arch)} edge ops, expected {len(EDGES)}")
        for op in arch:
            if op not in self.op_names:
                raise ValueError(f"unknown op {op!r}")
        return arch

    def hash(self, arch):
        return ",".join(self.validate(arch))

    def enumerate(self, verbose=False):
        yield from itertools.product(self.op_names, repeat=len(EDGES))

    def cost_features(self, arch, dataset=None):
        unit = self.cost_unit[dataset or "small"]
        ops = self.validate(arch)
        flops = [{"x": 5, "y": 50}.get(op, 0) * unit for op in ops]
        params = [{"x": 2}.get(op, 0) * unit for op in ops]
        return {"flops": np.array([flops], np.int64), "params": np.array([params], np.int64)}

    def patch_features(self, archs, dataset=None):
        if dataset not in (None, *self.cost_datasets):
            raise ValueError(f"unknown dataset {dataset!r}")
        canonical = self.validate_all(archs)
        ops_patches = np.zeros((len(canonical), 3, 3))
        flops = np.zeros((len(canonical), 1, 3, 3))
        params = np.zeros_like(flops)
        for k, arch in enumerate(canonical):
            costs = self.cost_features(arch, dataset)
            for e, (i, j) in enumerate(EDGES):
                ops_patches[k, i, j] = self.op_names.index(arch[e])
                flops[k, 0, i, j] = costs["flops"][0, e]
                params[k, 0, i, j] = costs["params"][0, e]
        return PatchFeatures(ops_patches, flops, params)

    def to_networkx(self, arch):
        ops = self.validate(arch)
        graph = nx.DiGraph(space=self.name)
        graph.add_nodes_from(range(3))
        graph.add_edges_from((i, j, {"op": op}) for (i, j), op in zip(EDGES, ops) if op != "none")
        return graph

    def from_networkx(self, graph):
        return tuple(graph.edges[i, j]["op"] if graph.has_edge(i, j) else "none" for i, j in EDGES)


NODE_SPACE = ToyNodeSpace()
EDGE_SPACE = ToyEdgeSpace()

# input -> b -> output plus input -> output: 3 nodes, padded to 4 before the output.
ARCH_A = ([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "b", "output"])
# input -> a -> b -> output: 4 nodes, a chain.
ARCH_B = ([[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", "a", "b", "output"])


@pytest.fixture(scope="module")
def node_archs():
    return list(NODE_SPACE.enumerate())


@pytest.fixture(scope="module")
def edge_archs():
    return list(EDGE_SPACE.enumerate())


def _entry(patch, row, col, size=4):
    """Column of entry (row, col) of a given patch in the flattened output."""
    return patch * size * size + row * size + col


# --- NARFeatureEncoder on the toy spaces -----------------------------------------------------


def test_nar_raw_encoding_of_a_padded_cell_by_hand():
    X = NARFeatureEncoder(NODE_SPACE, scale=None).fit_transform([ARCH_A])
    expected = np.zeros(5 * 16, dtype=np.float32)
    # Padded nodes: 0 input, 1 b, 2 padding, 3 output; edges (0,1), (0,3), (1,3).
    expected[[_entry(0, 0, 1), _entry(0, 0, 3), _entry(0, 1, 3)]] = [3, 4, 4]
    expected[_entry(1, 0, 1)] = 1000  # cell 0 FLOPs of b
    expected[_entry(2, 0, 1)] = 7  # cell 0 params of b
    expected[_entry(3, 0, 1)] = 2000  # cell 1 FLOPs of b
    expected[_entry(4, 0, 1)] = 14  # cell 1 params of b
    np.testing.assert_array_equal(X[0], expected)
    assert X.dtype == np.float32


def test_nar_layout_matches_patch_features_for_every_toy_arch(node_archs):
    encoder = NARFeatureEncoder(NODE_SPACE, scale=None, chunk_size=7)
    X = encoder.fit_transform(node_archs)
    ops, flops, params = NODE_SPACE.patch_features(node_archs)
    interleaved = np.stack([flops, params], axis=2).reshape(len(node_archs), -1, 4, 4)
    expected = np.concatenate([ops[:, None], interleaved], axis=1).reshape(len(node_archs), -1)
    np.testing.assert_array_equal(X, expected.astype(np.float32))
    np.testing.assert_array_equal(encoder.transform(node_archs), X)
    assert (encoder.n_patches_, encoder.patch_size_, encoder.n_cells_) == (5, 4, 2)


def test_nar_log_scale_uses_geometric_mean_of_nonzero_costs():
    encoder = NARFeatureEncoder(NODE_SPACE).fit([ARCH_A, ARCH_B])
    # Non-zero FLOPs entries: A has b in cells 0 and 1; B has a and b in both cells.
    flops_reference = np.exp(np.mean(np.log([1000, 2000, 10, 1000, 20, 2000])))
    params_reference = np.exp(np.mean(np.log([7, 14, 7, 14])))
    assert encoder.scale_["flops"] == pytest.approx(flops_reference)
    assert encoder.scale_["params"] == pytest.approx(params_reference)
    X = encoder.transform([ARCH_A])
    raw = NARFeatureEncoder(NODE_SPACE, scale=None).fit_transform([ARCH_A])
    flops_cols = [_entry(1, r, c) for r in range(4) for c in range(4)]
    params_cols = [_entry(4, r, c) for r in range(4) for c in range(4)]
    np.testing.assert_allclose(X[0, flops_cols], np.log1p(raw[0, flops_cols] / flops_reference))
    np.testing.assert_allclose(X[0, params_cols], np.log1p(raw[0, params_cols] / params_reference))
    np.testing.assert_array_equal(X[0, :16], raw[0, :16])  # op codes are never scaled


def test_nar_linear_scale_and_zero_preservation(node_archs):
    raw = NARFeatureEncoder(NODE_SPACE, scale=None).fit_transform(node_archs)
    encoder = NARFeatureEncoder(NODE_SPACE, scale="linear").fit(node_archs)
    X = encoder.transform(node_archs)
    np.testing.assert_allclose(X[:, 16:32], raw[:, 16:32] / encoder.scale_["flops"], rtol=1e-6)
    np.testing.assert_array_equal(X == 0, raw == 0)


def test_nar_edge_space_dataset_and_feature_names(edge_archs):
    small = NARFeatureEncoder(EDGE_SPACE, scale=None).fit_transform([("x", "y", "none")])
    large = NARFeatureEncoder(EDGE_SPACE, dataset="large", scale=None).fit_transform(
        [("x", "y", "none")]
    )
    # Patches 3x3: ops, flops, params. Edge (0,1) is x, (0,2) is y.
    assert small[0, [1, 2, 9 + 1, 9 + 2, 18 + 1]].tolist() == [1, 2, 5, 50, 2]
    np.testing.assert_array_equal(large[0, 9:], 4 * small[0, 9:])
    names = NARFeatureEncoder(EDGE_SPACE).fit(edge_archs).get_feature_names_out()
    assert names.tolist()[:2] == ["ops_r0_c0", "ops_r0_c1"]
    assert names[9 + 5] == "cell0_flops_r1_c2" and names[18 + 5] == "cell0_params_r1_c2"
    assert len(names) == 27


def test_nar_feature_names_follow_patch_order():
    names = NARFeatureEncoder(NODE_SPACE).fit([ARCH_A]).get_feature_names_out()
    assert len(names) == 5 * 16
    assert names[_entry(0, 1, 3)] == "ops_r1_c3"
    assert names[_entry(3, 2, 0)] == "cell1_flops_r2_c0"
    assert names[_entry(4, 0, 1)] == "cell1_params_r0_c1"


def test_nar_output_carries_its_layout():
    encoder = NARFeatureEncoder(NODE_SPACE)
    X = encoder.fit_transform([ARCH_A, ARCH_B])
    assert isinstance(X, PatchMatrix)
    assert get_patch_layout(X) == (5, 4)
    assert get_patch_layout(X[1:]) == (5, 4)
    assert get_patch_layout(pickle.loads(pickle.dumps(X))) == (5, 4)
    assert get_patch_layout(np.asarray(X), patch_size=4) == (5, 4)
    assert get_patch_layout(np.asarray(X), n_patches=5) == (5, 4)
    assert X[:, :10].n_patches is None  # a column selection no longer has the layout
    assert type(np.asarray(X)) is np.ndarray


def test_get_patch_layout_errors():
    with pytest.raises(ValueError, match="cannot tell the patch layout"):
        get_patch_layout(np.zeros((2, 80)))
    with pytest.raises(ValueError, match="wrong feature width"):
        get_patch_layout(np.zeros((2, 81)), patch_size=4)
    with pytest.raises(ValueError, match="wrong feature width"):
        get_patch_layout(np.zeros((2, 80)), n_patches=5, patch_size=3)
    with pytest.raises(ValueError, match="2-D"):
        get_patch_layout(np.zeros(80), patch_size=4)


def test_nar_accepts_every_form_the_space_accepts():
    graph = NODE_SPACE.to_networkx(ARCH_B)
    as_dict = {"matrix": np.asarray(ARCH_B[0]), "ops": ARCH_B[1]}
    canonical = NODE_SPACE.validate(ARCH_B)
    X = (
        NARFeatureEncoder(NODE_SPACE)
        .fit([ARCH_A, ARCH_B])
        .transform([ARCH_B, graph, as_dict, canonical])
    )
    for row in X[1:]:
        np.testing.assert_array_equal(row, X[0])


@pytest.mark.parametrize(
    "bad, rule",
    [
        (([[0, 1], [1, 0]], ["input", "output"]), "upper triangular"),
        (([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["input", "a", "output"]), "unreachable output"),
        (([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv", "output"]), "unknown op"),
        ((np.ones((5, 5)), ["input"] + ["a"] * 3 + ["output"]), "too many vertices"),
    ],
)
@pytest.mark.parametrize("encoder_class", [NARFeatureEncoder, AdjacencyOneHotEncoder, PathEncoder])
def test_bad_arch_is_named_by_its_index_in_the_input(encoder_class, bad, rule):
    good = [ARCH_A] * 6
    encoder = encoder_class(NODE_SPACE)
    if encoder_class is NARFeatureEncoder:
        encoder.set_params(chunk_size=4)  # the bad one sits in the second chunk
    with pytest.raises(ValueError, match=f"index 5 is invalid: .*{rule}"):
        encoder.fit(good[:5] + [bad] + good[5:])
    encoder.fit(good)
    with pytest.raises(ValueError, match=f"index 5 is invalid: .*{rule}"):
        encoder.transform(good[:5] + [bad])


@pytest.mark.parametrize("encoder_class", [NARFeatureEncoder, AdjacencyOneHotEncoder, PathEncoder])
def test_a_lone_architecture_or_nothing_is_refused(encoder_class):
    encoder = encoder_class(EDGE_SPACE)
    with pytest.raises(ValueError, match="single str"):
        encoder.fit("x,y,none")
    with pytest.raises(ValueError, match="single DiGraph"):
        encoder.fit(EDGE_SPACE.to_networkx(("x", "y", "none")))
    with pytest.raises(ValueError, match="empty"):
        encoder.fit([])
    with pytest.raises(ValueError, match="got None"):
        encoder.fit(None)


def test_nar_empty_transform_and_parameter_errors():
    encoder = NARFeatureEncoder(NODE_SPACE).fit([ARCH_A])
    assert encoder.transform([]).shape == (0, 80)
    with pytest.raises(ValueError, match="do not depend on a dataset"):
        NARFeatureEncoder(NODE_SPACE, dataset="cifar10").fit([ARCH_A])
    with pytest.raises(ValueError, match="unknown dataset"):
        NARFeatureEncoder(EDGE_SPACE, dataset="huge").fit([("x", "x", "x")])
    with pytest.raises(ValueError, match="scale"):
        NARFeatureEncoder(NODE_SPACE, scale="sqrt").fit([ARCH_A])
    with pytest.raises(ValueError, match="space"):
        NARFeatureEncoder("nasbench201").fit([ARCH_A])


def test_nar_warns_when_a_cost_kind_is_never_seen():
    with pytest.warns(UserWarning, match="no non-zero params"):
        encoder = NARFeatureEncoder(EDGE_SPACE).fit([("y", "y", "none")])
    assert encoder.scale_["params"] == 1.0


def test_nar_rejects_a_space_returning_wrong_shapes():
    class ShortSpace(ToyEdgeSpace):
        name = "short"

        def patch_features(self, archs, dataset=None):
            features = super().patch_features(archs, dataset)
            return PatchFeatures(features.ops[:, :2], features.flops, features.params)

    with pytest.raises(ValueError, match="returned ops patches of shape"):
        NARFeatureEncoder(ShortSpace()).fit([("x", "x", "x")])


# --- AdjacencyOneHotEncoder and PathEncoder on the toy spaces ----------------------------------


def test_one_hot_node_space_by_hand():
    encoder = AdjacencyOneHotEncoder(NODE_SPACE).fit([ARCH_A, ARCH_B])
    names = encoder.get_feature_names_out().tolist()
    assert names == [
        "adj_0_1", "adj_0_2", "adj_0_3", "adj_1_2", "adj_1_3", "adj_2_3",
        "op_n1_a", "op_n1_b", "op_n2_a", "op_n2_b",
    ]  # fmt: skip
    X = encoder.transform([ARCH_A, ARCH_B])
    on = [{names[i] for i in np.flatnonzero(row)} for row in X]
    assert on[0] == {"adj_0_1", "adj_0_3", "adj_1_3", "op_n1_b"}  # padded before the output
    assert on[1] == {"adj_0_1", "adj_1_2", "adj_2_3", "op_n1_a", "op_n2_b"}
    assert encoder.ends_ == ("input", "output") and encoder.op_slots_ == (1, 2)


def test_one_hot_edge_space_by_hand(edge_archs):
    encoder = AdjacencyOneHotEncoder(EDGE_SPACE).fit(edge_archs)
    names = encoder.get_feature_names_out().tolist()
    assert names[:3] == ["edge_0_1_none", "edge_0_1_x", "edge_0_1_y"] and len(names) == 9
    X = encoder.transform([("x", "none", "y")])
    assert {names[i] for i in np.flatnonzero(X[0])} == {"edge_0_1_x", "edge_0_2_none", "edge_1_2_y"}
    # Every arch has exactly one op per edge, and different archs differ.
    X_all = encoder.transform(edge_archs)
    np.testing.assert_array_equal(X_all.reshape(-1, 3, 3).sum(axis=2), 1)
    assert len({row.tobytes() for row in X_all}) == len(edge_archs)


def test_path_node_space_by_hand():
    encoder = PathEncoder(NODE_SPACE).fit([ARCH_A, ARCH_B])
    names = encoder.get_feature_names_out().tolist()
    assert names == [
        "path_direct",
        "path_a",
        "path_b",
        "path_a>a",
        "path_a>b",
        "path_b>a",
        "path_b>b",
    ]
    X = encoder.transform([ARCH_A, ARCH_B])
    assert {names[i] for i in np.flatnonzero(X[0])} == {"path_direct", "path_b"}
    assert {names[i] for i in np.flatnonzero(X[1])} == {"path_a>b"}
    truncated = PathEncoder(NODE_SPACE, max_path_length=1).fit([ARCH_B])
    assert truncated.get_feature_names_out().tolist() == ["path_direct", "path_a", "path_b"]
    assert truncated.transform([ARCH_B]).sum() == 0  # its only path is longer than 1


def test_path_edge_space_skips_none_edges():
    encoder = PathEncoder(EDGE_SPACE).fit([("x", "y", "x")])
    names = encoder.get_feature_names_out().tolist()
    assert names == ["path_x", "path_y", "path_x>x", "path_x>y", "path_y>x", "path_y>y"]
    X = encoder.transform([("x", "y", "x"), ("x", "none", "y"), ("none", "y", "x")])
    assert {names[i] for i in np.flatnonzero(X[0])} == {"path_y", "path_x>x"}
    assert {names[i] for i in np.flatnonzero(X[1])} == {"path_x>y"}
    assert {names[i] for i in np.flatnonzero(X[2])} == {"path_y"}  # 1 -> 2 starts nowhere
    with pytest.raises(ValueError, match="leaves no path"):
        PathEncoder(EDGE_SPACE, max_path_length=0).fit([("x", "y", "x")])


def test_path_counts_against_networkx_paths(node_archs):
    """Each arch's columns are the op sequences of networkx's simple input->output paths."""
    encoder = PathEncoder(NODE_SPACE).fit(node_archs)
    names = encoder.get_feature_names_out()
    X = encoder.transform(node_archs)
    for arch, row in zip(node_archs, X):
        graph = NODE_SPACE.to_networkx(arch)
        expected = set()
        for path in nx.all_simple_paths(graph, 0, len(arch[1]) - 1):
            ops = [graph.nodes[node]["op"] for node in path[1:-1]]
            expected.add("path_" + (">".join(ops) if ops else "direct"))
        assert set(names[row == 1]) == expected


# --- scikit-learn conventions ----------------------------------------------------------------

ENCODERS = [
    NARFeatureEncoder(NODE_SPACE, scale="linear", chunk_size=3),
    AdjacencyOneHotEncoder(EDGE_SPACE),
    PathEncoder(NODE_SPACE, max_path_length=1),
]


@pytest.mark.parametrize(
    "encoder",
    [*ENCODERS, NARFeatureEncoder(NODE_SPACE, chunk_size=5), PathEncoder(EDGE_SPACE)],
    ids=lambda e: type(e).__name__,
)
def test_fit_transform_equals_fit_then_transform(encoder, node_archs, edge_archs):
    archs = node_archs if encoder.space is NODE_SPACE else edge_archs
    X = clone(encoder).fit_transform(archs)
    np.testing.assert_array_equal(X, clone(encoder).fit(archs).transform(archs))
    assert X.dtype == np.float32


@pytest.mark.parametrize("encoder", ENCODERS, ids=lambda e: type(e).__name__)
def test_scikit_learn_parameter_validation(encoder):
    """scikit-learn's own check: every parameter has a constraint and a bad value raises
    InvalidParameterError at fit, before the (numeric) input is read."""
    check_param_validation(type(encoder).__name__, encoder)


@pytest.mark.parametrize(
    "encoder_class, params",
    [
        (NARFeatureEncoder, {"space": "nasbench201"}),
        (NARFeatureEncoder, {"dataset": 3}),
        (NARFeatureEncoder, {"scale": "sqrt"}),
        (NARFeatureEncoder, {"merge_isomorphic": "yes"}),
        (NARFeatureEncoder, {"chunk_size": 0}),
        (NARFeatureEncoder, {"chunk_size": 2.5}),
        (AdjacencyOneHotEncoder, {"merge_isomorphic": None}),
        (PathEncoder, {"max_path_length": -1}),
        (PathEncoder, {"max_path_length": 1.5}),
    ],
)
def test_bad_parameter_is_named_at_fit(encoder_class, params):
    encoder = encoder_class(EDGE_SPACE).set_params(**params)
    (name,) = params
    message = f"'{name}' parameter of {encoder_class.__name__} must be"
    with pytest.raises(InvalidParameterError, match=message):
        encoder.fit([("x", "y", "none")])


@pytest.mark.parametrize("encoder", ENCODERS, ids=lambda e: type(e).__name__)
def test_clone_get_params_and_pickle(encoder, node_archs, edge_archs):
    archs = node_archs if encoder.space is NODE_SPACE else edge_archs
    twin = clone(encoder)
    assert twin.get_params() == encoder.get_params()
    assert twin.get_params()["space"] == encoder.space
    fitted = twin.fit(archs)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(archs), fitted.transform(archs))
    assert not hasattr(fitted, "n_features_in_")
    assert len(fitted.get_feature_names_out()) == fitted.transform(archs[:1]).shape[1]


@pytest.mark.parametrize("encoder", ENCODERS, ids=lambda e: type(e).__name__)
def test_not_fitted_and_keyword_only_parameters(encoder):
    with pytest.raises(Exception, match="not fitted"):
        clone(encoder).transform([ARCH_A])
    with pytest.raises(TypeError):
        type(encoder)(encoder.space, *encoder.get_params(deep=False).values())


@pytest.mark.parametrize("encoder", ENCODERS, ids=lambda e: type(e).__name__)
def test_estimator_checks_do_not_apply(encoder):
    """scikit-learn's parametrize_with_checks feeds numeric 2-D X; these encoders take
    architectures, so they declare it and are tested directly above instead."""
    tags = encoder.__sklearn_tags__()
    assert not tags.input_tags.two_d_array


@pytest.mark.parametrize("encoder", ENCODERS, ids=lambda e: type(e).__name__)
def test_set_output_default_keeps_arrays(encoder, node_archs, edge_archs):
    archs = node_archs if encoder.space is NODE_SPACE else edge_archs
    encoder = clone(encoder).set_output(transform="default")
    assert isinstance(encoder.fit_transform(archs), np.ndarray)


def test_set_output_pandas_names_columns(node_archs):
    pd = pytest.importorskip("pandas")
    encoder = NARFeatureEncoder(NODE_SPACE).set_output(transform="pandas")
    frame = encoder.fit_transform(node_archs)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == encoder.get_feature_names_out().tolist()
    assert get_patch_layout(frame) == (5, 4)


def test_layout_is_read_from_encoder_column_names():
    class Frame:  # the two attributes get_patch_layout reads from a DataFrame
        def __init__(self, names):
            self.columns = list(names)
            self.shape = (2, len(names))

    names = NARFeatureEncoder(NODE_SPACE).fit([ARCH_A]).get_feature_names_out()
    assert get_patch_layout(Frame(names)) == (5, 4)
    with pytest.raises(ValueError, match="cannot tell"):
        get_patch_layout(Frame([f"x{i}" for i in range(80)]))


def test_pipeline_passes_the_layout_on(node_archs):
    from sklearn.base import BaseEstimator, RegressorMixin

    class LayoutReader(RegressorMixin, BaseEstimator):
        def fit(self, X, y):
            self.layout_ = get_patch_layout(X)
            return self

        def predict(self, X):
            return np.full(len(X), get_patch_layout(X)[0])

    model = make_pipeline(NARFeatureEncoder(NODE_SPACE), LayoutReader())
    model.fit(node_archs, np.arange(len(node_archs)))
    assert model[-1].layout_ == (5, 4)
    assert model.predict(node_archs[:3]).tolist() == [5, 5, 5]


# --- NAS-Bench-201 ------------------------------------------------------------------------------

NB201_EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
ARCH_201 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"


@pytest.fixture(scope="module")
def nb201_space():
    return NASBench201Space()


def _reference_record(file_name):
    """The first record of a NAR reference cell-information file."""
    with open(require_data(f"nar_reference/{file_name}")) as handle:
        records = json.load(handle)
    return records["0"] if isinstance(records, dict) else records[0]


@pytest.fixture(scope="module")
def nb201_record():
    return _reference_record("nasbench201_vertice_example.json")


def _nar201_oracle(record, prefix):
    """The reference construction: the op-code adjacency, then per cell a FLOPs and a params
    patch holding each edge's cost at (source, destination)."""
    patches = [np.asarray(record["cell_adjacency"], dtype=np.float64)]
    flops_by_cell = record[f"{prefix}_opt_flops"]
    params_by_cell = record[f"{prefix}_opt_params"]
    for cell in flops_by_cell:
        for per_edge in (flops_by_cell[cell], params_by_cell[cell]):
            patch = np.zeros((4, 4))
            for (source, target), value in zip(NB201_EDGES, per_edge):
                patch[source, target] = value
            patches.append(patch)
    return np.stack(patches).reshape(-1)


@pytest.mark.parametrize(
    "dataset, prefix",
    [("cifar10", "cifar10-valid"), ("cifar100", "cifar100"), ("ImageNet16-120", "ImageNet16-120")],
)
def test_nb201_raw_encoding_equals_the_nar_reference(nb201_space, nb201_record, dataset, prefix):
    expected = _nar201_oracle(nb201_record, prefix)
    assert expected.shape == (31 * 16,)
    encoder = NARFeatureEncoder(nb201_space, dataset=dataset, scale=None)
    X = encoder.fit_transform([nb201_record["arch_str"]])
    np.testing.assert_array_equal(X[0], expected.astype(np.float32))
    assert (encoder.n_patches_, encoder.patch_size_) == (31, 4)


def test_nb201_cells_of_one_network_share_one_encoding(nb201_space):
    # node 1 copies the input, so the 1x1 and 3x3 convs into node 3 can swap their edges;
    # the pooling on 1 -> 2 feeds node 2, whose only way out is "none"
    first = ["skip_connect", "none", "avg_pool_3x3", "nor_conv_1x1", "nor_conv_3x3", "none"]
    second = ["skip_connect", "none", "none", "nor_conv_3x3", "nor_conv_1x1", "none"]
    simplest = nb201_space.representatives([first])[0]
    merged = NARFeatureEncoder(nb201_space, scale=None).fit_transform([first, second, simplest])
    np.testing.assert_array_equal(merged[0], merged[1])
    np.testing.assert_array_equal(merged[0], merged[2])
    as_written = NARFeatureEncoder(nb201_space, scale=None, merge_isomorphic=False)
    raw = as_written.fit_transform([first, second])
    ops, flops, params = nb201_space.patch_features([first, second])
    np.testing.assert_array_equal(raw.reshape(2, 31, 4, 4)[:, 0], ops)
    np.testing.assert_array_equal(raw.reshape(2, 31, 4, 4)[:, 1::2], flops)
    assert not np.array_equal(raw[0], raw[1])
    # the idle pooling is free, so each cell of the network costs what the cell as written does
    cell_costs = [X[0, 16:].reshape(30, 16).sum(axis=1) for X in (raw, merged)]
    np.testing.assert_array_equal(*cell_costs)
    assert merged[0, :16].tolist() != raw[0, :16].tolist()


def test_nb201_merge_isomorphic_names_the_bad_index(nb201_space):
    encoder = NARFeatureEncoder(nb201_space, chunk_size=2).fit([ARCH_201])
    with pytest.raises(ValueError, match="index 3"):
        encoder.transform([ARCH_201, ARCH_201, ARCH_201, "|conv~0|"])


def test_nb201_scaled_costs_are_comparable_across_datasets(nb201_space):
    archs = list(nb201_space.enumerate())
    ranges = {}
    for dataset in ("cifar10", "cifar100", "ImageNet16-120"):
        encoder = NARFeatureEncoder(nb201_space, dataset=dataset)
        X = encoder.fit_transform(archs).reshape(len(archs), 31, 16)
        for kind, patches in (("flops", X[:, 1::2]), ("params", X[:, 2::2])):
            positive = patches[patches > 0]
            ranges[dataset, kind] = (positive.min(), np.median(positive), positive.max())
    for low, middle, high in ranges.values():
        assert 0.05 < low and 0.3 < middle < 1.5 and high < 3.0


def test_nb201_whole_space_encodes_fast(nb201_space):
    archs = list(nb201_space.enumerate())
    encoder = NARFeatureEncoder(nb201_space).fit(archs[:500])
    start = time.perf_counter()
    X = encoder.transform(archs)
    elapsed = time.perf_counter() - start
    assert X.shape == (15625, 496) and X.dtype == np.float32
    assert elapsed < 3.0, f"encoding the NAS-Bench-201 space took {elapsed:.2f} s"


@pytest.mark.slow  # encodes all 15,625 cells, three ways
def test_nb201_graph_encodings(nb201_space):
    archs = list(nb201_space.enumerate())
    as_written = AdjacencyOneHotEncoder(nb201_space, merge_isomorphic=False)
    one_hot = as_written.fit_transform(archs)
    assert one_hot.shape == (15625, 30)
    np.testing.assert_array_equal(one_hot.reshape(-1, 6, 5).sum(axis=2), 1)
    assert len({row.tobytes() for row in one_hot}) == 15625
    merged = AdjacencyOneHotEncoder(nb201_space).fit_transform(archs)
    assert len({row.tobytes() for row in merged}) == 6466
    representatives = nb201_space.representatives(archs)
    np.testing.assert_array_equal(merged, as_written.transform(representatives))
    path = PathEncoder(nb201_space).fit(archs[:10])
    X = path.transform(archs[::5])
    assert X.shape == (3125, 4 + 16 + 64)
    path_as_written = PathEncoder(nb201_space, merge_isomorphic=False).fit(archs[:10])
    np.testing.assert_array_equal(X, path_as_written.transform(representatives[::5]))
    # A cell of "none" edges has no path; one conv 0 -> 3 edge has exactly that path.
    names = path.get_feature_names_out()
    assert X[0].sum() == 0
    single = nb201_space.from_networkx(nx.DiGraph([(0, 3, {"op": "nor_conv_3x3"})]))
    assert names[path.transform([single])[0] == 1].tolist() == ["path_nor_conv_3x3"]


# --- NAS-Bench-101 ------------------------------------------------------------------------------

NB101_CODES = {
    "input": 1,
    "conv1x1-bn-relu": 2,
    "conv3x3-bn-relu": 3,
    "maxpool3x3": 4,
    "output": 5,
}


@pytest.fixture(scope="module")
def nb101_space():
    return NASBench101Space()


@pytest.fixture(scope="module")
def nb101_record():
    return _reference_record("nasbench101_vertice_example.json")


def _pad_before_output(values, size=7):
    """Reference padding of a per-vertex vector: zeros inserted before the last entry."""
    values = list(values)
    return np.asarray(values[:-1] + [0] * (size - len(values)) + values[-1:], dtype=np.float64)


def _nar101_oracle(matrix, ops, flops_by_cell, params_by_cell, size=7):
    """The reference construction: the adjacency padded before the output, times the code of
    the column's vertex; then per cell the adjacency times each vertex's FLOPs and params."""
    n = len(ops)
    slots = [*range(n - 1), size - 1]
    padded = np.zeros((size, size))
    padded[np.ix_(slots, slots)] = matrix
    patches = [padded * _pad_before_output([NB101_CODES[op] for op in ops])[None, :]]
    for flops, params in zip(flops_by_cell, params_by_cell):
        patches.append(padded * _pad_before_output(flops)[None, :])
        patches.append(padded * _pad_before_output(params)[None, :])
    return np.stack(patches).reshape(-1)


def test_nb101_raw_encoding_equals_the_nar_reference(nb101_space, nb101_record):
    record = nb101_record
    expected = _nar101_oracle(
        record["module_adjacency"],
        record["module_operations"],
        record["vertex_flops"].values(),
        record["vertex_params"].values(),
    )
    assert expected.shape == (19 * 49,)
    arch = (record["module_adjacency"], record["module_operations"])
    encoder = NARFeatureEncoder(nb101_space, scale=None)
    X = encoder.fit_transform([arch])
    np.testing.assert_array_equal(X[0], expected.astype(np.float32))
    assert (encoder.n_patches_, encoder.patch_size_) == (19, 7)
    # The reference's fixed divisors (1e7 for FLOPs, 1e5 for params) are the linear scaling
    # with those references.
    encoder = NARFeatureEncoder(nb101_space, scale="linear").fit([arch])
    encoder.scale_ = {"flops": 1e7, "params": 1e5}
    scaled = encoder.transform([arch])[0].reshape(19, 49)
    reference = expected.reshape(19, 49)
    np.testing.assert_allclose(scaled[1::2], reference[1::2] / 1e7, rtol=1e-6)
    np.testing.assert_allclose(scaled[2::2], reference[2::2] / 1e5, rtol=1e-6)


def test_nb101_small_cells_are_padded_before_the_output(nb101_space):
    """Cells of 3 to 6 vertices against the reference construction fed with the space's
    per-vertex costs."""
    cells = [
        ([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"]),
        (
            [[0, 1, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
            ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "output"],
        ),
        (
            [
                [0, 1, 1, 0, 0, 0],
                [0, 0, 0, 1, 0, 0],
                [0, 0, 0, 1, 1, 0],
                [0, 0, 0, 0, 0, 1],
                [0, 0, 0, 0, 0, 1],
                [0, 0, 0, 0, 0, 0],
            ],
            [
                "input",
                "conv1x1-bn-relu",
                "conv3x3-bn-relu",
                "maxpool3x3",
                "conv3x3-bn-relu",
                "output",
            ],
        ),
    ]
    X = NARFeatureEncoder(nb101_space, scale=None).fit_transform(cells)
    for row, (matrix, ops) in zip(X, cells):
        cell = nb101_space.validate((matrix, ops))
        assert len(cell.ops) == len(ops)  # nothing pruned: the oracle sees the same cell
        costs = nb101_space.cost_features(cell)
        expected = _nar101_oracle(
            np.asarray(cell.matrix), cell.ops, costs["flops"], costs["params"]
        )
        np.testing.assert_array_equal(row, expected.astype(np.float32))
        assert row.reshape(19, 7, 7)[0, :, -1].max() == 5  # the output column stays last


def test_nb101_graph_encodings_have_the_standard_sizes(nb101_space, nb101_record):
    archs = nb101_space.sample(300, random_state=0)
    one_hot = AdjacencyOneHotEncoder(nb101_space).fit(archs)
    X = one_hot.transform(archs)
    assert X.shape == (300, 21 + 5 * 3)
    # One op per occupied interior slot; as many edges as the cell has.
    ops_part = X[:, 21:].reshape(300, 5, 3)
    assert set(ops_part.sum(axis=2).ravel()) <= {0.0, 1.0}
    for row, ops_rows, cell in zip(X, ops_part, archs):
        assert row[:21].sum() == np.sum(cell.matrix)
        assert ops_rows.sum() == len(cell.ops) - 2
    path = PathEncoder(nb101_space).fit(archs)
    assert len(path.get_feature_names_out()) == 1 + 3 + 9 + 27 + 81 + 243
    record_row = path.transform([nb101_record])[0]
    names = path.get_feature_names_out()[record_row == 1]
    # Its edges: 0->1, 0->4, 0->5, 1->2, 2->3, 2->6, 3->5, 4->5, 5->6, so the input->output
    # routes are 0-1-2-6, 0-1-2-3-5-6, 0-4-5-6 and 0-5-6.
    assert set(names) == {
        "path_conv3x3-bn-relu>maxpool3x3",
        "path_conv3x3-bn-relu>conv1x1-bn-relu",
        "path_conv1x1-bn-relu",
        "path_conv3x3-bn-relu>maxpool3x3>conv3x3-bn-relu>conv1x1-bn-relu",
    }


# --- every encoding pinned ------------------------------------------------------------------

# sha256 (first 16 hex digits) of the float32 output on every fifth NAS-Bench-201 cell and on the
# first 1,000 NAS-Bench-101 cells of the 20k table. Raw counts and 0/1 indicators are exact in
# float32 on every platform, so a change of any encoding changes its digest here; a change that
# is meant updates the digest and says why. (The log scale is checked against its formula
# above, not pinned: float32 logarithms may differ in the last bit between CPUs.)
PINNED_DIGESTS = {
    ("nb201", True, "nar"): "393d38f46156c00d",
    ("nb201", True, "one-hot"): "8b8d06c633ce49e4",
    ("nb201", True, "path"): "e0474de0682521d9",
    ("nb201", False, "nar"): "57de6c6ed951dfc6",
    ("nb201", False, "one-hot"): "2c8fce753300151a",
    ("nb201", False, "path"): "2a6aaa5b88f96dd0",
    ("nb101", True, "nar"): "d3bb972c4f9c725a",
    ("nb101", True, "one-hot"): "8455e43a3fbdab0c",
    ("nb101", True, "path"): "16070d64c87e9451",
}
PINNED_ENCODERS = {
    "nar": lambda space, merge: NARFeatureEncoder(space, scale=None, merge_isomorphic=merge),
    "one-hot": lambda space, merge: AdjacencyOneHotEncoder(space, merge_isomorphic=merge),
    "path": lambda space, merge: PathEncoder(space, merge_isomorphic=merge),
}
PINNED_REFERENCES = {
    ("nb201", True): {"flops": 817621.4665041943, "params": 3193.833853532018},
    ("nb101", True): {"flops": 15565471.417113103, "params": 69361.71569125184},
}


@pytest.fixture(scope="module")
def pinned_archs(nb101_space, nb201_space):
    with gzip.open(require_data("nasbench101/nb101_20k_val108.json.gz")) as handle:
        nb101_cells = [(record["matrix"], record["ops"]) for record in json.load(handle)[:1000]]
    return {
        "nb201": (nb201_space, list(nb201_space.enumerate())[::5]),
        "nb101": (nb101_space, nb101_cells),
    }


def _digest(X):
    return hashlib.sha256(np.ascontiguousarray(X, dtype=np.float32).tobytes()).hexdigest()[:16]


@pytest.mark.parametrize("benchmark, merge_isomorphic, encoder", list(PINNED_DIGESTS))
def test_encodings_are_pinned(pinned_archs, benchmark, merge_isomorphic, encoder):
    space, archs = pinned_archs[benchmark]
    X = PINNED_ENCODERS[encoder](space, merge_isomorphic).fit_transform(archs)
    assert _digest(X) == PINNED_DIGESTS[benchmark, merge_isomorphic, encoder]


@pytest.mark.parametrize("benchmark, merge_isomorphic", list(PINNED_REFERENCES))
def test_learned_scale_references_are_pinned(pinned_archs, benchmark, merge_isomorphic):
    space, archs = pinned_archs[benchmark]
    encoder = NARFeatureEncoder(space, merge_isomorphic=merge_isomorphic).fit(archs)
    expected = PINNED_REFERENCES[benchmark, merge_isomorphic]
    assert encoder.scale_ == pytest.approx(expected, rel=1e-9)


# --- NAS-Bench-Graph (no cost cells, input/output nodes) -----------------------------------------


def test_nasbench_graph_space_encodings():
    space = NASBenchGraphSpace()
    archs = space.sample(200, random_state=0)
    nar = NARFeatureEncoder(space).fit(archs)
    X = nar.transform(archs)
    assert X.shape == (200, 36) and (nar.n_patches_, nar.patch_size_) == (1, 6)
    assert nar.scale_ is None
    np.testing.assert_array_equal(X, space.patch_features(archs).ops.reshape(200, 36))
    one_hot = AdjacencyOneHotEncoder(space).fit(archs)
    assert one_hot.transform(archs).shape == (200, 15 + 4 * len(space.op_names))
    path = PathEncoder(space, max_path_length=2).fit(archs)
    names = path.get_feature_names_out()
    assert len(names) == 1 + 9 + 81
    chain = space.validate(([0, 1, 2, 3], ["gcn", "gat", "gin", "sage"]))
    fan = space.validate(([0, 0, 0, 0], ["gcn", "gat", "gin", "sage"]))
    assert path.transform([chain]).sum() == 0  # its only path has 4 ops
    assert set(names[path.transform([fan])[0] == 1]) == {
        "path_gcn", "path_gat", "path_gin", "path_sage"
    }  # fmt: skip
