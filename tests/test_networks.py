"""The networks of NAS-Bench-201 and NAS-Bench-101 cells against the spaces' cost models and
the benchmarks' own records."""

import gzip
import itertools
import json
import pickle

import networkx as nx
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from sknar.nn import (
    NASBench101Network,
    NASBench201Network,
    _nasbench101,
    _nasbench201,
    build_network,
)
from sknar.spaces import NASBench101Space, NASBench201Space, NASBenchGraphSpace, TableSpace
from sknar.utils.testing import require_data

NB201_EXAMPLE = "nar_reference/nasbench201_vertice_example.json"
NB101_OFFICIAL = "nasbench101/nb101_official_records_30.json"
NB101_RECORDS = "nasbench101/nb101_20k_val108.json.gz"
C1, C3, MP = "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3"
# name in the space, classes, image side
NB201_DATASETS = (("cifar10", 10, 32), ("cifar100", 100, 32), ("ImageNet16-120", 120, 16))


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def built_on_cpu_without_init(network_class, *args, **kwargs):
    """A network built on the meta device, then given uninitialised CPU storage: as fast to
    build as the meta device, and its operations run for real (values are irrelevant)."""
    with torch.device("meta"):
        network = network_class(*args, **kwargs)
    return network.to_empty(device="cpu")


@pytest.fixture(scope="module")
def nb201():
    return NASBench201Space()


@pytest.fixture(scope="module")
def nb101():
    return NASBench101Space()


@pytest.fixture(scope="module")
def nb201_example():
    with open(require_data(NB201_EXAMPLE)) as handle:
        return json.load(handle)["0"]


@pytest.fixture(scope="module")
def nb101_official():
    with open(require_data(NB101_OFFICIAL)) as handle:
        return json.load(handle)


# --- NAS-Bench-201 ---------------------------------------------------------------------


@pytest.mark.parametrize("dataset, n_classes, side", NB201_DATASETS)
def test_nb201_reference_example_params_and_flops(nb201, nb201_example, dataset, n_classes, side):
    key = "cifar10-valid" if dataset == "cifar10" else dataset
    arch = nb201_example["arch_str"]
    network = NASBench201Network(arch, n_classes=n_classes)
    expected = {"cifar10": 129_306, "cifar100": 135_156, "ImageNet16-120": 136_456}[dataset]
    assert n_params(network) == expected == nb201_example[f"{key}_total_params"]
    assert network.count_flops(side) == nb201_example[f"{key}_total_flops"]
    assert network.count_flops(side) == nb201.total_cost(arch, dataset)["flops"]


@pytest.mark.parametrize("dataset, n_classes, side", NB201_DATASETS)
def test_nb201_params_and_flops_equal_the_space_on_a_sample(nb201, dataset, n_classes, side):
    for arch in nb201.sample(4, random_state=len(dataset)):
        network = NASBench201Network(arch, n_classes=n_classes)
        cost = nb201.total_cost(arch, dataset)
        assert n_params(network) == cost["params"], arch
        assert network.count_flops(side) == cost["flops"], arch


def test_nb201_flops_are_half_of_torch_count_plus_batch_norm_and_pooling():
    # FlopCounterMode's own count (2 FLOPs per multiply-add of the convolutions and the
    # classifier) is twice the multiply-accumulates of the space's count, which adds 2 per
    # batch-normalised element and 1 per element of the global pooling.
    arch = ["nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3", "skip_connect", "none", "nor_conv_3x3"]
    network = NASBench201Network(arch).eval()
    normalised = []
    hooks = [
        m.register_forward_hook(lambda m, i, o: normalised.append(o.numel()))
        for m in network.modules()
        if isinstance(m, nn.BatchNorm2d)
    ]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        network(torch.zeros(1, 3, 32, 32))
    for hook in hooks:
        hook.remove()
    pooled = 64 * 8 * 8
    assert len(normalised) == 1 + 15 * 3 + 2 * 2 + 1
    expected = counter.get_total_flops() // 2 + 2 * sum(normalised) + pooled
    assert network.count_flops() == expected == NASBench201Space().total_cost(arch)["flops"]


class _CountingLeaf(nn.Module):
    """Stands in for a conv-BN leaf: records its parameter count without allocating it."""

    def __init__(self, in_channels, out_channels, kernel_size, *args, **kwargs):
        super().__init__()
        self.n_leaf_params = in_channels * out_channels * kernel_size**2 + 2 * out_channels


