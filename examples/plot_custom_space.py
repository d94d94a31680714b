"""
Bring your own search space and oracle
======================================

The benchmarks are only one use of sknar. Any cell space that follows the
:class:`~sknar.spaces.SearchSpace` protocol works with the encoders, the ranker, the tier
sampler and the search loop. This example defines a small cell space on
:class:`networkx.DiGraph` objects, an oracle that stands in for "train the network and return
its validation accuracy", and searches the space with a budget.
"""

# %%
# A small cell space
# ------------------
# A cell has an input node, four operation nodes and an output node. Operation node ``i``
# reads the input or one earlier operation node and applies a ``conv3x3``, ``conv5x5``,
# ``maxpool`` or ``identity``; the output sums the nodes no other node reads. An architecture is
# the tuple of ``(predecessor, op)`` pairs. Of the ``4 * 8 * 12 * 16 = 6144`` tuples, 1,499
# are distinct networks (swapping two branches that read the same node changes nothing), and
# ``hash`` says which. Each is one cell of a network with 16 channels at 32x32 resolution,
# which gives every operation node its FLOPs and parameter count.
#
# A space must say what an architecture is (``validate``, ``hash``) and how to draw one
# (``sample``). With the cell as a networkx graph (``to_networkx``, ``from_networkx``) and
# the costs of its nodes (``cost_features``), the protocol's defaults supply the rest that
# the library uses: mutation, structure features, whole-network costs and the NAR patches
# that :class:`~sknar.encoding.NARFeatureEncoder` encodes. ``enumerate`` lists the space.
import itertools
import zlib

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
from sklearn.pipeline import make_pipeline

from sknar.encoding import NARFeatureEncoder
from sknar.metrics import kendall_tau
from sknar.ranker import NARRanker
from sknar.sampler import TierSampler
from sknar.search import RandomSearch, RegularizedEvolution, TierSearch
from sknar.spaces import SearchSpace

OPS = ("conv3x3", "conv5x5", "maxpool", "identity")
KERNEL = {"conv3x3": 3, "conv5x5": 5, "maxpool": 0, "identity": 0}
CHANNELS, RESOLUTION = 16, 32
N_OP_NODES = 4
INPUT, OUTPUT = 0, N_OP_NODES + 1


class ChainCellSpace(SearchSpace):
    """Cells of four operation nodes, each reading one earlier node."""

    name = "chain_cell"
    op_names = OPS
    max_nodes = N_OP_NODES + 2
    n_cells = 1

    # -- what an architecture is -----------------------------------------------------
    def validate(self, arch):
        try:
            pairs = tuple((int(pred), str(op)) for pred, op in arch)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"expected {N_OP_NODES} (predecessor, op) pairs: {exc}") from None
        if len(pairs) != N_OP_NODES:
            raise ValueError(f"expected {N_OP_NODES} (predecessor, op) pairs, got {len(pairs)}")
        for node, (pred, op) in enumerate(pairs, start=1):
            if not 0 <= pred < node:
                raise ValueError(f"node {node} reads node {pred}; it may read 0 to {node - 1}")
            if op not in OPS:
                raise ValueError(f"node {node} has unknown op {op!r}; ops are {OPS}")
        return pairs

    def hash(self, arch):
        # Every operation node reads one node, so the cell is a tree rooted at the input;
        # the sorted nested form of a tree names its isomorphism class exactly (swapped
        # branches give the same string).
        graph = self.to_networkx(arch)

        def canonical(node):
            children = sorted(canonical(child) for child in graph.successors(node))
            return f"{graph.nodes[node]['op']}[{','.join(children)}]"

        return canonical(INPUT)

    # -- drawing and listing ---------------------------------------------------------
    def sample(self, n, random_state=None):
        def draw_one(rng):  # rng is a numpy RandomState
            return tuple(
                (rng.randint(node), OPS[rng.randint(len(OPS))])
                for node in range(1, N_OP_NODES + 1)
            )

        return self._sample_by_rejection(n, draw_one, random_state)

    def enumerate(self, verbose=False):
        choices = [itertools.product(range(node), OPS) for node in range(1, N_OP_NODES + 1)]
        seen = set()
        for arch in itertools.product(*choices):
            key = self.hash(arch)
            if key not in seen:
                seen.add(key)
                yield arch

    # -- graphs and costs ------------------------------------------------------------
    def to_networkx(self, arch):
        graph = nx.DiGraph()
        graph.add_node(INPUT, op="input")
        for node, (pred, op) in enumerate(self.validate(arch), start=1):
            graph.add_node(node, op=op)
            graph.add_edge(pred, node)
        graph.add_node(OUTPUT, op="output")
        for node in range(1, N_OP_NODES + 1):
            if graph.out_degree(node) == 0:
                graph.add_edge(node, OUTPUT)
        return graph

    def from_networkx(self, graph):
        pairs = []
        for node in range(1, N_OP_NODES + 1):
            preds = list(graph.predecessors(node))
            if len(preds) != 1:
                raise ValueError(f"node {node} must read exactly one node, reads {preds}")
            pairs.append((preds[0], graph.nodes[node]["op"]))
        return self.validate(pairs)

    def cost_features(self, arch, dataset=None):
        # One cell; a column per node of the graph (input and output cost nothing).
        params = [KERNEL[op] ** 2 * CHANNELS * CHANNELS for _, op in self.validate(arch)]
        params = [0, *params, 0]
        flops = [p * RESOLUTION * RESOLUTION for p in params]
        return {"flops": np.array([flops]), "params": np.array([params])}

    def structure_features(self, arch):
        # The default counts nodes, edges and ops; the depth matters in this space too.
        features = super().structure_features(arch)
        features["depth"] = nx.dag_longest_path_length(self.to_networkx(arch))
        return features