def counted_params(network):
    leaves = sum(m.n_leaf_params for m in network.modules() if isinstance(m, _CountingLeaf))
    return n_params(network) + leaves


@pytest.mark.parametrize(
    "leaf, args",
    [
        (_nasbench201.ReLUConvBN, (16, 32, 3, 2, 1)),
        (_nasbench201.ReLUConvBN, (64, 64, 1, 1, 0)),
        (_nasbench101.ConvBNReLU, (128, 43, 1, 0.003)),
        (_nasbench101.ConvBNReLU, (85, 85, 3, 0.003)),
    ],
)
def test_counting_leaf_counts_what_the_real_leaf_holds(leaf, args):
    assert n_params(leaf(*args)) == _CountingLeaf(*args).n_leaf_params


@pytest.mark.slow
def test_nb201_params_equal_the_space_on_every_cell(nb201, monkeypatch):
    # The builder runs for each of the 15,625 cells, with one cell per stage: the N cells of
    # a stage are N identical constructions (full networks are checked on samples above),
    # and the space's count is linear in the cells, so the network of N=1 holds the fixed
    # part plus a fifth of the cells' part. Only the conv-BN leaves, whose size the test
    # above checks, are replaced by stand-ins that allocate nothing.
    monkeypatch.setattr(_nasbench201, "ReLUConvBN", _CountingLeaf)
    archs = list(nb201.enumerate())
    _, totals = nb201.total_costs(archs, "cifar10")
    fixed = int(nb201.total_cost(["none"] * 6)["params"])
    assert counted_params(NASBench201Network(["none"] * 6, N=1)) == fixed
    mismatches = []
    for arch, total in zip(archs, totals):
        cells, remainder = divmod(int(total) - fixed, 5)
        built = counted_params(NASBench201Network(arch, N=1))
        if remainder or built != fixed + cells:
            mismatches.append((arch, built, int(total)))
    assert mismatches == []


def test_nb201_builds_only_the_edges_that_are_not_none(nb201):
    for arch in [*nb201.sample(20, random_state=3), ["none"] * 6, ["skip_connect"] * 6]:
        canonical = nb201.validate(arch)
        graph = nb201.to_networkx(canonical)
        wanted = {f"{d}<-{s}" for s, d, op in graph.edges(data="op") if op != "none"}
        network = NASBench201Network(canonical, C=2, N=2)
        cells = [m for m in network.cells if isinstance(m, _nasbench201.NASBench201Cell)]
        assert len(cells) == 6
        for cell in cells:
            assert set(cell.edges) == wanted, canonical
            for key, module in cell.edges.items():
                src, dst = int(key[-1]), int(key[0])
                assert _op_of(module) == graph.edges[src, dst]["op"]


def _op_of(module):
    if isinstance(module, nn.Identity):
        return "skip_connect"
    if isinstance(module, nn.AvgPool2d):
        assert module.count_include_pad is False and module.kernel_size == 3
        return "avg_pool_3x3"
    conv = module[1]
    assert isinstance(module[0], nn.ReLU) and isinstance(module[2], nn.BatchNorm2d)
    assert conv.bias is None and conv.stride == (1, 1)
    return {(1, 1): "nor_conv_1x1", (3, 3): "nor_conv_3x3"}[conv.kernel_size]


def test_nb201_skeleton_matches_the_benchmark():
    network = NASBench201Network(["nor_conv_3x3"] * 6)
    stem_conv, stem_bn = network.stem
    assert stem_conv.kernel_size == (3, 3) and stem_conv.bias is None
    assert stem_conv.out_channels == 16 and stem_bn.num_features == 16
    reductions = [m for m in network.cells if isinstance(m, _nasbench201.ResidualReduction)]
    assert [type(m).__name__ for m in network.cells].count("NASBench201Cell") == 15
    assert [(r.conv_a[1].in_channels, r.conv_a[1].out_channels) for r in reductions] == [
        (16, 32),
        (32, 64),
    ]
    for block in reductions:
        assert block.conv_a[1].stride == (2, 2) and block.conv_b[1].stride == (1, 1)
        pool, conv = block.downsample
        assert pool.kernel_size == 2 and conv.kernel_size == (1, 1) and conv.bias is None
    assert isinstance(network.lastact[0], nn.BatchNorm2d)
    assert network.classifier.in_features == 64
    for bn in (m for m in network.modules() if isinstance(m, nn.BatchNorm2d)):
        assert bn.affine and bn.track_running_stats and bn.momentum == 0.1 and bn.eps == 1e-5


def _copy_weights_in_order(source, target):
    """Give ``target`` the parameters and buffers of ``source``, matched by creation order."""
    pairs = list(zip(source.state_dict().values(), target.state_dict().values()))
    assert len(pairs) == len(source.state_dict()) == len(target.state_dict())
    with torch.no_grad():
        for value, slot in pairs:
            slot.copy_(value)


@pytest.mark.parametrize(
    "first, second",
    [
        # a 3x3 convolution behind a skip connection, or straight from the input
        (
            "|skip_connect~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|none~2|",
            "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|",
        ),
        # the two summands of the output node swapped through a skip connection
        (
            "|skip_connect~0|+|none~0|none~1|+|nor_conv_3x3~0|avg_pool_3x3~1|none~2|",
            "|skip_connect~0|+|none~0|none~1|+|avg_pool_3x3~0|nor_conv_3x3~1|none~2|",
        ),
    ],
)
def test_nb201_isomorphic_twins_compute_the_same_function(nb201, first, second):
    assert nb201.isomorphism_key(first) == nb201.isomorphism_key(second)
    torch.manual_seed(0)
    a = NASBench201Network(first, C=4, N=2)
    b = NASBench201Network(second, C=4, N=2)
    assert n_params(a) == n_params(b)
    _copy_weights_in_order(a, b)
    x = torch.randn(5, 3, 8, 8)
    for mode in (True, False):
        a.train(mode), b.train(mode)
        torch.testing.assert_close(a(x), b(x), rtol=0, atol=0)


def test_nb201_twin_with_an_op_reading_a_zero_node_differs_once_its_bias_is_learned(nb201):
    # The benchmark's rule identifies a convolution reading a node that only receives
    # `none` with a zero term. At initialisation it is one (ReLU, convolution and batch
    # norm of zeros give zeros), but that batch norm's learned bias makes it a constant.
    with_dead_conv = "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|nor_conv_3x3~1|none~2|"
    simplest = "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|"
    assert nb201.isomorphism_key(with_dead_conv) == nb201.isomorphism_key(simplest)
    assert nb201.representatives([with_dead_conv]) == [simplest]
    torch.manual_seed(0)
    a = NASBench201Network(with_dead_conv, C=4, N=1)
    b = NASBench201Network(simplest, C=4, N=1)
    b.load_state_dict(a.state_dict(), strict=False)  # shared edges share their names
    x = torch.randn(5, 3, 8, 8)
    a.eval(), b.eval()
    torch.testing.assert_close(a(x), b(x), rtol=0, atol=0)
    with torch.no_grad():
        a.cells[0].edges["3<-1"][2].bias.fill_(1.0)
    assert not torch.allclose(a(x), b(x))


def test_nb201_knobs_shape_the_network():
    network = NASBench201Network(["nor_conv_1x1"] * 6, C=4, N=2, in_channels=1, n_classes=7)
    assert network.stem[0].in_channels == 1 and network.stem[0].out_channels == 4
    assert len(network.cells) == 3 * 2 + 2
    assert network.classifier.in_features == 16 and network.classifier.out_features == 7
    assert network(torch.zeros(3, 1, 8, 8)).shape == (3, 7)


def test_nb201_matches_its_reference_forward_exactly():
    # An independent transcription of the benchmark's InferCell forward (every edge built,
    # `none` as a multiplication by zero, sums over the edge list) on the same modules.
    arch = "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|"
    torch.manual_seed(0)
    network = NASBench201Network(arch, C=4, N=1).eval()
    cell = network.cells[0]
    x = torch.randn(2, 4, 8, 8)
    nodes = [x]
    for dst in (1, 2, 3):
        terms = []
        for src in range(dst):
            key = f"{dst}<-{src}"
            terms.append(cell.edges[key](nodes[src]) if key in cell.edges else nodes[src].mul(0.0))
        nodes.append(sum(terms))
    torch.testing.assert_close(cell(x), nodes[3], rtol=0, atol=0)