space = ChainCellSpace()
archs = list(space.enumerate())
print(f"{len(archs)} architectures, e.g. {archs[100]}")
print("costs:", space.total_cost(archs[100]))

# %%
# An oracle
# ---------
# In a real search the oracle trains the network and returns its validation accuracy. Here a
# made-up function of the structure plays that part: deeper cells and 3x3 convolutions help,
# pooling everywhere hurts, and a deterministic per-architecture "seed noise" blurs the
# picture as repeated training runs would.


def train_and_evaluate(arch):
    """Pretend to train ``arch`` and return its validation accuracy."""
    features = space.structure_features(arch)
    noise = np.random.default_rng(zlib.crc32(space.hash(arch).encode())).normal(0, 0.01)
    return float(
        0.70
        + 0.020 * features["depth"]
        + 0.020 * features["n_conv3x3"]
        + 0.010 * features["n_conv5x5"]
        - 0.030 * features["n_maxpool"] * (features["depth"] < 4)
        + noise
    )

truth = np.array([train_and_evaluate(arch) for arch in archs])
print(f"accuracies from {truth.min():.3f} to {truth.max():.3f}")

# %%
# The ranker on the new space
# ---------------------------
# :class:`~sknar.encoding.NARFeatureEncoder` reads the patches from ``patch_features``, so the
# ranker needs nothing specific to the space. Trained on 60 architectures, it ranks the rest.


def make_ranker():
    return make_pipeline(NARFeatureEncoder(space=space), NARRanker(max_epochs=40))


train = space.sample(60, random_state=0)
ranker = make_ranker().fit(train, [train_and_evaluate(arch) for arch in train])
print(f"Kendall tau on the whole space: {kendall_tau(truth, ranker.predict(archs)):.3f}")

# %%
# Search with a budget
# --------------------
# Each search may call the oracle 60 times. Tier search evaluates 20 random cells, then in
# every round lets the tier sampler propose 150 candidates, ranks them and evaluates the best
# 8. Random search and regularized evolution get the same oracle and budget; evolution mutates
# node ops through the graph, which is the protocol's default ``mutate``.
budget = 60
searches = {
    "tier search (NAR)": TierSearch(
        space, ranker=make_ranker(), sampler=TierSampler(space, n_bins=5),
        n_initial=20, n_candidates=150, top_k=8, random_state=0,
    ),
    "regularized evolution": RegularizedEvolution(space, random_state=0),
    "random search": RandomSearch(space, random_state=0),
}
results = {name: search.run(train_and_evaluate, budget) for name, search in searches.items()}
for name, result in results.items():
    print(f"{name:22s} best {result.best_value:.4f}  ({result.wall_time:.1f}s)")
print(f"{'best in the space':22s}      {truth.max():.4f}")

fig, ax = plt.subplots(figsize=(7, 4))
for name, result in results.items():
    result.plot(ax=ax, label=name)
ax.axhline(truth.max(), color="k", ls="--", lw=1, label="best in the space")
ax.set_xlabel("oracle calls")
ax.set_ylabel("best accuracy found")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()