def test_nb201_rejects_bad_input_with_the_space_error():
    with pytest.raises(ValueError, match="unknown op 'conv_5x5'"):
        NASBench201Network(["conv_5x5"] * 6)
    with pytest.raises(ValueError, match="wrong number of edges"):
        NASBench201Network(["none"] * 5)
    with pytest.raises(ValueError, match="C must be a positive int, got 0"):
        NASBench201Network(["none"] * 6, C=0)
    with pytest.raises(ValueError, match="n_classes must be a positive int"):
        NASBench201Network(["none"] * 6, n_classes=2.5)


def test_nb201_accepts_every_form_of_the_space(nb201):
    arch = nb201.sample(1, random_state=0)[0]
    forms = [arch, list(nb201.to_networkx(arch).edges[e]["op"] for e in _nasbench201._EDGES)]
    forms.append(nb201.to_networkx(arch))
    assert {NASBench201Network(form, C=2, N=1).arch for form in forms} == {arch}


# --- NAS-Bench-101 ---------------------------------------------------------------------


def test_nb101_params_equal_the_30_official_records(nb101, nb101_official):
    for key, record in nb101_official.items():
        fixed = record["fixed"]
        arch = (fixed["module_adjacency"], fixed["module_operations"])
        with torch.device("meta"):
            network = NASBench101Network(arch)
        assert n_params(network) == fixed["trainable_parameters"], key
        assert nb101.hash(network.cell) == key


@pytest.mark.slow
def test_nb101_params_equal_the_20k_records(monkeypatch):
    # The whole builder runs for each record; only its conv-BN-ReLU leaves, whose size is
    # checked above, are replaced by stand-ins that allocate nothing.
    with gzip.open(require_data(NB101_RECORDS), "rt") as handle:
        records = json.load(handle)
    assert len(records) == 20_001
    monkeypatch.setattr(_nasbench101, "ConvBNReLU", _CountingLeaf)
    mismatches = []
    for record in records:
        network = NASBench101Network((record["matrix"], record["ops"]))
        if counted_params(network) != record["trainable_parameters"]:
            mismatches.append(record["hash"])
    assert mismatches == []


def test_nb101_flops_equal_the_space_on_a_sample(nb101):
    for arch in nb101.sample(3, random_state=0):
        network = built_on_cpu_without_init(NASBench101Network, arch)
        assert network.count_flops() == nb101.total_cost(arch)["flops"], arch


def test_nb101_builds_only_the_pruned_cell(nb101):
    # vertex 3 (a max-pool) feeds nothing: the space prunes it, the network never has it
    matrix = [
        [0, 1, 0, 1, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
    ]
    arch = (matrix, ["input", C3, C1, MP, "output"])
    network = NASBench101Network(arch, C=8, N=1)
    assert network.cell.ops == ("input", C3, C1, "output")
    cell = network.stacks[0]
    assert list(cell.vertices) == ["vertex_1", "vertex_2"]
    assert hasattr(cell.vertices["vertex_1"], "projection")
    assert not hasattr(cell.vertices["vertex_2"], "projection")
    assert not hasattr(cell, "output_projection")
    assert not any(isinstance(m, nn.MaxPool2d) for m in cell.modules())


def test_nb101_vertex_channels_follow_the_benchmark():
    # three vertices feed the output: 128 channels split as 43, 43, 42; vertex 1 feeds
    # vertices 2 and 4 and takes the most channels of the two
    matrix = [
        [0, 1, 0, 0, 0, 0],
        [0, 0, 1, 0, 1, 0],
        [0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0],
    ]
    matrix[0][3] = matrix[3][5] = 1
    assert _nasbench101.vertex_channels(128, 128, matrix) == [128, 43, 43, 43, 42, 128]
    assert _nasbench101.vertex_channels(128, 256, [[0, 1], [0, 0]]) == [128, 256]


def _vertex_orders(cell):
    """Every listing of ``cell`` whose matrix stays upper-triangular, as (matrix, ops)."""
    n = cell.n_vertices
    for interior in itertools.permutations(range(1, n - 1)):
        order = [0, *interior, n - 1]
        position = {old: new for new, old in enumerate(order)}
        matrix = [[0] * n for _ in range(n)]
        for i, j in itertools.product(range(n), repeat=2):
            matrix[position[i]][position[j]] = cell.matrix[i][j]
        if all(matrix[i][j] == 0 for i in range(n) for j in range(i + 1)):
            yield matrix, [cell.ops[old] for old in order]


def test_nb101_uses_the_benchmark_vertex_order(nb101, nb101_official):
    # Three vertices feed the output, whose channels do not split evenly: the vertex order
    # decides which vertices get one channel more. Every listing of the cell builds the
    # network the benchmark trained.
    key = "ff93a9089e93f6e49aafd192c574b7af"
    fixed = nb101_official[key]["fixed"]
    cell = nb101.validate((fixed["module_adjacency"], fixed["module_operations"]))
    orders = list(_vertex_orders(cell))
    sizes = [(128, 128)] * 3 + [(128, 256), (256, 256), (256, 256)]
    sizes += [(256, 512), (512, 512), (512, 512)]
    with torch.device("meta"):
        as_given = {
            sum(
                n_params(_nasbench101.NASBench101Cell(matrix, ops, c_in, c_out, 0.003))
                for c_in, c_out in sizes
            )
            for matrix, ops in orders
        }
    assert len(orders) == 12 and len(as_given) > 1  # taken as given, the order would matter
    for arch in orders:
        with torch.device("meta"):
            network = NASBench101Network(arch)
        assert network.cell == nb101.benchmark_order(cell)
        assert n_params(network) == fixed["trainable_parameters"]


def test_nb101_skeleton_matches_the_benchmark():
    arch = ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", C3, "output"])
    network = NASBench101Network(arch, C=8)
    conv, bn, relu = network.stem
    assert conv.kernel_size == (3, 3) and conv.bias is None and isinstance(relu, nn.ReLU)
    assert bn.momentum == pytest.approx(0.003) and bn.eps == 1e-5
    pools = [m for m in network.stacks if isinstance(m, nn.MaxPool2d)]
    assert len(pools) == 2 and all(p.kernel_size == 2 and p.stride == 2 for p in pools)
    widths = [m.channels[-1] for m in network.stacks if isinstance(m, _nasbench101.NASBench101Cell)]
    assert widths == [8, 8, 8, 16, 16, 16, 32, 32, 32]
    assert network.classifier.in_features == 32 and network.classifier.bias is not None
    assert network(torch.zeros(2, 3, 7, 7)).shape == (2, 10)  # odd sides pool as 'same'


def test_nb101_input_only_cell_projects_the_input():
    network = NASBench101Network(([[0, 1], [0, 0]], ["input", "output"]), C=4, N=1)
    cell = network.stacks[0]
    assert list(cell.vertices) == []
    assert cell.output_projection[0].kernel_size == (1, 1)
    assert network(torch.zeros(1, 3, 8, 8)).shape == (1, 10)


def test_nb101_truncates_wider_interior_inputs():
    # vertex 1 feeds vertex 2 and the output; vertex 2 feeds the output: 5 output channels
    # split 3 / 2, and vertex 2 reads the first 2 of vertex 1's 3 channels.
    arch = ([[0, 1, 0, 0], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", C1, MP, "output"])
    torch.manual_seed(0)
    cell = _nasbench101.NASBench101Cell(*arch, 4, 5, 0.1).eval()
    assert cell.channels == [4, 3, 2, 5]
    x = torch.randn(2, 4, 6, 6)
    first = cell.vertices["vertex_1"].op(cell.vertices["vertex_1"].projection(x))
    second = nn.functional.max_pool2d(first[:, :2], 3, stride=1, padding=1)
    torch.testing.assert_close(cell(x), torch.cat([first, second], dim=1), rtol=0, atol=0)


def test_nb101_rejects_bad_input_with_the_space_error():
    with pytest.raises(ValueError, match="unknown op"):
        NASBench101Network(([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"]))
    with pytest.raises(ValueError, match="bn_momentum"):
        NASBench101Network(([[0, 1], [0, 0]], ["input", "output"]), bn_momentum=2.0)
    with pytest.raises(ValueError, match="N must be a positive int"):
        NASBench101Network(([[0, 1], [0, 0]], ["input", "output"]), N=0)


# --- the builder and the protocol of torch modules --------------------------------------


def test_build_network_dispatches_on_the_space(nb201, nb101):
    arch201 = ["skip_connect"] * 6
    assert isinstance(build_network(nb201, arch201, C=2, N=1), NASBench201Network)
    table = TableSpace(nb201, [arch201])
    assert isinstance(build_network(table, arch201, C=2, N=1), NASBench201Network)
    arch101 = ([[0, 1], [0, 0]], ["input", "output"])
    assert isinstance(build_network(nb101, arch101, C=2, N=1), NASBench101Network)
    graph = nx.DiGraph()
    with pytest.raises(ValueError, match="no network builder for the 'nasbench_graph' space"):
        build_network(NASBenchGraphSpace(), graph)


@pytest.mark.parametrize(
    "make",
    [
        lambda: NASBench201Network(["nor_conv_3x3"] * 6, C=2, N=1),
        lambda: NASBench101Network(
            ([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", C3, "output"]), C=4, N=1
        ),
    ],
)
def test_networks_pickle_and_train(make):
    network = make()
    clone = pickle.loads(pickle.dumps(network))
    x = torch.randn(4, 3, 8, 8)
    network.eval(), clone.eval()
    torch.testing.assert_close(network(x), clone(x))
    network.train()
    loss = nn.functional.cross_entropy(network(x), torch.tensor([0, 1, 2, 3]))
    loss.backward()
    assert all(p.grad is not None for p in network.parameters())


# --- input sizes, counting speed, parameter counts of other sizes ----------------------


@pytest.mark.parametrize("side", [30, 5, 2])
def test_nb201_refuses_images_of_a_size_it_cannot_reduce(side):
    network = NASBench201Network(["nor_conv_3x3"] * 6, C=2, N=1)
    with pytest.raises(ValueError, match=rf"multiples of 4 .* e\.g\. 32x32 .*; got {side}x{side}"):
        network(torch.zeros(1, 3, side, side))
    with pytest.raises(ValueError, match=r"of shape \(3, height, width\), got \(1, 32, 32\)"):
        network(torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match=r"\(batch, 3, height, width\), got \(3, 32, 32\)"):
        network(torch.zeros(3, 32, 32))
    assert network(torch.zeros(1, 3, 28, 28)).shape == (1, 10)
    assert network.check_image_shape((3, 8, 8)) is None
    cell = ([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", C3, "output"])
    nb101 = NASBench101Network(cell, C=4, N=1, in_channels=1)
    assert nb101.eval()(torch.zeros(1, 1, side, side)).shape == (1, 10)  # any size
    with pytest.raises(ValueError, match=r"NASBench101Network expects images of shape \(1, "):
        nb101(torch.zeros(1, 3, side, side))


def test_counting_flops_is_quick_from_a_fresh_process():
    # The first count used to import torch._dynamo (1.5 to 5 s); a fresh process shows it.
    import subprocess
    import sys

    code = (
        "import sys, time\n"
        "from sknar.nn import NASBench201Network, NASBench101Network\n"
        "from sknar.spaces import NASBench201Space\n"
        "arch = ['nor_conv_3x3', 'nor_conv_1x1', 'avg_pool_3x3', 'skip_connect', 'none', "
        "'nor_conv_3x3']\n"
        "network = NASBench201Network(arch)\n"
        "start = time.perf_counter()\n"
        "flops = network.count_flops()\n"
        "seconds = time.perf_counter() - start\n"
        "assert flops == NASBench201Space().total_cost(arch)['flops'], flops\n"
        "print(seconds, 'torch._dynamo' in sys.modules)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    assert output[1] == "False"
    assert float(output[0]) < 0.5


@pytest.mark.parametrize(
    "params",
    [{}, {"C": 8, "N": 1}, {"C": 3, "N": 2, "in_channels": 1, "n_classes": 7}, {"N": 1}],
)
def test_count_parameters_of_other_sizes(nb201, nb101, params):
    from sknar.nn import count_parameters

    nb201_arch = ["nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3", "skip_connect", "none", "none"]
    expected = n_params(NASBench201Network(nb201_arch, **params))
    assert count_parameters(nb201, nb201_arch, **params) == expected
    assert count_parameters(TableSpace(nb201, [nb201_arch]), nb201_arch, **params) == expected
    if not params:
        assert expected == nb201.total_cost(nb201_arch)["params"]
    nb101_arch = ([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", C3, "output"])
    nb101_params = {**params, "C": params.get("C", 16)}
    assert count_parameters(nb101, nb101_arch, **nb101_params) == n_params(
        NASBench101Network(nb101_arch, **nb101_params)
    )
    with pytest.raises(ValueError, match="no network builder"):
        count_parameters(NASBenchGraphSpace(), NASBenchGraphSpace().sample(1, random_state=0)[0])
